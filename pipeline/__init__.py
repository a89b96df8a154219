"""Video generation: text-to-video and remix through diffusers pipelines (built in its own issue)."""
