"""Campaign fixtures (filled in by the campaigns work)."""
