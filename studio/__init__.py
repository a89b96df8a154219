"""The app's use cases, free of Gradio: accounts and sessions, and what each user action does."""

from .accounts import Accounts, FirstStart
from .records import ActivityItem, CameoView, Suggestion, CommentView, FeedView, PostDetail, PostView, ProfileView, UserView
from .service import FEEDS, SignInRequired, Studio

__all__ = ["Accounts", "ActivityItem", "CameoView", "CommentView", "FEEDS", "FeedView", "FirstStart", "PostDetail", "PostView", "ProfileView",
           "SignInRequired", "Studio", "Suggestion", "UserView"]
