"""Posts and notifications, on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable

from .. import rules
from ..errors import PermissionDenied
from ..text import checked_text
from .base import POST_COLUMNS, Doc, StoreBase, as_doc
from .database import operation

HOT_SCORE = ("(1 + %(like)s * ln(1 + like_count) + %(comment)s * ln(1 + comment_count)"
             " + %(remix)s * ln(1 + remix_count))"
             " / power(greatest(%(now)s - published_at, 0) / 3600.0 + %(offset)s, %(gravity)s)")
"""ranking.scores for a stranger (affinity 1), in SQL: the stored hot score a post has for everyone."""
HOT_LOCK = 0x686F74  # "hot": the advisory lock one refresher holds
HOT_WINDOW_SECONDS = 7 * 24 * 3600.0
"""Posts older than this leave the hot list (score 0), as Lemmy stops updating hot_rank after a week."""


class Posts(StoreBase):

    def _hot_params(self, now: float) -> dict[str, float]:
        r = self.ranking
        return {"like": r.like_weight, "comment": r.comment_weight, "remix": r.remix_weight, "now": now,
                "offset": r.age_offset_hours, "gravity": r.gravity, "window": HOT_WINDOW_SECONDS}

    def _fresh_hot_score(self) -> float:
        """The hot score of a post published this instant, before anyone engaged with it."""
        return 1.0 / self.ranking.age_offset_hours ** self.ranking.gravity

    @operation
    def refresh_hot_scores(self) -> int:
        """Score the last week's live public posts for everyone (the For you feed's global source); older ones
        drop to 0. Run periodically (every few minutes) by one process; returns how many rows changed."""
        if not self._one("SELECT pg_try_advisory_xact_lock(%s) AS mine", (HOT_LOCK,))["mine"]:
            return 0  # another process is refreshing them right now
        return self._run(
            f"UPDATE posts SET hot_score = CASE WHEN published_at > %(now)s - %(window)s THEN {HOT_SCORE} ELSE 0 END"
            f" WHERE deleted_at IS NULL AND published_at IS NOT NULL AND visibility = 'public'"
            f" AND (published_at > %(now)s - %(window)s OR hot_score <> 0)", self._hot_params(self._now(event=False)))

    @operation
    def reserve_post_id(self) -> int:
        """The id of a post not saved yet, so its video can carry the id (watermark, credentials) from the start.

        A sequence hands it out: never twice, in any process, across restarts.
        """
        return self._one("SELECT nextval('post_ids') AS id")["id"]

    def _last_reserved(self) -> int:
        row = self._one("SELECT last_value, is_called FROM post_ids")
        return row["last_value"] if row["is_called"] else 0

    @operation
    def create_post(self, author: int, prompt: str, *, video: str | None = None, thumbnail: str | None = None,
                    preview: str | None = None, cameo_ids: Iterable[int] = (), parent_id: int | None = None,
                    visibility: str = "draft", hide_prompt: bool = False, model: Doc | None = None,
                    post_id: int | None = None) -> Doc:
        """Save a generated video; it starts as a draft unless ``visibility`` says otherwise.

        ``post_id`` is one :meth:`reserve_post_id` handed out for this video.
        """
        self._require_user(author)
        if post_id is not None and not (isinstance(post_id, int) and 0 < post_id <= self._last_reserved() and
                                        self._one("SELECT 1 FROM posts WHERE id = %s", (post_id,)) is None):
            raise rules.unreserved_post_id(post_id)
        prompt = checked_text(prompt, "A prompt")
        rules.check_visibility(visibility)
        cameo_ids = list(dict.fromkeys(cameo_ids))
        owners = {}
        self._hold_user(author)
        for cameo_id in cameo_ids:
            cameo = self._require_cameo(cameo_id, hold=True)
            refusal = self._use_refusal(author, cameo_id)
            if refusal is not None:
                raise PermissionDenied(refusal)
            owners[cameo_id] = cameo["owner_id"]
        if parent_id is not None:
            self._visible_post(self._viewer(author), parent_id)
        if post_id is None:
            post_id = self.reserve_post_id()
        now = self._now()
        published = None if visibility == "draft" else now
        row = self._one(
            f"INSERT INTO posts (id, author_id, prompt, hide_prompt, video, thumbnail, preview, cameo_ids, parent_id,"
            f" visibility, model, created_at, published_at, hot_score) VALUES (%(id)s, %(author)s, %(prompt)s,"
            f" %(hide)s, %(video)s, %(thumbnail)s, %(preview)s, %(cameos)s, %(parent)s, %(visibility)s, %(model)s,"
            f" %(now)s, %(published)s, %(hot)s) ON CONFLICT (id) DO NOTHING RETURNING {POST_COLUMNS}",
            {"id": post_id, "author": author, "prompt": prompt, "hide": bool(hide_prompt), "video": video,
             "thumbnail": thumbnail, "preview": preview, "cameos": cameo_ids, "parent": parent_id,
             "visibility": visibility, "model": self._json(model or {}), "now": now, "published": published,
             "hot": 0.0 if published is None else self._fresh_hot_score()})
        if row is None:
            raise rules.unreserved_post_id(post_id)
        for cameo_id, owner in owners.items():
            if owner != author:  # owners hear of every use
                self._notify(owner, "cameo_used", {"post_id": post_id, "cameo_id": cameo_id, "by": author})
        post = as_doc(row, "posts")
        if published is not None:
            self._announce(post)
        return post

    def _announce(self, post: Doc) -> None:
        """A post was just published: its source counts a remix, and its source's author and the people its
        prompt mentions hear of it."""
        self._prompts_changed()
        about = {"post_id": post["id"], "by": post["author_id"]}
        told = {r["owner_id"] for r in self._all("SELECT owner_id FROM cameos WHERE id = ANY(%s)",
                                                 (post["cameo_ids"],))}  # heard of it already
        if post["parent_id"] is not None:
            source = self._one("UPDATE posts SET remix_count = remix_count + 1 WHERE id = %s RETURNING author_id",
                               (post["parent_id"],))
            self._tell(source["author_id"], "remix", about)
            told.add(source["author_id"])
        self._tell_mentioned(post["prompt"], post["author_id"], about, told)

    @property
    def prompt_changes(self) -> int:
        """Grows whenever the set of visible prompts may have changed, in any process (a post published, deleted
        or erased, a prompt hidden or shown): the taste model's cue to look again."""
        row = self.db.statement("SELECT last_value, is_called FROM prompt_changes")
        return row["last_value"] if row["is_called"] else 0

    def _prompts_changed(self) -> None:
        self._one("SELECT nextval('prompt_changes')")

    @operation
    def publish(self, actor: int, post_id: int, visibility: str = "public", hide_prompt: bool | None = None) -> Doc:
        """Share a draft (or change who sees a published post)."""
        self._lock_post(post_id)
        row = self._visible_post(self._viewer(actor), post_id)
        if row["author_id"] != actor:
            raise rules.refusal("publish_not_author")
        rules.check_publish_visibility(visibility)
        now = self._now()
        first_time = row["published_at"] is None
        updated = self._one(
            f"UPDATE posts SET visibility = %(visibility)s, hide_prompt = coalesce(%(hide)s, hide_prompt),"
            f" hot_score = CASE WHEN published_at IS NULL THEN %(hot)s ELSE hot_score END,"
            f" published_at = coalesce(published_at, %(now)s) WHERE id = %(id)s RETURNING {POST_COLUMNS}",
            {"visibility": visibility, "hide": None if hide_prompt is None else bool(hide_prompt), "id": post_id,
             "now": now, "hot": self._fresh_hot_score()})
        post = as_doc(updated, "posts")
        if first_time:
            self._announce(post)
        elif hide_prompt is not None:
            self._prompts_changed()
        return post

    @operation
    def delete_post(self, actor: int, post_id: int) -> Doc:
        """Delete a post: allowed to its author, an admin, and the owner of a cameo in it.

        Returns the deleted post, whose media paths the caller removes from disk.
        """
        self._lock_post(post_id)
        viewer = self._viewer(actor)
        row = self._visible_post(viewer, post_id)
        if not rules.may_delete(viewer.standing(row, row["_suspended"])):
            raise rules.refusal("delete_not_allowed")
        deleted = self._one(f"UPDATE posts SET deleted_at = %s, deleted_by = %s WHERE id = %s RETURNING {POST_COLUMNS}",
                            (self._now(), actor, post_id))
        if row["parent_id"] is not None and row["published_at"] is not None:
            self._run("UPDATE posts SET remix_count = remix_count - 1 WHERE id = %s", (row["parent_id"],))
        self._prompts_changed()
        return as_doc(deleted, "posts")

    @operation
    def get_post(self, viewer: int | None, post_id: int) -> Doc:
        """The post if ``viewer`` may see it, with its counts; NotFound otherwise."""
        who = self._viewer(viewer)
        return self._present([self._visible_post(who, post_id)], who)[0]

    @operation
    def creation_times(self, author: int, since: float) -> list[float]:
        """When ``author`` made each video since ``since`` (deleted ones included: they cost a generation too)."""
        return [r["created_at"] for r in self._all(
            "SELECT created_at FROM posts WHERE author_id = %s AND created_at >= %s ORDER BY created_at",
            (author, since))]

    @operation
    def drafts(self, viewer: int) -> list[Doc]:
        """The viewer's own unpublished videos, newest first."""
        ids = [r["id"] for r in self._all(
            "SELECT id FROM posts WHERE author_id = %s AND published_at IS NULL AND deleted_at IS NULL"
            " ORDER BY id DESC", (viewer,))]
        rows = self._post_rows(ids)
        return self._present([rows[p] for p in ids], self._viewer(viewer))

    @operation
    def visible_prompts(self) -> dict[int, str]:
        """The prompt of every published, undeleted post whose author did not hide it, by post id."""
        return {r["id"]: r["prompt"] for r in self._all(
            "SELECT id, prompt FROM posts WHERE published_at IS NOT NULL AND deleted_at IS NULL AND NOT hide_prompt")}

    # -- notifications ------------------------------------------------------------------------------------

    @operation
    def notifications(self, user_id: int, limit: int = 200) -> list[Doc]:
        """A user's latest notifications, newest first."""
        self._require_user(user_id)
        return [as_doc(r, "notifications") for r in self._all(
            "SELECT id, user_id, kind, data, created_at, read FROM notifications WHERE user_id = %s"
            " ORDER BY id DESC LIMIT %s", (user_id, limit))]

    @operation
    def unread_notifications(self, user_id: int) -> int:
        """How many notifications ``user_id`` has not seen yet."""
        return self._one("SELECT count(*) AS n FROM notifications WHERE user_id = %s AND NOT read", (user_id,))["n"]

    @operation
    def mark_notifications_read(self, user_id: int) -> None:
        """The user opened their activity: everything in it is read."""
        self._run("UPDATE notifications SET read = true WHERE user_id = %s AND NOT read", (user_id,))
