"""Wrapping mixed Chinese/Latin text by display width, with Chinese line-breaking rules.

- Width: East Asian Wide and Fullwidth characters take two columns, and so do the
  Ambiguous marks that Chinese fonts draw full-width (`“”‘’—…·`); combining marks none.
- A break may fall between two Chinese characters, between Chinese and Latin, or at a
  space; never inside a Latin word, a number or a URL.
- Kinsoku: no line starts with closing punctuation (`。，、）》”` …) and no line ends with
  opening punctuation (`（《“` …): such marks stick to their neighbour.
- A single token wider than the line (a long URL) gets a line of its own, unbroken.
- Line breaks inside the text are not kept: hard-wrapped input is re-flowed (`join_lines`).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate

from .lazyre import lazy

# Ambiguous-width marks that Chinese fonts draw full-width.
WIDE_AMBIGUOUS = frozenset("“”‘’—…·")
# May not start a line.
NO_START = frozenset(
    "。，、；：？！）》」』】〕〗〙〛”’…—～·.,;:?!)]}%‰℃°〉>"
    "ー々〻ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ゠"
)
# May not end a line.
NO_END = frozenset("（《「『【〔〖〘〚“‘〈([{<$￥")

_SPACE = lazy(r"[ \t\u3000]+")
# A line break inside a paragraph, with the blanks around it.
_LINE_BREAK = lazy(r"[ \t\u3000]*(?:\r\n|[\n\r\v\f\x85\u2028\u2029])[ \t\u3000\r\n\v\f\x85\u2028\u2029]*")


@lru_cache(maxsize=4096)
def char_width(char: str) -> int:
    if char in WIDE_AMBIGUOUS:
        return 2
    code = ord(char)
    if code < 32 or 0x7F <= code < 0xA0:
        return 0
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    if len(text) == 1:  # most atoms are one Chinese character
        return char_width(text)
    if text.isascii() and text.isprintable():
        return len(text)
    return sum(_widths(text))


def _is_cjk_unit(char: str) -> bool:
    """Wide characters stand alone as break units; ASCII stays inside its Latin run."""
    return char_width(char) == 2


def join_lines(text: str) -> str:
    """One line from a hard-wrapped one: a break between two wide characters disappears
    (Chinese has no spaces between words), any other break becomes one space."""

    def replace(match: re.Match[str]) -> str:
        start, end = match.start(), match.end()
        if start > 0 and end < len(text) and _is_cjk_unit(text[start - 1]) and _is_cjk_unit(text[end]):
            return ""
        return " "

    return _LINE_BREAK.sub(replace, text)


# Wrapping works on break positions, not on a list of atoms: a line is the longest slice
# of the text that fits (its characters' widths, one byte each, summed at C speed), cut
# at the last place before its end where a break is allowed; only the characters around
# that place are looked at in Python. Building atoms character by character took ~22 ms
# of `show` for one issue of 60 articles, this ~4 ms (tests/test_textwrap_cjk.py keeps
# that wrapper as the reference both must agree with). Every step is linear in the text:
# a run of unbreakable marks (6 MB of `（` took minutes once) is scanned once, forward,
# by the line that holds it whole.


class _Widths(dict[int, int]):
    """Code point -> char_width, for str.translate: a text's widths, one character each, at
    C speed for every character seen before (the first 65,536 distinct ones are kept)."""

    def __missing__(self, code: int) -> int:
        # CJK Unified Ideographs, every one Wide (assigned or not): most of a Chinese text's
        # distinct characters, each ~1 us less than asking unicodedata (tests hold it to char_width).
        width = 2 if 0x4E00 <= code <= 0x9FFF else char_width(chr(code))
        if len(self) < 65_536:
            self[code] = width
        return width


_WIDTHS = _Widths()


# A text of printable ASCII and of these wide characters (three bytes each in UTF-8: the
# ideographs, CJK and full-width punctuation, the marks Chinese fonts draw wide) has its
# widths in its UTF-8 bytes: a lead byte below 0x80 is one column, one of 0xE0-0xEF two,
# and the continuation bytes are dropped, by bytes.translate at C speed. Most paragraphs
# are such text; str.translate through _WIDTHS costs a dict lookup a character (~55 % of
# wrapping an issue). tests/test_textwrap_cjk.py holds every character here to char_width.
_SIMPLE = lazy(
    "[ -~\u2014\u2018\u2019\u201c\u201d\u2026\u3000-\u3029\u3030-\u303e"
    "\u4e00-\u9fff\uff01-\uff60\uffe0-\uffe6]*"
)
_UTF8_WIDTHS = bytes(1 if byte < 0x80 else 2 if 0xE0 <= byte <= 0xEF else 0 for byte in range(256))
_CONTINUATION = bytes(range(0x80, 0xC0))


def _widths(text: str) -> bytes:
    """One byte a character: its width in columns (0, 1 or 2)."""
    if _SIMPLE.fullmatch(text):
        return text.encode("utf-8").translate(_UTF8_WIDTHS, _CONTINUATION)
    return text.translate(_WIDTHS).encode("latin-1")


def _may_break(text: str, widths: bytes, end: int) -> bool:
    """May a line end at `end` (0 < end < len(text), `text` normalized by `_normalize`,
    `widths` its characters' widths)?

    At a space (the line ends before it, the next starts after it): unless the mark before
    it may not end a line or the one after it may not start one. Elsewhere only between
    two units (a wide character stands alone; a run of other characters is one unit),
    under the same two rules."""
    before, after = text[end - 1], text[end]
    if after == " ":
        return before not in NO_END and text[end + 1] not in NO_START
    if before == " " or before in NO_END or after in NO_START:
        return False
    return widths[end - 1] == 2 or widths[end] == 2


def _fitting(sums: list[int], start: int, room: int) -> int:
    """The largest `end` (at least `start`) whose characters from `start` take at most
    `room` columns; `sums[k]` is the width of the first k characters (one accumulate over
    the paragraph at C speed, then a bisection a line: the line-by-line sums in Python were
    the largest part of wrapping)."""
    return max(bisect_right(sums, sums[start] + room, start) - 1, start)


# What _normalize changes besides the ends: any of these in a text sends it through both
# regular expressions; most paragraphs hold none, and only `strip` is left for them.
_BLANKS = ("  ", "\t", "\u3000", "\n", "\r", "\v", "\f", "\x85", "\u2028", "\u2029")


def _normalize(text: str) -> str:
    """The paragraph on one line, its blanks squeezed to single spaces."""
    for blank in _BLANKS:
        if blank in text:
            return _SPACE.sub(" ", join_lines(text).strip())
    return text.strip()


def wrap(text: str, width: int, *, indent: str = "", subsequent_indent: str | None = None) -> list[str]:
    """Lines of at most `width` columns (a lone over-wide token excepted)."""
    if subsequent_indent is None:
        subsequent_indent = indent
    text = _normalize(text)
    widths = _widths(text)
    sums = list(accumulate(widths, initial=0))
    size = len(text)
    lines: list[str] = []
    start, prefix = 0, indent
    room = width - display_width(indent)
    while start < size:
        limit = _fitting(sums, start, room)
        end = limit
        while end > start and end < size and not _may_break(text, widths, end):
            end -= 1
        if end == start:  # nothing fits whole: the first unbreakable token, alone
            end = max(limit, start) + 1
            while end < size and not _may_break(text, widths, end):
                end += 1
        lines.append(prefix + text[start:end])
        start = end + 1 if end < size and text[end] == " " else end
        if prefix is not subsequent_indent:
            prefix, room = subsequent_indent, width - display_width(subsequent_indent)
    return lines


def fill(text: str, width: int, *, indent: str = "", subsequent_indent: str | None = None) -> str:
    return "\n".join(wrap(text, width, indent=indent, subsequent_indent=subsequent_indent))


def ljust(text: str, width: int) -> str:
    """Pad to `width` display columns."""
    return text + " " * max(0, width - display_width(text))
