"""The one folder user media lives in.

Posts and cameos store media *names* (``videos/Xk3...mp4``), never paths; a
name becomes a path only here, and only if it stays inside the folder. Names
are random tokens chosen by the app, so no user-supplied text ever becomes a
file name.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class MediaFolder:
    """Resolve, name and erase files under one root directory."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root).resolve()

    def new_name(self, kind: str, suffix: str) -> str:
        """An unguessable name such as ``cameos/q1W...Zs.jpg`` (the folder is made on demand)."""
        (self.root / kind).mkdir(parents=True, exist_ok=True)
        return f"{kind}/{secrets.token_urlsafe(16)}{suffix}"

    def path(self, name: str) -> Path:
        """The file for a stored name; ``ValueError`` for anything that would leave the folder."""
        if not isinstance(name, str) or not name or name.startswith("/") or "\\" in name or "\x00" in name:
            raise ValueError(f"Not a media name: {name!r}")
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise ValueError(f"Not a media name: {name!r}")
        return path

    def name_of(self, path: str | os.PathLike) -> str:
        """The stored name of a file already inside the folder."""
        resolved = Path(path).resolve()
        if not resolved.is_relative_to(self.root):
            raise ValueError(f"{path} is outside the media folder")
        return resolved.relative_to(self.root).as_posix()

    def erase(self, *names: str | None) -> None:
        """Delete these files if they exist (``None`` entries are skipped)."""
        for name in names:
            if name is not None:
                self.path(name).unlink(missing_ok=True)
