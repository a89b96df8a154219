"""Dreamreel's social store on PostgreSQL: the FeedStore API, one module per concern, rules shared with TinyDB.

Chosen when ``DREAMREEL_DATABASE_URL`` is set (see :func:`feed_store.open_store`).
Every method is one transaction on a pooled connection (:mod:`.database`), and
nothing is kept in memory between calls, so any number of app processes can
share one database.
"""

import logging
import threading

from .accounts import Accounts
from .cameos import Cameos
from .engagement import Engagement
from .feeds import Feeds
from .graph import Graph
from .moderation import Moderation
from .posts import Posts
from .schema import upgrade
from .users import Users


class PostgresStore(Users, Graph, Cameos, Posts, Engagement, Moderation, Feeds, Accounts):
    """Users, follows, invites, posts, engagement, moderation data and feeds, in one PostgreSQL database."""

    def __init__(self, url: str, *, migrate: bool = True, refresh_every: float | None = None, **options) -> None:
        """Open the store on the database at ``url``.

        ``migrate`` runs ``alembic upgrade head`` first, so a new or older database is brought up to date.
        ``refresh_every`` (seconds) starts a thread that refreshes the stored hot scores that often; one
        process at a time does it, whichever takes the lock.
        """
        if migrate:
            upgrade(url)
        super().__init__(url, **options)
        self._stop = threading.Event()
        self._refresher = None
        if refresh_every:
            self._refresher = threading.Thread(target=self._refresh_hot_scores_every, args=(refresh_every,),
                                               name="hot-scores", daemon=True)
            self._refresher.start()

    def _refresh_hot_scores_every(self, seconds: float) -> None:
        # Not at once: a new post is scored when it is published, so a starting process has nothing urgent to do.
        while not self._stop.wait(seconds):
            try:
                self.refresh_hot_scores()
            except Exception:  # a database restart must not end the thread: try again next time
                logging.getLogger(__name__).exception("refreshing hot scores failed")

    def close(self) -> None:
        self._stop.set()
        if self._refresher is not None:
            self._refresher.join(timeout=30)
        super().close()


__all__ = ["PostgresStore"]
