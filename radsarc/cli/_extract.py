"""``radsarc extract`` (filled in by the extraction work)."""
