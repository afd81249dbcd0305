"""``python -m riskmodel`` runs the command line."""

from riskmodel.cli.commands import app

app()
