"""Training, evaluation, MLflow tracking, registry loading and promotion (the only package that uses MLflow)."""
