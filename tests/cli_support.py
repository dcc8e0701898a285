"""Run the command line in this process and capture what it prints."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

from loadguard.cli import main


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """Everything printed, standard output first."""
        return self.stdout + self.stderr


def run_cli(*args: str) -> CliResult:
    """``loadguard ARGS...`` as ``main(argv)``; exceptions other than SystemExit propagate."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = main(list(args))
        except SystemExit as exc:  # main returns its code; this catches a stray sys.exit
            code = exc.code if isinstance(exc.code, int) else 1
    return CliResult(code, stdout.getvalue(), stderr.getvalue())
