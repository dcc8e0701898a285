"""Command line: parse arguments, call the library, render. No analysis here.

Each subcommand is a module ``loadguard.commands.<name>`` with two functions:
``add_arguments(parser)`` declares its arguments and ``run(args)`` returns the
exit code; the docstring of ``run`` is the command's ``--help`` text. Only the
invoked command's module is imported, so ``loadguard scan`` does not pay for
``trial`` or ``study``, and ``loadguard --help`` imports none of them.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys

from . import __version__

# typing is not imported at run time: this module is on every start-up path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path
    from typing import Protocol

    class Command(Protocol):
        """What a module in ``loadguard.commands`` provides."""

        def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

        def run(self, args: argparse.Namespace) -> int: ...


# name -> (module in loadguard.commands, summary for `loadguard --help`); one line per command.
COMMANDS: dict[str, tuple[str, str]] = {
    "scan": ("scan", "Scan folders, archives, the HF cache or hub ids for load-time code."),
    "reach": ("reach", "Print the reach graph: what a load executes, with witness paths."),
    "check-code": ("check_code", "Find unsafe model loading in your own Python code."),
    "selfcheck": ("selfcheck", "Scan under an audit hook and prove nothing ran."),
    "lock": ("lock", "Scan targets and pin them (commit, file hashes, verdict) in a lock file."),
    "verify": ("verify", "Check local model copies against the lock file or a signature."),
    "sign": ("sign", "Sign a model folder (OpenSSF model-signing), or make a key pair."),
    "trial": ("trial", "Load a model inside the sandbox and report what the load did."),
    "convert": (
        "convert",
        "Convert pickle weights to safetensors, unpickling only in the sandbox.",
    ),
    "study": ("study", "Analyse a corpus into a study store (resumable)."),
    "report": ("report", "Tables, figures and an HTML page from a study store."),
}

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


class UsageError(Exception):
    """Arguments that parse but cannot be used (a malformed policy, a missing companion flag).

    Reported like argparse's own errors: usage line, ``loadguard CMD: error: ...``, exit 2.
    """


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command line (without the program name) and return its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # The top level has only flags, so the first word that is not an option names the command.
    at = next((i for i, word in enumerate(argv) if not word.startswith("-")), len(argv))
    try:
        if not (argv and argv[0] in COMMANDS):
            # -h, --version, a missing or unknown command: argparse prints and raises SystemExit.
            _top_parser().parse_args(argv[: at + 1])
        name = argv[at]
        command: Command = importlib.import_module(f"loadguard.commands.{COMMANDS[name][0]}")
        parser = argparse.ArgumentParser(
            prog=f"loadguard {name}",
            description=_help_text(command.run.__doc__),
            formatter_class=_HelpFormatter,
            allow_abbrev=False,
        )
        command.add_arguments(parser)
        args, extras = parser.parse_known_args(argv[at + 1 :])
        if extras:
            # Options between targets (`scan a --format json b`), or a real error. The
            # intermixed parse formats the usage up front: only pay for it here.
            args = parser.parse_intermixed_args(argv[at + 1 :])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    try:
        return command.run(args)
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def run() -> None:
    """Console-script entry point (``loadguard``, ``python -m loadguard``)."""
    # One CLI run allocates many small, mostly acyclic objects (frozen dataclasses,
    # AST nodes, findings); at the default gen-0 threshold of 700 the collector
    # re-walks them thousands of times. Cycles are still collected, less often.
    gc.set_threshold(50_000, 20, 20)
    try:
        code = main()
        sys.stdout.flush()  # a closed pipe must fail here, not at interpreter exit
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        # The reader went away (`| head`): exit 1 without a traceback, as click did.
        # Later flushes go to /dev/null so that shutdown does not fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    # The exit-time collection walks every object of the run (~5 ms of a 80 ms scan);
    # frozen objects are skipped. Teardown, atexit handlers and flushing are unchanged.
    gc.freeze()
    sys.exit(code)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, given its width: left to itself it imports ``shutil`` (and
    with it zlib, bz2 and lzma, ~2.5 ms) on every start-up, since argparse builds a
    formatter to check each argument it is given."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _terminal_columns() - 2  # as argparse does
        super().__init__(prog, indent_increment, max_help_position, width)


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``: $COLUMNS, else the terminal, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0 and sys.__stdout__ is not None:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (ValueError, OSError):  # not a terminal, or stdout closed
            columns = 0
    return columns or 80


def _top_parser() -> argparse.ArgumentParser:
    width = max(map(len, COMMANDS)) + 2
    listing = "\n".join(f"  {name:<{width}}{summary}" for name, (_, summary) in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="loadguard",
        usage="%(prog)s [-h] [--version] COMMAND [ARG ...]",
        description="loadguard: what code runs when you load this model, and is it dangerous?",
        epilog=f"commands:\n{listing}\n\n'loadguard COMMAND -h' describes a command.",
        formatter_class=_HelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"loadguard {__version__}")
    parser.add_argument("command", choices=COMMANDS, metavar="COMMAND", help=argparse.SUPPRESS)
    return parser


def _help_text(docstring: str | None) -> str | None:
    """A docstring as help text: its paragraphs as written, the indentation of the body removed."""
    if not docstring:
        return None
    first, *rest = docstring.strip().splitlines()
    indent = min((len(line) - len(line.lstrip()) for line in rest if line.strip()), default=0)
    return "\n".join([first, *(line[indent:] for line in rest)])


def add_report_arguments(parser: argparse.ArgumentParser, formats: Sequence[str]) -> None:
    """``--format`` and ``-o/--output``, spelled the same by every command that reports."""
    parser.add_argument(
        "--format",
        dest="fmt",
        choices=formats,
        default="text",
        help="Report format (default: %(default)s).",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=file_path,
        metavar="FILE",
        help="Write the report here instead of standard output.",
    )


# Argument types shared by the commands. A type that raises ArgumentTypeError makes
# argparse report "argument --policy: file 'x' does not exist" and exit 2.


def existing_file(text: str) -> Path:
    """A file that exists (not a directory)."""
    path = _path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"file {text!r} does not exist")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a directory, not a file")
    return path


def existing_path(text: str) -> Path:
    """A file or directory that exists."""
    path = _path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"path {text!r} does not exist")
    return path


def file_path(text: str) -> Path:
    """A file to write: anything but an existing directory."""
    path = _path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a directory, not a file")
    return path


def directory_path(text: str) -> Path:
    """A directory, existing or to be created: anything but an existing file."""
    path = _path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a directory")
    return path


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def _path(text: str) -> Path:
    from pathlib import Path  # only commands that take paths pay for pathlib

    return Path(text)
