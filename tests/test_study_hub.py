"""Hub corpora: a listing query and hub targets go through the hub source modules.

The hub module is replaced by an offline stand-in with the same interface
(``HubQuery``, ``iter_hub_models``, a snapshot function in ``HUB_SOURCES``).
"""

from __future__ import annotations

import dataclasses
import sys
import types
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

pytest.importorskip("duckdb")

from loadguard.errors import SourceError
from loadguard.limits import Limits
from loadguard.model import Platform, Snapshot
from loadguard.sources import HUB_SOURCES
from loadguard.sources.memory import snapshot_from_mapping
from loadguard.study.corpus import iter_tasks, parse_query
from loadguard.study.runner import run_study
from loadguard.study.store import StudyStore

SEEN: list[object] = []


@dataclasses.dataclass(frozen=True)
class HubQuery:
    search: str | None = None
    tags: tuple[str, ...] = ()
    custom_code: bool = False
    limit: int | None = 100
    created_after: datetime | None = None


@dataclasses.dataclass(frozen=True)
class HubModel:
    repo_id: str
    sha: str | None
    created_at: str | None

    @property
    def target(self) -> str:
        return f"hf:{self.repo_id}@{self.sha}"


def iter_hub_models(query: HubQuery) -> Iterator[HubModel]:
    SEEN.append(query)
    yield HubModel("org/custom", "a" * 40, "2024-05-02T10:00:00Z")
    yield HubModel("org/missing", "b" * 40, "2023-11-30T10:00:00Z")


def hub_snapshots(spec: str, limits: Limits) -> Iterator[Snapshot]:
    repo, _, revision = spec.partition("@")
    if repo == "org/missing":
        raise SourceError(f"{repo}: 404 not found")
    files = {
        "config.json": b'{"auto_map": {"AutoModel": "modeling_x.XModel"}}',
        "modeling_x.py": b"class XModel:\n    pass\n",
    }
    yield snapshot_from_mapping(
        files, repo_id=repo, platform=Platform.HUGGINGFACE, revision=revision
    )


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("loadguard.sources.huggingface")
    module.HubQuery = HubQuery  # type: ignore[attr-defined]
    module.iter_hub_models = iter_hub_models  # type: ignore[attr-defined]
    module.hub_snapshots = hub_snapshots  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "loadguard.sources.huggingface", module)
    monkeypatch.setitem(HUB_SOURCES, "hf", "loadguard.sources.huggingface:hub_snapshots")
    SEEN.clear()


def test_query_fields_are_typed_from_the_query_class(fake_hub: None) -> None:
    spec = "custom_code=true&tags=a,b&limit=7&created_after=2024-01-01&search=llm"
    tasks = list(iter_tasks("hf-query:" + spec))
    assert [
        HubQuery("llm", ("a", "b"), True, 7, datetime.fromisoformat("2024-01-01T00:00:00+00:00"))
    ] == SEEN
    assert [t.target for t in tasks] == ["hf:org/custom@" + "a" * 40, "hf:org/missing@" + "b" * 40]
    assert tasks[0].snapshot is None and tasks[0].metadata["created_at"].startswith("2024-05")
    with pytest.raises(SourceError, match="unknown field 'colour'"):
        list(iter_tasks("hf-query:colour=red"))
    assert parse_query("a=1&&b=2") == {"a": "1", "b": "2"}


def test_hub_query_study_fetches_in_the_worker_and_records_failures(
    fake_hub: None, tmp_path: Path
) -> None:
    db = tmp_path / "s.duckdb"
    with StudyStore(db) as store:
        summary = run_study("hf-query:custom_code=true", store, workers=1)
        rows = store.query(
            "SELECT repo_id, revision, verdict, runs_repo_code, created_month FROM repos ORDER BY 1"
        )
        errors = store.query("SELECT stage, message FROM errors")
    assert summary.done == 2
    assert rows == [
        ("hf:org/missing@" + "b" * 40, None, "error", False, "2023-11"),
        ("org/custom", "a" * 40, "review", True, "2024-05"),
    ]
    assert errors[0][0] == "source" and "404" in errors[0][1]


def test_query_without_the_hub_module_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "loadguard.sources.huggingface", None)
    with pytest.raises(SourceError, match=r"need loadguard\.sources\.huggingface"):
        list(iter_tasks("hf-query:limit=3"))
