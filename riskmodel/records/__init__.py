"""Residents and their events: the schema (defined once), reading, validation and history derivation."""
