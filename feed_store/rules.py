"""The store's rules, written once and applied by every backend.

A backend finds the facts (is the viewer the author's friend? did either
block the other?) in its own way, from memory or with SQL; what those facts
mean is decided here, so TinyDB and PostgreSQL cannot disagree on who sees a
post, who may star a cameo, what input is refused, or why a post is in a feed.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from collections.abc import Callable, Iterable

from vocabulary import CAMEO_PERMISSIONS, HANDLE_RE, HANDLE_RULE, MENTION_RE

from .errors import Conflict, InvalidInput, NotFound, PermissionDenied, StoreError
from .ranking import EVERYONE, FOLLOWING, FRIEND_OF_FRIEND, OWN_OR_FRIEND
from .text import checked_text

Doc = dict[str, Any]

MAX_PAGE = 100
VISIBILITIES = ("draft", "friends", "public")
REPORT_KINDS = ("post", "comment", "user")
HANDLE_HOLD_SECONDS = 30 * 24 * 3600.0
"""How long the handle of a deleted account stays unavailable, so nobody takes it to pass as its owner."""
PRIVATE_USER_FIELDS = frozenset({"password_hash", "feed_taste", "less_like"})
"""What a user record keeps that no read of it returns (the password hash; what they told their feed)."""
MAX_LESS_LIKE = 20
"""How many "see less like this" prompts a user's taste remembers (the oldest go first)."""


# -- refusals: one code per case, one message per code (the same from every backend) -------------------

REFUSALS: dict[str, tuple[type[StoreError], str]] = {
    "already_registered": (Conflict, "This account is already registered."),
    "follow_self": (InvalidInput, "You cannot follow yourself."),
    "follow_blocked": (PermissionDenied, "You cannot follow this user."),
    "already_following": (Conflict, "You already follow this user."),
    "not_following": (NotFound, "You do not follow this user."),
    "block_self": (InvalidInput, "You cannot block yourself."),
    "already_blocked": (Conflict, "You already blocked this user."),
    "not_blocked": (NotFound, "You have not blocked this user."),
    "second_cameo": (Conflict, "You already have a cameo; delete it to record a new one."),
    "publish_not_author": (PermissionDenied, "Only the author can publish this video."),
    "delete_not_allowed": (PermissionDenied, "Only the author, an admin or a cameo's owner can delete this video."),
    "already_liked": (Conflict, "You already like this video."),
    "not_liked": (NotFound, "You have not liked this video."),
    "report_handled": (Conflict, "This report has already been handled."),
    "suspend_moderator": (PermissionDenied, "Moderators cannot be suspended."),
    "profile_unavailable": (NotFound, "This profile is not available."),
}


def refusal(code: str) -> StoreError:
    """The error for a refusal ``code`` of :data:`REFUSALS`, ready to raise."""
    kind, message = REFUSALS[code]
    return kind(message)


def missing(what: str, ident: object) -> NotFound:
    """The answer for an id that names nothing (or nothing the actor may see: the same words, on purpose)."""
    return NotFound(f"No {what} with id {ident!r}." if isinstance(ident, int) else f"No {what} with that id.")


def unknown_handle(handle: object) -> NotFound:
    return NotFound(f"No user @{str(handle)[:40]}.")


def unreserved_post_id(post_id: object) -> InvalidInput:
    return InvalidInput(f"Post id {post_id!r} was not reserved, or is taken.")


# -- input ------------------------------------------------------------------------------------------

def typed_handle(handle: object) -> str | None:
    """A handle as people type it (``@Alice``) in its stored form (``alice``), or ``None`` if it is no text."""
    return handle.strip().lstrip("@").lower() if isinstance(handle, str) else None


def new_handle(handle: object) -> str:
    """The stored form of a handle someone chose, or a refusal that says what a handle is."""
    handle = typed_handle(handle) or ""
    if not HANDLE_RE.fullmatch(handle):
        raise InvalidInput(f"A handle is {HANDLE_RULE}.")
    return handle


def mentioned_handles(text: str) -> list[str]:
    """The handles ``text`` mentions with ``@``, each once, in order: the people a prompt or comment tells."""
    return list(dict.fromkeys(m.lower() for m in MENTION_RE.findall(text)))


def handle_taken(handle: str) -> Conflict:
    return Conflict(f"@{handle} is taken; choose another handle.")


def handle_held(handle: str, free_from: float) -> Conflict:
    return Conflict(f"@{handle} belonged to an account deleted recently; it is free again from "
                    f"{time.strftime('%d %b %Y', time.gmtime(free_from))}. Choose another handle.")


