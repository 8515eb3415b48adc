"""Tested examples for choosing and implementing JWTs or server-side sessions.

Every module in this package is shown, in whole or in sections, on the documentation
site, and every module has a behaviour test under ``tests/snippets/``.
"""
