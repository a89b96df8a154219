"""Durable, constant-cost writes for TinyDB.

TinyDB's stock ``JSONStorage`` rewrites the whole file in place on every
change: a crash mid-write corrupts it and each write costs as much as the whole
database. Its ``Table`` also converts every key of a table on every change.
This module replaces both halves while keeping TinyDB's API and file layout:

* :class:`JournalStorage` keeps the tables in memory. A change is appended to
  ``journal.jsonl`` as one line per transaction and fsynced before it is
  acknowledged; ``snapshot.json`` (TinyDB's JSON layout) is rewritten
  atomically (write, fsync, rename) once the journal outgrows it.
* :class:`JournalTable` hands the storage only the documents a call touched,
  so a write costs the same with ten documents or ten million.

Neither class locks: like TinyDB itself they expect one writer at a time, which
``FeedStore`` guarantees.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from tinydb import Storage
from tinydb.table import Table

SNAPSHOT_NAME = "snapshot.json"
JOURNAL_NAME = "journal.jsonl"

Tables = dict[str, dict[str, dict[str, Any]]]
_ABSENT = object()


class CorruptStoreError(RuntimeError):
    """The files on disk cannot be read back as a database."""


def _fsync_directory(directory: Path) -> None:
    """Make a rename or a new file in ``directory`` survive power loss."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Transaction:
    """The first-seen value of every document touched, to diff or undo."""

    def __init__(self) -> None:
        self.originals: dict[tuple[str, str], Any] = {}

    def touch(self, tables: Tables, table: str, key: str) -> None:
        if (table, key) not in self.originals:
            doc = tables.get(table, {}).get(key, _ABSENT)
            # A deep copy: TinyDB operations such as ``add`` change lists in place.
            self.originals[(table, key)] = doc if doc is _ABSENT else orjson.loads(orjson.dumps(doc))

    def changes(self, tables: Tables) -> list[list[Any]]:
        """``[table, doc_id, document or None]`` for every document that differs."""
        out = []
        for (table, key), before in self.originals.items():
            after = tables.get(table, {}).get(key, _ABSENT)
            if after is _ABSENT:
                if before is not _ABSENT:
                    out.append([table, key, None])
            elif before is _ABSENT or after != before:
                out.append([table, key, after])
        return out

    def rollback(self, tables: Tables) -> None:
        for (table, key), before in self.originals.items():
            if before is _ABSENT:
                tables.get(table, {}).pop(key, None)
            else:
                tables.setdefault(table, {})[key] = before


