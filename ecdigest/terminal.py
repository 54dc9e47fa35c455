"""Text for a person's terminal, without Typer: escaped control characters, aligned tables.

Kept free of Typer and rich so that the launcher's fast paths (`list` off a terminal) can
use it: see `launcher.py`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# C0 and C1 control characters except TAB and LF: a terminal acts on them (ESC starts a
# sequence that can recolour, clear or retitle it; CR overwrites the line), and article
# text from the web can carry any of them.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_OR_LF = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def printable(text: str, *, one_line: bool = False) -> str:
    """`text` for a person's terminal: control characters (and, for `one_line`, line
    feeds) become visible `\\xNN` escapes."""
    pattern = _CONTROL_OR_LF if one_line else _CONTROL
    return pattern.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns aligned by display width (a Chinese character is two columns), no colour."""
    from .textwrap_cjk import display_width, ljust

    cells = [[printable(cell, one_line=True) for cell in row] for row in [headers, *rows]]
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(ljust(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines) + "\n"
