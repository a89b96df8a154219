"""Schema versions of the store and the migrations between them.

Version 1 is a single stock TinyDB ``JSONStorage`` file, ``dreamreel.json``
(the layout the benchmark's naive baseline writes), with no ``_meta`` table and
optional bookkeeping fields. Version 2 is the journal layout of
:mod:`feed_store.tinydb.journal` with the version recorded in ``_meta``, and pair
tables (likes, follows, views, blocks) keyed by their pair. Add a version
by appending a migration to ``MIGRATIONS``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import orjson

from ..errors import SchemaError
from .index import pair_key
from .journal import JournalStorage, Tables

SCHEMA_VERSION = 2
META_TABLE = "_meta"
LEGACY_FILE = "dreamreel.json"


def read_version(tables: Tables) -> int | None:
    meta = tables.get(META_TABLE, {}).get("1")
    return None if meta is None else int(meta["schema_version"])


PAIR_TABLES = {"likes": ("post_id", "user_id"), "follows": ("follower_id", "followee_id"),
               "views": ("post_id", "user_id"), "blocks": ("blocker_id", "blocked_id")}


def _v1_to_v2(tables: Tables) -> None:
    """Key pair tables by their pair and fill the post fields a v1 file may leave out."""
    for name, (a, b) in PAIR_TABLES.items():
        if name in tables:
            tables[name] = {str(pair_key(d[a], d[b])): d for d in tables[name].values()}
    for post in tables.get("posts", {}).values():
        post.setdefault("hide_prompt", False)
        post.setdefault("parent_id", None)
        post.setdefault("cameo_ids", [])
        post.setdefault("published_at", None if post.get("visibility", "draft") == "draft" else post["created_at"])
        post.setdefault("deleted_at", None)


MIGRATIONS: dict[int, Callable[[Tables], None]] = {1: _v1_to_v2}


def open_storage(directory: Path) -> JournalStorage:
    """Open the journal storage in ``directory``, migrating older layouts to the current one."""
    storage = JournalStorage(directory)
    tables = storage.read()
    legacy = directory / LEGACY_FILE
    if not tables and legacy.exists():
        tables.update(orjson.loads(legacy.read_bytes()))
        version = 1
    else:
        version = read_version(tables) if tables else SCHEMA_VERSION
        if version is None:
            storage.close()
            raise SchemaError(f"{directory} holds tables but no schema version; it was not written by Dreamreel")
    if version > SCHEMA_VERSION:
        storage.close()
        raise SchemaError(
            f"{directory} was written by a newer Dreamreel (schema {version}); "
            f"this version reads schema {SCHEMA_VERSION} and older. Upgrade Dreamreel to open it."
        )
    if version < SCHEMA_VERSION or read_version(tables) is None:
        for step in range(version, SCHEMA_VERSION):
            MIGRATIONS[step](tables)
        tables[META_TABLE] = {"1": {"schema_version": SCHEMA_VERSION}}
        storage.compact()
        if legacy.exists():
            os.replace(legacy, legacy.with_suffix(".json.migrated"))
    return storage
