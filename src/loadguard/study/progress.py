"""The study's live display: repos done/total, files analysed vs served from cache,
findings so far, and an ETA (rich's estimate over the recent completion rate)."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from .runner import Progress as Counters


class StudyDisplay:
    def __init__(self, console: Console | None = None) -> None:
        self._progress = Progress(
            TextColumn("[bold]study[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("repos"),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> StudyDisplay:
        self._progress.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.__exit__(kind, exc, tb)

    def update(self, p: Counters) -> None:
        todo = p.total - p.skipped
        detail = (
            f"files {p.files_analysed - p.files_cached:,} analysed · "
            f"{p.files_cached:,} from cache · findings {p.findings:,}"
        )
        if p.skipped:
            detail += f" · {p.skipped:,} already stored"
        if self._task is None:
            self._task = self._progress.add_task("study", total=todo, detail=detail)
        self._progress.update(self._task, completed=p.done, total=todo, detail=detail)
