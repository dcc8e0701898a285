"""Config-borne trust: a repo's own JSON switching trust on, YAML object tags, requirements."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..model import Severity
from .context import DetectContext, Detection

TRUST_KEYS = ("trust_remote_code", "trust_repo", "allow_remote", "safe_mode", "weights_only")
_YAML_PYTHON_TAG = re.compile(r"!!python/(object|name|module|apply)[^\s:]*(:[\w.]+)?")
_RISKY_REQUIREMENT = re.compile(r"(git\+|https?://|--index-url|--extra-index-url|-e\s|\.whl)")


def detect(ctx: DetectContext) -> Detection:
    det = Detection()
    for entry in ctx.snapshot.files:
        path = entry.path
        if entry.size > ctx.limits.max_text_bytes:
            continue
        if path.endswith(".json"):
            _json_trust(ctx, det, path)
        elif path.endswith((".yaml", ".yml")):
            _yaml_tags(ctx, det, path)
        elif path.rsplit("/", 1)[-1].startswith("requirements") and path.endswith(".txt"):
            _requirements(ctx, det, path)
    return det


def _json_trust(ctx: DetectContext, det: Detection, path: str) -> None:
    try:
        raw = ctx.snapshot.read(path, ctx.limits.max_text_bytes)
    except Exception:
        return
    if not any(key.encode() in raw for key in TRUST_KEYS):
        return
    for key_path, key, value in _walk(ctx.json(path)):
        risky = (key in ("trust_remote_code", "trust_repo", "allow_remote") and _truthy(value)) or (
            key in ("safe_mode", "weights_only") and value is False
        )
        if risky and not (path == "configuration.json" and key == "allow_remote"):
            det.flag(
                "LG-CFG-001",
                path,
                f"{path} sets {key_path} = {value!r}: the repo switches a load-time "
                "safety flag for itself",
                Severity.HIGH,
                ("CWE-829", "CWE-94"),
                snippet=f'"{key}": {str(value).lower()}',
            )


def _truthy(value: object) -> bool:
    """What a loader handed this value would take as "on".

    Loaders test these flags by truthiness (transformers resolve_trust_remote_code,
    ModelScope's cfg.get("allow_remote")), so "yes", 1 and even "false" switch them
    on when a config is splatted into the call. torch.hub's own "check" is its default.
    """
    return bool(value) and value != "check" and not isinstance(value, (dict, list))


def _walk(value: object, prefix: str = "") -> Iterator[tuple[str, str, object]]:
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield path, str(key), child
            yield from _walk(child, path)
    elif isinstance(value, list):
        for index, child in enumerate(value[:10_000]):
            yield from _walk(child, f"{prefix}[{index}]")


def _yaml_tags(ctx: DetectContext, det: Detection, path: str) -> None:
    text = ctx.text(path) or ""
    for number, line in enumerate(text.splitlines(), 1):
        match = _YAML_PYTHON_TAG.search(line)
        if match:
            det.flag(
                "LG-CFG-020",
                path,
                f"YAML tag {match.group(0)} constructs Python objects under an unsafe "
                "loader (mmengine/ModelScope configs, yaml.load without SafeLoader)",
                Severity.HIGH,
                ("CWE-502",),
                snippet=line.strip(),
                line=number,
            )


def _requirements(ctx: DetectContext, det: Detection, path: str) -> None:
    for line in ctx.requirement_lines(path):
        if _RISKY_REQUIREMENT.search(line):
            det.flag(
                "LG-CFG-021",
                path,
                f"requirement {line!r} installs from a URL, VCS or custom index "
                "(no integrity pinning)",
                Severity.MEDIUM,
                ("CWE-494", "CWE-829"),
                snippet=line,
            )
