"""`ecdigest --version` and a plain `ecdigest list` off a terminal, without Typer.

Importing Typer and building the app costs some 60 ms, more than everything else these two
do (measured in bench/bench_startup.py): cron and scripts call them constantly. A command
line that is exactly one of

    ecdigest --version
    ecdigest [--archive PATH | -a PATH] list [--format text|json | -f text|json]

is answered here (text only when stdout is not a terminal: there the Typer path draws a rich
table); anything else, and any error, goes to the Typer app, which runs the command again
and reports it the one way every command does (list is read-only: running it twice is
harmless, and nothing is printed here until the output is complete).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # `typing` costs milliseconds; this module is on the start-up path
if TYPE_CHECKING:
    from collections.abc import Sequence

_ARCHIVE_FLAGS = ("--archive", "-a")
_FORMAT_FLAGS = ("--format", "-f")


def parse_list_argv(argv: Sequence[str]) -> tuple[str | None, str] | None:
    """(--archive value, format) when `argv` is a plain `list`, else None."""
    archive: str | None = None
    i = 0
    while i < len(argv) and argv[i] != "list":
        arg = argv[i]
        if arg in _ARCHIVE_FLAGS and i + 1 < len(argv):
            archive, i = argv[i + 1], i + 2
        elif arg.startswith("--archive="):
            archive, i = arg[len("--archive=") :], i + 1
        else:
            return None
    rest = list(argv[i + 1 :]) if i < len(argv) else None
    if rest is None:
        return None
    fmt = "text"
    if rest:
        if len(rest) == 2 and rest[0] in _FORMAT_FLAGS:
            fmt = rest[1].lower()
        elif len(rest) == 1 and rest[0].startswith("--format="):
            fmt = rest[0][len("--format=") :].lower()
        else:
            return None
    if fmt not in ("text", "json"):
        return None
    return archive, fmt


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (ValueError, OSError):
        return False


def run_list(archive_option: str | None, fmt: str) -> None:
    from .archive import open_archive
    from .listing import HEADERS, empty_note, issue_objects, issue_rows
    from .terminal import plain_table, printable

    archive = open_archive(archive_option)
    if fmt == "json":
        from .export.jsonout import dumps

        text = dumps(issue_objects(archive))
    else:
        rows = issue_rows(archive)
        if not rows:
            sys.stderr.write(printable(empty_note(archive)) + "\n")
            return
        text = plain_table(HEADERS, rows)
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()


def fast_path(argv: Sequence[str]) -> int | None:
    """The exit code when `argv` was answered here; None to let the Typer app handle it."""
    if os.environ.get("ECDIGEST_DEBUG", "") not in ("", "0"):
        return None
    if list(argv) == ["--version"]:
        from . import __version__

        sys.stdout.write(f"ecdigest {__version__}\n")
        sys.stdout.flush()
        return 0
    parsed = parse_list_argv(argv)
    if parsed is None or (parsed[1] == "text" and _stdout_is_terminal()):
        return None
    try:
        run_list(*parsed)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("ecdigest: interrupted; files are unchanged or fully written\n")
        return 130
    except Exception:  # reported by the Typer path, which runs the command again
        return None
    return 0
