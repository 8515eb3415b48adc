"""The two smallest examples: one signed token, one server-side session."""
