"""Move a community from the TinyDB store to PostgreSQL.

    python -m feed_store.migrate --to postgresql://user@host/dreamreel [--from data/store]

Everything is copied: users (password hashes and erased accounts' held
handles included), invites, sessions, follows, blocks, cameos, posts,
likes, views, comments, reports, notifications, the moderation log and refused
prompts, with their ids, so links and watermarks keep pointing at the same
posts. The copy is one transaction of ``COPY`` statements: it lands whole or
not at all. Afterwards every table's row count is compared with the source.

The TinyDB store is read from a temporary copy, so its files are left exactly
as they were. Running the command again is safe: a database that already
holds this community (the same counts) is left alone, and one that holds
anything else is refused.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from .tinydb.journal import Tables
from .tinydb.schema import META_TABLE, open_storage

RESERVED_IDS = "2"  # the _meta document holding the last reserved post id (see FeedStore.reserve_post_id)

COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("id", "handle", "display_name", "password_hash", "external_id", "is_admin", "created_at",
              "invited_by", "suspended_at", "feed_taste", "less_like", "erased_at", "handle_hash"),
    "invites": ("id", "code", "inviter_id", "created_at", "used_by", "used_at"),
    "sessions": ("id", "sid", "user_id", "created_at", "expires_at"),
    "follows": ("follower_id", "followee_id", "created_at"),
    "blocks": ("blocker_id", "blocked_id", "created_at"),
    "cameos": ("id", "owner_id", "permission", "approved_ids", "restrictions", "created_at", "likeness"),
    "posts": ("id", "author_id", "prompt", "hide_prompt", "video", "thumbnail", "preview", "cameo_ids", "parent_id",
              "visibility", "model", "created_at", "published_at", "deleted_at", "deleted_by", "erased", "like_count",
              "comment_count", "remix_count", "view_count"),
    "likes": ("post_id", "user_id", "created_at"),
    "views": ("post_id", "user_id", "created_at"),
    "comments": ("id", "post_id", "user_id", "text", "created_at", "deleted_at"),
    "reports": ("id", "reporter_id", "kind", "target_id", "reason", "created_at", "status", "resolved_by",
                "resolved_at"),
    "notifications": ("id", "user_id", "kind", "data", "created_at", "read"),
    "moderation_log": ("id", "admin_id", "action", "report_ids", "kind", "target_id", "at"),
    "refusals": ("id", "user_id", "what", "category", "text", "at"),
}
"""Every table copied, in an order that respects foreign keys, with its columns."""
IDENTITY_TABLES = [t for t, columns in COLUMNS.items() if columns[0] == "id" and t != "posts"]
CAMEO_FIELDS = {"owner_id", "permission", "approved_ids", "restrictions", "created_at"}


class MigrationError(RuntimeError):
    """The copy cannot be made (the target holds another community, or the counts did not match)."""


def read_tinydb(directory: Path) -> Tables:
    """The TinyDB store's tables, read from a temporary copy (so the store's own files are never written)."""
    if not directory.is_dir():
        raise MigrationError(f"There is no TinyDB store in {directory}.")
    with tempfile.TemporaryDirectory(prefix="dreamreel-migrate-") as scratch:
        copy = Path(scratch) / "store"
        shutil.copytree(directory, copy)
        storage = open_storage(copy)  # brings an older layout up to date, in the copy
        try:
            return storage.read()
        finally:
            storage.close()


def _rows(tables: Tables) -> dict[str, list[tuple[Any, ...]]]:
    """Each table's rows as PostgreSQL takes them, with the counters the TinyDB store derives at open."""
    docs = {name: {int(k): d for k, d in tables.get(name, {}).items()} for name in COLUMNS}
    likes = Counter(d["post_id"] for d in docs["likes"].values())
    views = Counter(d["post_id"] for d in docs["views"].values())
    comments = Counter(d["post_id"] for d in docs["comments"].values() if d["deleted_at"] is None)
    remixes = Counter(p["parent_id"] for p in docs["posts"].values()
                      if p.get("parent_id") is not None and p.get("published_at") is not None
                      and p.get("deleted_at") is None)
    out: dict[str, list[tuple[Any, ...]]] = {}
    for name, columns in COLUMNS.items():
        rows = []
        for doc_id, d in sorted(docs[name].items()):
            if name == "users":
                d = {"feed_taste": "", "less_like": [], "is_admin": False, "created_at": d.get("erased_at"), **d}
            elif name == "cameos":
                d = {**d, "likeness": Jsonb({k: v for k, v in d.items() if k not in CAMEO_FIELDS})}
            elif name == "posts":
                d = {**d, "model": Jsonb(d.get("model") or {}), "erased": bool(d.get("erased")),
                     "like_count": likes[doc_id], "comment_count": comments[doc_id],
                     "remix_count": remixes[doc_id], "view_count": views[doc_id]}
            elif name == "notifications":
                d = {**d, "data": Jsonb(d["data"])}
            elif name == "views":
                d = {**d, "created_at": d.get("created_at") or 0.0}
            rows.append(tuple(doc_id if c == "id" else d.get(c) for c in columns))
        out[name] = rows
    return out


