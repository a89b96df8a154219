"""Dreamreel's configuration, read once from environment variables.

Everything has a default that works offline on a laptop; a Hugging Face Space
gets its persistent ``/data`` volume automatically when one is attached.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _default_data_dir() -> Path:
    if os.environ.get("SPACE_ID") and Path("/data").is_dir():
        return Path("/data")  # a Space's persistent storage
    return Path("data")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    """DREAMREEL_DATA_DIR: the store and all media live here."""
    model: str
    """DREAMREEL_MODEL: ``embedded`` (the offline model in assets/), a hub id or a local folder."""
    device: str
    """DREAMREEL_DEVICE: ``auto`` (CUDA when present, else CPU), ``cuda`` or ``cpu``."""
    host: str
    """GRADIO_SERVER_NAME: the address to serve on."""
    port: int
    """GRADIO_SERVER_PORT: the port to serve on."""

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            data_dir=Path(env.get("DREAMREEL_DATA_DIR") or _default_data_dir()),
            model=env.get("DREAMREEL_MODEL", "embedded"),
            device=env.get("DREAMREEL_DEVICE", "auto"),
            host=env.get("GRADIO_SERVER_NAME", "127.0.0.1"),
            port=int(env.get("GRADIO_SERVER_PORT", "7860")),
        )

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"
