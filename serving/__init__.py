"""Transports over the one scoring path: the HTTP API (FastAPI) and the Spark batch engine."""
