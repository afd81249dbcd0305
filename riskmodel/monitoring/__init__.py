"""Monitoring a model in service (SPEC 12): drift against a training reference, and performance on fresh labels."""
