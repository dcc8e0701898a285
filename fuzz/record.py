"""Add one atheris run to fuzz/stats.json: python fuzz/record.py TARGET EXECUTIONS SECONDS RC."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

STATS = Path(__file__).resolve().parent / "stats.json"


def main() -> None:
    target, executions, seconds, rc = sys.argv[1:5]
    runs = json.loads(STATS.read_text()) if STATS.exists() else []
    runs.append(
        {
            "target": target,
            "executions": int(executions),
            "seconds": int(seconds),
            "crashed": int(rc) != 0,
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%MZ"),
        }
    )
    STATS.write_text(json.dumps(runs, indent=1) + "\n")


if __name__ == "__main__":
    main()
