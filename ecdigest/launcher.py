"""The process entry point: a few hot command lines are answered without loading Typer.

Cron jobs, scripts and editors start `ecdigest --version`, `ecdigest list`, `ecdigest
show`, `ecdigest search` and `ecdigest add` constantly, and importing Typer (vendored Click,
inspect, shellingham) and building the app costs some 50-60 ms: more than those commands'
own work (numbers in bench/RESULTS.md). So the console script enters here, and one
mechanism serves them all:

- `FAST_COMMANDS` declares each such command by its option table (`Opt`); `parse_argv`
  reads `[--archive PATH | -a PATH] COMMAND [WORDS] [--option VALUE]...` against it.
- A command line that parses, and that the command accepts (e.g. `list` only off a
  terminal, where the app would draw a rich table), is run by the command's `run`.
- Anything else (`--help`, an unknown option, a value that does not convert, another
  command, `--debug`) and any error goes to the Typer app, which runs the command again and
  reports it the one way every command does. The read-only commands print nothing until
  their output is complete, so running one twice is harmless; `add` writes, so it hands a
  command line over only before it has read anything (`Decline`) and reports its own
  failures after that, as the app does (`run_add`).

The Typer face of `search` is built from the same option table (cli/search_cmd.py), and
`list` shares its rows with the Typer command (listing.py); tests compare both paths byte
for byte.
"""

from __future__ import annotations

import os
import sys

from .terminal import color_enabled, stdout_is_terminal, write_stdout

# `typing` costs milliseconds to import and this module is on every search's start-up path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from .catalog import Catalog
    from .rendered import Entry

QUERY_HELP = (
    'Terms: all must occur (AND); "a phrase" with spaces; -term excludes; a OR b for either. '
    "Case, full-width and half-width forms do not matter."
)


class Opt:
    """One option of a fast command: the single definition both entry paths use."""

    __slots__ = (
        "aliases",
        "choices",
        "default",
        "flag",
        "help",
        "high",
        "kind",
        "low",
        "metavar",
        "multiple",
        "name",
    )

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
        aliases: tuple[str, ...] = (),
        low: int = 0,
        high: int | None = None,
    ) -> None:
        self.name = name
        self.low = low  # an int option's smallest and largest accepted values
        self.high = high
        self.flag = flag
        self.aliases = aliases
        self.metavar = metavar
        self.help = help
        self.kind = kind
        self.multiple = multiple
        self.default = [] if multiple else default
        self.choices = choices

    def convert(self, value: str) -> Any:
        """The value as the Typer command would receive it, or None when it would refuse it."""
        if self.kind == "flag":  # takes no value: `--flag=x` is for the app to refuse
            return None
        if self.kind == "int":
            try:
                number = int(value)
            except ValueError:
                return None
            return number if number >= self.low and (self.high is None or number <= self.high) else None
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
                    aliases=("-n",),
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
                _format_option(FORMATS, "-f"),
            )
        )
    return _OPTIONS[0]


def _format_option(choices: tuple[str, ...], *aliases: str) -> Opt:
    return Opt(
        "format",
        "--format",
        "text|json",
        "text for people, json for scripts.",
        kind="choice",
        choices=choices,
        default="text",
        aliases=aliases,
    )


def list_options() -> tuple[Opt, ...]:
    """The options of `ecdigest list` (the Typer command declares the same `--format/-f`)."""
    return (_format_option(("text", "json"), "-f"),)


def show_options() -> tuple[Opt, ...]:
    """The options of `ecdigest show` (the Typer command declares the same; tests compare
    both paths byte for byte)."""
    return (
        _format_option(("text", "json"), "-f"),
        Opt(
            "width",
            "--width",
            "N",
            "Wrap at this many columns (default: terminal width).",
            kind="int",
            low=20,
            high=1000,
        ),
        Opt("toc", "--toc", "", "The contents: sections and article ids.", kind="flag", default=False),
        Opt("section", "--section", "NAME", "Only this section."),
        Opt("no_pager", "--no-pager", "", "Print straight to the terminal.", kind="flag", default=False),
    )


