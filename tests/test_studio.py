"""Accounts, sessions and the app's use cases, on a real store and the real embedded model.

The rules a page must not be able to get around: who is acting comes from a
signed session only, signed-out visitors only watch, drafts stay private, and
a failed generation leaves nothing behind.
"""

from __future__ import annotations

import pytest

from cameo import Cameos, FaceDetector, default_embedder
from feed_store import InvalidInput, NotFound, PermissionDenied
from feed_store.media import MediaFolder
from pipeline import InvalidRequest, load_model
from pipeline.provenance import Provenance
from studio import Accounts, SignInRequired, Studio

HOUR = 3600


@pytest.fixture(scope="module")
def model():
    return load_model("embedded", device="cpu")


@pytest.fixture
def world(tmp_path, model, clock, open_store):
    store = open_store()
    media = MediaFolder(tmp_path / "media")
    accounts = Accounts(store, tmp_path / "secret.key", clock=clock)
    first = accounts.first_start()
    studio = Studio(store, media, Cameos(store, media, FaceDetector(), default_embedder()), lambda: model,
                    provenance=Provenance.for_instance(tmp_path / "provenance"))
    yield store, media, accounts, studio, first
    store.close()


def test_the_first_start_makes_an_admin_and_invites_once(world):
    store, media, accounts, studio, first = world
    assert first.admin_handle == "admin" and len(first.invite_codes) == 5
    admin = accounts.user_for(accounts.sign_in("admin", first.admin_password))
    assert store.get_user(admin)["is_admin"]
    assert accounts.first_start() is None  # never again on a store with users


def test_sign_up_needs_an_unused_invite_and_a_real_password(world):
    store, media, accounts, studio, first = world
    with pytest.raises(InvalidInput, match="invite-only"):
        accounts.sign_up("alice", "a long password", "")
    with pytest.raises(InvalidInput, match="at least 8"):
        accounts.sign_up("alice", "short", first.invite_codes[0])
    token = accounts.sign_up("alice", "a long password", first.invite_codes[0])
    assert store.get_user(accounts.user_for(token))["handle"] == "alice"
    with pytest.raises(InvalidInput, match="not valid or has been used"):
        accounts.sign_up("bob", "a long password", first.invite_codes[0])
    # The password is stored as an argon2id hash, never as itself.
    stored = store.password_hash("alice")[1]
    assert stored.startswith("$argon2id$") and "a long password" not in stored


def test_long_passwords_work_in_full_and_old_bcrypt_hashes_still_verify(world):
    import bcrypt

    store, media, accounts, studio, first = world
    long_password = "correct horse battery staple " * 5  # 145 bytes: bcrypt would read only the first 72
    token = accounts.sign_up("alice", long_password, first.invite_codes[0])
    assert accounts.user_for(accounts.sign_in("alice", long_password)) == accounts.user_for(token)
    for wrong in (long_password[:72], long_password[:-1] + "X", long_password + "!"):
        with pytest.raises(PermissionDenied, match="Wrong handle or password"):
            accounts.sign_in("alice", wrong)
    with pytest.raises(PermissionDenied, match="Wrong handle or password"):
        accounts.sign_in("alice", "x" * 5000)  # over the limit: the same answer, no hash of 5000 characters
    with pytest.raises(InvalidInput, match="at most 1024 characters"):
        accounts.sign_up("bob", "y" * 1025, first.invite_codes[1])

    # An account from before argon2id signs in with its bcrypt hash, which is then replaced.
    bob = store.create_user("bob", password_hash=bcrypt.hashpw(b"bob's old password", bcrypt.gensalt()).decode())
    with pytest.raises(PermissionDenied, match="Wrong handle or password"):
        accounts.sign_in("bob", "bob's old password" + "z" * 80)
    assert accounts.user_for(accounts.sign_in("bob", "bob's old password")) == bob["id"]
    assert store.password_hash("bob")[1].startswith("$argon2id$")
    assert accounts.user_for(accounts.sign_in("bob", "bob's old password")) == bob["id"]


