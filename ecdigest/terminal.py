"""Text for a person's terminal, without Typer: escaped control characters, aligned tables.

Kept free of Typer and rich so that the launcher's fast paths (`list` off a terminal) can
use it: see `launcher.py`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

# C0 and C1 control characters except TAB and LF: a terminal acts on them (ESC starts a
# sequence that can recolour, clear or retitle it; CR overwrites the line), and article
# text from the web can carry any of them. A translation table rather than a regular
# expression: `re` costs `ecdigest search`, which prints through this, ~4 ms of start-up.
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))}
_CONTROL_OR_LF = {**_CONTROL, 0x0A: "\\x0a"}


def printable(text: str, *, one_line: bool = False) -> str:
    """`text` for a person's terminal: control characters (and, for `one_line`, line
    feeds) become visible `\\xNN` escapes."""
    if text.isprintable():  # the common case, answered in C without building a new string
        return text
    if not one_line and text.replace("\n", "").isprintable():
        return text  # lines of printable text (a whole `show`): translate costs ~10 ms per 60 KB
    return text.translate(_CONTROL_OR_LF if one_line else _CONTROL)


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns aligned by display width (a Chinese character is two columns), no colour."""
    from .textwrap_cjk import display_width

    cells = [[printable(cell, one_line=True) for cell in row] for row in [headers, *rows]]
    # Each cell measured once (a 3,000-issue `list` has 15,000 cells).
    sizes = [[display_width(cell) for cell in row] for row in cells]
    widths = [max(row[i] for row in sizes) for i in range(len(headers))]
    lines = [
        "  ".join(
            cell + " " * max(0, w - size) for cell, size, w in zip(row, row_sizes, widths, strict=True)
        ).rstrip()
        for row, row_sizes in zip(cells, sizes, strict=True)
    ]
    return "\n".join(lines) + "\n"


def stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (ValueError, OSError):
        return False


def color_enabled() -> bool:
    """Colour and rich output: only on a terminal, NO_COLOR unset, TERM not dumb."""
    return stdout_is_terminal() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def write_stdout(data: str | bytes) -> None:
    """UTF-8 bytes to stdout whatever the locale says, flushed."""
    sys.stdout.buffer.write(data.encode("utf-8") if isinstance(data, str) else data)
    sys.stdout.buffer.flush()
