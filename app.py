"""Dreamreel: make short AI videos, put yourself in them, remix your friends'.

This file only wires the Gradio page to the packages; the rules live in
``feed_store`` (social data and feeds), ``pipeline`` (generation) and
``cameo`` (likenesses).
"""

from __future__ import annotations

import datetime as dt

import gradio as gr

from feed_store import FeedStore
from settings import Settings

settings = Settings.from_env()
store = FeedStore(settings.store_dir)

FEED_COLUMNS = ["Author", "Prompt", "Likes", "Comments", "Remixes", "Published", "Why you see it"]


def public_feed() -> tuple[list[list], str]:
    """The "For you" feed a signed-out visitor sees (public videos only), and the community's size."""
    rows = [[f"@{i.post['author_handle']}", i.post["prompt"] or "(prompt hidden)", i.post["likes"],
             i.post["comments"], i.post["remixes"],
             dt.datetime.fromtimestamp(i.post["published_at"]).strftime("%Y-%m-%d %H:%M"), "; ".join(i.reasons)]
            for i in store.for_you(None, limit=50).items]
    s = store.stats()
    return rows, (f"**{s['users']}** people · **{s['videos']}** videos · **{s['likes']}** likes · "
            f"**{s['comments']}** comments · model `{settings.model}`")


with gr.Blocks(title="Dreamreel") as demo:
    gr.Markdown("# Dreamreel\nShort AI videos starring you and your friends.")
    stats = gr.Markdown()
    feed = gr.Dataframe(headers=FEED_COLUMNS, interactive=False, label="For you")
    refresh = gr.Button("Refresh")
    gr.on([demo.load, refresh.click], public_feed, outputs=[feed, stats], api_name="public_feed")

if __name__ == "__main__":
    demo.queue().launch(server_name=settings.host, server_port=settings.port)
