"""Alembic's entry point for the PostgreSQL store: migrations run on the connection the store hands over.

``feed_store.postgres.schema.upgrade(url)`` is the usual way in (``python -m
feed_store.postgres.schema upgrade URL`` from a shell); ``alembic``'s own
command line works too, with ``-x url=postgresql://…``.
"""

from alembic import context
from sqlalchemy import create_engine

MIGRATION_LOCK = 7365823
"""An advisory lock: app processes starting together each migrate at start, one at a time; the others then find
the schema up to date."""


def run_migrations(connection) -> None:
    context.configure(connection=connection, transactional_ddl=True)
    with context.begin_transaction():
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option("sqlalchemy.url")
    with create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1)).begin() as connection:
        run_migrations(connection)
else:
    run_migrations(connection)
