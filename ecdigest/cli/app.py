"""The Typer application, its global options, and the single place errors become exit codes.

Only this package imports typer. Command modules import the core lazily, inside each
command, so `ecdigest --help` and `--version` load nothing but typer and the stdlib.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from .. import __version__
from ..errors import EcdigestError
from ..terminal import error_line, is_text, printable, write_stdout

if TYPE_CHECKING:
    from typer._click.exceptions import UsageError

    from ..archive import Archive

CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"]}


def debug_enabled(ctx: typer.Context | None = None) -> bool:
    if os.environ.get("ECDIGEST_DEBUG", "") not in ("", "0"):
        return True
    state = ctx.find_root().obj if ctx is not None else None
    return bool(getattr(state, "debug", False))


def fail(error: EcdigestError) -> NoReturn:
    """Print one line for `error` on stderr and exit with its code."""
    typer.echo(error_line(error), err=True)
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
        except BrokenPipeError:
            raise  # the reader went away: cli.main ends quietly
        except OSError as error:
            # An operating-system refusal the core did not foresee (a name too long, a loop
            # of links, a permission in an odd place) is still input the user can fix.
            if debug_enabled(ctx):
                raise
            fail(EcdigestError(error.strerror or str(error), path=error.filename))

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Click's main, with every way a command line can go wrong reported as one line.

        Click prints a usage error as four lines (usage, a hint, a blank, the error); the
        README promises one `ecdigest: error:` line, with `--help` for the full usage.
        The command line must be text: an argument that is not UTF-8 is refused here,
        before any command can trip over it.
        """
        argv = list(sys.argv[1:] if args is None else args)
        code = _run_click(
            argv, lambda: super(EcdigestGroup, self).main(argv, prog_name, complete_var, False, **extra)
        )
        if not standalone_mode:
            return code
        sys.exit(code)


def _run_click(argv: Sequence[str], run: Callable[[], Any]) -> int:
    """The exit code of one click invocation, every failure reported as one stderr line."""
    # typer vendors click as typer._click (0.27 and 0.28, the versions pyproject allows).
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

    try:
        argv_check(argv)
        value = run()
    except NoArgsIsHelpError as error:
        typer.echo(error.format_message(), err=True)  # `ecdigest` alone: the full help
        return 2
    except UsageError as error:
        return _usage_line(error)
    except ClickException as error:
        return _one_line(error.format_message(), error.exit_code)
    except typer.Abort:  # end of input at a prompt (Ctrl-D)
        return _one_line("input ended before every value was given; nothing was changed", 2)
    except EcdigestError as error:  # raised while parsing (an option's callback), not in a command
        if debug_enabled():
            raise
        return _one_line(str(error), error.exit_code)
    if value == 130:  # typer turns Ctrl-C into Exit(130)
        sys.stderr.write("ecdigest: interrupted; files are unchanged or fully written\n")
    return value if isinstance(value, int) else 0


def argv_check(argv: Sequence[str]) -> None:
    """Refuse a command line that is not UTF-8 text (a byte such as 0xff in an argument)."""
    for number, value in enumerate(argv, start=1):
        if "\x00" in value:  # only reachable in-process (a real argv ends at NUL): no path holds one
            from ..errors import UsageError

            raise UsageError(f"argument {number} contains a NUL character: {printable(value, one_line=True)}")
        if not is_text(value):
            from ..errors import UsageError

            raise UsageError(
                f"argument {number} is not UTF-8 text: {printable(value, one_line=True)!s}",
                hint="ecdigest reads its command line as UTF-8; rename the file or fix the locale",
            )


def _usage_line(error: UsageError) -> int:
    message = error.format_message().strip().rstrip(".")
    message = message[:1].lower() + message[1:]
    path = error.ctx.command_path if error.ctx is not None else "ecdigest"
    return _one_line(f"{message} (see `{path} --help`)", error.exit_code)


def _one_line(message: str, code: int) -> int:
    sys.stderr.write(error_line(message) + "\n")
    return code


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

    def opened(self) -> Archive | None:
        """The archive, if this command has opened it (never opens it)."""
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
        write_stdout(f"ecdigest {__version__}\n")
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
            help="Archive folder (default: $ECDIGEST_ARCHIVE, else the nearest folder upward with ecdigest.toml, else ./issues).",
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