def _counts(connection: psycopg.Connection) -> dict[str, int]:
    return {name: connection.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in COLUMNS}


def migrate(source: Path, url: str, *, log=print) -> dict[str, int]:
    """Copy the TinyDB store in ``source`` into the PostgreSQL database at ``url``; returns the row counts."""
    from .postgres.schema import upgrade

    tables = read_tinydb(source)
    rows = _rows(tables)
    expected = {name: len(table_rows) for name, table_rows in rows.items()}
    upgrade(url)
    with psycopg.connect(url) as connection:
        with connection.transaction():
            connection.execute("LOCK TABLE users IN EXCLUSIVE MODE")  # one migration at a time
            present = _counts(connection)
            if any(present.values()):
                if present == expected:
                    log("The database already holds this community (every count matches): nothing to do.")
                    return present
                raise MigrationError(
                    "The database already holds other data "
                    f"({', '.join(f'{n} {t}' for t, n in present.items() if n)}); migrate into an empty database.")
            with connection.cursor() as cursor:
                for name, columns in COLUMNS.items():
                    with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows[name]:
                            copy.write_row(row)
                    log(f"  {name}: {len(rows[name])}")
                for name in IDENTITY_TABLES:
                    last = f"(SELECT max(id) FROM {name})"
                    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), greatest({last}, 1),"
                                   f" {last} IS NOT NULL)")
                last_post = max([r[0] for r in rows["posts"]] +
                                [tables.get(META_TABLE, {}).get(RESERVED_IDS, {}).get("post_id", 0)])
                cursor.execute("SELECT setval('post_ids', greatest(%s, 1), %s)", (last_post, last_post > 0))
                cursor.execute("SELECT setval('prompt_changes', 1)")
            copied = _counts(connection)
            if copied != expected:
                raise MigrationError(f"Row counts differ after the copy (nothing was kept): expected {expected}, "
                                     f"found {copied}.")
    from .postgres import PostgresStore

    with PostgresStore(url, migrate=False) as store:
        store.refresh_hot_scores()
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m feed_store.migrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--to", required=True, metavar="postgresql://…", help="the PostgreSQL database to fill")
    default = Path(os.environ.get("DREAMREEL_DATA_DIR") or "data") / "store"
    parser.add_argument("--from", dest="source", type=Path, default=default,
                        help=f"the TinyDB store folder (default: {default})")
    args = parser.parse_args(argv)
    print(f"Copying {args.source} into {args.to.split('@')[-1]}")
    try:
        counts = migrate(args.source, args.to)
    except (MigrationError, psycopg.Error) as e:
        print(f"Not migrated: {e}", file=sys.stderr)
        return 1
    print("Done; every table's row count matches: " + ", ".join(f"{n} {t}" for t, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
