"""The result store: tables, migrations, batches and locks."""
