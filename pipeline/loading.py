"""Load a video model by configuration: the embedded model, a local folder or a hub id."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers import DiffusionPipeline

from .embedded.pipeline_tiny_video import TinyVideoPipeline
from .families import Family, family_for
from .request import GenerationError, Limits

EMBEDDED_MODEL_DIR = Path(__file__).resolve().parent.parent / "assets" / "embedded-model"


class ModelUnavailable(GenerationError):
    """The configured model cannot be loaded here."""


@dataclass(frozen=True)
class IPAdapterSource:
    """Where an AnimateDiff model's face IP-Adapter comes from (for cameos)."""

    path: str
    subfolder: str
    weight_name: str

    @classmethod
    def parse(cls, spec: str) -> IPAdapterSource:
        """``"h94/IP-Adapter,models,ip-adapter-plus-face_sd15.bin"`` (repo or folder, subfolder, file)."""
        try:
            path, subfolder, weight_name = (part.strip() for part in spec.split(","))
        except ValueError:
            raise ModelUnavailable(f"An IP-Adapter is given as 'repo or folder,subfolder,file', not {spec!r}.") from None
        return cls(path, subfolder, weight_name)


@dataclass
class VideoModel:
    """A loaded diffusers pipeline and the family that knows how to call it."""

    name: str
    pipe: DiffusionPipeline
    family: Family
    device: torch.device
    dtype: torch.dtype

    @property
    def supports_cameos(self) -> bool:
        """Whether prompts may star cameos; the UI hides the cameo picker otherwise."""
        return self.family.supports_cameos

    @property
    def limits(self) -> Limits:
        return self.family.limits


def pick_device(device: str = "auto") -> tuple[torch.device, torch.dtype]:
    """CUDA in bfloat16 when present (or asked for), else the CPU in float32."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cuda", "cpu"):
        raise ModelUnavailable(f"DREAMREEL_DEVICE must be auto, cuda or cpu, not {device!r}.")
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelUnavailable("DREAMREEL_DEVICE=cuda, but no CUDA device is available.")
    return torch.device(device), torch.bfloat16 if device == "cuda" else torch.float32


def _pipeline_class(folder: Path) -> type[DiffusionPipeline]:
    """Dreamreel's own pipeline for a folder saved from it (diffusers does not know the class), else auto."""
    index = folder / "model_index.json"
    if index.is_file() and json.loads(index.read_text()).get("_class_name") == TinyVideoPipeline.__name__:
        return TinyVideoPipeline
    return DiffusionPipeline


def load_model(model: str, device: str = "auto", *, cpu_offload: bool = False, vae_tiling: bool = False,
               ip_adapter: IPAdapterSource | None = None) -> VideoModel:
    """Load ``model`` (``"embedded"``, a local folder or a hub id) ready to generate.

    ``cpu_offload`` keeps only the running module on the GPU (needs CUDA);
    ``vae_tiling`` decodes large frames in tiles to save memory.
    """
    torch_device, dtype = pick_device(device)
    local = EMBEDDED_MODEL_DIR if model == "embedded" else Path(model)
    if model == "embedded" and not local.is_dir():
        raise ModelUnavailable(f"The embedded model is missing from {local}; set DREAMREEL_MODEL to another model.")
    source = str(local) if local.is_dir() else model
    try:
        pipe = _pipeline_class(local).from_pretrained(source, dtype=dtype, local_files_only=local.is_dir())
    except (OSError, ValueError) as e:
        raise ModelUnavailable(f"Could not load the model {model!r}: {e}") from e
    family = family_for(pipe)
    if ip_adapter is not None:
        pipe.load_ip_adapter(ip_adapter.path, subfolder=ip_adapter.subfolder, weight_name=ip_adapter.weight_name,
                             local_files_only=Path(ip_adapter.path).is_dir())
    if vae_tiling:
        pipe.vae.enable_tiling()
    if cpu_offload:
        pipe.enable_model_cpu_offload()
    else:
        pipe.to(torch_device)
    pipe.set_progress_bar_config(disable=True)
    return VideoModel(model, pipe, family, torch_device, dtype)
