"""The web layer: the Gradio page and API over the use cases in :mod:`studio`.

Layout and wiring live in ``app.py``; here are the handlers (session in,
Gradio updates out), the views (the one escaping path), the named API
endpoints, the checks on what a request hands in, and the feed component.
"""

from .handlers import App

__all__ = ["App"]
