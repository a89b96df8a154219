"""Trust and safety: prompt and comment moderation, and cameo owners' restrictions, all offline."""