def add_options() -> tuple[Opt, ...]:
    """The options of `ecdigest add` as cli/archive_cmds.py declares them (a test compares
    both tables); the launcher answers `add` without --edit, --from-text and --from-draft."""
    text = (
        ("title", "--title", "TEXT"),
        ("section", "--section", "NAME"),
        ("source", "--source", "TEXT"),
        ("compiled_by", "--compiled-by", "TEXT"),
        ("date", "--date", "DATE"),
        ("url", "--url", "URL"),
        ("body", "--body", "TEXT"),
        ("body_file", "--body-file", "PATH|-"),
        ("from_text", "--from-text", "FILE|-"),
        ("from_draft", "--from-draft", "FILE|-"),
    )
    return (
        *(Opt(name, flag, metavar, "") for name, flag, metavar in text),
        Opt("tag", "--tag", "TAG", "", multiple=True),
        Opt("edit", "--edit", "", "", kind="flag", default=False),
        Opt("force", "--force", "", "", kind="flag", default=False),
    )


# The global option that may stand before the command word (defined in cli/app.py);
# anything else before it sends the command line to Typer.
_ARCHIVE_FLAGS = ("--archive", "-a")


def _split_global(argv: Sequence[str]) -> tuple[str | None, str, list[str]] | None:
    """(--archive value, command word, the rest) for `[--archive PATH] COMMAND ...`."""
    archive: str | None = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-"):
            return archive, arg, list(argv[i + 1 :])
        if arg in _ARCHIVE_FLAGS and i + 1 < len(argv):
            archive, i = argv[i + 1], i + 2
        elif arg.startswith("--archive="):
            archive, i = arg[len("--archive=") :], i + 1
        elif arg.startswith("-a") and len(arg) > 2 and not arg.startswith("--"):
            archive, i = arg[2:], i + 1
        else:
            return None
    return None


def _parse_options(
    rest: Sequence[str], options: Sequence[Opt], *, words_allowed: int | None
) -> tuple[list[str], dict[str, Any]] | None:
    """(words, values) of a command's arguments, or None if the app must judge them.

    Options are long (`--flag VALUE`, `--flag=VALUE`) or declared short aliases (`-f VALUE`,
    `-fVALUE`), as click reads them; `-h` is help (the app's); `--` ends the options. Other
    words starting with one dash are words (search's `-term`).
    """
    by_flag = {flag: opt for opt in options for flag in (opt.flag, *opt.aliases)}
    values: dict[str, Any] = {opt.name: list(opt.default) if opt.multiple else opt.default for opt in options}
    words: list[str] = []
    j = 0
    while j < len(rest):
        arg = rest[j]
        if arg == "--":
            words.extend(rest[j + 1 :])
            break
        if arg == "-h":
            return None
        if arg.startswith("--"):
            flag, equals, value = arg.partition("=")
        elif arg[:2] in by_flag:  # `-n 5`, or `-n5` as click reads it
            flag, value = arg[:2], arg[2:]
            equals = "=" if value else ""
        else:
            flag, equals, value = arg, "", ""
        opt = by_flag.get(flag)
        if opt is None and arg.startswith("--"):
            return None
        if opt is None:
            words.append(arg)
            j += 1
            continue
        if opt.kind == "flag":  # `--toc`: no value (`--toc=x` is the app's to refuse)
            if equals:
                return None
            values[opt.name] = True
            j += 1
            continue
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
    if words_allowed is not None and len(words) > words_allowed:
        return None
    return words, values


