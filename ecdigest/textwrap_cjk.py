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
from functools import lru_cache

# Ambiguous-width marks that Chinese fonts draw full-width.
WIDE_AMBIGUOUS = frozenset("“”‘’—…·")
# May not start a line.
NO_START = frozenset(
    "。，、；：？！）》」』】〕〗〙〛”’…—～·.,;:?!)]}%‰℃°〉>"
    "ー々〻ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ゠"
)
# May not end a line.
NO_END = frozenset("（《「『【〔〖〘〚“‘〈([{<$￥")

_SPACE = re.compile(r"[ \t\u3000]+")
# A line break inside a paragraph, with the blanks around it.
_LINE_BREAK = re.compile(
    r"[ \t\u3000]*(?:\r\n|[\n\r\v\f\x85\u2028\u2029])[ \t\u3000\r\n\v\f\x85\u2028\u2029]*"
)


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
    return sum(map(char_width, text))


def _is_cjk_unit(char: str) -> bool:
    """Wide characters stand alone as break units; ASCII stays inside its Latin run."""
    return char_width(char) == 2


def _units(word: str) -> list[str]:
    """Split a space-free run into units: single wide characters and Latin runs."""
    units: list[str] = []
    latin = -1  # where the current Latin run starts, -1 outside one
    for index, char in enumerate(word):
        if _is_cjk_unit(char):
            if latin >= 0:
                units.append(word[latin:index])
                latin = -1
            units.append(char)
        elif latin < 0:
            latin = index
    if latin >= 0:
        units.append(word[latin:])
    return units


def join_lines(text: str) -> str:
    """One line from a hard-wrapped one: a break between two wide characters disappears
    (Chinese has no spaces between words), any other break becomes one space."""

    def replace(match: re.Match[str]) -> str:
        start, end = match.start(), match.end()
        if start > 0 and end < len(text) and _is_cjk_unit(text[start - 1]) and _is_cjk_unit(text[end]):
            return ""
        return " "

    return _LINE_BREAK.sub(replace, text)


# Atoms are built as lists of parts and joined once: gluing by string concatenation copied
# the atom so far for every mark glued to it, quadratic in a run of unbreakable marks
# (6 MB of `（` took minutes in `show`). Every step below is linear in the text.
_Atom = tuple[list[str], bool]  # (parts, space_before)


def _atoms(text: str) -> list[tuple[str, bool]]:
    """(atom, space_before) pairs; an atom is never split across lines."""
    atoms: list[_Atom] = []
    for index, word in enumerate(_SPACE.split(join_lines(text).strip())):
        if not word:
            continue
        space = index > 0
        merged: list[list[str]] = []
        glue_next = False
        for unit in _units(word):
            if merged and (glue_next or unit[0] in NO_START):
                merged[-1].append(unit)
            else:
                merged.append([unit])
            glue_next = unit[-1] in NO_END
        # A closing mark after a space still may not start a line: attach to the word before.
        if atoms and merged and merged[0][0][0] in NO_START and space:
            atoms[-1][0].append(" ")
            atoms[-1][0].extend(merged.pop(0))
            space = False
        # An opening mark that ends the previous word glues to this one.
        if atoms and merged and atoms[-1][0][-1][-1] in NO_END:
            if space:
                atoms[-1][0].append(" ")
            atoms[-1][0].extend(merged.pop(0))
            space = False
        for position, parts in enumerate(merged):
            atoms.append((parts, space if position == 0 else False))
    return [("".join(parts), space) for parts, space in atoms]


def wrap(text: str, width: int, *, indent: str = "", subsequent_indent: str | None = None) -> list[str]:
    """Lines of at most `width` columns (a lone over-wide token excepted)."""
    if subsequent_indent is None:
        subsequent_indent = indent
    lines: list[str] = []
    current = [indent]
    current_width = display_width(indent)
    empty = True
    for atom, space in _atoms(text):
        atom_width = display_width(atom)
        gap = 1 if space and not empty else 0
        if not empty and current_width + gap + atom_width > width:
            lines.append("".join(current))
            current = [subsequent_indent]
            current_width = display_width(subsequent_indent)
            empty = True
            gap = 0
        if gap:
            current.append(" ")
        current.append(atom)
        current_width += gap + atom_width
        empty = False
    if not empty:
        lines.append("".join(current))
    return lines


def fill(text: str, width: int, *, indent: str = "", subsequent_indent: str | None = None) -> str:
    return "\n".join(wrap(text, width, indent=indent, subsequent_indent=subsequent_indent))


def ljust(text: str, width: int) -> str:
    """Pad to `width` display columns."""
    return text + " " * max(0, width - display_width(text))
