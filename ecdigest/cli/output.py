"""Output shared by every command: formats, JSON, `-o FILE|-`, tables on a terminal."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from ..terminal import color_enabled, printable, write_stdout

if TYPE_CHECKING:
    from ..archive import Archive

__all__ = ["FormatOption", "OutputOption", "TextOrJson", "emit", "emit_json", "note", "table", "write_stdout"]


class TextOrJson(enum.StrEnum):
    text = "text"
    json = "json"


FormatOption = Annotated[
    TextOrJson,
    typer.Option("--format", "-f", help="text for people, json for scripts.", case_sensitive=False),
]

OutputOption = Annotated[
    str,
    typer.Option("--output", "-o", metavar="FILE|-", help="Write to FILE (atomically) or - for stdout."),
]


def emit(data: str | bytes, output: str = "-", archive: Archive | None = None) -> bool:
    """Send output to stdout or, atomically and only if changed, to a file.

    Every `-o FILE` goes through `outputs.output_file`: the archive's own files are
    refused (`archive`, else the archive this command opened), FIFOs and devices too,
    and a symlink is written through. Returns True when a file was (re)written.
    """
    if output == "-":
        write_stdout(data)
        return False
    from ..outputs import write_output

    raw = data.encode("utf-8") if isinstance(data, str) else data
    return write_output(output, raw, archive if archive is not None else _opened_archive())


def _opened_archive() -> Archive | None:
    """The archive the running command opened, if any (so no caller can forget it)."""
    from typer._click.globals import get_current_context

    from .app import State

    ctx = get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return obj.opened() if isinstance(obj, State) else None


def emit_json(value: object, output: str = "-") -> None:
    from ..export.jsonout import dumps

    emit(dumps(value), output)


def note(message: str) -> None:
    """A human remark on stderr (stdout stays clean for scripts)."""
    typer.echo(printable(message), err=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A rich table on a terminal, aligned plain text (by display width) elsewhere."""
    if color_enabled():
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        grid = Table(*headers, header_style="bold")
        for row in rows:
            # Content is text, never rich markup, and never a control sequence.
            grid.add_row(*(escape(printable(cell, one_line=True)) for cell in row))
        Console().print(grid)
        return
    from ..terminal import plain_table

    write_stdout(plain_table(headers, rows))
