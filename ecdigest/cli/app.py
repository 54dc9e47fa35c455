"""The Typer application, its global options, and the single place errors become exit codes.

Only this package imports typer. Command modules import the core lazily, inside each
command, so `ecdigest --help` and `--version` load nothing but typer and the stdlib.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from .. import __version__
from ..errors import EcdigestError
from ..terminal import printable

if TYPE_CHECKING:
    from ..archive import Archive

CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"]}


def debug_enabled(ctx: typer.Context | None = None) -> bool:
    if os.environ.get("ECDIGEST_DEBUG", "") not in ("", "0"):
        return True
    state = ctx.find_root().obj if ctx is not None else None
    return bool(getattr(state, "debug", False))


def fail(error: EcdigestError) -> NoReturn:
    """Print one line for `error` on stderr and exit with its code."""
    typer.echo(printable(f"ecdigest: error: {error}", one_line=True), err=True)
    raise typer.Exit(error.exit_code)


class EcdigestGroup(TyperGroup):
    """Turns the core's exceptions into one stderr line and an exit code, for every command."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except EcdigestError as error:
            if debug_enabled(ctx):
                raise
            fail(error)


@dataclass
class State:
    """Global options, shared with every command through the context."""

    archive_option: str | None = None
    debug: bool = False
    _archive: Archive | None = field(default=None, repr=False)

    def archive(self) -> Archive:
        if self._archive is None:
            from ..archive import open_archive

            self._archive = open_archive(self.archive_option)
        return self._archive


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    if not isinstance(obj, State):
        obj = State()
        ctx.find_root().obj = obj
    return obj


app = typer.Typer(
    cls=EcdigestGroup,
    name="ecdigest",
    help=(
        "Manage the 《电子商务动态》 newsletter archive: add articles, validate, search, publish.\n\n"
        "Example: ecdigest --archive issues show 2023-06"
    ),
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
    no_args_is_help=True,
    context_settings=CONTEXT_SETTINGS,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ecdigest {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    ctx: typer.Context,
    archive: Annotated[
        str | None,
        typer.Option(
            "--archive",
            "-a",
            metavar="PATH",
            help="Archive folder (default: $ECDIGEST_ARCHIVE, else ./issues).",
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show a traceback on errors (also ECDIGEST_DEBUG=1).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    ctx.obj = State(archive_option=archive, debug=debug)


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False
