"""Data-only rule tables (pickle import policy ...), read by the analyzers."""
