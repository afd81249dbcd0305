"""Store schema migrations (Alembic): an existing store upgrades in place when it is opened.

Revisions live in ``versions/``. A store made before migrations existed (round 1: the tables without an
``alembic_version``) is recognised by its tables, stamped at the first revision, then upgraded.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

FOLDER = Path(__file__).resolve().parent
FIRST_REVISION = "0001"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(FOLDER))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory(str(FOLDER)).get_current_head()
    if head is None:  # pragma: no cover - the package ships its revisions
        raise RuntimeError("no store migrations found")
    return head


def upgrade(engine: Engine) -> None:
    """Bring the store's schema to the head revision (a new store is created; an old one upgraded)."""
    if current_revision(engine) == head_revision():
        return
    config = alembic_config(engine)
    tables = set(sa.inspect(engine).get_table_names())
    if "alembic_version" not in tables and "batches" in tables:
        command.stamp(config, FIRST_REVISION)  # a round-1 store: its tables are revision 0001's
    command.upgrade(config, "head")
