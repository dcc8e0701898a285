"""Native analyzer over benign corpora: findings by rule and severity, and time.

    PYTHONPATH=src python bench/native_noise.py .bench-cache/corpus/hf_repos [more dirs]

Prints, per root: files, distinct files, parse failures, parse seconds (the
floor, distinct files), native-rule seconds (parse excluded), findings by
rule and severity, and every HIGH/CRITICAL finding (these should be ~0 here).
"""

from __future__ import annotations

import collections
import hashlib
import sys
import time
from pathlib import Path

from loadguard.analyzers.native import analyze_tree
from loadguard.pyparse import ParseFailure, parse_python


def main(roots: list[str]) -> None:
    for root in roots:
        files = sorted(p for p in Path(root).rglob("*.py") if p.is_file())
        seen: dict[str, Path] = {}
        parsed = []
        failures = 0
        started = time.process_time()
        for path in files:
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if digest in seen:
                continue
            seen[digest] = path
            try:
                module = parse_python(data, str(path))
            except ParseFailure:
                failures += 1
                continue
            parsed.append((path, module))
        parse_seconds = time.process_time() - started
        started = time.process_time()
        by_rule: collections.Counter[tuple[str, str]] = collections.Counter()
        high = []
        for path, module in parsed:
            for finding in analyze_tree(module.tree, module.text, str(path)):
                by_rule[(finding.rule_id, finding.severity.label)] += 1
                if finding.severity >= 3:
                    high.append(finding)
        rule_seconds = time.process_time() - started
        print(f"== {root}: {len(files)} files, {len(seen)} distinct, {failures} parse failures")
        print(
            f"   parse {parse_seconds:.2f} cpu-s, native rules {rule_seconds:.2f} cpu-s "
            f"(ratio {rule_seconds / parse_seconds:.2f})"
        )
        for (rule, sev), count in sorted(by_rule.items()):
            print(f"   {rule:14} {sev:8} {count}")
        print(f"   high/critical: {len(high)}")
        for finding in high[:60]:
            loc = finding.location
            print(f"     {finding.rule_id} {loc.path}:{loc.line} {finding.snippet[:100]}")


if __name__ == "__main__":
    main(sys.argv[1:])
