"""Benchmarks whose numbers the site shows."""
