"""Discussion classifier: the keyword baseline against the hand-labelled sample."""

from __future__ import annotations

import json
from pathlib import Path

from loadguard.study.discussions import (
    CONCERNS,
    LABELS,
    OTHER,
    Discussion,
    agreement,
    classify,
    distribution,
    read_jsonl,
)

SAMPLE = (
    Path(__file__).resolve().parent.parent / "src/loadguard/study/data/discussions_labelled.jsonl"
)


def test_labelled_sample_agreement() -> None:
    items = list(read_jsonl(SAMPLE))
    assert len(items) >= 30 and {d.label for d in items} == set(LABELS)
    result = agreement(items)
    # the figure documented in docs/study.md; a change of keywords must keep it
    assert result.n == len(items)
    assert result.accuracy >= 0.85 and result.kappa >= 0.8


def test_every_concern_is_reachable_and_other_is_the_fallback() -> None:
    items = list(read_jsonl(SAMPLE))
    predicted = distribution(items)
    assert all(predicted[c] > 0 for c in CONCERNS)
    assert classify("Great work, thank you!") == OTHER
    assert classify("") == OTHER


def test_kappa_on_a_hand_computed_case() -> None:
    texts = {
        "malware in the pickle": "fear of malicious code",
        "please support it natively": "calls for native integration",
        "thanks": "fear of malicious code",  # a deliberate disagreement
        "nice": OTHER,
    }
    items = [Discussion(str(i), t, label=gold) for i, (t, gold) in enumerate(texts.items())]
    result = agreement(items)
    # observed 3/4; expected = (2*1 + 1*1 + 1*2)/16 = 5/16 -> kappa = (12/16-5/16)/(11/16)
    assert result.accuracy == 0.75
    assert abs(result.kappa - 7 / 11) < 1e-9
    assert result.confusion[("fear of malicious code", OTHER)] == 1


def test_jsonl_title_and_body(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(
        json.dumps({"id": "a", "title": "ImportError after upgrade", "body": "version 4.40"})
        + "\n\n"
    )
    (item,) = read_jsonl(path)
    assert item.id == "a" and classify(item.text) == "version conflicts"
