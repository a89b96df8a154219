"""Many threads on one store, on each backend: no lost update, exact counts, and the same counts after reopening."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field

import pytest

from feed_store import Conflict, FeedStore, NotFound

THREADS = 8
OPS_PER_THREAD = 500


@dataclass
class Ledger:
    """What one thread saw succeed."""

    user: int
    liked: set[int] = field(default_factory=set)
    comments: dict[int, int] = field(default_factory=dict)  # comment id -> post id
    following: set[int] = field(default_factory=set)
    posts: list[int] = field(default_factory=list)
    ops: Counter = field(default_factory=Counter)
    errors: list[BaseException] = field(default_factory=list)


def summary(store: FeedStore, post_ids: list[int], user_ids: list[int]) -> dict:
    """The counts a user can see, for every post and user."""
    posts = {p: store.get_post(None, p) for p in post_ids}
    return {
        "likes": {p: posts[p]["likes"] for p in post_ids},
        "likers": {p: store.likers(None, p) for p in post_ids},
        "comments": {p: posts[p]["comments"] for p in post_ids},
        "comment_ids": {p: sorted(c["id"] for c in store.comments(None, p)) for p in post_ids},
        "following": {u: store.following(u) for u in user_ids},
        "followers": {u: store.followers(u) for u in user_ids},
        "stats": store.stats(),
    }


def worker(store: FeedStore, ledger: Ledger, shared_posts: list[int], posts_lock: threading.Lock,
           others: list[int], start: threading.Barrier, seed: int) -> None:
    rng = random.Random(seed)
    start.wait()
    try:
        for n in range(OPS_PER_THREAD):
            roll = rng.random()
            with posts_lock:
                post = rng.choice(shared_posts)
            if roll < 0.30:
                if post in ledger.liked:
                    store.unlike(ledger.user, post)
                    ledger.liked.discard(post)
                    ledger.ops["unlike"] += 1
                else:
                    store.like(ledger.user, post)
                    ledger.liked.add(post)
                    ledger.ops["like"] += 1
            elif roll < 0.40 and ledger.liked:
                victim = rng.choice(sorted(ledger.liked))
                store.unlike(ledger.user, victim)
                ledger.liked.discard(victim)
                ledger.ops["unlike"] += 1
            elif roll < 0.65:
                comment = store.comment(ledger.user, post, f"comment {n} from {ledger.user}")
                ledger.comments[comment["id"]] = post
                ledger.ops["comment"] += 1
            elif roll < 0.80:
                other = rng.choice(others)
                if other in ledger.following:
                    store.unfollow(ledger.user, other)
                    ledger.following.discard(other)
                    ledger.ops["unfollow"] += 1
                else:
                    store.follow(ledger.user, other)
                    ledger.following.add(other)
                    ledger.ops["follow"] += 1
            elif roll < 0.95:
                new = store.create_post(ledger.user, f"post {n} by {ledger.user}", visibility="public")["id"]
                ledger.posts.append(new)
                with posts_lock:
                    shared_posts.append(new)
                ledger.ops["create_post"] += 1
            else:
                page = store.for_you(ledger.user, limit=20)
                assert len({i.post["id"] for i in page.items}) == len(page.items)
                ledger.ops["read"] += 1
    except BaseException as e:  # reported by the main thread
        ledger.errors.append(e)


def test_many_threads_of_mixed_operations_lose_nothing(open_store):
    store = open_store()
    actors = [store.create_user(f"actor{i}")["id"] for i in range(THREADS)]
    authors = [store.create_user(f"author{i}")["id"] for i in range(4)]
    seed_posts = [store.create_post(authors[i % 4], f"seed {i}", visibility="public")["id"] for i in range(12)]
    shared_posts = list(seed_posts)
    posts_lock = threading.Lock()
    ledgers = [Ledger(user) for user in actors]
    start = threading.Barrier(THREADS)
    threads = [threading.Thread(target=worker, args=(store, ledger, shared_posts, posts_lock,
                                                     [u for u in actors + authors if u != ledger.user], start, i))
               for i, ledger in enumerate(ledgers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a worker hung (deadlock?)"
    for ledger in ledgers:
        assert not ledger.errors, f"user {ledger.user}: {ledger.errors[0]!r}"
        assert sum(ledger.ops.values()) == OPS_PER_THREAD

    all_posts = seed_posts + [p for ledger in ledgers for p in ledger.posts]
    users = actors + authors
    assert len(all_posts) == len(set(all_posts)), "two posts got the same id"
    comment_ids = [c for ledger in ledgers for c in ledger.comments]
    assert len(comment_ids) == len(set(comment_ids)), "two comments got the same id"

    expected = {
        "likes": {p: sum(p in lg.liked for lg in ledgers) for p in all_posts},
        "likers": {p: sorted(lg.user for lg in ledgers if p in lg.liked) for p in all_posts},
        "comments": {p: sum(post == p for lg in ledgers for post in lg.comments.values()) for p in all_posts},
        "comment_ids": {p: sorted(c for lg in ledgers for c, post in lg.comments.items() if post == p)
                        for p in all_posts},
        "following": {u: sorted(next((lg.following for lg in ledgers if lg.user == u), set())) for u in users},
        "followers": {u: sorted(lg.user for lg in ledgers if u in lg.following) for u in users},
        "stats": {"users": len(users), "videos": len(all_posts),
                  "likes": sum(len(lg.liked) for lg in ledgers),
                  "comments": sum(len(lg.comments) for lg in ledgers)},
    }
    totals = sum((lg.ops for lg in ledgers), Counter())
    assert totals["like"] > 200 and totals["unlike"] > 50 and totals["comment"] > 500, totals
    assert totals["follow"] > 100 and totals["create_post"] > 200, totals

    live = summary(store, all_posts, users)
    assert live == expected
    store.close()
    reopened = open_store()
    assert summary(reopened, all_posts, users) == expected
    reopened.close()


def run_together(attempt) -> None:
    """``attempt`` on THREADS threads at once (each waits on a barrier inside), joined."""
    threads = [threading.Thread(target=attempt) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"


@pytest.mark.parametrize("action", ["like", "follow", "create_user"])
def test_racing_duplicates_let_exactly_one_win(open_store, action):
    store = open_store()
    fan = store.create_user("fan")["id"]
    author = store.create_user("author")["id"]
    post = store.create_post(author, "the post", visibility="public")["id"]
    go = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        go.wait()
        try:
            if action == "like":
                store.like(fan, post)
            elif action == "follow":
                store.follow(fan, author)
            else:
                store.create_user("sameName")
            result = "ok"
        except Conflict:
            result = "conflict"
        except BaseException as e:  # anything else is a failure
            result = repr(e)
        with lock:
            outcomes.append(result)

    run_together(attempt)
    assert sorted(outcomes) == ["conflict"] * (THREADS - 1) + ["ok"]

    def state(s: FeedStore):
        return (s.get_post(None, post)["likes"], s.likers(None, post), s.followers(author), s.stats()["users"])

    expected = {"like": (1, [fan], [], 2), "follow": (0, [], [fan], 2), "create_user": (0, [], [], 3)}[action]
    assert state(store) == expected
    if action == "like":  # the author hears of it once, however many taps raced
        assert len([n for n in store.notifications(author) if n["kind"] == "like"]) == 1
    store.close()
    reopened = open_store()
    assert state(reopened) == expected
    reopened.close()


@pytest.mark.parametrize("action", ["publish", "delete_post", "delete_comment"])
def test_racing_publishes_and_deletes_count_once(open_store, action):
    """Publishing a draft remix, deleting a post or deleting a comment from many threads at once changes the
    counters once and tells people once."""
    store = open_store()
    author, fan = store.create_user("author")["id"], store.create_user("fan")["id"]
    source = store.create_post(author, "the source", visibility="public")["id"]
    remix = store.create_post(fan, "the remix", parent_id=source,
                              visibility="draft" if action == "publish" else "public")["id"]
    comment = store.comment(fan, source, "a comment")["id"]
    go = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def attempt() -> None:
        go.wait()
        try:
            if action == "publish":
                store.publish(fan, remix, "public")
            elif action == "delete_post":
                store.delete_post(fan, remix)
            else:
                store.delete_comment(fan, comment)
        except NotFound:
            pass  # the others find it already gone
        except BaseException as e:  # anything else is a failure
            errors.append(e)

    run_together(attempt)
    assert errors == []
    seen = store.get_post(None, source)
    expected = {"publish": (1, 1), "delete_post": (0, 1), "delete_comment": (1, 0)}[action]
    assert (seen["remixes"], seen["comments"]) == expected
    if action == "publish":  # the source's author hears of the remix once
        assert len([n for n in store.notifications(author) if n["kind"] == "remix"]) == 1
