"""Dreamreel's configuration, read once from environment variables.

Everything has a default that works offline on a laptop; a Hugging Face Space
gets its persistent ``/data`` volume automatically when one is attached.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline import VideoModel
    from pipeline.provenance import Provenance


def _default_data_dir() -> Path:
    if os.environ.get("SPACE_ID") and Path("/data").is_dir():
        return Path("/data")  # a Space's persistent storage
    return Path("data")


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    """DREAMREEL_DATA_DIR: the store and all media live here."""
    database_url: str | None
    """DREAMREEL_DATABASE_URL: ``postgresql://…`` keeps the social store in PostgreSQL (shared by every app process);
    unset, it is the TinyDB store in the data folder."""
    model: str
    """DREAMREEL_MODEL: ``embedded`` (the offline model in assets/), a hub id or a local folder."""
    device: str
    """DREAMREEL_DEVICE: ``auto`` (CUDA when present, else CPU), ``cuda`` or ``cpu``."""
    cpu_offload: bool
    """DREAMREEL_CPU_OFFLOAD=1: keep only the running module on the GPU."""
    vae_tiling: bool
    """DREAMREEL_VAE_TILING=1: decode frames in tiles, for large sizes on small GPUs."""
    ip_adapter: str | None
    """DREAMREEL_IP_ADAPTER: an AnimateDiff face IP-Adapter, ``repo or folder,subfolder,file``."""
    demo_community: bool
    """DREAMREEL_DEMO=0: do not seed a demo community on the first start."""
    daily_generations: int
    """DREAMREEL_DAILY_GENERATIONS: videos one user may make in 24 hours (default 30)."""
    break_after: int
    """DREAMREEL_BREAK_AFTER: suggest a break after this many videos watched in one sitting (default 0: never)."""
    c2pa_certificate: Path | None
    """DREAMREEL_C2PA_CERT: a PEM certificate chain for signing content credentials (default: the instance's own)."""
    c2pa_private_key: Path | None
    """DREAMREEL_C2PA_KEY: the PEM private key of that certificate."""
    c2pa_trust_anchors: Path | None
    """DREAMREEL_C2PA_TRUST: PEM root certificates whose signatures the Verify tab calls trusted."""
    trusted_proxies: tuple[str, ...]
    """DREAMREEL_TRUSTED_PROXIES: addresses or networks (comma-separated) of reverse proxies whose
    ``X-Forwarded-For`` names the visitor; from anyone else the header is ignored (default: nobody)."""
    host: str
    """GRADIO_SERVER_NAME: the address to serve on."""
    port: int
    """GRADIO_SERVER_PORT: the port to serve on."""

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            data_dir=Path(env.get("DREAMREEL_DATA_DIR") or _default_data_dir()),
            database_url=env.get("DREAMREEL_DATABASE_URL") or None,
            model=env.get("DREAMREEL_MODEL", "embedded"),
            device=env.get("DREAMREEL_DEVICE", "auto"),
            cpu_offload=env.get("DREAMREEL_CPU_OFFLOAD", "") == "1",
            vae_tiling=env.get("DREAMREEL_VAE_TILING", "") == "1",
            ip_adapter=env.get("DREAMREEL_IP_ADAPTER") or None,
            demo_community=env.get("DREAMREEL_DEMO", "1") != "0",
            daily_generations=int(env.get("DREAMREEL_DAILY_GENERATIONS", "30")),
            break_after=int(env.get("DREAMREEL_BREAK_AFTER", "0")),
            c2pa_certificate=_path(env.get("DREAMREEL_C2PA_CERT")),
            c2pa_private_key=_path(env.get("DREAMREEL_C2PA_KEY")),
            c2pa_trust_anchors=_path(env.get("DREAMREEL_C2PA_TRUST")),
            trusted_proxies=tuple(p.strip() for p in env.get("DREAMREEL_TRUSTED_PROXIES", "").split(",") if p.strip()),
            host=env.get("GRADIO_SERVER_NAME", "127.0.0.1"),
            port=int(env.get("GRADIO_SERVER_PORT", "7860")),
        )

    def load_model(self) -> VideoModel:
        """The configured video model, loaded (slow: call once, when the first video is asked for)."""
        from pipeline import IPAdapterSource, load_model  # torch and diffusers: only when generating

        ip_adapter = IPAdapterSource.parse(self.ip_adapter) if self.ip_adapter else None
        return load_model(self.model, self.device, cpu_offload=self.cpu_offload, vae_tiling=self.vae_tiling,
                          ip_adapter=ip_adapter)

    def provenance(self) -> Provenance:
        """The instance's watermark key and content-credentials signer (made on the first start)."""
        from pipeline.provenance import Provenance

        return Provenance.for_instance(self.data_dir / "provenance", certificate=self.c2pa_certificate,
                                       private_key=self.c2pa_private_key, trust_anchors=self.c2pa_trust_anchors)

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    def open_store(self):
        """The social store: PostgreSQL when a database URL is set, else TinyDB in the data folder."""
        from feed_store import open_store

        return open_store(self.database_url or self.store_dir)

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"