def test_signing_out_ends_the_token_and_everywhere_ends_them_all(world, open_store, tmp_path, clock):
    store, media, accounts, studio, first = world
    laptop = accounts.sign_up("alice", "a long password", first.invite_codes[0])
    phone = accounts.sign_in("alice", "a long password")
    tablet = accounts.sign_in("alice", "a long password")
    bob = accounts.sign_up("bob", "bob's long password", first.invite_codes[1])
    alice = accounts.user_for(laptop)
    assert accounts.user_for(phone) == accounts.user_for(tablet) == alice

    accounts.sign_out(laptop)
    assert accounts.user_for(laptop) is None  # this token, wherever a copy of it is kept
    assert accounts.user_for(phone) == alice  # the other devices stay signed in
    accounts.sign_out(laptop)  # signing out twice is harmless

    assert accounts.sign_out_everywhere(phone) == 2
    assert accounts.user_for(phone) is None and accounts.user_for(tablet) is None
    assert accounts.user_for(bob) is not None  # nobody else is signed out
    with pytest.raises(PermissionDenied, match="Sign in"):
        accounts.sign_out_everywhere(phone)

    # Ended sessions stay ended after a restart; live ones stay live.
    store.close()
    reopened = open_store()
    again = Accounts(reopened, tmp_path / "secret.key", clock=clock)
    assert again.user_for(laptop) is None and again.user_for(tablet) is None
    assert again.user_for(bob) is not None
    reopened.close()


def test_sessions_cannot_be_forged_or_outlive_their_expiry(world, clock, tmp_path):
    store, media, accounts, studio, first = world
    token = accounts.sign_up("alice", "a long password", first.invite_codes[0])
    admin_token = accounts.sign_in("admin", first.admin_password)
    session, expiry, signature = token.split(".")
    admin_session = admin_token.split(".")[0]
    assert accounts.user_for(f"{admin_session}.{expiry}.{signature}") is None  # another session, same signature
    assert accounts.user_for(f"{session}.{int(expiry) + 9999}.{signature}") is None  # a longer life
    assert accounts.user_for("") is None and accounts.user_for("garbage") is None
    # Another instance (another secret) does not accept this one's tokens.
    other = Accounts(store, tmp_path / "other-secret.key", clock=clock)
    assert other.user_for(token) is None
    clock.advance(31 * 24 * HOUR)
    assert accounts.user_for(token) is None
    with pytest.raises(PermissionDenied, match="Wrong handle or password"):
        accounts.sign_in("alice", "not the password")
    with pytest.raises(PermissionDenied, match="Wrong handle or password"):
        accounts.sign_in("nobody", "a long password")


def test_hugging_face_accounts_get_a_free_handle_once(world):
    store, media, accounts, studio, first = world
    a = accounts.user_for(accounts.sign_in_external("Admin", "Someone Else"))
    assert store.get_user(a)["handle"] == "admin1"  # "admin" is taken by the local admin
    assert store.get_user(a)["display_name"] == "Someone Else"  # the name they chose on Hugging Face
    assert accounts.user_for(accounts.sign_in_external("Admin")) == a
    b = accounts.user_for(accounts.sign_in_external("Nameless-One"))
    assert store.get_user(b)["handle"] == "nameless_one" and store.get_user(b)["display_name"] == "Nameless-One"


def test_signed_out_visitors_can_only_watch(world):
    store, media, accounts, studio, first = world
    alice = accounts.user_for(accounts.sign_up("alice", "a long password", first.invite_codes[0]))
    post = studio.create(alice, "a red ball moving left on a frozen lake", seed=1)
    studio.publish(alice, post["id"], "public", False)
    assert [p.id for p in studio.feed(None, "For you").posts] == [post["id"]]
    for action in (lambda: studio.toggle_like(None, post["id"]), lambda: studio.comment(None, post["id"], "hi"),
                   lambda: studio.create(None, "a red ball"), lambda: studio.feed(None, "Following"),
                   lambda: studio.follow(None, "alice")):
        with pytest.raises(SignInRequired, match="Sign in"):
            action()


def test_drafts_stay_private_until_published_and_remixes_link_back(world):
    store, media, accounts, studio, first = world
    alice = accounts.user_for(accounts.sign_up("alice", "a long password", first.invite_codes[0]))
    bob = accounts.user_for(accounts.sign_up("bob", "a long password", first.invite_codes[1]))
    draft = studio.create(alice, "a blue car moving right in a city at night", seed=2)
    for viewer in (bob, None):
        with pytest.raises(NotFound):
            studio.post(viewer, draft["id"])
        with pytest.raises(NotFound):
            studio.create(viewer or bob, "a remix", parent_id=draft["id"])
    studio.publish(alice, draft["id"], "public", True)
    assert studio.post(bob, draft["id"]).post.prompt is None  # hidden prompt
    remix = studio.create(bob, "a pink car moving right in a city at night", parent_id=draft["id"], strength=0.5)
    studio.publish(bob, remix["id"], "public", False)
    assert [r.id for r in studio.post(alice, draft["id"]).remixes] == [remix["id"]]
    assert [p.id for p in studio.post(alice, remix["id"]).lineage] == [draft["id"], remix["id"]]
    assert studio.get_post(alice, remix["id"]).parent_handle == "alice"


