"""The app's use cases: what a signed-in (or signed-out) person can do, over the store, cameos and pipeline.

Every method takes the acting user first (``None`` when signed out), as
resolved from the session by :class:`~studio.accounts.Accounts`; the store
checks what that user may do. The UI never touches the store directly.
"""

from __future__ import annotations

import datetime as dt
import importlib
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any


from cameo import Cameos, Challenge
from feed_store import FeedPage, FeedStore, InvalidInput, NotFound, PermissionDenied
from feed_store.ranking import Taste
from feed_store.media import MediaFolder
from feed_store.text import checked_text
from pipeline.request import CameoNotAllowed, GenerationRequest
from vocabulary import CAMEO_PERMISSION_LABELS, FEEDS, MAX_UPLOAD_MB

from .activity import group
from .export import build_export
from .taste import TasteModel, Wishes, parse_wishes
from .records import ActivityItem, CameoView, Suggestion, CommentView, FeedView, PostDetail, PostView, ProfileView, UserView


if TYPE_CHECKING:
    from pipeline.provenance import Provenance, VideoCheck
    from safety.moderation import Moderator, Verdict
    from safety.restrictions import RestrictionChecker

DAY = 24 * 3600.0
PAGE_SIZE = 8
DEFAULT_SIDE = 256
"""The side of a video made before posts recorded their size."""
Doc = dict[str, Any]


class LimitReached(PermissionDenied):
    """A user made as many videos as a day allows."""


class ContentRefused(PermissionDenied):
    """Moderation refused a prompt or comment; nothing was made or saved."""


class SignInRequired(PermissionDenied):
    """The action needs an account; signed-out visitors can only watch public posts."""

    def __init__(self, action: str = "do this") -> None:
        super().__init__(f"Sign in to {action}.")


