"""Dreamreel's social data on TinyDB: users, follows, posts, engagement and ranked feeds."""

from .errors import Conflict, InvalidInput, NotFound, PermissionDenied, SchemaError, StoreError
from .journal import CorruptStoreError, JournalStorage, JournalTable
from .ranking import RankingConfig
from .store import FeedItem, FeedPage, FeedStore

__all__ = [
    "Conflict", "CorruptStoreError", "FeedItem", "FeedPage", "FeedStore", "InvalidInput", "JournalStorage",
    "JournalTable", "NotFound", "PermissionDenied", "RankingConfig", "SchemaError", "StoreError",
]