def test_a_failed_generation_leaves_no_post_and_no_file(world):
    store, media, accounts, studio, first = world
    alice = accounts.user_for(accounts.sign_up("alice", "a long password", first.invite_codes[0]))
    with pytest.raises(InvalidRequest, match="Steps must be"):
        studio.create(alice, "a red ball", num_inference_steps=500)
    assert studio.drafts(alice) == [] and not list(media.root.rglob("*.mp4"))


def test_what_users_type_is_shown_as_text(world):
    store, media, accounts, studio, first = world
    alice = accounts.user_for(accounts.sign_up("alice", "a long password", first.invite_codes[0]))
    post = studio.create(alice, "<script>alert(1)</script> a red ball", seed=3)
    studio.publish(alice, post["id"], "public", False)
    studio.comment(alice, post["id"], "<img src=x onerror=alert(1)>")
    detail = studio.post(alice, post["id"])
    assert detail.post.prompt.startswith("<script>alert(1)</script>")  # kept as written; the page sets it as text
    assert [c.text for c in detail.comments] == ["<img src=x onerror=alert(1)>"]  # kept as written; the page sets it as text


def test_a_fresh_instance_gets_a_demo_community_marked_as_demo(world):
    from studio.demo import POSTS, REMIXES, seed_demo_community

    store, media, accounts, studio, first = world
    seed_demo_community(studio)
    posts = studio.feed(None, "Latest", limit=50).posts
    assert len(posts) == len(POSTS) + len(REMIXES)
    assert all(p.demo and p.video.exists() for p in posts)
    assert sum(p.parent_id is not None for p in posts) == len(REMIXES)
    assert sum(p.likes for p in posts) > 0 and sum(p.comments for p in posts) > 0
    mira = store.user_by_handle("mira")
    assert mira["display_name"].endswith("demo") and store.friends(mira["id"])
    assert store.password_hash("mira")[1] is None  # nobody can sign in as a demo person
    with pytest.raises(PermissionDenied):
        accounts.sign_in("mira", "")


def test_the_demo_community_can_be_turned_off(monkeypatch):
    from settings import Settings

    assert Settings.from_env().demo_community
    monkeypatch.setenv("DREAMREEL_DEMO", "0")
    assert not Settings.from_env().demo_community


def test_a_daily_generation_limit_refuses_before_any_compute(world, clock):
    store, media, accounts, studio, first = world
    alice = accounts.user_for(accounts.sign_up("alice", "a long password", first.invite_codes[0]))
    studio.daily_generations, studio._clock = 2, clock
    for seed in (1, 2):
        studio.create(alice, "a red ball moving left", seed=seed, num_inference_steps=2)
        clock.advance(3600)
    videos = sorted(media.root.rglob("*.mp4"))
    with pytest.raises(PermissionDenied, match="daily limit of 2"):
        studio.create(alice, "a red ball moving left", seed=3)
    assert sorted(media.root.rglob("*.mp4")) == videos  # nothing was generated
    clock.advance(22 * 3600 + 1)  # the first video leaves the 24 hours
    studio.create(alice, "a red ball moving left", seed=3, num_inference_steps=2)


def test_sign_ups_from_one_address_are_throttled(world, clock):
    store, media, accounts, studio, first = world
    admin = store.user_by_handle("admin")["id"]
    codes = [store.create_invite(admin) for _ in range(7)]
    for i in range(5):
        accounts.sign_up(f"user{i}", "a long password", codes[i], address="10.0.0.1")
    with pytest.raises(PermissionDenied, match="Too many new accounts from your network"):
        accounts.sign_up("user5", "a long password", codes[5], address="10.0.0.1")
    accounts.sign_up("user6", "a long password", codes[6], address="10.0.0.2")  # another network is fine
    for minutes, wait in ((1, 60), (30, 31), (59, 2)):  # the window holds for its whole hour, and says so
        clock.advance(60 if minutes == 1 else (minutes - (1 if minutes == 30 else 30)) * 60)
        with pytest.raises(PermissionDenied, match=rf"try again in {wait} minutes"):
            accounts.sign_up("user5", "a long password", codes[5], address="10.0.0.1")
    clock.advance(3601 - 59 * 60)
    accounts.sign_up("user5", "a long password", codes[5], address="10.0.0.1")


