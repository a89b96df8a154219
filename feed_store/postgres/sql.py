"""SQL fragments more than one concern of the PostgreSQL store writes into its statements."""

LIVE = "p.deleted_at IS NULL AND p.published_at IS NOT NULL"
"""A post (aliased ``p``) that is published and not deleted: the partial indexes on posts cover exactly these."""
