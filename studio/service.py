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
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any


from cameo import Cameos, Challenge
from feed_store import FeedPage, FeedStore, InvalidInput, NotFound, PermissionDenied
from feed_store.media import MediaFolder
from feed_store.text import checked_text
from pipeline.request import CameoNotAllowed, GenerationRequest
from vocabulary import FEEDS, MAX_UPLOAD_MB


if TYPE_CHECKING:
    from pipeline.provenance import Provenance, VideoCheck
    from safety.moderation import Moderator, Verdict
    from safety.restrictions import RestrictionChecker

DAY = 24 * 3600.0
PAGE_SIZE = 8
Doc = dict[str, Any]


class LimitReached(PermissionDenied):
    """A user made as many videos as a day allows."""


class ContentRefused(PermissionDenied):
    """Moderation refused a prompt or comment; nothing was made or saved."""


class SignInRequired(PermissionDenied):
    """The action needs an account; signed-out visitors can only watch public posts."""

    def __init__(self, action: str = "do this") -> None:
        super().__init__(f"Sign in to {action}.")


@dataclass(frozen=True)
class Card:
    """One post as the feed shows it."""

    post: Doc
    reasons: tuple[str, ...]
    video: Path | None
    thumbnail: Path | None


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

    # -- watching ---------------------------------------------------------------------------------

    def feed(self, viewer: int | None, which: str, cursor: str | None = None, limit: int = PAGE_SIZE
             ) -> tuple[list[Card], str | None]:
        """A page of the named feed and the cursor of the next page (``None`` at the end)."""
        if which == "For you":
            page = self.store.for_you(viewer, cursor, limit)
        elif which == "Latest":
            page = self.store.latest(viewer, cursor, limit)
        elif which == "Following":
            if viewer is None:
                raise SignInRequired("see the people you follow")
            page = self.store.following_feed(viewer, cursor, limit)
        else:
            raise InvalidInput(f"Choose one of the feeds: {', '.join(FEEDS)}.")
        return self._cards(page), page.next_cursor

    def _cards(self, page: FeedPage) -> list[Card]:
        return [self.card(item.post, tuple(item.reasons)) for item in page.items]

    def card(self, post: Doc, reasons: tuple[str, ...] = ()) -> Card:
        return Card(post, reasons, self._file(post.get("video")), self._file(post.get("thumbnail")))

    def _file(self, name: str | None) -> Path | None:
        return None if not name else self.media.path(name)

    def post(self, viewer: int | None, post_id: int) -> tuple[Card, list[Doc], list[Doc], list[Doc]]:
        """One post (for a shared link): its card, comments, remixes and lineage (original first)."""
        post = self.store.get_post(viewer, post_id)  # drafts: their author, and the owners of cameos in them
        if viewer is not None:
            self.store.record_view(viewer, post_id)
        return (self.card(post), self.store.comments(viewer, post_id), self.store.remixes(viewer, post_id),
                self.store.lineage(viewer, post_id))

    # -- engaging ---------------------------------------------------------------------------------

    def toggle_like(self, actor: int | None, post_id: int) -> tuple[bool, int]:
        """Like, or take back a like; returns (liked now, like count)."""
        actor = _signed_in(actor, "like videos")
        if self.store.get_post(actor, post_id)["liked"]:
            return False, self.store.unlike(actor, post_id)
        return True, self.store.like(actor, post_id)

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
        return self.store.moderation_log(_signed_in(actor, "moderate"))

    def moderate(self, actor: int | None, report_id: int, action: str) -> Doc:
        """Take down (the video's files go too) or dismiss a report."""
        report, removed = self.store.resolve_report(_signed_in(actor, "moderate"), report_id, action)
        if removed is not None:
            self.media.erase(removed["video"], removed["thumbnail"], removed["preview"])
        return report

    # -- people -----------------------------------------------------------------------------------

    def profile(self, viewer: int | None, handle: str) -> Doc:
        """A profile: the user, their posts the viewer may see, followers, following and mutuals (handles)."""
        user = self.store.user_by_handle(handle)
        uid = user["id"]
        if viewer is not None and self.store.is_blocked(viewer, uid):
            raise NotFound("This profile is not available.")
        page = self.store.profile_feed(viewer, uid, limit=50)

        def handles(ids) -> list[str]:
            return sorted(self.store.get_user(i)["handle"] for i in ids)

        return {"user": user, "cards": self._cards(page), "followers": handles(self.store.followers(uid)),
                "following": handles(self.store.following(uid)), "mutuals": handles(self.store.friends(uid)),
                "you_follow": viewer is not None and uid in self.store.following(viewer)}

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

    def drafts(self, actor: int | None) -> list[Card]:
        return [self.card(p) for p in self.store.drafts(_signed_in(actor, "see your drafts"))]

    def publish(self, actor: int | None, post_id: int, visibility: str, hide_prompt: bool) -> Doc:
        return self.store.publish(_signed_in(actor, "publish"), post_id, visibility, hide_prompt)

    def delete_post(self, actor: int | None, post_id: int) -> None:
        self.cameos.delete_post(_signed_in(actor, "delete videos"), post_id)

    # -- provenance -------------------------------------------------------------------------------

    def verify(self, viewer: int | None, upload: Path) -> tuple[VideoCheck, Card | None]:
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
        card = None
        if check.post_id is not None:
            try:
                card = self.card(self.store.get_post(viewer, check.post_id))
            except NotFound:
                pass  # taken down, deleted, or not the viewer's to see
        return check, card

    # -- cameos -----------------------------------------------------------------------------------

    def create_cameo(self, actor: int | None, clip: Path, challenge: Challenge, keep_recording: bool = False) -> Doc:
        return self.cameos.create(_signed_in(actor, "make a cameo"), Path(clip), challenge,
                                  keep_recording=keep_recording)

    def my_cameo(self, actor: int | None) -> Doc | None:
        return self.store.cameo_of(_signed_in(actor, "see your cameo"))

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

    def videos_with_my_cameo(self, actor: int | None) -> list[Card]:
        """Every video using the actor's cameo, others' drafts included."""
        cameo = self._own_cameo(actor)
        return [self.card(p) for p in self.store.posts_with_cameo(cameo["owner_id"], cameo["id"])]

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
