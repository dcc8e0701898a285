"""Run a model load inside layered isolation and report what it did (trial, convert)."""
