"""Output shared by every command: formats, JSON, `-o FILE|-`, tables on a terminal."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from ..terminal import color_enabled, printable, write_stdout

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


def emit(data: str | bytes, output: str = "-") -> bool:
    """Send output to stdout or, atomically and only if changed, to a file.

    Returns True when a file was (re)written.
    """
    if output == "-":
        write_stdout(data)
        return False
    from ..fileio import write_if_changed

    raw = data.encode("utf-8") if isinstance(data, str) else data
    return write_if_changed(Path(output), raw)


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
