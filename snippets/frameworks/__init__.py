"""The snippets wired into FastAPI, Flask and Django."""
