"""Text for a person's terminal, without Typer: escaped control characters, aligned tables.

Kept free of Typer and rich so that the launcher's fast paths (`list` off a terminal) can
use it: see `launcher.py`.
"""

from __future__ import annotations

import os
import sys

# `typing` and `collections` cost milliseconds to import; this module is on every search's path.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Sequence

# C0 and C1 control characters except TAB and LF: a terminal acts on them (ESC starts a
# sequence that can recolour, clear or retitle it; CR overwrites the line), and article
# text from the web can carry any of them. A translation table rather than a regular
# expression: `re` costs `ecdigest search`, which prints through this, ~4 ms of start-up.
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))}
_CONTROL_OR_LF = {**_CONTROL, 0x0A: "\\x0a"}


def printable(text: str, *, one_line: bool = False) -> str:
    """`text` for a person's terminal: control characters (and, for `one_line`, line
    feeds) become visible `\\xNN` escapes.

    Every string that came from outside (file contents, file names, the command line,
    the environment) goes through this before it reaches a terminal. Bytes that were not
    UTF-8 (a file named `\\xff.toml`: Python hands such names over as lone surrogates)
    become `\\xNN` as well, so the result can always be encoded.
    """
    if text.isprintable():  # the common case, answered in C without building a new string
        return text
    if not one_line and text.replace("\n", "").isprintable():
        return text  # lines of printable text (a whole `show`): translate costs ~10 ms per 60 KB
    text = text.translate(_CONTROL_OR_LF if one_line else _CONTROL)
    if _has_surrogates(text):
        text = "".join(_surrogate(char) if "\ud800" <= char <= "\udfff" else char for char in text)
    return text


def error_line(error: object) -> str:
    """The one stderr line for bad input (the Typer app's and the launcher's, alike)."""
    return printable(f"ecdigest: error: {error}", one_line=True)


def internal_error_line(exc: BaseException) -> str:
    """The one stderr line for a bug (exit 70), without a traceback unless --debug."""
    return printable(
        f"ecdigest: internal error: {type(exc).__name__}: {exc} "
        "(rerun with --debug for the traceback, and please report it)",
        one_line=True,
    )


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _surrogate(char: str) -> str:
    code = ord(char)
    # U+DC80..U+DCFF is how Python's surrogateescape carries an undecodable byte 0x80..0xFF.
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def is_text(value: str) -> bool:
    """True when `value` (an argument, a file name) was valid UTF-8: no lone surrogates."""
    return value.isascii() or not _has_surrogates(value)


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns aligned by display width (a Chinese character is two columns), no colour.

    Column by column, at C speed where it can be (a 3,000-issue `list` has 15,000 cells):
    a column of printable ASCII is padded by str.ljust; another is measured cell by cell."""
    table = [headers, *rows]
    padded: list[list[str]] = []
    columns = list(zip(*table, strict=True))  # a row of another length: ValueError
    for number, column in enumerate(columns):
        whole = "".join(column)
        if number == len(columns) - 1:
            # The last column's padding is trailing blanks, which every line loses (rstrip):
            # its cells are not measured (a `list` of 1,000 issues: 1,000 Chinese cells).
            ascii_text = whole.isascii() and whole.isprintable()
            padded.append(list(column) if ascii_text else [printable(cell, one_line=True) for cell in column])
            continue
        if whole.isascii() and whole.isprintable():  # one column per character
            width = max(map(len, column))
            padded.append([cell.ljust(width) for cell in column])
            continue
        from .textwrap_cjk import display_width

        cells = [printable(cell, one_line=True) for cell in column]
        sizes = list(map(display_width, cells))
        width = max(sizes)
        padded.append([cell + " " * (width - size) for cell, size in zip(cells, sizes, strict=True)])
    lines = (
        [line.rstrip() for line in map("  ".join, zip(*padded, strict=True))] if padded else [""] * len(table)
    )
    return "\n".join(lines) + "\n"


def stdout_is_terminal() -> bool:
    try:
        return sys.stdout is not None and sys.stdout.isatty()
    except (ValueError, OSError):
        return False


def default_width() -> int:
    """The width `show` wraps at without --width: the terminal's, at most 100; else 80."""
    if stdout_is_terminal():
        import shutil

        return min(shutil.get_terminal_size((80, 24)).columns, 100)
    return 80


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False


def color_enabled() -> bool:
    """Colour and rich output: only on a terminal, NO_COLOR unset, TERM not dumb."""
    return stdout_is_terminal() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def write_stdout(data: str | bytes) -> None:
    """UTF-8 bytes to stdout whatever the locale says, flushed.

    A lone surrogate (a file name that was not UTF-8) is written as a `\\udcff` escape,
    which is also valid inside JSON strings, never as an encoding error. A closed or full
    stdout is a `WriteError` (one line, exit 2); a reader that went away (`| head`) is a
    BrokenPipeError, which the CLI's exit point ends quietly.
    """
    raw = data.encode("utf-8", "backslashreplace") if isinstance(data, str) else data
    stream = sys.stdout
    if _FAILED:  # fd 1 now points at /dev/null: a second attempt must fail the same way
        from .errors import WriteError

        raise WriteError(_FAILED[0])
    try:
        if stream is None:  # started with stdout closed (`>&-`)
            raise OSError(9, "stdout is closed")
        stream.buffer.write(raw)
        stream.buffer.flush()
    except BrokenPipeError:
        silence_stdout()
        raise
    except (OSError, ValueError) as exc:  # ValueError: the file object was closed
        silence_stdout()
        from .errors import WriteError

        _FAILED.append(f"cannot write to stdout: {_stream_error(exc)}")
        raise WriteError(_FAILED[0]) from None


# Set once stdout has failed (closed, full): later writes in this process report the same.
_FAILED: list[str] = []


def stdout_failure() -> str | None:
    """Why stdout failed in this process (then fd 1 points at /dev/null), or None."""
    return _FAILED[0] if _FAILED else None


def _stream_error(exc: Exception) -> str:
    import errno

    number = getattr(exc, "errno", None)
    if number == errno.ENOSPC:
        return "no space left on the device"
    if number == errno.EBADF or isinstance(exc, ValueError):
        return "stdout is closed"
    return getattr(exc, "strerror", None) or str(exc)


def silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null, so that the interpreter's last flush of a
    failed stdout neither raises nor prints "Exception ignored" after our one line."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(devnull, 1)
    except OSError:
        pass
    finally:
        if devnull != 1:
            os.close(devnull)
