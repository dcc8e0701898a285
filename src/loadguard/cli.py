"""Command line: parse arguments, call the library, render. No analysis here.

Subcommands live in ``loadguard.commands.<name>`` and are imported only when
invoked, so ``loadguard scan`` does not pay for ``trial`` or ``study``.
"""

from __future__ import annotations

import gc
import importlib
import sys

import click

from . import __version__

# name -> "module:attribute" of a click.Command; add one line per command.
COMMANDS: dict[str, str] = {
    "reach": "loadguard.commands.reach:reach",
    "scan": "loadguard.commands.scan:scan",
    "check-code": "loadguard.commands.check_code:check_code",
    "selfcheck": "loadguard.commands.selfcheck:selfcheck",
    "lock": "loadguard.commands.lock:lock",
    "verify": "loadguard.commands.verify:verify",
    "sign": "loadguard.commands.sign:sign",
    "study": "loadguard.commands.study:study",
    "report": "loadguard.commands.report:report",
    "trial": "loadguard.commands.trial:trial",
    "convert": "loadguard.commands.convert:convert",
}

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module_name), attr)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="loadguard")
def main() -> None:
    """loadguard: what code runs when you load this model, and is it dangerous?"""


def run() -> None:
    # One CLI run allocates many small, mostly acyclic objects (frozen dataclasses,
    # AST nodes, findings); at the default gen-0 threshold of 700 the collector
    # re-walks them thousands of times. Cycles are still collected, less often.
    gc.set_threshold(50_000, 20, 20)
    try:
        main(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
