"""Logging out with JWTs: a blocklist, a per-user cut-off, rotating refresh tokens,
short
expiry."""
