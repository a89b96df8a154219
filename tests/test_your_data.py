"""Your data: the download holds everything about you and nothing private of others; deleting an account leaves
nothing of it in the store, the media folder or the journal, and everyone else's feeds stay consistent.

Real store, real embedded model (real MP4s with provenance), a real cameo from a head-turn clip.
"""

from __future__ import annotations

import json
import zipfile

import orjson

import pytest

import face_clips
from conftest import stored_state
from cameo import Cameos, Challenge, FaceDetector, default_embedder
from feed_store import Conflict, FeedStore, InvalidInput, NotFound, PermissionDenied
from feed_store.media import MediaFolder
from pipeline import load_model
from pipeline.provenance import Provenance
from studio import Accounts, Studio

SECRET_PROMPT = "a violet heron gliding over a frozen lake"
HIDDEN_PROMPT = "a teal lantern floating down a river"
COMMENT = "what a wonderful zeppelin"
WISH = "more zeppelins and lanterns"


@pytest.fixture(scope="module")
def model():
    return load_model("embedded", device="cpu")


@pytest.fixture
def town(tmp_path, model, clock, open_store):
    """ana has every kind of data; ben and cat interact with her; ben stars her cameo in his draft and remixes her."""
    store = open_store(tmp_path / "data" / "store")
    media = MediaFolder(tmp_path / "data" / "media")
    accounts = Accounts(store, tmp_path / "data" / "secret.key", clock=clock)
    first = accounts.first_start()
    studio = Studio(store, media, Cameos(store, media, FaceDetector(), default_embedder()), lambda: model,
                    provenance=Provenance.for_instance(tmp_path / "data" / "provenance"))
    tokens = {h: accounts.sign_up(h, f"{h}'s long password", code)
              for h, code in zip(("ana", "ben", "cat"), first.invite_codes)}
    ids = {h: accounts.user_for(t) for h, t in tokens.items()}
    ana, ben, cat = ids["ana"], ids["ben"], ids["cat"]
    clip = face_clips.turn_clip(tmp_path / "ana.mp4", "grace", ("left", "right"))
    studio.create_cameo(ana, clip, Challenge("left"), keep_recording=True)
    studio.set_cameo_permission(ana, "everyone", restrictions="no politics")
    store.follow(ana, ben)
    store.follow(ben, ana)
    public = studio.publish(ana, studio.create(ana, SECRET_PROMPT, seed=1)["id"], "public", False)["id"]
    hidden = studio.publish(ana, studio.create(ana, HIDDEN_PROMPT, seed=2)["id"], "public", True)["id"]
    draft = studio.create(ana, "a grey stone on a beach", seed=3)["id"]
    studio.comment(ana, public, COMMENT)
    studio.comment(cat, public, "nice one")
    store.like(ben, public)
    store.like(ana, hidden)
    studio.tune_feed(ana, WISH)
    ben_draft = studio.create(ben, "@ana dancing in the rain", seed=4)["id"]  # ben's draft stars ana's cameo
    remix = studio.publish(ben, studio.create(ben, "a red heron", parent_id=public, seed=5)["id"], "public",
                           False)["id"]
    bens_own = studio.publish(ben, studio.create(ben, "a blue car at night", seed=6)["id"], "public", False)["id"]
    store.like(ana, bens_own)
    studio.report(ana, "post", bens_own, "spam")
    studio.report(cat, "post", public, "harassment or hate")
    code = studio.new_invite(ana)
    yield dict(store=store, media=media, accounts=accounts, studio=studio, first=first, tokens=tokens, ids=ids,
               posts=dict(public=public, hidden=hidden, draft=draft, ben_draft=ben_draft, remix=remix,
                          bens_own=bens_own), invite=code, root=tmp_path / "data", clip=clip,
               reopen=lambda **kwargs: open_store(tmp_path / "data" / "store", **kwargs))
    store.close()


def test_the_download_holds_everything_about_you_and_nothing_private_of_others(town, tmp_path):
    studio, ana, posts = town["studio"], town["ids"]["ana"], town["posts"]
    path = studio.export_my_data(ana, tmp_path)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        data = json.loads(archive.read("data.json"))
        readme = archive.read("README.txt").decode()
        crops = [archive.read(n) for n in data["cameo"]["crops"]]
        recording = archive.read(data["cameo"]["recording"])
    assert data["profile"]["handle"] == "ana" and "password_hash" not in json.dumps(data)
    mine = {p["id"]: p for p in data["posts"]}
    assert set(mine) == {posts["public"], posts["hidden"], posts["draft"]}
    assert mine[posts["hidden"]]["prompt"] == HIDDEN_PROMPT  # her own hidden prompt, in full
    for post in mine.values():
        video = next(f for f in post["files"] if f.endswith(".mp4"))
        assert video in names and video.startswith("videos/")
    assert [c["text"] for c in data["comments"]] == [COMMENT]
    assert {lk["post_id"] for lk in data["likes"]} == {posts["hidden"], posts["bens_own"]}
    assert [f["handle"] for f in data["following"]] == ["ben"] and [f["handle"] for f in data["followers"]] == ["ben"]
    assert data["feed_wishes"]["text"] == WISH
    assert [r["reason"] for r in data["reports_made"]] == ["spam"]
    assert town["invite"] in [i["code"] for i in data["invites_made"]]
    assert data["cameo"]["permission"] == "everyone" and data["cameo"]["restrictions"] == "no politics"
    uses = {u["post_id"]: u for u in data["cameo"]["uses"]}
    assert uses[posts["ben_draft"]]["by"] == "ben" and not uses[posts["ben_draft"]]["published"]  # who and when
    assert crops and all(c.startswith(b"\x89PNG") for c in crops)
    assert recording == town["clip"].read_bytes()
    assert {n["kind"] for n in data["notifications"]} >= {"like", "comment", "follow", "cameo_used", "remix"}
    assert "data.json" in readme and "cameo/" in readme
    # Nothing private of others: not ben's draft's prompt, not cat's report, not their passwords.
    text = json.dumps(data)
    assert "dancing in the rain" not in text and "harassment" not in text and "nice one" not in text