def parse_argv(argv: Sequence[str]) -> tuple[str, str | None, list[str], dict[str, Any]] | None:
    """(command, --archive value, words, option values) for a command line that a fast
    command can answer; None for everything else."""
    split = _split_global(argv)
    if split is None or split[1] not in FAST_COMMANDS:
        return None
    archive, command, rest = split
    spec = FAST_COMMANDS[command]
    parsed = _parse_options(rest, spec.options(), words_allowed=spec.max_words)
    if parsed is None or len(parsed[0]) < spec.min_words:
        return None
    return command, archive, parsed[0], parsed[1]


def run_search(
    archive_option: str | None, words: Sequence[str], values: dict[str, Any], *, color: bool
) -> None:
    """Run `ecdigest search` with parsed values: warnings on stderr, hits on stdout."""
    from .derived import ScanInThread, archive_root, is_archive

    root = archive_root(archive_option)
    # The archive's stats start now, beside loading the search modules (search.py).
    scanning = ScanInThread(root) if is_archive(root) else None
    from .search import (
        SearchOptions,
        parse_query,
        render_json,
        render_rich,
        render_text,
        search,
    )

    for word in words:
        # A word spelled like an option is never silently a query term.
        if (word.startswith("--") and len(word) > 2) or (
            len(word) == 2 and word[0] == "-" and word[1].isascii() and word[1].isalpha()
        ):
            from .errors import UsageError

            name = word.partition("=")[0]
            raise UsageError(
                f"no such option: {name}",
                hint=f"see `ecdigest search --help`; to search for text starting with a dash, or to exclude it, quote it: '\"{name}\"' or '-\"{name.lstrip('-')}\"'",
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
        scores=values.get("format") == "json",
    )
    result = search(root, options, scanning=scanning)
    from .terminal import printable

    for warning in result.warnings:
        sys.stderr.write(f"ecdigest: warning: {printable(warning, one_line=True)}\n")
    sys.stderr.flush()
    if values.get("format") == "json":
        write_stdout(render_json(result))
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
        write_stdout(render_text(result))


def _search_and_end(archive_option: str | None, words: Sequence[str], values: dict[str, Any]) -> None:
    """The console script's search: the process ends right after it, and the garbage
    collection Python runs while ending would visit every object the search left (its
    modules, SQLite's): frozen, they are freed as usual but not visited (~1.5 ms)."""
    run_search(archive_option, words, values, color=color_enabled())
    import gc

    gc.freeze()


def _collector_off(
    run: Callable[[str | None, Sequence[str], dict[str, Any]], int | None],
) -> Callable[[str | None, Sequence[str], dict[str, Any]], int | None]:
    """The console script's `show` and `list`, which end the process when done: Python's
    cyclic collector runs ~20-35 times while they read and render and finds nothing to free
    (their objects, acyclic, go by reference counting), and once more while the process
    ends, visiting every module's objects. So it is off while they run (on again for the
    Typer app if they hand over) and what is left is frozen at the end, as `search` does:
    freed as usual, not visited (~22 M of ~330 M instructions of `show` after an edit)."""

    def without_collector(archive: str | None, words: Sequence[str], values: dict[str, Any]) -> int | None:
        import gc

        gc.disable()
        try:
            code = run(archive, words, values)
        finally:
            gc.enable()
        gc.freeze()
        return code

    return without_collector


def run_list(archive_option: str | None, words: Sequence[str], values: dict[str, Any]) -> int:
    """`ecdigest list` off a terminal: the rows (or JSON) the Typer command prints.

    Reads only the catalog: no issue file, not even ecdigest.toml (the catalog keeps the
    sections), unless something changed since the last command."""
    from .derived import archive_root

    kept = cached_list(archive_root(archive_option), values["format"])
    sys.stderr.write(kept.err.decode("utf-8", "surrogateescape"))  # as the text was written before
    sys.stderr.flush()
    if kept.out:
        write_stdout(kept.out)
    return kept.code


