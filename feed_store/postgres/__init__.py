"""Dreamreel's social store on PostgreSQL: the FeedStore API, one module per concern, rules shared with TinyDB.

Chosen when ``DREAMREEL_DATABASE_URL`` is set (see :func:`feed_store.open_store`).
Every method is one transaction on a pooled connection (:mod:`.database`), and
nothing is kept in memory between calls, so any number of app processes can
share one database.
"""

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

    def __init__(self, url: str, *, migrate: bool = True, **options) -> None:
        if migrate:
            upgrade(url)  # alembic upgrade head: a new or older database is brought up to date first
        super().__init__(url, **options)


__all__ = ["PostgresStore"]
