"""A runnable FastAPI application that wires the snippets: sessions, JWTs and the conversions."""
