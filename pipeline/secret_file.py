"""An instance's secret key file, made once: random bytes, readable by its owner only from the first byte.

The file is written under a temporary name opened with mode 0600 (never with
the umask and a chmod after, which leaves a window where others may read it),
synced, then linked into place without replacing a key another process wrote
first; every caller then reads whichever key won.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def read_or_create_secret(path: Path, size: int = 32) -> bytes:
    """The secret in ``path``; on first use, ``size`` random bytes written there (mode 0600, atomically)."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(size))
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)  # never replaces a key another process wrote first
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_bytes()
