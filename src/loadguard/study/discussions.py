"""Developer discussions -> the study's concern taxonomy, with a keyword baseline.

The baseline is deliberately simple and documented (docs/study.md): each
concern has a list of regular expressions over lower-cased text; a text gets
the concern with most matching patterns (ties: the taxonomy's order, which
puts the more specific security concerns first), or ``other`` if none match.
Its agreement with hand labels is measured by ``agreement`` and reported.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

CONCERNS: dict[str, tuple[str, ...]] = {
    "fear of malicious code": (
        r"\bmalicious\b",
        r"\bmalware\b",
        r"\bbackdoor",
        r"\bexploit",
        r"\brce\b",
        r"remote code execution",
        r"arbitrary code",
        r"\bunsafe\b",
        r"\bsecurity\b",
        r"\bvulnerab",
        r"\bcompromis",
        r"\bsteal",
        r"\bexfiltrat",
        r"\bpayload",
        r"\bdangerous\b",
        r"\battack",
    ),
    "trust-model ambiguity": (
        r"\btrust_remote_code\b.*\b(what|why|mean|does|safe|should)\b",
        r"\b(what|why|how)\b.*\btrust_remote_code\b",
        r"\bwho (do|should) (i|we) trust",
        r"\btrusted\b",
        r"\bverify\b",
        r"\bverified\b",
        r"\baudit",
        r"\bpin(ned)? (the )?revision",
        r"\bunclear\b",
        r"\bconfus",
        r"\bwhich code (runs|is executed)",
        r"\bwhat code",
        r"\breview(ed)? the code",
    ),
    "pipeline incompatibilities": (
        r"\bpipeline\b",
        r"\bnot supported\b",
        r"\bunsupported\b",
        r"\bauto ?model\b",
        r"\bautomodel",
        r"\bautotokenizer",
        r"\bdoes not recogni[sz]e",
        r"\bunrecogni[sz]ed",
        r"\bmodel_type\b",
        r"\bgenerate\(\)",
        r"\bpeft\b",
        r"\bquanti[sz]",
        r"\bgguf\b",
        r"\bexport\b",
        r"\bonnx\b",
    ),
    "deployment barriers": (
        r"\bdeploy",
        r"\bproduction\b",
        r"\binference (server|endpoint)",
        r"\bendpoint",
        r"\bvllm\b",
        r"\btgi\b",
        r"\bsagemaker\b",
        r"\bdocker\b",
        r"\bkubernetes\b",
        r"\boffline\b",
        r"\bair-?gapped",
        r"\bserverless\b",
        r"\bcompany policy\b",
        r"\bnot allowed\b",
        r"\bforbid",
        r"\bblocked\b",
        r"\bserving\b",
    ),
    "version conflicts": (
        r"\bversion\b",
        r"\bdowngrad",
        r"\bupgrad",
        r"\bincompatib",
        r"\bdeprecat",
        r"\bbreaking change",
        r"\bimporterror\b",
        r"\bmodulenotfounderror\b",
        r"\bcannot import name\b",
        r"\battributeerror\b",
        r"\brequirements\b",
        r"\bpip install\b",
        r"\b\d+\.\d+(\.\d+)?\b",
    ),
    "calls for native integration": (
        r"\bnative(ly)?\b",
        r"\bupstream",
        r"\bmerge(d)? into transformers",
        r"\badd(ed)? (it )?to transformers",
        r"\bofficial(ly)? support",
        r"\bintegrat",
        r"\bwithout trust_remote_code\b",
        r"\bno longer need",
        r"\bport(ed)? to transformers",
        r"\bin the library\b",
    ),
}
OTHER = "other"
LABELS = (*CONCERNS, OTHER)
_COMPILED = {c: tuple(re.compile(p) for p in pats) for c, pats in CONCERNS.items()}


@dataclass(frozen=True)
class Discussion:
    id: str
    text: str
    source: str = ""
    label: str | None = None  # a hand label, when the JSONL carries one


def classify(text: str) -> str:
    lowered = " ".join(text.lower().split())
    scores = {c: sum(1 for p in pats if p.search(lowered)) for c, pats in _COMPILED.items()}
    best = max(scores.values())
    if best == 0:
        return OTHER
    return next(c for c in CONCERNS if scores[c] == best)


def read_jsonl(path: str | Path) -> Iterator[Discussion]:
    """Records with ``text`` (or ``title`` + ``body``), optional ``id``, ``source``, ``label``."""
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: not JSON: {exc}") from None
            text = record.get("text") or " ".join(str(record.get(k, "")) for k in ("title", "body"))
            yield Discussion(
                str(record.get("id", number)),
                str(text),
                str(record.get("source", "")),
                record.get("label"),
            )


def distribution(items: Iterable[Discussion]) -> Counter[str]:
    return Counter(classify(d.text) for d in items)


@dataclass(frozen=True)
class Agreement:
    n: int
    accuracy: float
    kappa: float  # Cohen's kappa between the classifier and the hand labels
    confusion: dict[tuple[str, str], int]  # (hand label, predicted) -> count


def agreement(items: Sequence[Discussion]) -> Agreement:
    labelled = [(d.label, classify(d.text)) for d in items if d.label]
    n = len(labelled)
    if n == 0:
        return Agreement(0, 0.0, 0.0, {})
    observed = sum(1 for gold, pred in labelled if gold == pred) / n
    gold_counts = Counter(g for g, _ in labelled)
    pred_counts = Counter(p for _, p in labelled)
    expected = sum(gold_counts[c] * pred_counts[c] for c in LABELS) / (n * n)
    kappa = (observed - expected) / (1 - expected) if expected < 1 else 1.0
    confusion = Counter((str(g), p) for g, p in labelled)
    return Agreement(n, observed, kappa, dict(confusion))
