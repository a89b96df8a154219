"""A small demo community for a fresh instance, so the first feed is worth opening.

Made by the embedded model like any video, and marked as demo data: the
people's names end in "demo" and every post carries ``model.demo``. The demo
accounts have no password, so nobody can sign in as them.
"""

from __future__ import annotations

import logging

from .service import Studio

log = logging.getLogger("dreamreel")

PEOPLE = ("mira", "theo", "juno", "sam")
FOLLOWS = (("mira", "theo"), ("theo", "mira"), ("juno", "mira"), ("mira", "juno"), ("sam", "juno"), ("theo", "sam"))
POSTS = (
    ("mira", "a red ball bouncing up and down on a beach at sunset"),
    ("theo", "a blue car moving right in a city at night"),
    ("juno", "a yellow bird circling in a forest"),
    ("sam", "a white skater sliding to the left on a frozen lake"),
    ("mira", "a pink cat coming toward the camera in outer space"),
    ("theo", "a green person jumping on the ice"),
)
REMIXES = ((1, "juno", "a purple car moving right in a city at night"), (0, "theo", "an orange ball jumping on the beach"))
COMMENTS = ((0, "theo", "the sunset colours!"), (1, "mira", "vroom"), (2, "sam", "so smooth"))
LIKES = ((0, ("theo", "juno", "sam")), (1, ("mira",)), (2, ("mira", "theo")), (4, ("juno",)))


def seed_demo_community(studio: Studio) -> None:
    """Create the demo people, their follows, videos, remixes, likes and comments (once, on an empty store)."""
    store = studio.store
    ids = {h: store.create_user(h, f"{h.title()} · demo")["id"] for h in PEOPLE}
    for a, b in FOLLOWS:
        store.follow(ids[a], ids[b])
    posts = []
    for seed, (author, prompt) in enumerate(POSTS):
        post = studio.create(ids[author], prompt, seed=seed, demo=True)
        posts.append(studio.publish(ids[author], post["id"], "public", False)["id"])
    for parent, author, prompt in REMIXES:
        post = studio.create(ids[author], prompt, parent_id=posts[parent], strength=0.6, seed=parent, demo=True)
        studio.publish(ids[author], post["id"], "public", False)
    for post, likers in LIKES:
        for liker in likers:
            store.like(ids[liker], posts[post])
    for post, author, text in COMMENTS:
        store.comment(ids[author], posts[post], text)
    log.info("seeded the demo community: %d people, %d videos", len(PEOPLE), len(POSTS) + len(REMIXES))
