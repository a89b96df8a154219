"""The app's use cases, free of Gradio: accounts and sessions, and what each user action does."""

from .accounts import Accounts, FirstStart
from .service import FEEDS, Card, SignInRequired, Studio

__all__ = ["Accounts", "Card", "FEEDS", "FirstStart", "SignInRequired", "Studio"]
