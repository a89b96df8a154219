"""Dreamreel's social store on TinyDB: the default, with nothing to set up.

The tables live in one folder, written through a fsynced journal
(:mod:`.journal`); everything a feed needs is indexed in memory at open
(numpy columns, :mod:`.index`), so the whole community lives in one process.
One module per concern, composed into :class:`FeedStore`; the rules every
backend shares are in :mod:`feed_store.rules`.
"""

from .accounts import Accounts
from .cameos import Cameos
from .engagement import Engagement
from .feeds import Feeds
from .graph import Graph
from .journal import CorruptStoreError, JournalStorage, JournalTable
from .moderation import Moderation
from .posts import Posts
from .users import Users


class FeedStore(Users, Graph, Cameos, Posts, Engagement, Moderation, Feeds, Accounts):
    """Users, follows, invites, posts, engagement, moderation data and feeds, in one folder."""


__all__ = ["CorruptStoreError", "FeedStore", "JournalStorage", "JournalTable"]
