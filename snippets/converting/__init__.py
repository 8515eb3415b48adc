"""Converting between sessions and JWTs: token exchange, BFF login, phantom tokens,
migration."""