def test_admins_take_down_reported_videos_with_their_files_and_every_action_is_logged(world, clock):
    store, media, accounts, studio, first = world
    admin = accounts.user_for(accounts.sign_in("admin", first.admin_password))
    alice = accounts.user_for(accounts.sign_up("alice", "a long password", first.invite_codes[0]))
    bob = accounts.user_for(accounts.sign_up("bob", "a long password", first.invite_codes[1]))
    bad = studio.publish(alice, studio.create(alice, "a red ball moving left", seed=1)["id"], "public", False)
    fine = studio.publish(alice, studio.create(alice, "a blue car moving right", seed=2)["id"], "public", False)
    comment = studio.comment(bob, fine["id"], "a rude comment")
    r1 = studio.report(bob, "post", bad["id"], "violence")
    studio.report(admin, "post", bad["id"], "also reported by the admin")
    r3 = studio.report(alice, "comment", comment["id"], "harassment")
    r4 = studio.report(bob, "post", fine["id"], "spam")
    with pytest.raises(PermissionDenied, match="Only moderators"):
        studio.moderation_queue(alice)
    assert [r["id"] for r in studio.moderation_queue(admin)] == [r1["id"], r1["id"] + 1, r3["id"], r4["id"]]

    files = [media.path(store.get_post(alice, bad["id"])[k]) for k in ("video", "thumbnail", "preview")]
    assert all(f.exists() for f in files)
    clock.advance(60)
    studio.moderate(admin, r1["id"], "take_down")
    assert not any(f.exists() for f in files)
    with pytest.raises(NotFound):
        studio.post(bob, bad["id"])
    studio.moderate(admin, r3["id"], "take_down")
    assert studio.post(alice, fine["id"]).comments == ()
    studio.moderate(admin, r4["id"], "dismiss")
    assert studio.moderation_queue(admin) == []  # the admin's own report on the same video closed with it
    log = store.moderation_log(admin)
    assert [(e["action"], e["kind"], e["admin_id"]) for e in log] == [
        ("dismiss", "post", admin), ("take_down", "comment", admin), ("take_down", "post", admin)]
    assert log[-1]["report_ids"] == [r1["id"], r1["id"] + 1] and log[-1]["at"] > 0
    with pytest.raises(Exception, match="already been handled"):
        studio.moderate(admin, r1["id"], "dismiss")


def test_every_moderation_action_refuses_everyone_but_an_admin(world):
    """The Studio's admin-only use cases, each tried by a signed-out visitor and an ordinary user."""
    store, media, accounts, studio, first = world
    alice = accounts.user_for(accounts.sign_up("alice", "a long password", first.invite_codes[0]))
    bob = accounts.user_for(accounts.sign_up("bob", "a long password", first.invite_codes[1]))
    post = studio.publish(alice, studio.create(alice, "a red ball moving left", seed=1)["id"], "public", False)
    report = studio.report(bob, "post", post["id"], "spam")
    account_report = studio.report_account(bob, "alice", "harassment")
    actions = {
        "moderation queue": lambda who: studio.moderation_queue(who),
        "refusals": lambda who: studio.refusals(who),
        "moderation log": lambda who: studio.moderation_log(who),
        "take down": lambda who: studio.moderate(who, report["id"], "take_down"),
        "dismiss": lambda who: studio.moderate(who, report["id"], "dismiss"),
        "suspend": lambda who: studio.moderate(who, account_report["id"], "take_down"),
    }
    for name, action in actions.items():
        for who in (None, bob, alice):
            with pytest.raises(PermissionDenied):
                action(who)
    # Nothing happened: the video is up, alice can act, both reports are open.
    assert studio.get_post(bob, post["id"]) and not store.is_suspended(alice)
    admin = accounts.user_for(accounts.sign_in("admin", first.admin_password))
    assert {r["id"] for r in studio.moderation_queue(admin)} == {report["id"], account_report["id"]}


def test_the_instance_secret_is_made_once_and_readable_by_its_owner_only(tmp_path):
    import os
    import stat
    import threading

    from pipeline.secret_file import read_or_create_secret

    path = tmp_path / "keys" / "secret.key"
    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(read_or_create_secret(path))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and len(results[0]) == 32  # racing first starts agree on one key
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_or_create_secret(path) == results[0] and list(path.parent.iterdir()) == [path]  # no temp left
