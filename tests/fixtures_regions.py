"""Region fixtures (filled in by the regions work)."""