class Studio:
    """Everything the Gradio page asks for, one method per user action."""

    def __init__(self, store: FeedStore, media: MediaFolder, cameos: Cameos, load_model: Callable[[], Any], *,
                 provenance: Provenance, moderator: Moderator | None = None,
                 restrictions: RestrictionChecker | None = None, daily_generations: int = 30,
                 clock: Callable[[], float] = time.time) -> None:
        """``moderator`` and ``restrictions`` default to the offline ones in ``safety``, loaded on first use."""
        self.store = store
        self.daily_generations = daily_generations
        self._clock = clock
        self.media = media
        self.cameos = cameos
        self.provenance = provenance
        self.videos_dir = media.root / "videos"
        self._load_model = load_model
        self._model = None
        self._loading = threading.RLock()
        """One lock for every heavy load: diffusers and transformers must not be imported from two threads at once."""
        self._moderator = moderator
        self._restrictions = restrictions
        self.taste = TasteModel(store, self._sentence_encoder)

    def _sentence_encoder(self):
        """MiniLM's sentence embeddings, loaded under the loading lock (used to match feed wishes)."""
        return self._import("safety.text_encoder").shared_encoder().sentence_embeddings

    # -- watching ---------------------------------------------------------------------------------

    def feed(self, viewer: int | None, which: str, cursor: str | None = None, limit: int = PAGE_SIZE) -> FeedView:
        """A page of the named feed, each post with the reasons the ranking gave for it."""
        if which == "For you":
            page = self.store.for_you(viewer, cursor, limit, taste=self._taste(viewer))
        elif which == "Latest":
            page = self.store.latest(viewer, cursor, limit)
        elif which == "Following":
            if viewer is None:
                raise SignInRequired("see the people you follow")
            page = self.store.following_feed(viewer, cursor, limit)
        else:
            raise InvalidInput(f"Choose one of the feeds: {', '.join(FEEDS)}.")
        return FeedView(self._views(viewer, page), page.next_cursor)

    def _taste(self, viewer: int | None) -> Taste | None:
        if viewer is None:
            return None
        return self.taste.taste(parse_wishes(*self.store.feed_taste(viewer)))

    def feed_wishes(self, actor: int | None) -> str:
        """What the actor told their feed, in their words ("" for none, and for a visitor)."""
        return "" if actor is None else self.store.feed_taste(actor)[0]

    def tune_feed(self, actor: int | None, wishes: str) -> Wishes:
        """Keep what the actor wants more or less of ("more space and skating, fewer cats"); "" forgets it."""
        actor = _signed_in(actor, "tune your feed")
        wishes = checked_text(wishes, "Your feed wishes") if str(wishes or "").strip() else ""
        parsed = parse_wishes(wishes)
        if wishes and not parsed:
            raise InvalidInput('Say what you want more or less of, like "more space and skating, fewer cats".')
        self.store.set_feed_taste(actor, wishes, self.store.feed_taste(actor)[1])
        return parsed

    def see_less(self, actor: int | None, post_id: int) -> None:
        """"See less like this": the video's prompt joins what the actor wants less of (a hidden prompt cannot)."""
        actor = _signed_in(actor, "tune your feed")
        prompt = self.store.get_post(actor, post_id)["prompt"]
        if prompt is None:
            raise InvalidInput("This video's prompt is hidden, so there is nothing to match: report it or scroll on.")
        wishes, less_like = self.store.feed_taste(actor)
        self.store.set_feed_taste(actor, wishes, [p for p in less_like if p != prompt] + [prompt])

    def _views(self, viewer: int | None, page: FeedPage) -> tuple[PostView, ...]:
        return tuple(self.view(viewer, item.post, tuple(item.reasons)) for item in page.items)

    def view(self, viewer: int | None, post: Doc, reasons: tuple[str, ...] = ()) -> PostView:
        """A store post (as ``viewer`` was given it) as the typed record the page and the API show."""
        made = post.get("model") or {}
        parent_handle = None
        if post["parent_id"] is not None:
            try:
                parent_handle = self.store.get_post(viewer, post["parent_id"])["author_handle"]
            except NotFound:
                pass  # the source was deleted, or is not the viewer's to see: the remix shows no link
        return PostView(
            id=post["id"], author_id=post["author_id"], author_handle=post["author_handle"],
            author_name=post["author_name"], prompt=post["prompt"], video=self._file(post.get("video")),
            thumbnail=self._file(post.get("thumbnail")), width=int(made.get("width") or DEFAULT_SIDE),
            height=int(made.get("height") or DEFAULT_SIDE), likes=post["likes"], comments=post["comments"],
            remixes=post["remixes"], liked=post["liked"], visibility=post["visibility"],
            created_at=post["created_at"], published_at=post["published_at"], parent_id=post["parent_id"],
            parent_handle=parent_handle, cameo_handles=self._cameo_handles(post["cameo_ids"]),
            reasons=reasons, demo=bool(made.get("demo")), hide_prompt=bool(post.get("hide_prompt")),
            can_delete=bool(post.get("can_delete")))

    def _cameo_handles(self, cameo_ids: list[int]) -> tuple[str, ...]:
        """The handles of the people whose cameos star in a post (a deleted cameo names nobody)."""
        handles = []
        for cameo_id in cameo_ids:
            try:
                handles.append(self.store.get_user(self.store.get_cameo(cameo_id)["owner_id"])["handle"])
            except NotFound:
                pass
        return tuple(handles)

    def _file(self, name: str | None) -> Path | None:
        return None if not name else self.media.path(name)

    def get_post(self, viewer: int | None, post_id: int) -> PostView:
        """One post the viewer may see (a draft: its author, and the owners of cameos in it); NotFound otherwise."""
        return self.view(viewer, self.store.get_post(viewer, post_id))

    def post(self, viewer: int | None, post_id: int) -> PostDetail:
        """One post with its comments (newest first), its remixes and its lineage (original first)."""
        post = self.get_post(viewer, post_id)
        comments = tuple(CommentView(c["id"], post_id, c["user_id"], c["handle"], c["text"], c["created_at"])
                         for c in reversed(self.store.comments(viewer, post_id)))
        remixes = tuple(self.view(viewer, r) for r in self.store.remixes(viewer, post_id))
        lineage = tuple(None if p.get("unavailable") else self.view(viewer, p)
                        for p in self.store.lineage(viewer, post_id))
        return PostDetail(post, comments, remixes, lineage)

    def watched(self, viewer: int | None, post_id: int) -> None:
        """The viewer watched the post (counted once per person); signed-out views are not counted."""
        if viewer is not None:
            self.store.record_view(viewer, post_id)

    # -- engaging ---------------------------------------------------------------------------------

    def toggle_like(self, actor: int | None, post_id: int) -> tuple[bool, int]:
        """Like, or take back a like; returns (liked now, like count)."""
        liked = self.store.get_post(_signed_in(actor, "like videos"), post_id)["liked"]
        return self.set_like(actor, post_id, not liked)

    def set_like(self, actor: int | None, post_id: int, liked: bool) -> tuple[bool, int]:
        """Like (or take the like back) whatever the post's state was: a double tap on a liked video keeps the like."""
        actor = _signed_in(actor, "like videos")
        post = self.store.get_post(actor, post_id)
        if post["liked"] == liked:
            return liked, post["likes"]
        return liked, (self.store.like if liked else self.store.unlike)(actor, post_id)

    def comment(self, actor: int | None, post_id: int, text: str) -> Doc:
        actor = _signed_in(actor, "comment")
        text = checked_text(text, "A comment", multiline=True)
        self._refuse_if_harmful(actor, "comment", text, self.moderator.check_comment(text))
        return self.store.comment(actor, post_id, text)

    def report(self, actor: int | None, kind: str, target_id: int, reason: str) -> Doc:
        return self.store.report(_signed_in(actor, "report"), kind, target_id, reason)

    def report_account(self, actor: int | None, handle: str, reason: str) -> Doc:
        """Report someone by their handle (from their profile)."""
        actor = _signed_in(actor, "report")
        return self.store.report(actor, "user", self.store.user_by_handle(handle)["id"], reason)

    def moderation_queue(self, actor: int | None) -> list[Doc]:
        return self.store.open_reports(_signed_in(actor, "moderate"))

    def refusals(self, actor: int | None) -> list[Doc]:
        """Admins: the latest prompts and comments moderation refused, with who wrote them."""
        return self.store.refusals(_signed_in(actor, "moderate"))

    def moderation_log(self, actor: int | None) -> list[Doc]:
        """Admins: every moderation decision, with the handle of the admin who made it."""
        entries = self.store.moderation_log(_signed_in(actor, "moderate"))
        return [{**e, "admin_handle": self.store.get_user(e["admin_id"])["handle"]} for e in entries]

    def moderate(self, actor: int | None, report_id: int, action: str) -> Doc:
        """Take down (the video's files go too) or dismiss a report."""
        report, removed = self.store.resolve_report(_signed_in(actor, "moderate"), report_id, action)
        if removed is not None:
            self.media.erase(removed["video"], removed["thumbnail"], removed["preview"])
        return report

    # -- people -----------------------------------------------------------------------------------

    def me(self, viewer: int | None) -> UserView | None:
        """Who is signed in (``None`` for a visitor)."""
        if viewer is None:
            return None
        user = self.store.get_user(viewer)
        return UserView(viewer, user["handle"], user["display_name"], bool(user.get("is_admin")))

    def profile(self, viewer: int | None, handle: str) -> ProfileView:
        """A profile: the person, their videos the viewer may see, and who they follow and are followed by."""
        user = self.store.user_by_handle(handle)
        uid = user["id"]
        if viewer is not None and self.store.is_blocked(viewer, uid) and not self.store.has_blocked(viewer, uid):
            raise NotFound("This profile is not available.")  # they blocked the viewer; a blocker sees "Unblock"
        posts = self._views(viewer, self.store.profile_feed(viewer, uid, limit=50))

        def handles(ids) -> tuple[str, ...]:
            return tuple(sorted(self.store.get_user(i)["handle"] for i in ids))

        return ProfileView(
            user_id=uid, handle=user["handle"], display_name=user["display_name"],
            avatar=next((p.thumbnail for p in posts if p.thumbnail), None), posts=posts,
            followers=handles(self.store.followers(uid)), following=handles(self.store.following(uid)),
            friends=handles(self.store.friends(uid)), relation=self._relation(viewer, uid),
            has_cameo=self.store.cameo_of(uid) is not None)

    def _relation(self, viewer: int | None, other: int) -> str:
        if viewer is None:
            return "signed_out"
        if viewer == other:
            return "self"
        if self.store.has_blocked(viewer, other):
            return "blocked"
        follows, followed = other in self.store.following(viewer), viewer in self.store.following(other)
        return {(True, True): "friends", (True, False): "following", (False, True): "follows_you"}.get(
            (follows, followed), "none")

    def activity(self, actor: int | None) -> tuple[ActivityItem, ...]:
        """The actor's activity, grouped and newest first (reading it does not mark it read)."""
        notes = self.store.notifications(_signed_in(actor, "see your activity"))
        return group(notes, lambda user_id: self.store.get_user(user_id)["handle"])

    def mark_activity_read(self, actor: int | None) -> None:
        self.store.mark_notifications_read(_signed_in(actor, "see your activity"))

    def unread_activity(self, actor: int | None) -> int:
        """How many notifications the actor has not seen (0 for a visitor)."""
        return 0 if actor is None else self.store.unread_notifications(actor)

    def export_my_data(self, actor: int | None, folder: Path) -> Path:
        """A zip of everything Dreamreel holds about the actor, written into ``folder`` (see :mod:`studio.export`)."""
        return build_export(self.store, self.media, _signed_in(actor, "download your data"), folder)

    def erase_account(self, actor: int | None, user_id: int) -> None:
        """Delete an account and everything of it at once (the person, or an admin): records, then files."""
        names = self.store.erase_user(_signed_in(actor, "delete an account"), user_id)
        self.media.erase(*names)

    def user_id(self, handle: str) -> int:
        """The id behind a handle (NotFound for none)."""
        return self.store.user_by_handle(handle)["id"]

    def suggestions(self, viewer: int | None, limit: int = 6) -> tuple[Suggestion, ...]:
        """People to follow: friends of the viewer's friends first, then the most liked recent creators."""
        viewer = _signed_in(viewer, "get suggestions")
        following = set(self.store.following(viewer))
        skip = following | {viewer}
        found: dict[int, str] = {}
        for friend in sorted(self.store.friends(viewer)):
            for other in sorted(self.store.friends(friend)):
                if other not in skip and other not in found and not self.store.is_blocked(viewer, other):
                    found[other] = f"friend of @{self.store.get_user(friend)['handle']}"
        likes: dict[int, int] = {}
        for post in self.store.latest(viewer, limit=100).items:
            likes[post.post["author_id"]] = likes.get(post.post["author_id"], 0) + post.post["likes"] + 1
        for author in sorted(likes, key=lambda a: -likes[a]):
            if author not in skip and author not in found:
                found[author] = "makes popular videos"
        people = [(self.store.get_user(u), why) for u, why in list(found.items())[:limit]]
        return tuple(Suggestion(u["handle"], u["display_name"], why) for u, why in people)

    def follow(self, actor: int | None, handle: str, follow: bool = True) -> None:
        actor = _signed_in(actor, "follow people")
        other = self.store.user_by_handle(handle)["id"]
        (self.store.follow if follow else self.store.unfollow)(actor, other)

    def block(self, actor: int | None, handle: str, block: bool = True) -> None:
        actor = _signed_in(actor, "block people")
        other = self.store.user_by_handle(handle)["id"]
        (self.store.block if block else self.store.unblock)(actor, other)

    def new_invite(self, actor: int | None) -> str:
        return self.store.create_invite(_signed_in(actor, "invite friends"))

    def invites(self, actor: int | None) -> list[Doc]:
        return self.store.invites_of(_signed_in(actor, "see your invites"))

    # -- making videos ----------------------------------------------------------------------------

    def limits(self):
        """The loaded model's limits, or ``None`` while it is still loading."""
        return None if self._model is None else self._model.limits

    def _import(self, module: str) -> ModuleType:
        """Import a module that pulls in torch, diffusers or transformers, under the loading lock.

        diffusers' lazy modules are not thread-safe: a request importing one while the start-up warm-up
        imports another failed with "cannot import name 'DiffusionPipeline'" (the first video after a start).
        """
        with self._loading:
            return importlib.import_module(module)

    def model(self):
        """The video model, loaded on first use (the page starts without it)."""
        with self._loading:
            if self._model is None:
                self._model = self._load_model()
            return self._model

    def warm_up(self) -> None:
        """Load the video model and the safety classifiers now, so the first request does not wait for them."""
        self.moderator.check_prompt("a red ball bouncing on a beach")
        self.restrictions.breach("a red ball bouncing on a beach", "no political content")
        self.model()
        self.taste.refresh()  # every published prompt embedded once, before the first tuned feed asks

    def create(self, actor: int | None, prompt: str, *, parent_id: int | None = None, strength: float = 0.6,
               on_progress: Callable[[int, int], None] | None = None, cancel: threading.Event | None = None,
               demo: bool = False, **settings: Any) -> Doc:
        """Generate a video (or a remix of ``parent_id``) and save it as the actor's draft.

        ``demo`` marks the post as demo data (the seeded community).
        Every check (text, moderation, the daily allowance, the source, cameo
        permissions and restrictions, the model's limits) runs before a post
        id is reserved or any compute starts. Cameo permissions are checked
        again when the draft is saved, so a permission revoked meanwhile still
        refuses it.
        """
        generation = self._import("pipeline.generation")
        actor = _signed_in(actor, "make videos")
        prompt = checked_text(prompt, "A prompt")
        self._refuse_if_harmful(actor, "prompt", prompt, self.moderator.check_prompt(prompt))
        self._check_daily_limit(actor)
        author = self.store.get_user(actor)
        source, inherited = None, []
        if parent_id is not None:
            parent = self.store.get_post(actor, parent_id)
            if parent["published_at"] is None and parent["author_id"] != actor:
                raise NotFound(f"No video with id {parent_id!r}.")
            source = self.media.path(parent["video"])
            inherited = parent["cameo_ids"]  # a remix keeps the source's faces: their owners must allow it too
        cast = self.cameos.cast(actor, prompt)
        cameo_ids = list(dict.fromkeys([c.cameo_id for c in cast] + inherited))
        authorize = self.cameos.authorize(actor)
        for cameo_id in cameo_ids:
            authorize(cameo_id)
            self._check_restrictions(actor, prompt, cameo_id)
        request = GenerationRequest(prompt=prompt, author_handle=author["handle"], cameos=cast,
                                    source_video=source, strength=strength,
                                    provenance={"parent_post_id": str(parent_id)} if parent_id else {},
                                    **{k: v for k, v in settings.items() if v is not None})
        model = self.model()
        request = generation.validate(model, request, authorize)
        post_id = self.store.reserve_post_id()  # only now: a refused request spends no id
        request = replace(request, post_id=post_id)
        video = generation.generate(model, request, self.videos_dir, on_progress=on_progress, cancel=cancel,
                         authorize_cameo=authorize, provenance=self.provenance)
        names = [self.media.name_of(p) for p in (video.video_path, video.thumbnail_path, video.preview_path)]
        try:
            return self.store.create_post(actor, request.prompt.strip(), video=names[0], thumbnail=names[1],
                                          preview=names[2], cameo_ids=cameo_ids, parent_id=parent_id,
                                          model={**_model_record(video.metadata), "demo": demo}, post_id=post_id)
        except BaseException:
            self.media.erase(*names)
            raise

    @property
    def moderator(self) -> Moderator:
        """The prompt and comment classifier (MiniLM loads on first use)."""
        with self._loading:
            if self._moderator is None:
                from safety.moderation import Moderator
                from safety.text_encoder import shared_encoder

                shared_encoder()  # MiniLM loads here, under the lock, not inside a later check
                self._moderator = Moderator.load()
            return self._moderator

    @property
    def restrictions(self) -> RestrictionChecker:
        """Cameo owners' restrictions, matched by meaning."""
        with self._loading:
            if self._restrictions is None:
                from safety.restrictions import RestrictionChecker

                self._restrictions = RestrictionChecker()
            return self._restrictions

    def _refuse_if_harmful(self, actor: int, what: str, text: str, verdict: Verdict) -> None:
        if verdict.blocked:
            self.store.record_refusal(actor, what, verdict.category, text)
            raise ContentRefused(f"Blocked ({verdict.label}): {verdict.reason}")

    def _check_restrictions(self, actor: int, prompt: str, cameo_id: int) -> None:
        """Refuse a prompt that breaks a restriction the cameo's owner set (owners are free with their own)."""
        cameo = self.store.get_cameo(cameo_id)
        if cameo["owner_id"] == actor or not cameo.get("restrictions"):
            return
        breach = self.restrictions.breach(prompt, cameo["restrictions"])
        if breach is not None:
            raise CameoNotAllowed(breach.message(self.store.get_user(cameo["owner_id"])["handle"]))

    def _check_daily_limit(self, actor: int) -> None:
        """Refuse, before any compute, a video beyond the day's allowance (a sliding 24 hours)."""
        made = self.store.creation_times(actor, self._clock() - DAY)
        if len(made) >= self.daily_generations:
            again = dt.datetime.fromtimestamp(made[-self.daily_generations] + DAY).strftime("%H:%M")
            raise LimitReached(f"You have made {len(made)} videos in the last 24 hours, the daily limit of "
                               f"{self.daily_generations}. You can make the next one after {again}.")

    def drafts(self, actor: int | None) -> list[PostView]:
        """The actor's unpublished videos, newest first."""
        return [self.view(actor, p) for p in self.store.drafts(_signed_in(actor, "see your drafts"))]

    def publish(self, actor: int | None, post_id: int, visibility: str, hide_prompt: bool) -> Doc:
        return self.store.publish(_signed_in(actor, "publish"), post_id, visibility, hide_prompt)

    def delete_post(self, actor: int | None, post_id: int) -> None:
        self.cameos.delete_post(_signed_in(actor, "delete videos"), post_id)

    # -- provenance -------------------------------------------------------------------------------

    def verify(self, viewer: int | None, upload: Path) -> tuple[VideoCheck, PostView | None]:
        """What an uploaded video says about its origin, and its post when the viewer may see it."""
        from pipeline.video_io import VideoError

        upload = Path(upload)
        if not upload.is_file() or upload.stat().st_size == 0:
            raise InvalidInput("Upload a video file (MP4) to check.")
        if upload.stat().st_size > MAX_UPLOAD_MB << 20:
            raise InvalidInput(f"Videos up to {MAX_UPLOAD_MB} MB can be checked.")
        try:
            check = self.provenance.check(upload)
        except VideoError as e:
            raise InvalidInput(f"This file cannot be read as a video: {e}") from e
        found = None
        if check.post_id is not None:
            try:
                found = self.get_post(viewer, check.post_id)
            except NotFound:
                pass  # taken down, deleted, or not the viewer's to see
        return check, found

    # -- cameos -----------------------------------------------------------------------------------

    def create_cameo(self, actor: int | None, clip: Path, challenge: Challenge, keep_recording: bool = False) -> Doc:
        return self.cameos.create(_signed_in(actor, "make a cameo"), Path(clip), challenge,
                                  keep_recording=keep_recording)

    def my_cameo(self, actor: int | None) -> CameoView | None:
        """The actor's cameo, or ``None`` when they have none yet."""
        cameo = self.store.cameo_of(_signed_in(actor, "see your cameo"))
        if cameo is None:
            return None
        return CameoView(
            id=cameo["id"], permission=cameo["permission"],
            permission_label=CAMEO_PERMISSION_LABELS[cameo["permission"]],
            approved=tuple(self.store.get_user(u)["handle"] for u in cameo["approved_ids"]),
            restrictions=cameo.get("restrictions") or "", crops=tuple(self.media.path(c) for c in cameo["crops"]),
            uses=len(self.store.posts_with_cameo(cameo["owner_id"], cameo["id"])))

    def usable_cameos(self, actor: int | None) -> list[str]:
        """Handles whose cameo the actor may use now, their own first."""
        return [c["handle"] for c in self.store.usable_cameos(actor)] if actor is not None else []

    def set_cameo_permission(self, actor: int | None, permission: str, approved: list[str] | None = None,
                             restrictions: str | None = None) -> Doc:
        """Who may use the actor's cameo; ``only_me`` revokes everyone else's use at once."""
        cameo = self._own_cameo(actor)
        if approved is not None and not (isinstance(approved, list) and all(isinstance(h, str) for h in approved)):
            raise InvalidInput("Approved people are a list of handles.")
        approved_ids = None if approved is None else [self.store.user_by_handle(h)["id"] for h in approved if h.strip()]
        return self.store.set_cameo_permission(cameo["owner_id"], cameo["id"], permission, approved_ids, restrictions)

    def restrictions_summary(self, restrictions: str) -> str:
        """How the owner's restrictions will be enforced, in one line they can check."""
        interpret = self._import("safety.restrictions").interpret
        return interpret(restrictions).summary() if (restrictions or "").strip() else "No restrictions."

    def videos_with_my_cameo(self, actor: int | None) -> list[PostView]:
        """Every video using the actor's cameo, others' drafts included."""
        cameo = self._own_cameo(actor)
        return [self.view(cameo["owner_id"], p) for p in self.store.posts_with_cameo(cameo["owner_id"], cameo["id"])]

    def delete_cameo(self, actor: int | None) -> None:
        cameo = self._own_cameo(actor)
        self.cameos.delete(cameo["owner_id"], cameo["id"])

    def _own_cameo(self, actor: int | None) -> Doc:
        cameo = self.store.cameo_of(_signed_in(actor, "manage your cameo"))
        if cameo is None:
            raise NotFound("You have no cameo yet: record one first.")
        return cameo


def _signed_in(actor: int | None, action: str) -> int:
    if actor is None:
        raise SignInRequired(action)
    return actor


def _model_record(metadata: Doc) -> Doc:
    """What a post keeps of how it was made (shown on the card, checked against the file's provenance)."""
    keep = ("model", "family", "seed", "steps", "guidance_scale", "num_frames", "height", "width", "strength")
    return {k: metadata[k] for k in keep if k in metadata}
