"""Renderers of scan results: json (machine), text (terminal); more formats plug in here."""
