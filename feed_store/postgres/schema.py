"""The PostgreSQL schema, from Alembic migrations in ``migrations/versions``.

:func:`upgrade` runs at start (the same as ``alembic upgrade head``) so a new
database, or one an older Dreamreel made, is brought up to date before the
store reads it. Migrations run in one transaction each (PostgreSQL has
transactional DDL): a failed one leaves the database as it was.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def _engine_url(url: str) -> str:
    """SQLAlchemy's name for the same URL on the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", _engine_url(url))
    return config


_ALEMBIC = threading.Lock()
"""Alembic keeps its running context in a module global: one migration at a time in this process (across
processes, an advisory lock in ``migrations/env.py`` does the same)."""


def _run(url: str, action, revision: str) -> None:
    config = _config(url)
    engine = create_engine(_engine_url(url))
    try:
        with _ALEMBIC, engine.begin() as connection:
            config.attributes["connection"] = connection
            action(config, revision)
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` (all of them by default)."""
    _run(url, command.upgrade, revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Undo migrations down to ``revision`` (an empty database by default)."""
    _run(url, command.downgrade, revision)


def current_revision(url: str) -> str | None:
    engine = create_engine(_engine_url(url))
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    return ScriptDirectory.from_config(_config("postgresql://")).get_current_head()


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3 or sys.argv[1] not in ("upgrade", "downgrade", "current"):
        sys.exit("usage: python -m feed_store.postgres.schema upgrade|downgrade|current postgresql://…")
    action, url = sys.argv[1:]
    if action == "current":
        print(f"{current_revision(url) or 'empty'} (latest: {head_revision()})")
    else:
        {"upgrade": upgrade, "downgrade": downgrade}[action](url)