class JournalStorage(Storage):
    """A TinyDB storage: tables in memory, changes in an fsynced append-only journal.

    ``path`` is a directory holding ``snapshot.json`` and ``journal.jsonl``.
    Opening replays the journal over the snapshot; a torn last line (a write
    that was never acknowledged) is dropped. The journal is folded into a new
    snapshot when it grows past ``max(compact_min_bytes, snapshot size / 4)``:
    the amortised cost of a write stays constant, and replaying the journal
    never takes more than a fraction of the time to read the snapshot.
    """

    def __init__(self, path: str | os.PathLike, compact_min_bytes: int = 8 << 20) -> None:
        super().__init__()
        self.directory = Path(path)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.compact_min_bytes = compact_min_bytes
        self._snapshot_path = self.directory / SNAPSHOT_NAME
        self._journal_path = self.directory / JOURNAL_NAME
        self._tables: Tables = self._load_snapshot()
        self._journal_bytes = self._replay_journal()
        self._journal = open(self._journal_path, "ab", buffering=0)
        self._txn: _Transaction | None = None

    # -- TinyDB's Storage interface -------------------------------------------------

    def read(self) -> Tables:
        return self._tables

    def write(self, data: Tables) -> None:
        """Replace the whole database (TinyDB calls this for ``drop_tables``)."""
        if self._txn is not None:
            raise RuntimeError("cannot replace the whole database inside a transaction")
        self._tables = data
        self.compact()

    def close(self) -> None:
        self._journal.close()

    # -- transactions ----------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group changes into one journal record: all of them persist, or none.

        On an exception, in the block or while writing, the in-memory tables
        are restored and nothing reaches the disk. Nested calls join the
        outermost transaction.
        """
        if self._txn is not None:
            yield
            return
        txn = self._txn = _Transaction()
        try:
            yield
            self._append(txn.changes(self._tables))
        except BaseException:
            txn.rollback(self._tables)
            raise
        finally:
            self._txn = None

    def track(self, table: str, key: str) -> None:
        """Note that a document is about to change (called by :class:`JournalTable`)."""
        assert self._txn is not None, "changes must happen inside a transaction"
        self._txn.touch(self._tables, table, key)

    # -- files -----------------------------------------------------------------------

    def _append(self, changes: list[list[Any]]) -> None:
        if not changes:
            return
        line = orjson.dumps(changes) + b"\n"
        self._journal.write(line)
        os.fdatasync(self._journal.fileno())
        self._journal_bytes += len(line)
        if self._journal_bytes > max(self.compact_min_bytes, self._snapshot_size() // 4):
            self.compact()

    def compact(self) -> None:
        """Write the tables as a new snapshot and empty the journal.

        The snapshot is replaced by an atomic rename, so a crash at any point
        leaves either the old snapshot with its journal or the new one; a
        journal replayed over the new snapshot changes nothing, because every
        record sets or deletes whole documents.
        """
        tmp = self._snapshot_path.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            f.write(orjson.dumps(self._tables))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self._snapshot_path)
        _fsync_directory(self.directory)
        self._journal.truncate(0)
        os.fsync(self._journal.fileno())
        self._journal_bytes = 0

    def _snapshot_size(self) -> int:
        try:
            return self._snapshot_path.stat().st_size
        except FileNotFoundError:
            return 0

    def _load_snapshot(self) -> Tables:
        if not self._snapshot_path.exists():
            return {}
        try:
            return orjson.loads(self._snapshot_path.read_bytes())
        except orjson.JSONDecodeError as e:
            raise CorruptStoreError(f"{self._snapshot_path} is not valid JSON: {e}") from e

    def _replay_journal(self) -> int:
        """Apply the journal to the tables; return the size of its valid part."""
        if not self._journal_path.exists():
            return 0
        data = self._journal_path.read_bytes()
        end = data.rfind(b"\n") + 1  # anything after the last newline was never acknowledged
        for number, line in enumerate(data[:end].splitlines(), start=1):
            try:
                changes = orjson.loads(line)
            except orjson.JSONDecodeError as e:
                raise CorruptStoreError(f"{self._journal_path} line {number} is damaged: {e}") from e
            for table, key, doc in changes:
                if doc is None:
                    self._tables.get(table, {}).pop(key, None)
                else:
                    self._tables.setdefault(table, {})[key] = doc
        if end < len(data):
            with open(self._journal_path, "r+b") as f:
                f.truncate(end)
                os.fsync(f.fileno())
        return end


class _TrackedTable(MutableMapping):
    """The int-keyed view of one raw table that TinyDB's updaters expect.

    Every document an updater reaches is reported to the storage before it can
    change, so the storage can diff and undo it.
    """

    def __init__(self, raw: dict[str, dict], track: Callable[[str], None]) -> None:
        self._raw = raw
        self._track = track

    def __getitem__(self, doc_id: int) -> dict:
        key = str(doc_id)
        doc = self._raw[key]
        self._track(key)  # updaters mutate the returned document in place
        return doc

    def __setitem__(self, doc_id: int, doc: dict) -> None:
        key = str(doc_id)
        self._track(key)
        self._raw[key] = doc

    def __delitem__(self, doc_id: int) -> None:
        key = str(doc_id)
        self._track(key)
        del self._raw[key]

    def __contains__(self, doc_id: object) -> bool:
        return str(doc_id) in self._raw

    def __iter__(self) -> Iterator[int]:
        return (int(key) for key in list(self._raw))

    def __len__(self) -> int:
        return len(self._raw)


class JournalTable(Table):
    """A TinyDB table whose writes cost what they touch, not the table's size.

    Stock TinyDB rebuilds the whole table dictionary on every write; this
    subclass lets the updater work on the stored table directly and records
    the documents it touches with :class:`JournalStorage`. A write outside an
    explicit transaction is its own transaction.

    The query cache is off by default: a result cached inside a transaction
    that is then rolled back would name documents that no longer exist.
    """

    def __init__(self, storage: Storage, name: str, cache_size: int = 0, persist_empty: bool = False) -> None:
        super().__init__(storage, name, cache_size=cache_size, persist_empty=persist_empty)

    def _update_table(self, updater: Callable[[dict[int, Any]], None]) -> None:
        storage: JournalStorage = self._storage  # type: ignore[assignment]
        with storage.transaction():
            raw = storage.read().setdefault(self.name, {})
            updater(_TrackedTable(raw, lambda key: storage.track(self.name, key)))  # type: ignore[arg-type]
        self.clear_cache()
