"""Named API endpoints, so that ``gradio_client`` can do everything the page does.

Sign up or sign in first: both return a session token, the first argument of
every other endpoint. The acting user is the one the token was issued to;
a forged or expired token acts as nobody (signed out).

    from gradio_client import Client, handle_file
    client = Client("http://127.0.0.1:7860/")
    session = client.predict("alice", "a long password", "INVITE", api_name="/sign_up")
    post = client.predict(session, "a red ball moving left on a frozen lake", api_name="/generate")
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import gradio as gr
from gradio.data_classes import FileData

from .handlers import App
from .inputs import optional_whole_number, real_number, whole_number
from studio import PostView
from .views import file_url, user_facing


def _post(post: PostView) -> dict[str, Any]:
    """A post as JSON: the typed view's fields, with where to fetch its video and thumbnail instead of their paths."""
    out = {k: v for k, v in asdict(post).items() if k not in ("video", "thumbnail")}
    out.update(video_url=file_url(post.video), thumbnail_url=file_url(post.thumbnail), reasons=list(post.reasons),
               cameo_handles=list(post.cameo_handles), draft=post.is_draft)
    return out


def register(app: App) -> None:
    """Declare the endpoints; call inside the ``gr.Blocks`` context."""
    studio, accounts = app.studio, app.accounts
    user = accounts.user_for

    def endpoint(fn):
        gr.api(user_facing(fn), api_name=fn.__name__, api_description=fn.__doc__)
        return fn

    @endpoint
    def sign_up(handle: str, password: str, invite_code: str, request: gr.Request) -> str:
        """Create an account with an invite code; returns a session token."""
        return accounts.sign_up(handle, password, invite_code, address=app.client_address(request))

    @endpoint
    def sign_in(handle: str, password: str) -> str:
        """Returns a session token."""
        return accounts.sign_in(handle, password)

    @endpoint
    def sign_out(session: str) -> str:
        """End this session: the token stops working at once."""
        accounts.sign_out(session)
        return "signed out"

    @endpoint
    def sign_out_everywhere(session: str) -> str:
        """End every session of yours, on every device (this one included)."""
        ended = accounts.sign_out_everywhere(session)
        return f"signed out of {ended} session{'' if ended == 1 else 's'}"

    @endpoint
    def feed(session: str, which: str = "For you", cursor: str = "") -> dict:
        """A page of "For you", "Following" or "Latest", and the cursor of the next page."""
        page = studio.feed(user(session), which, cursor or None)
        return {"posts": [_post(p) for p in page.posts], "next_cursor": page.next_cursor}

    @endpoint
    def post(session: str, post_id: int) -> dict:
        """One post with its comments, remixes and lineage."""
        detail = studio.post(user(session), whole_number(post_id, "A post id"))
        return {"post": _post(detail.post), "comments": [asdict(c) for c in detail.comments],
                "remixes": [r.id for r in detail.remixes], "lineage": [None if p is None else p.id for p in detail.lineage]}

    @endpoint
    def generate(session: str, prompt: str, seed: int | None = None, steps: int | None = None) -> dict:
        """Make a video (a draft); @handle mentions star cameos you may use."""
        actor = user(session)
        post = studio.create(actor, prompt, seed=optional_whole_number(seed, "A seed"),
                             num_inference_steps=optional_whole_number(steps, "Steps"))
        return _post(studio.get_post(actor, post["id"]))

    @endpoint
    def remix(session: str, post_id: int, prompt: str, strength: float = 0.6, seed: int | None = None) -> dict:
        """Remix a post you can see into a new draft that links back to it."""
        actor = user(session)
        post = studio.create(actor, prompt, parent_id=whole_number(post_id, "A post id"),
                             strength=real_number(strength, "The strength"), seed=optional_whole_number(seed, "A seed"))
        return _post(studio.get_post(actor, post["id"]))

    @endpoint
    def publish(session: str, post_id: int, visibility: str = "public", hide_prompt: bool = False) -> dict:
        """Publish a draft to "public" or "friends"."""
        actor = user(session)
        post = studio.publish(actor, whole_number(post_id, "A post id"), visibility, bool(hide_prompt))
        return _post(studio.get_post(actor, post["id"]))

    @endpoint
    def drafts(session: str) -> list:
        """Your unpublished videos."""
        return [_post(p) for p in studio.drafts(user(session))]

    @endpoint
    def like(session: str, post_id: int) -> dict:
        """Like a post, or take the like back; returns whether you like it now and its like count."""
        liked, likes = studio.toggle_like(user(session), whole_number(post_id, "A post id"))
        return {"liked": liked, "likes": likes}

    @endpoint
    def comment(session: str, post_id: int, text: str) -> dict:
        """Comment on a published post."""
        return studio.comment(user(session), whole_number(post_id, "A post id"), text)

    @endpoint
    def follow(session: str, handle: str) -> str:
        studio.follow(user(session), handle)
        return f"following @{handle}"

    @endpoint
    def unfollow(session: str, handle: str) -> str:
        studio.follow(user(session), handle, follow=False)
        return f"not following @{handle}"

    @endpoint
    def block(session: str, handle: str) -> str:
        """Block someone: neither of you sees the other, nor may use the other's cameo."""
        studio.block(user(session), handle)
        return f"blocked @{handle}"

    @endpoint
    def unblock(session: str, handle: str) -> str:
        studio.block(user(session), handle, block=False)
        return f"unblocked @{handle}"

    @endpoint
    def report(session: str, kind: str, target_id: int, reason: str) -> dict:
        """Report a "post", "comment" or "user" to the moderators."""
        return studio.report(user(session), kind, whole_number(target_id, "What you report"), reason)

    @endpoint
    def moderation_queue(session: str) -> list:
        """Admins: the open reports, oldest first."""
        return studio.moderation_queue(user(session))

    @endpoint
    def moderate(session: str, report_id: int, action: str) -> dict:
        """Admins: "take_down" (a video or comment goes, files included; a user is suspended) or "dismiss"; logged."""
        return studio.moderate(user(session), whole_number(report_id, "A report id"), action)

    @endpoint
    def refusals(session: str) -> list:
        """Admins: the latest prompts and comments moderation refused, newest first."""
        return studio.refusals(user(session))

    @endpoint
    def verify(session: str, video: FileData) -> dict:
        """Check any video: made on this instance? which post? invisible watermark? C2PA manifest valid?"""
        with app.received(video) as copy:
            check, found = studio.verify(user(session), copy)
        credentials = check.credentials
        return {"from_this_instance": check.from_this_instance, "post_id": check.post_id,
                "post": _post(found) if found is not None else None,
                "watermark": None if check.watermark is None else {"post_id": check.watermark.payload,
                                                                   "confidence": check.watermark.confidence},
                "credentials": {"state": credentials.state, "ai_generated": credentials.ai_generated,
                                "generation": credentials.generation, "parent": credentials.parent,
                                "signer": credentials.signer, "failures": list(credentials.failures)},
                "tag": check.tag}

    @endpoint
    def delete_post(session: str, post_id: int) -> str:
        """Delete a video: yours, or any that uses your cameo (drafts included)."""
        post_id = whole_number(post_id, "A post id")
        studio.delete_post(user(session), post_id)
        return f"deleted #{post_id}"

    @endpoint
    def cameo_challenge(session: str) -> str:
        """Which way to turn first in your recording ("left" or "right"); the next create_cameo checks it."""
        return app.new_challenge(user(session)).first

    @endpoint
    def create_cameo(session: str, clip: FileData, keep_recording: bool = False) -> dict:
        """Make your cameo from a recording of yourself (vocabulary.CLIP_RULE long) that follows the latest challenge."""
        actor = user(session)
        with app.received(clip) as recording:
            cameo = studio.create_cameo(actor, recording, app.issued_challenge(actor), bool(keep_recording))
            app.challenge_done(actor)
        return {k: cameo[k] for k in ("id", "owner_id", "permission")}

    @endpoint
    def cameo_permission(session: str, permission: str, approved: list[str] | None = None,
                         restrictions: str | None = None) -> dict:
        """Who may use your cameo: only_me, approved (with handles), mutuals or everyone."""
        cameo = studio.set_cameo_permission(user(session), permission, approved, restrictions)
        return {"permission": cameo["permission"], "approved_ids": cameo["approved_ids"],
                "restrictions": studio.restrictions_summary(cameo["restrictions"])}

    @endpoint
    def cameo_videos(session: str) -> list:
        """Every video that uses your cameo, others' drafts included."""
        return [_post(p) for p in studio.videos_with_my_cameo(user(session))]

    @endpoint
    def usable_cameos(session: str) -> list:
        """Handles whose cameo you may put in a video now."""
        return studio.usable_cameos(user(session))

    @endpoint
    def delete_cameo(session: str) -> str:
        """Delete your cameo: its record, face crops and embedding."""
        studio.delete_cameo(user(session))
        return "cameo deleted"

    @endpoint
    def export_my_data(session: str) -> FileData:
        """A zip of everything Dreamreel holds about you: data.json, your videos, your cameo's crops, a README."""
        path = studio.export_my_data(user(session), app.export_folder())
        return FileData(path=str(path), orig_name=path.name)

    @endpoint
    def delete_account(session: str, password: str, confirm_handle: str) -> str:
        """Delete your account and everything in it, at once; give your password and type your handle."""
        actor = app.accounts.confirm_deletion(session, password, confirm_handle)
        app.cancel_generation(actor)
        studio.erase_account(actor, actor)
        return "account deleted"

    @endpoint
    def invite(session: str) -> str:
        """A new single-use invite code."""
        return studio.new_invite(user(session))
