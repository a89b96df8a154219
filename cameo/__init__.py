"""Cameos: verified likenesses, face embeddings and their owners' permissions (built in its own issue)."""