def test_the_download_needs_an_account(town, tmp_path):
    with pytest.raises(PermissionDenied, match="Sign in"):
        town["studio"].export_my_data(None, tmp_path)


def everything_stored(town) -> bytes:
    """Every file of the instance, and on PostgreSQL every row of its database (as JSON text)."""
    files = b"\n".join(p.read_bytes() for p in sorted(town["root"].rglob("*")) if p.is_file())
    return files if isinstance(town["store"], FeedStore) else files + orjson.dumps(stored_state(town["store"]),
                                                                                   default=str)


def test_deleting_the_account_leaves_nothing_of_it_and_others_stay_consistent(town):
    store, studio, accounts, media = town["store"], town["studio"], town["accounts"], town["media"]
    ana, ben, cat = (town["ids"][h] for h in ("ana", "ben", "cat"))
    posts, tokens = town["posts"], town["tokens"]
    crop_bytes = [media.path(c).read_bytes() for c in store.cameo_of(ana)["crops"]]
    ana_videos = [media.path(store.get_post(ana, posts[k])["video"]).read_bytes() for k in ("public", "draft")]
    bens_likes_before = store.get_post(ben, posts["bens_own"])["likes"]

    pictures = [b[len(b) // 2: len(b) // 2 + 256] for b in crop_bytes + ana_videos + [town["clip"].read_bytes()]]
    before = everything_stored(town)
    assert all(p in before for p in pictures[:-1]) and SECRET_PROMPT.encode() in before  # the search finds them

    user = accounts.confirm_deletion(tokens["ana"], "ana's long password", "ana")
    studio.erase_account(user, user)

    disk = everything_stored(town)
    for trace in (b"ana's", SECRET_PROMPT.encode(), HIDDEN_PROMPT.encode(), COMMENT.encode(), WISH.encode(),
                  b"no politics", b'"ana"', b"@ana dancing"):
        assert trace not in disk, f"{trace!r} is still on disk"
    for picture in pictures:  # bytes from the middle of each crop, video and the kept recording
        assert picture not in disk, "a face crop, video or recording is still on disk"
    assert accounts.user_for(tokens["ana"]) is None  # every device signed out
    with pytest.raises(NotFound):
        store.user_by_handle("ana")
    # Others: ben's draft with her face is gone; his remix stays, its source deleted; counts are right.
    with pytest.raises(NotFound):
        store.get_post(ben, posts["ben_draft"])
    remix = studio.get_post(cat, posts["remix"])
    assert remix.parent_id == posts["public"] and remix.parent_handle is None
    assert studio.post(cat, posts["remix"]).lineage[0] is None
    assert store.get_post(ben, posts["bens_own"])["likes"] == bens_likes_before - 1
    assert store.followers(ben) == [] and store.following(ben) == []
    assert posts["public"] not in [p.id for p in studio.feed(cat, "Latest").posts]
    assert [r for r in store.open_reports(accounts.user_for(accounts.sign_in("admin", town["first"].admin_password)))
            ] == []  # the report about her video closed with it, and hers went
    assert [n for n in store.notifications(ben) if n["data"].get("by") == ana] == []
    # The handle is held against impersonation, then free.
    with pytest.raises(Conflict, match="deleted recently"):
        store.create_user("ana")
    store.close()
    store2 = town["reopen"](clock=lambda: 10**10)  # 30 days later
    assert store2.create_user("ana")["handle"] == "ana"
    store2.close()


def test_deletion_asks_for_the_password_and_the_handle_and_changes_nothing_when_wrong(town):
    accounts, tokens = town["accounts"], town["tokens"]
    before = everything_stored(town)
    with pytest.raises(PermissionDenied, match="Wrong password"):
        accounts.confirm_deletion(tokens["ana"], "not her password", "ana")
    with pytest.raises(InvalidInput, match="Type your handle"):
        accounts.confirm_deletion(tokens["ana"], "ana's long password", "yes")
    with pytest.raises(PermissionDenied, match="Sign in"):
        accounts.confirm_deletion("forged.token.here", "ana's long password", "ana")
    assert everything_stored(town) == before


def test_nobody_else_deletes_an_account_but_an_admin_and_that_is_logged(town):
    store, studio, accounts, ids = town["store"], town["studio"], town["accounts"], town["ids"]
    with pytest.raises(PermissionDenied):
        studio.erase_account(ids["ben"], ids["ana"])
    admin = accounts.user_for(accounts.sign_in("admin", town["first"].admin_password))
    studio.erase_account(admin, studio.user_id("cat"))
    assert store.moderation_log(admin)[0]["action"] == "delete_account"
    with pytest.raises(NotFound):
        studio.erase_account(ids["ana"], ids["cat"])  # a double request: already gone


def test_a_generation_running_when_the_account_goes_leaves_nothing(town):
    studio, media = town["studio"], town["media"]
    cat = town["ids"]["cat"]
    files_before = {p for p in media.root.rglob("*") if p.is_file()}

    erased = []

    def erase_midway(done, total):
        if done == 2 and not erased:
            studio.erase_account(cat, cat)
            erased.append(True)

    with pytest.raises(Exception):
        studio.create(cat, "a yellow kite over a hill", seed=7, on_progress=erase_midway)
    assert erased and {p for p in media.root.rglob("*") if p.is_file()} <= files_before
