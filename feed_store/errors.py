"""Typed errors: each says what was wrong in words a user can act on.

A method that raises one of these has written nothing.
"""


class StoreError(Exception):
    """Base class for every error the feed store raises on bad input."""


class InvalidInput(StoreError, ValueError):
    """A value is malformed: a bad handle, an empty comment, a bad cursor."""


class NotFound(StoreError, LookupError):
    """The id names nothing the acting user can see."""


class PermissionDenied(StoreError):
    """The acting user may not do this to this object."""


class Conflict(StoreError):
    """The action was already done (a second like) or clashes with existing data."""


class SchemaError(StoreError):
    """The data directory holds a store this version cannot read."""
