"""Running the session and revocation snippets on Redis Cluster."""
