"""The process entry point: `ecdigest search` starts without Typer, everything else goes through it.

Editors run `ecdigest search` many times a day and scripts run it in loops, so its start-up
counts: Typer, Click and rich cost some 50 ms before the first line of our code runs, more
than an indexed search itself. So the console script enters here. A command line that is
plainly a search (`[--archive PATH | -a PATH] search WORDS... [--option VALUE]...`) is
parsed with the table below and run directly; anything else (`--help`, an unknown option,
a value that does not convert, another command, any error) goes to the Typer app, which
reports it. Both paths share one definition of the search command: `search_options()` here,
from which `cli/search_cmd.py` builds the Typer command, and `run_search`, which does the
work. An error on the fast path is not printed here: the Typer path runs the command again
and reports it in the one way every command does (the search is read-only, so running it
twice is harmless; warnings are printed only once the search succeeded).
"""

from __future__ import annotations

import os
import sys

# `typing` costs milliseconds to import and this module is on every search's start-up path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

QUERY_HELP = (
    'Terms: all must occur (AND); "a phrase" with spaces; -term excludes; a OR b for either. '
    "Case, full-width and half-width forms do not matter."
)


class Opt:
    """One option of `ecdigest search`: the single definition both entry paths use."""

    __slots__ = ("choices", "default", "flag", "help", "kind", "metavar", "multiple", "name")

    def __init__(
        self,
        name: str,
        flag: str,
        metavar: str,
        help: str,
        *,
        kind: str = "text",
        multiple: bool = False,
        default: Any = None,
        choices: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.flag = flag
        self.metavar = metavar
        self.help = help
        self.kind = kind
        self.multiple = multiple
        self.default = [] if multiple else default
        self.choices = choices

    def convert(self, value: str) -> Any:
        """The value as the Typer command would receive it, or None when it would refuse it."""
        if self.kind == "int":
            try:
                number = int(value)
            except ValueError:
                return None
            return number if number >= 0 else None
        if self.kind == "choice":
            for choice in self.choices:
                if value.lower() == choice.lower():
                    return choice
            return None
        return value


_OPTIONS: list[tuple[Opt, ...]] = []


def search_options() -> tuple[Opt, ...]:
    """The options of `ecdigest search`, built on first use (other commands never import
    the search module)."""
    if not _OPTIONS:
        from .search import FORMATS, SORTS, WITHIN

        _OPTIONS.append(
            (
                Opt(
                    "section",
                    "--section",
                    "NAME",
                    "Only articles of this section, e.g. 数据观察 (repeat for several).",
                    multiple=True,
                ),
                Opt(
                    "source",
                    "--source",
                    "TEXT",
                    "Only articles whose source contains TEXT, e.g. 央广网 (repeat for several).",
                    multiple=True,
                ),
                Opt(
                    "since",
                    "--since",
                    "DATE",
                    "Only issues dated on or after DATE: 2023-01-01, '2023 年 1 月 1 日', today.",
                ),
                Opt("until", "--until", "DATE", "Only issues dated on or before DATE."),
                Opt("issue", "--issue", "ID", "Only this issue (repeat for several).", multiple=True),
                Opt(
                    "within",
                    "--in",
                    "title|body|all",
                    "Where the terms must occur.",
                    kind="choice",
                    choices=WITHIN,
                    default="all",
                ),
                Opt(
                    "limit",
                    "--limit",
                    "N",
                    "Show at most N hits, best first (0: all).",
                    kind="int",
                    default=20,
                ),
                Opt(
                    "sort",
                    "--sort",
                    "relevance|date",
                    "Best matches first (bm25), or newest issues first.",
                    kind="choice",
                    choices=SORTS,
                    default="relevance",
                ),
                Opt(
                    "format",
                    "--format",
                    "text|json",
                    "text for people, json for scripts.",
                    kind="choice",
                    choices=FORMATS,
                    default="text",
                ),
            )
        )
    return _OPTIONS[0]


# The global options that may stand before `search` (defined in cli/app.py): anything else
# before the command word sends the command line to Typer.
_ARCHIVE_FLAGS = ("--archive", "-a")


def parse_search_argv(argv: Sequence[str]) -> tuple[str | None, list[str], dict[str, Any]] | None:
    """(--archive value, query words, option values) when `argv` is a plain search, else None."""
    archive: str | None = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "search":
            break
        if arg in _ARCHIVE_FLAGS and i + 1 < len(argv):
            archive, i = argv[i + 1], i + 2
        elif arg.startswith("--archive="):
            archive, i = arg[len("--archive=") :], i + 1
        elif arg.startswith("-a") and len(arg) > 2 and not arg.startswith("--"):
            archive, i = arg[2:], i + 1
        else:
            return None
    else:
        return None
    by_flag = {opt.flag: opt for opt in search_options()}
    values: dict[str, Any] = {
        opt.name: list(opt.default) if opt.multiple else opt.default for opt in search_options()
    }
    words: list[str] = []
    rest = list(argv[i + 1 :])
    j = 0
    while j < len(rest):
        arg = rest[j]
        if arg == "--":
            words.extend(rest[j + 1 :])
            break
        if arg.startswith("--"):
            flag, equals, value = arg.partition("=")
            opt = by_flag.get(flag)
            if opt is None:
                return None
            if not equals:
                if j + 1 >= len(rest):
                    return None
                value = rest[j + 1]
                j += 1
            j += 1
            converted = opt.convert(value)
            if converted is None:
                return None
            if opt.multiple:
                values[opt.name].append(converted)
            else:
                values[opt.name] = converted
            continue
        words.append(arg)
        j += 1
    if not words:
        return None
    return archive, words, values


def color_enabled() -> bool:
    """As `cli.app.color_enabled`: a terminal, NO_COLOR unset, TERM not dumb."""
    try:
        terminal = sys.stdout.isatty()
    except (ValueError, OSError):
        return False
    return terminal and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def run_search(
    archive_option: str | None, words: Sequence[str], values: dict[str, Any], *, color: bool
) -> None:
    """Run `ecdigest search` with parsed values: warnings on stderr, hits on stdout."""
    from .search import (
        SearchOptions,
        archive_root,
        parse_query,
        render_json,
        render_rich,
        render_text,
        search,
    )

    for word in words:
        if word.startswith("--") and len(word) > 2:
            from .errors import UsageError

            raise UsageError(
                f"no such option: {word.partition('=')[0]}",
                hint='see `ecdigest search --help`; to search for text starting with "--", quote it: \'"--x"\'',
            )
    options = SearchOptions(
        parse_query(words),
        sections=values.get("section") or (),
        sources=values.get("source") or (),
        since=values.get("since"),
        until=values.get("until"),
        issues=values.get("issue") or (),
        within=values.get("within") or "all",
        limit=values["limit"] if values.get("limit") is not None else 20,
        sort=values.get("sort") or "relevance",
    )
    result = search(archive_root(archive_option), options)
    from .terminal import printable

    for warning in result.warnings:
        sys.stderr.write(f"ecdigest: warning: {printable(warning, one_line=True)}\n")
    sys.stderr.flush()
    if values.get("format") == "json":
        _write(render_json(result))
        if len(result.hits) < result.total:
            # The array has no room for the count; a person piping it to jq still wants it.
            sys.stderr.write(
                f"ecdigest: {len(result.hits)} of {result.total} hits shown; --limit 0 shows all\n"
            )
    elif color:
        from rich.console import Console

        console = Console(highlight=False, soft_wrap=True)
        render_rich(result, console.print)
    else:
        _write(render_text(result))


def _write(text: str) -> None:
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()


def _fast_search(argv: Sequence[str]) -> int | None:
    """Run a plain search without Typer; None to let the Typer app handle (or report) it."""
    if os.environ.get("ECDIGEST_DEBUG", "") not in ("", "0"):
        return None
    parsed = parse_search_argv(argv)
    if parsed is None:
        return None
    archive, words, values = parsed
    try:
        run_search(archive, words, values, color=color_enabled())
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("ecdigest: interrupted; files are unchanged or fully written\n")
        return 130
    except Exception:  # reported, the one way every command does, by the Typer path
        return None
    return 0


def main() -> None:
    """Console-script entry point."""
    from .fastpaths import fast_path  # --version and `list` off a terminal, also without Typer

    code = fast_path(sys.argv[1:])
    if code is None:
        code = _fast_search(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from .cli import main as cli_main

    cli_main()
