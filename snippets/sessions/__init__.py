"""Server-side sessions on Redis: the store, the cookie that carries the ID, and CSRF
checks."""
