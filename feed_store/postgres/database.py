"""Connections and transactions: a psycopg 3 pool, one transaction per store operation, retried when it must be.

The app's handlers are synchronous threads, so the pool is psycopg-pool's
threaded ``ConnectionPool``. Every public store method runs inside
:meth:`Database.operation`: it borrows a connection, runs the whole method in
one transaction, commits, and gives the connection back. A transaction that
PostgreSQL aborts because another one raced it (a serialization failure or a
deadlock) is run again from the start, so callers never see the race; a
:class:`~feed_store.errors.StoreError` raised by the method rolls everything
back and reaches the caller as it is.
"""

from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

F = TypeVar("F", bound=Callable[..., Any])

RETRIED = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)
"""What PostgreSQL aborts a transaction for when two raced: running it again is the documented remedy."""
MAX_ATTEMPTS = 30
"""Many writers on one hot row under SERIALIZABLE abort each other often; with random, growing waits (up to a
fifth of a second) every one of them gets through well before this."""


class Database:
    """A pool of connections to one PostgreSQL database, and the transaction each operation runs in."""

    def __init__(self, url: str, *, max_connections: int = 16) -> None:
        self.url = url
        # Autocommit connections: a transaction is opened explicitly (``transaction``), and a single statement
        # (``statement``) runs as its own, without the two extra round trips of BEGIN and COMMIT.
        self.pool = ConnectionPool(url, min_size=1, max_size=max_connections, open=True, name="dreamreel",
                                   kwargs={"row_factory": dict_row, "autocommit": True}, configure=_configure)
        self._local = threading.local()
        self.retries = 0
        """How many transactions were run again after a serialization failure or deadlock (for tests and logs)."""

    def close(self) -> None:
        self.pool.close()

    @property
    def cursor(self) -> psycopg.Cursor:
        """The cursor of the transaction this thread is in (only inside :meth:`transaction`)."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            raise RuntimeError("store code ran outside a transaction; wrap the method in @operation")
        return cursor

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Cursor]:
        """One transaction for the calling thread; a nested call joins the transaction already open."""
        if getattr(self._local, "cursor", None) is not None:
            yield self._local.cursor
            return
        with self.pool.connection() as connection:
            try:
                with connection.transaction(), connection.cursor() as cursor:
                    self._local.cursor = cursor
                    yield cursor
            finally:
                self._local.cursor = None

    def statement(self, sql: str, params: Any = None) -> dict[str, Any] | None:
        """One statement as a transaction of its own (run again if it raced another); its first row, if any.

        Inside an open transaction it simply joins it.
        """
        rows = self.rows(sql, params)
        return rows[0] if rows else None

    def rows(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        """One statement as a transaction of its own (run again if it raced another); all its rows."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is not None:
            return cursor.execute(sql, params).fetchall()

        def once() -> list[dict[str, Any]]:
            with self.pool.connection() as connection:
                return connection.execute(sql, params).fetchall()

        return self._retrying(once)

    @property
    def in_transaction(self) -> bool:
        return getattr(self._local, "cursor", None) is not None

    def run(self, work: Callable[[], Any]) -> Any:
        """``work()`` in one transaction, run again if PostgreSQL aborts it for racing another transaction."""
        if getattr(self._local, "cursor", None) is not None:
            return work()

        def once() -> Any:
            with self.transaction():
                return work()

        return self._retrying(once)

    def _retrying(self, attempt_once: Callable[[], Any]) -> Any:
        """Run ``attempt_once`` until it is not aborted for a race, after a short random wait that grows each time."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return attempt_once()
            except RETRIED:
                if attempt == MAX_ATTEMPTS:
                    raise
                self.retries += 1
                time.sleep(random.uniform(0, min(0.2, 0.002 * 2 ** attempt)))
        raise AssertionError("unreachable")


def _configure(connection: psycopg.Connection) -> None:
    """Plan each prepared statement once. psycopg prepares a statement after its fifth run; PostgreSQL would then
    still plan it anew on every run when its parameters are arrays of unknown length (the grouped likes, the feeds'
    author lists), which costs more than running it. Every condition our partial indexes need is written as a
    literal, so one generic plan serves every value."""
    connection.execute("SET plan_cache_mode = force_generic_plan")


def operation(method: F) -> F:
    """Run a store method as one transaction of its store's :class:`Database` (retried on a race)."""
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        return self.db.run(lambda: method(self, *args, **kwargs))

    return wrapper  # type: ignore[return-value]
