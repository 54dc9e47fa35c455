"""Issue files in the layout ecdigest writes, read without tomllib (which is the slow part).

tomllib reads a multi-line string character by character in Python: of the 6.5 s it takes to
read a 1,000-issue archive, 5.2 s are article bodies. Files that ecdigest wrote (codec's
`encode_issue`, through tomli_w) use a small, regular part of TOML, which `loads` reads
with `str.find` and slicing: `key = value` lines with one space around `=`, `[[articles]]`
headers, blank lines, whole-line comments; values that are basic strings without escapes,
multi-line basic strings opened on their own line, dates `YYYY-MM-DD`, plain integers,
`true` and `false`, and arrays of strings one per line. The settings file (`ecdigest
init`'s, with its comments) adds `[table]` headers, read too when no `lines` are asked
for. For such a text it returns exactly what `tomllib.loads` returns (tests compare them
on generated and mutated files); for anything else (a comment after a value, an escape, a
quote inside a string, CR LF, a float, a dotted key, a duplicate key or table...) it
returns None and the caller uses tomllib, which also reports the errors. So the fast path
never decides what a file means, only how fast a plain one is read (and `show` and `add`
never import tomllib, nor the `typing` it imports, for a plain settings file).
"""

from __future__ import annotations

import datetime as dt

# `typing` costs milliseconds to import and `show`/`add` read files through this module.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_HEADER = "[[articles]]"
_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
# The control characters TOML refuses inside basic strings (a tab is allowed; a line feed
# only inside a multi-line one).
_CONTROL = (*(chr(c) for c in range(32) if c != 9), "\x7f")
_CONTROL_LF = tuple(ch for ch in _CONTROL if ch != "\n")


class Lines:
    """Where each key of a file read by `loads` is: `line(key, article)` as codec.KeyLines
    answers it (the n-th `[[articles]]` table's key, else its header), recorded while
    reading, so that a caller needs neither the text nor a second scan of it."""

    __slots__ = ("keys", "tables")

    def __init__(self) -> None:
        self.keys: dict[tuple[int | None, str], int] = {}
        self.tables: dict[int, int] = {}

    def line(self, key: str | None, article: int | None = None) -> int | None:
        if key is not None and (article, key) in self.keys:
            return self.keys[(article, key)]
        if article is not None:
            return self.tables.get(article)
        return None


def loads(text: str, lines: Lines | None = None) -> dict[str, Any] | None:
    """`tomllib.loads(text)` for a file in ecdigest's own layout; None for any other text.
    `lines`, when given, is filled with where each key is."""
    if "\r" in text or "\\" in text:
        return None  # CR LF line ends and escapes: tomllib's business
    top: dict[str, Any] = {}
    table = top
    articles: list[dict[str, Any]] | None = None
    pos = 0
    size = len(text)
    number = 0  # the current line's number, from 1
    index: int | None = None  # the current [[articles]] table
    while pos < size:
        end = text.find("\n", pos)
        if end < 0:
            end = size
        line = text[pos:end]
        pos = end + 1
        number += 1
        if not line:
            continue
        if line[0] == "#":  # a comment: any character but a control one (a tab is fine)
            if not _clean(line, _CONTROL_LF):
                return None
            continue
        if line == _HEADER:
            if articles is None:
                if "articles" in top:
                    return None
                articles = top["articles"] = []
            table = {}
            articles.append(table)
            index = len(articles) - 1
            if lines is not None:
                lines.tables[index] = number
            continue
        if line[0] == "[":  # `[name]`: a table of the settings file, each named once
            name = line[1:-1]
            if lines is not None or line[-1] != "]" or not name or not _BARE.issuperset(name) or name in top:
                return None
            table = top[name] = {}
            continue
        key, sep, raw = line.partition(" = ")
        if not sep or not key or not _BARE.issuperset(key) or key in table:
            return None
        if lines is not None:
            lines.keys[(index, key)] = number
        if raw == '"""':
            close = text.find('"""', pos)
            if close < 0:
                return None
            value = text[pos:close]
            after = close + 3
            if (after < size and text[after] != "\n") or '"' in value or not _clean(value, _CONTROL_LF):
                return None
            table[key] = value
            pos = after + 1
            number += value.count("\n") + 1
            continue
        if raw == "[":
            items: list[str] = []
            while True:
                end = text.find("\n", pos)
                if end < 0:
                    return None
                item = text[pos:end]
                pos = end + 1
                number += 1
                if item == "]":
                    break
                if not (item.startswith('    "') and item.endswith('",')):
                    return None
                string = _string(item[4:-1])
                if string is None:
                    return None
                items.append(string)
            table[key] = items
            continue
        scalar = _scalar(raw)
        if scalar is None:
            return None
        table[key] = scalar
    return top


def _clean(value: str, forbidden: tuple[str, ...]) -> bool:
    """No character TOML refuses in a basic string (most texts: one C-speed check)."""
    return value.isprintable() or not any(ch in value for ch in forbidden)


def _string(raw: str) -> str | None:
    if len(raw) < 2 or raw[0] != '"' or raw[-1] != '"':
        return None
    inner = raw[1:-1]
    if '"' in inner or not _clean(inner, _CONTROL):
        return None
    return inner


def _scalar(raw: str) -> object:
    """A one-line value: a string, a date, a plain integer, a boolean, `[]`; None otherwise."""
    if raw.startswith('"'):
        return _string(raw)
    if raw == "[]":
        return []
    if raw == "true" or raw == "false":
        return raw == "true"
    if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
        digits = raw[:4] + raw[5:7] + raw[8:]
        if digits.isdigit() and digits.isascii():
            try:
                return dt.date(int(raw[:4]), int(raw[5:7]), int(raw[8:]))
            except ValueError:
                return None
        return None
    if raw.isdigit() and raw.isascii() and (raw == "0" or raw[0] != "0") and len(raw) <= 18:
        return int(raw)
    return None