def handle_hash(handle: str) -> str:
    """What an erased account keeps of its handle while it is held: enough to refuse it, not to read it."""
    return hashlib.sha256(f"dreamreel handle {handle}".encode()).hexdigest()


def display_name(name: str | None, handle: str) -> str:
    return checked_text(name or handle, "A display name", 50)


def invalid_invite() -> InvalidInput:
    return InvalidInput("That invite code is not valid or has been used.")


def check_visibility(visibility: object) -> str:
    if visibility not in VISIBILITIES:
        raise InvalidInput(f"Visibility must be one of {', '.join(VISIBILITIES)}.")
    return visibility  # type: ignore[return-value]


def check_publish_visibility(visibility: object) -> str:
    if visibility not in ("friends", "public"):
        raise InvalidInput("Publish to friends or public.")
    return visibility  # type: ignore[return-value]


def check_report_kind(kind: object) -> str:
    if kind not in REPORT_KINDS:
        raise InvalidInput(f"You can report a {', a '.join(REPORT_KINDS)}.")
    return kind  # type: ignore[return-value]


def check_page_size(limit: object) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"A page holds 1 to {MAX_PAGE} videos.")
    return limit


def check_cameo_permission(permission: object) -> str:
    if permission not in CAMEO_PERMISSIONS:
        raise InvalidInput(f"Cameo permission must be one of {', '.join(CAMEO_PERMISSIONS)}.")
    return permission  # type: ignore[return-value]


def feed_taste(text: str, less_like: list[str]) -> tuple[str, list[str]]:
    """What a user tells their feed, checked: the wishes and the last ``MAX_LESS_LIKE`` prompts to see less like."""
    text = checked_text(text, "Your feed wishes") if text.strip() else ""
    return text, [checked_text(t, "A prompt") for t in less_like][-MAX_LESS_LIKE:]


def check_moderation_action(action: object) -> str:
    if action not in ("take_down", "dismiss"):
        raise InvalidInput("A report is taken down or dismissed.")
    return action  # type: ignore[return-value]


# -- who sees what ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Standing:
    """What the visibility rule needs to know about one viewer and one post's author."""

    viewer_is_admin: bool = False
    author_suspended: bool = False
    viewer_is_author: bool = False
    viewer_owns_a_cameo_in_it: bool = False
    blocked_either_way: bool = False
    viewer_is_authors_friend: bool = False


def can_view(post: Doc, standing: Standing) -> bool:
    """The one rule for who sees a post (feeds apply it in bulk: numpy masks on TinyDB, SQL on PostgreSQL)."""
    if post["deleted_at"] is not None:
        return False
    if standing.viewer_is_admin:
        return True
    if standing.author_suspended:
        return False  # a suspended account's videos leave the app with it
    if standing.viewer_is_author or standing.viewer_owns_a_cameo_in_it:
        return True  # a cameo's owner sees every video with their cameo, drafts included
    if standing.blocked_either_way:
        return False
    if post["visibility"] == "public":
        return True
    return post["visibility"] == "friends" and standing.viewer_is_authors_friend


def may_delete(standing: Standing) -> bool:
    """The author, the owner of a cameo in the video, and admins may delete a post."""
    return standing.viewer_is_author or standing.viewer_owns_a_cameo_in_it or standing.viewer_is_admin


def may_delete_comment(actor: int, comment: Doc, post: Doc, actor_is_admin: bool) -> None:
    if actor not in (comment["user_id"], post["author_id"]) and not actor_is_admin:
        raise PermissionDenied("Only the comment's author, the video's author or an admin can delete it.")


def draft_refusal() -> PermissionDenied:
    return PermissionDenied("This video is still a draft; publish it first.")


def may_erase(actor: int, user_id: int, actor_is_admin: bool, user_is_admin: bool) -> None:
    if actor != user_id and not actor_is_admin:
        raise PermissionDenied("Only the account's owner or an admin can delete an account.")
    if user_is_admin and actor != user_id:
        raise PermissionDenied("Admins cannot delete another admin's account.")


def require_admin(is_admin: bool) -> None:
    if not is_admin:
        raise PermissionDenied("Only moderators (admins) can do this.")


# -- cameos -----------------------------------------------------------------------------------------

def cameo_use_refusal(user_id: int, cameo: Doc | None, owner_handle: str, *, blocked_either_way: bool,
                      friends_with_owner: bool) -> str | None:
    """The one answer to "may this user put this cameo in a video now?": ``None`` if so, else why not."""
    if cameo is None:
        return "That cameo no longer exists."
    if user_id == cameo["owner_id"]:
        return None
    handle = "@" + owner_handle
    if blocked_either_way:
        return f"You cannot use {handle}'s cameo."
    permission = cameo["permission"]
    if permission == "everyone" or (permission == "mutuals" and friends_with_owner) or (
            permission == "approved" and user_id in cameo["approved_ids"]):
        return None
    return f"{handle} has not allowed you to use their cameo."


