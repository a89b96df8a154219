"""Everything the store holds about one person, as they may download it (GDPR Articles 15 and 20).

:func:`collect` reads the tables once and keeps, for one user, what is
theirs: the profile (never the password hash), follows and blocks, invites
made and the one used, every post they made (hidden prompts and drafts
included), likes, comments, reports they made, notifications, views, their
feed wishes, sessions (when, not the token), the prompts and comments
moderation refused, and their cameo with every use of it. Other people
appear by handle only, and only where the record is about both: nobody
else's drafts, prompts, or reports go in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Doc = dict[str, Any]
Tables = Mapping[str, Mapping[str, Doc]]
PRIVATE_FIELDS = ("password_hash",)


def collect(tables: Tables, user_id: int, handle_of: Callable[[int | None], str | None]) -> Doc:
    """The person's data, by kind; media files are named by their paths in the media folder."""
    def rows(table: str, keep: Callable[[Doc], bool]) -> list[tuple[int, Doc]]:
        return sorted(((int(k), d) for k, d in tables.get(table, {}).items() if keep(d)), key=lambda kv: kv[0])

    user = tables["users"][str(user_id)]
    profile = {k: v for k, v in user.items() if k not in PRIVATE_FIELDS and k not in ("feed_taste", "less_like")}
    profile["invited_by"] = handle_of(user.get("invited_by"))
    posts = [{"id": i, **{k: d[k] for k in ("prompt", "hide_prompt", "visibility", "created_at", "published_at",
                                         "deleted_at", "video", "thumbnail", "preview", "model")},
              "remix_of": d["parent_id"], "cameos": [handle_of(owner_of(tables, c)) for c in d["cameo_ids"]]}
             for i, d in rows("posts", lambda d: d["author_id"] == user_id)]
    cameo = next((({"id": i, **d}) for i, d in rows("cameos", lambda d: d["owner_id"] == user_id)), None)
    cameo_out = None
    if cameo is not None:
        cameo_out = {"permission": cameo["permission"], "approved": [handle_of(u) for u in cameo["approved_ids"]],
                     "restrictions": cameo.get("restrictions", ""), "created_at": cameo.get("created_at"),
                     "crops": list(cameo.get("crops", [])), "recording": cameo.get("recording"),
                     "uses": [{"post_id": i, "by": handle_of(d["author_id"]), "created_at": d["created_at"],
                               "published": d["published_at"] is not None, "deleted": d["deleted_at"] is not None}
                              for i, d in rows("posts", lambda d: cameo["id"] in d["cameo_ids"])]}
    return {
        "profile": profile,
        "feed_wishes": {"text": user.get("feed_taste", ""), "see_less_like": list(user.get("less_like", []))},
        "following": [{"handle": handle_of(d["followee_id"]), "since": d["created_at"]}
                      for _, d in rows("follows", lambda d: d["follower_id"] == user_id)],
        "followers": [{"handle": handle_of(d["follower_id"]), "since": d["created_at"]}
                      for _, d in rows("follows", lambda d: d["followee_id"] == user_id)],
        "blocked": [{"handle": handle_of(d["blocked_id"]), "since": d["created_at"]}
                    for _, d in rows("blocks", lambda d: d["blocker_id"] == user_id)],
        "invites_made": [{"code": d["code"], "created_at": d["created_at"], "used_by": handle_of(d["used_by"]),
                          "used_at": d["used_at"]} for _, d in rows("invites", lambda d: d["inviter_id"] == user_id)],
        "invite_used": next(({"code": d["code"], "from": handle_of(d["inviter_id"]), "at": d["used_at"]}
                             for _, d in rows("invites", lambda d: d["used_by"] == user_id)), None),
        "posts": posts,
        "likes": [{"post_id": d["post_id"], "at": d["created_at"]}
                  for _, d in rows("likes", lambda d: d["user_id"] == user_id)],
        "comments": [{"id": i, "post_id": d["post_id"], "text": d["text"], "at": d["created_at"],
                      "deleted_at": d["deleted_at"]} for i, d in rows("comments", lambda d: d["user_id"] == user_id)],
        "views": [{"post_id": d["post_id"], "at": d.get("created_at")}
                  for _, d in rows("views", lambda d: d.get("user_id") == user_id)],
        "reports_made": [{"kind": d["kind"], "target_id": d["target_id"], "reason": d["reason"],
                          "at": d["created_at"], "status": d["status"]}
                         for _, d in rows("reports", lambda d: d["reporter_id"] == user_id)],
        "notifications": [{"kind": d["kind"], "at": d["created_at"], "read": d["read"],
                           **{k: (handle_of(v) if k == "by" else v) for k, v in d["data"].items()}}
                          for _, d in rows("notifications", lambda d: d["user_id"] == user_id)],
        "refused_by_moderation": [{"what": d["what"], "category": d["category"], "text": d["text"], "at": d["at"]}
                                  for _, d in rows("refusals", lambda d: d["user_id"] == user_id)],
        "sessions": [{"started_at": d.get("created_at"), "expires_at": d.get("expires_at")}
                     for _, d in rows("sessions", lambda d: d["user_id"] == user_id)],
        "cameo": cameo_out,
    }


def owner_of(tables: Tables, cameo_id: int) -> int | None:
    cameo = tables.get("cameos", {}).get(str(cameo_id))
    return None if cameo is None else cameo["owner_id"]
