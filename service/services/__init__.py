"""Business logic shared by routes, channels and workers (no HTTP here)."""
