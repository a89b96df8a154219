"""What a request hands the app: ids and uploaded files, checked before anything acts on them.

Every page event and API endpoint reads its ids and files through here, so one
rule holds for all of them:

- An id is a whole number. ``1.5`` is refused, not rounded to post 1.
- A file must be one Gradio has just received as an upload: a regular file
  inside Gradio's upload folder, and nowhere in the app's own data. Gradio
  hands a handler any path a request names when that path lies in a folder the
  app serves (the videos folder), without copying it; so a request naming a
  served video would otherwise reach the handler as that very file. Such a
  path, a thumbnail, the store, a key, or a traversal of any of them is
  refused before anything reads it.
- A handler never deletes, moves or rewrites what the request named. It reads
  a private copy made for that request (:func:`received_upload`) and removes
  only that copy. Gradio's own copy in its upload folder expires with its
  cache (``UPLOAD_CACHE_SECONDS``).
"""

from __future__ import annotations

import math
import numbers
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from feed_store import InvalidInput

"""The largest file anyone may upload (a cameo recording or a video to verify); Gradio refuses bigger ones at the door."""
UPLOAD_CACHE_SECONDS = 600
"""How long Gradio keeps an uploaded file in its upload folder before deleting it (checked this often, too)."""


def event_field(event: Any, name: str) -> Any:
    """A field of a component's custom event (``trigger(name, {...})`` in its script); ``None`` when absent.

    The fields are whatever the browser sent: every caller checks the value as it would any other input.
    """
    data = getattr(event, "_data", None)
    return data.get(name) if isinstance(data, dict) else None


def whole_number(value: Any, what: str = "An id") -> int:
    """``value`` as an int if it is a whole number (``3``, ``3.0``, ``"3"``), else a clear refusal."""
    if isinstance(value, bool):
        raise InvalidInput(f"{what} is a whole number.")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and float(value).is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and value.strip().isascii():
        return int(value.strip())
    raise InvalidInput(f"{what} is a whole number.")


def real_number(value: Any, what: str) -> float:
    """``value`` as a finite float (``0.6``, ``"0.6"``), else a clear refusal."""
    if isinstance(value, bool):
        raise InvalidInput(f"{what} is a number.")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInput(f"{what} is a number.") from None
    if not math.isfinite(number):
        raise InvalidInput(f"{what} is a number.")
    return number


def optional_whole_number(value: Any, what: str) -> int | None:
    """Like :func:`whole_number`, with empty values (``None``, ``""``) meaning "not given"."""
    return None if value is None or value == "" else whole_number(value, what)


def upload_path(upload: Any) -> str | None:
    """The path a request gave for a file: a plain string (page events) or a ``FileData`` dict (the API)."""
    if upload is None or upload == "":
        return None
    if isinstance(upload, str):
        return upload
    path = upload.get("path") if isinstance(upload, dict) else getattr(upload, "path", None)
    if not isinstance(path, str) or not path:
        raise InvalidInput("Send the file as an upload.")
    return path


@contextmanager
def received_upload(upload: Any, upload_folder: str | Path, forbidden: Iterable[Path]) -> Iterator[Path]:
    """A private copy of a file the request uploaded; the copy is removed when the block ends.

    ``upload_folder`` is where Gradio puts what it receives; ``forbidden``
    are the app's own folders (data, media), refused even if they lie inside
    it. The original is never touched.
    """
    path = upload_path(upload)
    if path is None:
        raise InvalidInput("Choose a file to upload first.")
    source = _uploaded_file(path, Path(upload_folder), forbidden)
    private_dir = tempfile.mkdtemp(prefix="dreamreel-upload-")  # 0700: only this process reads it
    copy = Path(private_dir) / ("upload" + source.suffix.lower()[:8])
    try:
        try:
            with open(source, "rb", opener=_no_follow) as src, open(copy, "xb") as dst:
                if not stat.S_ISREG(os.fstat(src.fileno()).st_mode):
                    raise InvalidInput(_NOT_AN_UPLOAD)
                shutil.copyfileobj(src, dst, 1 << 20)
        except OSError as e:
            raise InvalidInput(_NOT_AN_UPLOAD) from e
        yield copy
    finally:
        shutil.rmtree(private_dir, ignore_errors=True)


_NOT_AN_UPLOAD = "That file was not uploaded with this request; upload the file itself."


def _no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NOFOLLOW)


def _uploaded_file(path: str, upload_folder: Path, forbidden: Iterable[Path]) -> Path:
    """``path`` if it names a regular file inside the upload folder and none of the app's own; else refused."""
    if "\0" in path:
        raise InvalidInput(_NOT_AN_UPLOAD)
    given = Path(path)
    try:
        resolved = given.resolve(strict=True)
        folder = upload_folder.resolve()
        own = [Path(f).resolve() for f in forbidden]
    except (OSError, RuntimeError) as e:
        raise InvalidInput(_NOT_AN_UPLOAD) from e
    inside = resolved.is_relative_to(folder) and resolved != folder
    if not given.is_absolute() or given.is_symlink() or not inside or any(resolved.is_relative_to(f) for f in own):
        raise InvalidInput(_NOT_AN_UPLOAD)
    if not resolved.is_file():
        raise InvalidInput(_NOT_AN_UPLOAD)
    return resolved