def cameo_permission_changes(actor: int, permission: object, approved_ids: Iterable[int] | None,
                             restrictions: str | None, require_user: Callable[[int], object]) -> Doc:
    """What a new cameo setting changes: who may use it, the people approved (never the owner; each must exist,
    ``require_user`` raises otherwise) and the owner's restrictions, checked."""
    changes: Doc = {"permission": check_cameo_permission(permission)}
    if approved_ids is not None:
        approved = sorted(set(approved_ids) - {actor})
        for user_id in approved:
            require_user(user_id)
        changes["approved_ids"] = approved
    if restrictions is not None:
        changes["restrictions"] = checked_text(restrictions, "Restrictions", optional=True)
    return changes


def own_cameo(actor: int, cameo: Doc) -> Doc:
    if cameo["owner_id"] != actor:
        raise PermissionDenied("Only the cameo's owner can do this.")
    return cameo


def new_cameo(owner: int, fields: Doc, now: float) -> Doc:
    """A cameo as recorded: usable by its owner alone until they say otherwise."""
    return {**fields, "owner_id": owner, "permission": "only_me", "approved_ids": [], "restrictions": "",
            "created_at": now}


# -- why a post is in a feed ----------------------------------------------------------------------------

def reasons(*, viewer: int | None, author: int, tier: int, handle: callable, via_friend: int | None,
            followed_likers: list[int], visible_parent_author: int | None, likes: int, popular_likes: int) -> list[str]:
    """Why a post is in the feed, in the words of a "why am I seeing this" line.

    ``handle(user_id)`` gives ``@handle``; ``via_friend`` is the friend the viewer and a friend-of-friend
    author share (the lowest id); ``followed_likers`` are the people the viewer follows who liked it.
    """
    if viewer == author:
        out = ["your video"]
    elif tier == OWN_OR_FRIEND:
        out = [f"from your friend {handle(author)}"]
    elif tier == FOLLOWING:
        out = [f"you follow {handle(author)}"]
    elif tier == FRIEND_OF_FRIEND and via_friend is not None:
        out = [f"{handle(author)} is a friend of {handle(via_friend)}"]
    else:
        out = []
    if len(followed_likers) == 1:
        out.append(f"liked by {handle(followed_likers[0])}")
    elif followed_likers:
        out.append(f"liked by {len(followed_likers)} people you follow")
    if visible_parent_author is not None:
        out.append(f"remix of {handle(visible_parent_author)}'s video")
    if tier == EVERYONE and not out:
        out.append("popular on Dreamreel" if likes >= popular_likes else "new on Dreamreel")
    return out


# -- records ------------------------------------------------------------------------------------------

RECORD_DEFAULTS: dict[str, Doc] = {
    "users": {"suspended_at": None},
    "posts": {"deleted_by": None, "erased": False},
    "reports": {"resolved_by": None, "resolved_at": None},
}
"""Fields a record always has, though a stored document may leave them out until they are first set."""


def record(table: str, doc: Doc, doc_id: int) -> Doc:
    """A stored row as every backend returns it: its id first, then every field, the optional ones included."""
    return {"id": doc_id, **RECORD_DEFAULTS.get(table, {}), **doc}


def public_user(user: Doc, user_id: int) -> Doc:
    """A user record as reads return it: never the password hash or what they told their feed."""
    return record("users", {k: v for k, v in user.items() if k not in PRIVATE_USER_FIELDS}, user_id)


def presented_post(post_id: int, post: Doc, viewer: int | None, *, author: Doc, counts: tuple[int, int, int, int],
                   liked: bool, can_delete: bool) -> Doc:
    """A post as one viewer sees it: with its author, its counts, and the prompt only if they may read it."""
    likes, comments, remixes, views = counts
    out = record("posts", post, post_id)
    out.update(author_handle=author["handle"], author_name=author["display_name"], likes=likes,
               comments=comments, remixes=remixes, views=views, liked=liked, can_delete=can_delete)
    if post["hide_prompt"] and viewer != post["author_id"]:
        out["prompt"] = None
    return out


ERASED_POST = {"prompt": "", "hide_prompt": True, "video": None, "thumbnail": None, "preview": None, "cameo_ids": [],
               "model": {}, "erased": True}
"""What is left of a post its author (or the owner of a cameo in it) erased with their account."""
