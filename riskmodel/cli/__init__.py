"""The command line (``riskmodel``): commands, what the console shows, and the demo."""