def cached_list(root: str, fmt: str) -> Entry:
    """`list`'s output kept from the last command that saw the catalog as it is now
    (rendered.py), else rendered and kept."""
    from .catalog import open_catalog
    from .rendered import folder_of, list_key, lookup, store

    with open_catalog(root) as catalog:
        folder = folder_of(catalog)
        slot, key = list_key(catalog, root, fmt)
        kept = lookup(folder, slot, key)
        if kept is None:
            kept = list_output(root, fmt, catalog)
            store(folder, slot, key, kept)
    return kept


def list_output(root: str, fmt: str, catalog: Catalog) -> Entry:
    """`list`'s stdout, stderr and exit code from an open catalog (stderr is the warnings,
    or the note of an empty archive, which comes only with an empty stdout)."""
    from .listing import HEADERS, dumps, empty_note, issue_objects, issue_rows, read_listing, warning_text
    from .rendered import Entry
    from .terminal import plain_table, printable

    listing = read_listing(root, catalog=catalog)
    err = warning_text(listing)
    out = ""
    if fmt == "json":
        out = dumps(issue_objects(listing))
    elif listing.entries:
        out = plain_table(HEADERS, issue_rows(listing))
    elif not listing.warnings:
        err += printable(empty_note(root)) + "\n"
    return Entry(
        out.encode("utf-8", "backslashreplace"), err.encode("utf-8", "backslashreplace"), listing.exit_code
    )


def run_show(archive_option: str | None, words: Sequence[str], values: dict[str, Any]) -> None:
    """`ecdigest show [ISSUE|ARTICLE]`: what the Typer command prints (contents.show, one
    function for both), through the pager on a terminal, without loading Typer."""
    from .derived import archive_root, is_archive
    from .pager import page
    from .terminal import default_width

    root = archive_root(archive_option)
    target = words[0] if words else None
    width = values["width"] if values["width"] is not None else default_width()
    text = None
    if is_archive(root):  # else the usual path gives the usual error
        from .rendered import show

        text = show(
            root,
            target,
            toc=values["toc"],
            section=values["section"],
            json=values["format"] == "json",
            width=width,
        )
    if text is None:
        from .archive import open_archive
        from .contents import show as render

        text = render(
            open_archive(archive_option),
            target,
            toc=values["toc"],
            section=values["section"],
            json=values["format"] == "json",
            width=width,
        )
    page(text, enabled=not values["no_pager"])


class Decline(Exception):
    """The Typer app must answer this command line; nothing was read or written yet."""


def _add_accepts(values: dict[str, Any]) -> bool:
    """`add` from the command line alone: the editor, a pasted text and a draft file are
    the app's, and so is the error for a body given twice."""
    return (
        not values["edit"]
        and values["from_text"] is None
        and values["from_draft"] is None
        and (values["body"] is None or values["body_file"] is None)
    )


def run_add(archive_option: str | None, words: Sequence[str], values: dict[str, Any]) -> int:
    """`ecdigest add [ISSUE] --title ...`: what the Typer command does and prints (the same
    operations.add_article and guards.warning_lines), without loading Typer.

    `add` writes, so once it may have written nothing goes back to the app: each failure
    is reported here as the app reports it (one line; the exit code of the error, 70 for
    a bug). Before that, a command line the app must judge (an unknown option spelled as
    ISSUE, fields to ask for at a terminal) is declined."""
    if any(word.startswith("-") for word in words):
        raise Decline  # `-x`: click's "no such option"; `-`: a word click reads its own way
    from .errors import EcdigestError
    from .terminal import error_line, internal_error_line

    try:
        return _add(archive_option, words[0] if words else None, values)
    except (Decline, BrokenPipeError, KeyboardInterrupt):
        raise
    except EcdigestError as error:  # cli/app.py's EcdigestGroup.invoke, word for word
        sys.stderr.write(error_line(error) + "\n")
        return error.exit_code
    except OSError as error:
        failure = EcdigestError(error.strerror or str(error), path=error.filename)
        sys.stderr.write(error_line(failure) + "\n")
        return failure.exit_code
    except Exception as exc:  # cli.main's line for a bug
        sys.stderr.write(internal_error_line(exc) + "\n")
        return 70


