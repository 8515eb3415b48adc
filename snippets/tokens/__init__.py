"""Stateless access tokens: issue, verify, publish keys, and the pitfalls to avoid."""
