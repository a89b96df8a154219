"""Dreamreel's social data: users, follows, posts, engagement and ranked feeds.

Two backends behind one API: TinyDB in a folder (the default, nothing to set
up) and PostgreSQL (``feed_store.postgres``) for a community that outgrows
one process. The rules both follow live in :mod:`feed_store.rules`.
"""

from pathlib import Path

from .errors import Conflict, InvalidInput, NotFound, PermissionDenied, SchemaError, StoreError
from .ranking import RankingConfig
from .records import FeedItem, FeedPage
from .tinydb import CorruptStoreError, FeedStore, JournalStorage, JournalTable



def open_store(where: str | Path, **options):
    """The store at ``where``: PostgreSQL for a ``postgresql://`` URL (its schema migrated first, and its hot list
    refreshed every few minutes), else the TinyDB store in that folder."""
    if isinstance(where, str) and where.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStore  # psycopg and alembic load only when PostgreSQL is used

        return PostgresStore(where, refresh_every=options.pop("refresh_every", 300.0), **options)
    return FeedStore(where, **options)


__all__ = [
    "Conflict", "CorruptStoreError", "FeedItem", "FeedPage", "FeedStore", "InvalidInput", "JournalStorage",
    "JournalTable", "NotFound", "PermissionDenied", "RankingConfig", "SchemaError", "StoreError",
    "open_store",
]