def _add(archive_option: str | None, issue: str | None, values: dict[str, Any]) -> int:
    """cli/archive_cmds.add for the command lines `_add_accepts`, step for step."""
    from .archive import open_archive
    from .operations import ArticleDraft, add_article
    from .terminal import printable, stdin_is_terminal

    archive = open_archive(archive_option)
    body, body_file = values["body"], values["body_file"]
    if body is None and body_file is not None:
        from .fileio import decode_utf8, read_bytes

        body = decode_utf8(read_bytes(body_file), "<stdin>" if body_file == "-" else body_file)
    draft = ArticleDraft(
        title=values["title"],
        section=values["section"],
        source=values["source"],
        compiled_by=values["compiled_by"],
        date=values["date"],
        url=values["url"],
        tags=list(values["tag"]),
        body=body,
    )
    if draft.missing() and stdin_is_terminal() and body_file != "-":
        raise Decline  # the app asks for the missing fields (a file body is read again, harmless)
    updated, article = add_article(archive, issue, draft, force=values["force"])
    write_stdout(article.id + "\n")
    if stdout_is_terminal():
        count = len(updated.issue.articles)
        sys.stderr.write(printable(f"added to {updated.issue.id} ({updated.path}), {count} articles") + "\n")
    from .guards import warning_lines

    for line in warning_lines(archive, updated.issue.id, [article.id]):
        sys.stderr.write(line + "\n")
    sys.stderr.flush()
    return 0


class FastCommand:
    """A command the launcher may answer: its option table, how many words it takes, when
    it applies (`accepts`), and what runs it (returning its exit code; None for 0)."""

    __slots__ = ("accepts", "max_words", "min_words", "options", "run")

    def __init__(
        self,
        options: Callable[[], tuple[Opt, ...]],
        run: Callable[[str | None, Sequence[str], dict[str, Any]], int | None],
        *,
        min_words: int = 0,
        max_words: int | None = 0,
        accepts: Callable[[dict[str, Any]], bool] = lambda values: True,
    ) -> None:
        self.options = options
        self.run = run
        self.min_words = min_words
        self.max_words = max_words
        self.accepts = accepts


FAST_COMMANDS: dict[str, FastCommand] = {
    "search": FastCommand(
        search_options,
        lambda archive, words, values: _search_and_end(archive, words, values),
        min_words=1,
        max_words=None,
    ),
    # On a terminal the app draws a rich table; off one, the plain rows are the same bytes.
    "list": FastCommand(
        list_options,
        _collector_off(run_list),
        accepts=lambda values: values["format"] == "json" or not stdout_is_terminal(),
    ),
    # Plain text wrapped to the terminal, or JSON, through the pager on a terminal (pager.py).
    "show": FastCommand(show_options, _collector_off(run_show), max_words=1),
    # One article from the command line (a writer: see run_add for how it fails).
    "add": FastCommand(add_options, run_add, max_words=1, accepts=_add_accepts),
}


# --------------------------------------------------------------------------- `ecdigest --help`


