"""The embedded offline model: a small video diffusion transformer for a toy domain (see assets/embedded-model)."""
