"""The app's use cases and page wiring: accounts and sessions, what each user action does, how it is shown."""

from .accounts import Accounts, FirstStart
from .handlers import App
from .service import FEEDS, Card, SignInRequired, Studio

__all__ = ["Accounts", "App", "Card", "FEEDS", "FirstStart", "SignInRequired", "Studio"]