def help_width() -> int:
    """The width click formats help to: the terminal's columns (COLUMNS first, as
    shutil.get_terminal_size), at most 80, less 2, at least 50."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    if columns <= 0:
        columns = 80
    return max(min(columns, 80) - 2, 50)


def _help_cache() -> str | None:
    """Where Typer's `ecdigest --help` for this width and this installation is kept: the
    key covers the width, ecdigest's version and every source file (size and mtime) of the
    package and of Typer, so any change of a command, an option or Typer renders it anew."""
    import hashlib

    from . import __version__

    stamp = [__version__, str(help_width())]
    package = os.path.dirname(os.path.abspath(__file__))
    for folder in (package, os.path.join(package, "cli")):
        try:
            with os.scandir(folder) as entries:
                for entry in sorted(entries, key=lambda e: e.name):
                    if entry.name.endswith(".py"):
                        info = entry.stat()
                        stamp.append(f"{entry.name}:{info.st_size}:{info.st_mtime_ns}")
        except OSError:
            return None
    for folder in sys.path:
        typer_init = os.path.join(folder or ".", "typer", "__init__.py")
        try:
            info = os.stat(typer_init)
        except OSError:
            continue
        stamp.append(f"typer:{typer_init}:{info.st_size}:{info.st_mtime_ns}")
        break
    else:
        return None
    key = hashlib.blake2b("\n".join(stamp).encode("utf-8", "surrogateescape"), digest_size=12).hexdigest()
    cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache_home, "ecdigest", f"help-{key}.txt")


def typer_help() -> str:
    """`ecdigest --help` exactly as the Typer app prints it (get_help, then click's echo
    adds the line end)."""
    from typer.main import get_command

    from .cli import app

    command = get_command(app)
    with command.make_context("ecdigest", ["--help"], resilient_parsing=True) as context:
        return context.get_help() + "\n"


def answer_help() -> int:
    """`ecdigest --help`: Typer's own text, rendered once per width and installation and
    kept in the user's cache folder (building the Typer app costs more than the help's
    3x-`python -c pass` budget; tests compare the kept text with Typer's at many widths)."""
    place = _help_cache()
    if place is not None:
        try:
            with open(place, "rb") as kept:
                write_stdout(kept.read())
            return 0
        except OSError:
            pass
    text = typer_help()
    if place is not None:
        temp = f"{place}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(place), exist_ok=True)
            with open(temp, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temp, place)
        except OSError:  # a read-only home: no cache, the next --help renders again
            import contextlib

            with contextlib.suppress(OSError):
                os.unlink(temp)
    write_stdout(text)
    return 0


def fast_path(argv: Sequence[str]) -> int | None:
    """The exit code when `argv` was answered here; None to let the Typer app handle it."""
    if os.environ.get("ECDIGEST_DEBUG", "") not in ("", "0"):
        return None
    if list(argv) == ["--version"]:
        from . import __version__

        write_stdout(f"ecdigest {__version__}\n")
        return 0
    if list(argv) in (["--help"], ["-h"]):
        return answer_help()
    if argv[:1] == ["__complete"]:  # every Tab of the shell: completion.py, never Typer
        from .completion import run

        return run(argv[1:])
    parsed = parse_argv(argv)
    if parsed is None:
        return None
    command, archive, words, values = parsed
    spec = FAST_COMMANDS[command]
    if not spec.accepts(values):
        return None
    try:
        code = spec.run(archive, words, values)
    except Decline:
        return None
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("ecdigest: interrupted; files are unchanged or fully written\n")
        return 130
    except Exception:  # reported, the one way every command does, by the Typer path
        return None
    return code or 0


def main() -> None:
    """Console-script entry point.

    The fast path runs only for a command line that is UTF-8 text, and anything it cannot
    finish (an error, a closed stdout) goes to the Typer app, which reports it the one
    way every command does; a reader that went away (`| head`) ends quietly, as there.
    """
    from .terminal import is_text

    argv = sys.argv[1:]
    if all(is_text(arg) for arg in argv):
        try:
            code = fast_path(argv)
        except BrokenPipeError:
            from .terminal import silence_stdout

            silence_stdout()
            code = 0
        except Exception:
            code = None
        if code is not None:
            sys.exit(code)
        from .terminal import stdout_failure

        failure = stdout_failure()
        if failure is not None:  # stdout is /dev/null now: the app's answer would vanish
            sys.stderr.write(f"ecdigest: error: {failure}\n")
            sys.exit(2)
    from .cli import main as cli_main

    cli_main()
