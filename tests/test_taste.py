"""A feed you can steer: wishes in plain words, matched by meaning with the real MiniLM encoder, on a real store."""

from __future__ import annotations

import pytest

from feed_store.media import MediaFolder
from studio import Studio
from studio.taste import Wishes, parse_wishes


@pytest.mark.parametrize("text, more, less", [
    ("more space and skating, fewer cats", ("space", "skating"), ("cats",)),
    ("less cats, dogs", (), ("cats", "dogs")),
    ("show me beaches or forests; no horror", ("beaches", "forests"), ("horror",)),
    ("skating but not cats", ("skating",), ("cats",)),
    ("", (), ()),
])
def test_wishes_are_read_from_plain_words(text, more, less):
    assert parse_wishes(text) == Wishes(more, less)


def test_see_less_prompts_are_less_wishes():
    assert parse_wishes("more space", ["a cat on a sofa"]) == Wishes(("space",), ("a cat on a sofa",))


PROMPTS = {
    "cats": ("a jazz band of cats playing in a club", "a fluffy kitten chasing a ball of yarn",
             "a cat sleeping on a sunny windowsill"),
    "skating": ("a skateboarder doing a kickflip in a skatepark", "a figure skater spinning on the ice",
                "kids roller skating down a boardwalk"),
    "space": ("an astronaut floating outside the space station", "a rocket launching toward the moon",
              "a galaxy swirling with purple nebulas"),
    "food": ("a chef flipping pancakes in a diner", "a bowl of ramen steaming on a table",
             "fresh bread coming out of an oven"),
}


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    """Strangers' videos on four topics, alternating so every topic is as fresh as the others, and one viewer."""
    from feed_store import FeedStore

    root = tmp_path_factory.mktemp("taste")
    store = FeedStore(root / "store")
    studio = Studio(store, MediaFolder(root / "media"), None, lambda: None, provenance=None)
    viewer = store.create_user("viewer")["id"]
    topic_of = {}
    for i in range(3):
        for topic, prompts in PROMPTS.items():
            author = store.create_user(f"{topic}_{i}")["id"]
            post = store.create_post(author, prompts[i], visibility="public")
            topic_of[post["id"]] = topic
    yield store, studio, viewer, topic_of
    store.close()


def first_topics(studio: Studio, viewer: int, topic_of: dict[int, str], n: int = 6) -> list[str]:
    return [topic_of[p.id] for p in studio.feed(viewer, "For you", limit=n).posts]


def test_more_brings_the_wished_topics_first_and_less_sends_one_to_the_end(tuned):
    store, studio, viewer, topic_of = tuned
    studio.tune_feed(viewer, "more space and skating, fewer cats")
    page = studio.feed(viewer, "For you", limit=12).posts
    topics = [topic_of[p.id] for p in page]
    assert set(topics[:6]) == {"space", "skating"}, topics
    assert topics[-3:] == ["cats"] * 3, topics
    assert any(r.startswith("you asked for more ") for r in page[0].reasons)  # and says so
    assert studio.feed_wishes(viewer) == "more space and skating, fewer cats"
    studio.tune_feed(viewer, "")
    assert studio.feed_wishes(viewer) == ""


def test_see_less_like_this_pushes_that_video_and_its_kind_down(tuned):
    store, studio, viewer, topic_of = tuned
    studio.tune_feed(viewer, "")
    food = next(p for p, t in topic_of.items() if t == "food")
    before = [p.id for p in studio.feed(viewer, "For you", limit=12).posts]
    studio.see_less(viewer, food)
    after = [p.id for p in studio.feed(viewer, "For you", limit=12).posts]
    assert before[-1] != food and after[-1] == food, (before, after)


def test_a_hidden_prompt_is_never_matched(tuned):
    store, studio, viewer, topic_of = tuned
    author = store.create_user("secretive")["id"]
    hidden = store.create_post(author, "an astronaut on a spacewalk above the earth", visibility="public",
                               hide_prompt=True)["id"]
    studio.tune_feed(viewer, "more space")
    post = next(p for p in studio.feed(viewer, "For you", limit=20).posts if p.id == hidden)
    assert not any("asked for" in r for r in post.reasons)
    with pytest.raises(Exception, match="hidden"):
        studio.see_less(viewer, hidden)


def test_wishes_need_an_account_and_make_sense(tuned):
    store, studio, viewer, topic_of = tuned
    with pytest.raises(Exception, match="Sign in"):
        studio.tune_feed(None, "more cats")
    with pytest.raises(Exception, match="more or less"):
        studio.tune_feed(viewer, "!!!")


def test_friends_still_come_first(tmp_path, open_store):
    """A friend's video that matches no wish still comes before a stranger's that matches one, at the same age."""
    store = open_store(clock=lambda: 1_700_000_000.0)
    studio = Studio(store, MediaFolder(tmp_path / "media"), None, lambda: None, provenance=None)
    me, friend, stranger = (store.create_user(h)["id"] for h in ("myself", "friend", "stranger"))
    store.follow(me, friend)
    store.follow(friend, me)
    theirs = store.create_post(stranger, "a jazz band of cats playing in a club", visibility="public")["id"]
    mine = store.create_post(friend, "fresh bread coming out of an oven", visibility="public")["id"]
    studio.tune_feed(me, "more cats")
    assert [p.id for p in studio.feed(me, "For you").posts] == [mine, theirs]
    store.close()
