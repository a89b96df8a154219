"""Posts and notifications, on TinyDB."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from tinydb.table import Document

from .. import rules
from ..errors import PermissionDenied
from ..text import checked_text
from .base import RESERVED_IDS, Doc, StoreBase, _serialised
from .index import NEVER, REMIX, PostColumns
from .schema import META_TABLE


class Posts(StoreBase):

    def _load_posts(self, tables: Doc) -> None:
        self._last_reserved_post_id = tables.get(META_TABLE, {}).get(str(RESERVED_IDS), {}).get("post_id", 0)
        self.columns = PostColumns()
        self._posts_by_author: dict[int, list[int]] = {}
        self._posts_by_cameo: dict[int, list[int]] = {}
        self._remixes: dict[int, list[int]] = {}
        for key, post in tables.get("posts", {}).items():
            self._index_post(int(key), post)
        self.prompt_changes = getattr(self, "prompt_changes", 0) + 1
        """Grows whenever the set of visible prompts may have changed (a post published, deleted or erased, a
        prompt hidden or shown): the taste model's cue to look again."""
        self._notification_ids: dict[int, list[int]] = {}
        for key, n in tables.get("notifications", {}).items():
            self._notification_ids.setdefault(n["user_id"], []).append(int(key))

    def _index_post(self, post_id: int, post: Doc) -> None:
        self.columns.set_post(post_id, post["author_id"], post["visibility"], post["published_at"],
                              post["deleted_at"])
        self._posts_by_author.setdefault(post["author_id"], []).append(post_id)
        for cameo_id in post["cameo_ids"]:
            self._posts_by_cameo.setdefault(cameo_id, []).append(post_id)
        if post["parent_id"] is not None:
            self._remixes.setdefault(post["parent_id"], []).append(post_id)

    @_serialised
    def reserve_post_id(self) -> int:
        """The id of a post not saved yet, so its video can carry the id (watermark, credentials) from the start.

        Durable: an id is never handed out twice, even across restarts; one
        whose generation fails is simply never used.
        """
        post_id = self._next_post_id()
        meta = self._db.table(META_TABLE)
        if meta.contains(doc_id=RESERVED_IDS):
            meta.update({"post_id": post_id}, doc_ids=[RESERVED_IDS])
        else:
            meta.insert(Document({"post_id": post_id}, doc_id=RESERVED_IDS))
        self._last_reserved_post_id = post_id
        return post_id

    def _next_post_id(self) -> int:
        return max(self.columns.size, self._last_reserved_post_id + 1, 1)

    @_serialised
    def create_post(self, author: int, prompt: str, *, video: str | None = None, thumbnail: str | None = None,
                    preview: str | None = None, cameo_ids: Iterable[int] = (), parent_id: int | None = None,
                    visibility: str = "draft", hide_prompt: bool = False, model: Doc | None = None,
                    post_id: int | None = None) -> Doc:
        """Save a generated video; it starts as a draft unless ``visibility`` says otherwise.

        ``post_id`` is one :meth:`reserve_post_id` handed out for this video.
        """
        self._require_user(author)
        if post_id is None:
            post_id = self._next_post_id()
        elif not (isinstance(post_id, int) and 0 < post_id <= self._last_reserved_post_id
                  and str(post_id) not in self._storage.read().get("posts", {})):
            raise rules.unreserved_post_id(post_id)
        prompt = checked_text(prompt, "A prompt")
        rules.check_visibility(visibility)
        cameo_ids = list(dict.fromkeys(cameo_ids))
        for cameo_id in cameo_ids:
            self._get("cameos", cameo_id, "cameo")
            refusal = self.cameo_use_refusal(author, cameo_id)
            if refusal is not None:
                raise PermissionDenied(refusal)
        if parent_id is not None:
            self._visible_post(author, parent_id)
        now = self._now()
        post = {"author_id": author, "prompt": prompt, "hide_prompt": bool(hide_prompt), "video": video,
                "thumbnail": thumbnail, "preview": preview, "cameo_ids": cameo_ids, "parent_id": parent_id,
                "visibility": visibility, "model": model or {}, "created_at": now,
                "published_at": None if visibility == "draft" else now, "deleted_at": None}
        with self._storage.transaction():
            self._t.posts.insert(Document(post, doc_id=post_id))
            notified = [self._notify(owner, "cameo_used", {"post_id": post_id, "cameo_id": c, "by": author})
                        for c in cameo_ids if (owner := self._cameo_owner[c]) != author]  # owners hear of every use
        for owner, notification_id in notified:
            self._notification_ids.setdefault(owner, []).append(notification_id)
        self._index_post(post_id, post)
        if visibility != "draft":
            self._announce(post_id, post, now)
        return rules.record("posts", post, post_id)

    @_serialised
    def publish(self, actor: int, post_id: int, visibility: str = "public", hide_prompt: bool | None = None) -> Doc:
        """Share a draft (or change who sees a published post)."""
        post = self._visible_post(actor, post_id)
        if post["author_id"] != actor:
            raise rules.refusal("publish_not_author")
        rules.check_publish_visibility(visibility)
        now = self._now()
        changes: Doc = {"visibility": visibility}
        if hide_prompt is not None:
            changes["hide_prompt"] = bool(hide_prompt)
        first_time = post["published_at"] is None
        if first_time:
            changes["published_at"] = now
        self._t.posts.update(changes, doc_ids=[post_id])
        post = self._get("posts", post_id, "video")
        self.columns.set_post(post_id, actor, visibility, post["published_at"], None)
        if first_time:
            self._announce(post_id, post, now)
        elif "hide_prompt" in changes:
            self.prompt_changes += 1
        return rules.record("posts", post, post_id)

    def _announce(self, post_id: int, post: Doc, now: float) -> None:
        """A post was just published: its source counts a remix, and its source's author and the people its
        prompt mentions hear of it."""
        self.prompt_changes += 1
        about = {"post_id": post_id, "by": post["author_id"]}
        told = {self._cameo_owner[c] for c in post["cameo_ids"] if c in self._cameo_owner}  # heard of it already
        if post["parent_id"] is not None:
            self._engage(post["parent_id"], REMIX, +1, now)
            source_author = self._get("posts", post["parent_id"], "video")["author_id"]
            self._tell(source_author, "remix", about)
            told.add(source_author)
        self._tell_mentioned(post["prompt"], post["author_id"], about, told)

    @_serialised
    def delete_post(self, actor: int, post_id: int) -> Doc:
        """Delete a post: allowed to its author, an admin, and the owner of a cameo in it.

        Returns the deleted post, whose media paths the caller removes from disk.
        """
        post = self._visible_post(actor, post_id)
        if not self._may_delete(actor, post):
            raise rules.refusal("delete_not_allowed")
        now = self._now()
        self._t.posts.update({"deleted_at": now, "deleted_by": actor}, doc_ids=[post_id])
        self.columns.deleted_at[post_id] = now
        self.prompt_changes += 1
        if post["parent_id"] is not None and post["published_at"] is not None:
            self._engage(post["parent_id"], REMIX, -1, now)
        return rules.record("posts", self._get("posts", post_id, "video"), post_id)

    @_serialised
    def get_post(self, viewer: int | None, post_id: int) -> Doc:
        """The post if ``viewer`` may see it, with its counts; NotFound otherwise."""
        post = self._visible_post(viewer, post_id)
        return self._present(post_id, post, viewer)

    @_serialised
    def creation_times(self, author: int, since: float) -> list[float]:
        """When ``author`` made each video since ``since`` (deleted ones included: they cost a generation too)."""
        times = (self._get("posts", p, "video")["created_at"] for p in self._posts_by_author.get(author, []))
        return sorted(t for t in times if t >= since)

    @_serialised
    def drafts(self, viewer: int) -> list[Doc]:
        """The viewer's own unpublished videos, newest first."""
        ids = [p for p in self._posts_by_author.get(viewer, []) if self.columns.published_at[p] == NEVER
               and self.columns.deleted_at[p] == NEVER]
        return [self._present(p, self._get("posts", p, "video"), viewer) for p in sorted(ids, reverse=True)]

    @_serialised
    def visible_prompts(self) -> dict[int, str]:
        """The prompt of every published, undeleted post whose author did not hide it, by post id."""
        c = self.columns
        live = np.flatnonzero((c.published_at < NEVER) & (c.deleted_at == NEVER))
        posts = self._storage.read().get("posts", {})  # one read of the table, not one lookup per post
        return {int(p): doc["prompt"] for p in live.tolist()
                if (doc := posts.get(str(p))) is not None and not doc.get("hide_prompt")}

    @_serialised
    def notifications(self, user_id: int, limit: int = 200) -> list[Doc]:
        """A user's latest notifications, newest first."""
        self._require_user(user_id)
        return [rules.record("notifications", self._get("notifications", n, "notification"), n)
                for n in sorted(self._notification_ids.get(user_id, []), reverse=True)[:limit]]

    @_serialised
    def unread_notifications(self, user_id: int) -> int:
        """How many notifications ``user_id`` has not seen yet."""
        return sum(not self._get("notifications", n, "notification")["read"]
                   for n in self._notification_ids.get(user_id, []))

    @_serialised
    def mark_notifications_read(self, user_id: int) -> None:
        """The user opened their activity: everything in it is read."""
        unread = [n for n in self._notification_ids.get(user_id, [])
                  if not self._get("notifications", n, "notification")["read"]]
        if unread:
            self._t.notifications.update({"read": True}, doc_ids=unread)
