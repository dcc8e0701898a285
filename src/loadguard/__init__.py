"""loadguard: find, trace and judge the code a model load runs."""

from __future__ import annotations

__version__ = "0.1.0"
RULESET_VERSION = "2026.11.0"
