"""`ecdigest search`: the Typer face of the search command.

Its options are defined once, in `ecdigest.launcher.search_options()`, because the console
script runs plain searches from that table without loading Typer (see the launcher); this
module builds the Typer command's parameters from the same table, so `--help`, shell
completion and the fast path can never disagree. The work is `launcher.run_search`.
"""

from __future__ import annotations

import enum
import inspect
from typing import Annotated, Any

import typer

from ..launcher import QUERY_HELP, search_options
from ..terminal import color_enabled
from .app import app, state


def _choices(name: str, values: tuple[str, ...]) -> type[enum.Enum]:
    return enum.Enum(name, {value: value for value in values}, type=str)  # type: ignore[return-value]


def _parameters() -> list[inspect.Parameter]:
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [
        inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
        inspect.Parameter(
            "query",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            annotation=Annotated[
                list[str], typer.Argument(metavar="QUERY...", help=QUERY_HELP, show_default=False)
            ],
        ),
    ]
    for opt in search_options():
        annotation: Any
        if opt.multiple:
            annotation, default = list[str] | None, None
            info = typer.Option(
                opt.flag, *opt.aliases, metavar=opt.metavar, help=opt.help, show_default=False
            )
        elif opt.kind == "int":
            annotation, default = int, opt.default
            info = typer.Option(opt.flag, *opt.aliases, metavar=opt.metavar, help=opt.help, min=0)
        elif opt.kind == "choice":
            annotation = _choices(opt.name.title(), opt.choices)
            default = annotation(opt.default)
            info = typer.Option(opt.flag, *opt.aliases, help=opt.help, case_sensitive=False)
        else:
            annotation, default = str | None, None
            info = typer.Option(
                opt.flag, *opt.aliases, metavar=opt.metavar, help=opt.help, show_default=False
            )
        params.append(
            inspect.Parameter(opt.name, keyword, default=default, annotation=Annotated[annotation, info])
        )
    return params


def search(ctx: typer.Context, query: list[str], **values: Any) -> None:
    """Find articles in every issue: Chinese-aware, any term length, ranked.

    Example: ecdigest search 跨境 电商 --section 数据观察 --since 2023-01-01

    Terms match as substrings of titles and bodies (no word segmentation needed), ignoring
    case and full-/half-width differences: ５Ｇ finds 5G, chatgpt finds ChatGPT. Spaces mean
    AND; quote a phrase ("supply chain"); -term excludes; 直播 OR 短视频 takes either (OR
    binds tighter than AND). Prints one hit per article (issue, date, section, title, a
    snippet) and a count; no hits is not an error (exit 0). The index lives in
    ARCHIVE/.ecdigest/ and is brought up to date on every search; broken issue files are
    skipped with a warning naming file and line.
    """
    from ..launcher import run_search

    plain = {name: value.value if isinstance(value, enum.Enum) else value for name, value in values.items()}
    run_search(state(ctx).archive_option, query, plain, color=color_enabled())


search.__signature__ = inspect.Signature(_parameters())  # type: ignore[attr-defined]
app.command(
    "search",
    # `-直播` and other words starting with a dash are query terms (excluded), not options;
    # the short options are the ones every command has (-f, -h) and -n for --limit. A word
    # spelled like another option (`-x`, `--x`) is refused by run_search, never searched.
    context_settings={"ignore_unknown_options": True, "help_option_names": ["--help", "-h"]},
)(search)
