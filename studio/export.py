"""Download my data: one zip with everything Dreamreel holds about a person, readable without Dreamreel.

The zip holds ``data.json`` (from :meth:`FeedStore.personal_data`), the
person's videos with their thumbnails and previews (as generated, provenance
included: the content credentials and the invisible watermark are in the
MP4s), the cameo's face crops and the recording if they chose to keep it, and
``README.txt`` explaining each file. Media is stored under its own name in the
zip, never under a path the store holds.
"""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path
from typing import Any

from feed_store import FeedStore
from feed_store.media import MediaFolder

README = """Your Dreamreel data ({handle}, exported {when})

data.json       Everything Dreamreel holds about you: your profile (no password), who you follow, who follows
                you and whom you blocked, the invites you made and the one you used, every video you made (drafts,
                hidden prompts and deleted videos included), your likes, comments, views, the reports you made,
                your notifications, what you told your feed ("Tune my feed", "See less like this"), when you
                signed in (not the session keys), the prompts and comments moderation refused, and your cameo:
                its settings, restrictions and every video that used it, with who made it and when.
                Other people appear only by their handle, where a record is about both of you.
videos/         Your videos as MP4 files (with their thumbnail .jpg and preview .webp). Each MP4 carries its
                provenance: signed content credentials (C2PA) and an invisible watermark with the post number.
                A deleted video's files are gone: data.json still lists the post.
cameo/          The aligned face crops your cameo was made from, and your recording if you chose to keep it.

Dreamreel keeps nothing about you that is not in this archive, except the moderators' records of decisions
about your content (what was decided, when and why), which are kept as the README of the instance says.
"""


def build_export(store: FeedStore, media: MediaFolder, user_id: int, folder: Path,
                 clock=time.time) -> Path:
    """Write ``user_id``'s archive into ``folder`` (a private directory the caller owns) and return its path."""
    data = store.personal_data(user_id)
    handle = data["profile"]["handle"]
    stamp = time.strftime("%Y-%m-%d", time.gmtime(clock()))
    path = Path(folder) / f"dreamreel-{handle}-{stamp}.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for post in data["posts"]:
            post["files"] = _add_media(archive, media, "videos", [post.pop(k) for k in ("video", "thumbnail",
                                                                                       "preview")])
        if data["cameo"] is not None:
            cameo = data["cameo"]
            cameo["crops"] = _add_media(archive, media, "cameo", cameo["crops"])
            cameo["recording"] = (_add_media(archive, media, "cameo", [cameo["recording"]]) or [None])[0]
        archive.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False, default=str))
        archive.writestr("README.txt", README.format(handle=f"@{handle}", when=stamp))
    return path


def _add_media(archive: zipfile.ZipFile, media: MediaFolder, folder: str, names: list[Any]) -> list[str]:
    """Copy the media files that still exist into ``folder/`` of the archive; returns their names there."""
    out = []
    for name in names:
        if not name:
            continue
        source = media.path(name)
        if source.is_file():
            inside = f"{folder}/{source.name}"
            archive.write(source, inside)
            out.append(inside)
    return out
