"""The file formats: issue files and `ecdigest.toml` <-> model, and back, byte-stable.

Decoding never trusts the file: every key is type-checked, unknown keys are refused (a
save would otherwise drop them), and each problem carries the line it sits on. Encoding is
hand-ordered and deterministic (same data, same bytes) so files diff and merge well in git.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from .dates import DateError, parse_date
from .errors import InputError, UsageError
from .lazyre import lazy
from .model import (
    EMAIL_FORMATS,
    ID_RULE,
    MAX_ARTICLE_NUMBER,
    MAX_ID_LENGTH,
    MAX_ISSUE_ID_LENGTH,
    SMTP_SECURITY,
    STATUSES,
    Article,
    Issue,
    Newsletter,
    article_number,
    is_valid_id,
    is_valid_issue_id,
)

TYPE_CHECKING = False  # not `typing`'s: show and list never import typing
if TYPE_CHECKING:
    from dataclasses import dataclass as record
    from typing import Any
else:  # `dataclasses` costs ~7 ms of start-up: records.py makes the same classes without it
    from .records import record

ISSUE_KEYS = ("id", "title", "date", "status", "last_article_number", "articles")
ARTICLE_KEYS = ("id", "section", "title", "source", "compiled_by", "date", "url", "tags", "body")


@record(frozen=True)
class FieldProblem:
    """Something structurally wrong in an issue file, with where it is.

    `kind` is one of: toml, type, unknown-key, date, value, id.
    `article` is the index of the `[[articles]]` table (None for the issue itself).
    """

    kind: str
    field: str
    message: str
    line: int | None = None
    article: int | None = None
    article_id: str | None = None


# --------------------------------------------------------------------------- locating keys


class KeyLines:
    """Line numbers of the keys of an issue file, found by a light scan of its text.

    tomllib reports no positions for valid documents, so wrong types and bad values are
    located by finding `key =` at the top level or inside the n-th `[[articles]]` table.
    """

    _HEADER = lazy(r"^\s*\[\[\s*articles\s*\]\]")
    _TABLE = lazy(r"^\s*\[")
    _KEY = lazy(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")

    def __init__(self, text: str | None) -> None:
        self._lines: dict[tuple[int | None, str], int] = {}
        self._tables: dict[int, int] = {}
        # Scanned when first asked: most files have no problem to locate, and the scan is
        # a third of the cost of reading a large archive (the search index reads them all).
        self._text = text or None

    def _scan(self, text: str) -> None:
        table: int | None = None
        other_table = False
        closing: str | None = None
        for number, line in enumerate(text.split("\n"), start=1):  # TOML breaks lines at \n only
            if closing is not None:  # inside a multi-line string: no key, no table here
                closing = _open_string_at_end(line, closing)
                continue
            if self._HEADER.match(line):
                table = 0 if table is None else table + 1
                self._tables[table] = number
                other_table = False
                continue
            if self._TABLE.match(line):
                other_table = True
                continue
            match = self._KEY.match(line)
            if match and not other_table:
                key = match.group(1).strip("\"'")
                self._lines.setdefault((table, key), number)
                closing = _open_string_at_end(line[match.end() :], None)

    def line(self, key: str | None, article: int | None = None) -> int | None:
        if self._text is not None:
            text, self._text = self._text, None
            self._scan(text)
        if key is not None and (article, key) in self._lines:
            return self._lines[(article, key)]
        if article is not None:
            return self._tables.get(article)
        return None


# TOML's strings as regular expressions, so a line is scanned at C speed (KeyLines reads
# whole files): what lies outside strings, a basic and a literal one-line string, and the
# rest of a multi-line string up to its closing delimiter (with up to two more quotes that
# belong to the text).
_OUTSIDE = lazy(r"[^#\"']*")
_BASIC = lazy(r'"(?:[^"\\]|\\.)*"?')
_LITERAL = lazy(r"'[^']*'?")
_CLOSING = {
    '"""': lazy(r'(?:[^"\\]|\\.|"(?!""))*"""(?:"{1,2}(?!"))?'),
    "'''": lazy(r"(?:[^']|'(?!''))*'''(?:'{1,2}(?!'))?"),
}


def _open_string_at_end(line: str, open_at_start: str | None) -> str | None:
    """The multi-line string delimiter (three double or three single quotes) still open at
    the end of `line`, given the one open at its start. Strings are read as TOML reads them
    (a basic string's escapes, a literal string's none, a comment ends the line), so three
    quotes of the other kind inside a string, or in a comment, open nothing."""
    i, n, state = 0, len(line), open_at_start
    while i < n:
        if state is not None:
            closed = _CLOSING[state].match(line, i)
            if closed is None:
                return state
            i, state = closed.end(), None
            continue
        i = _OUTSIDE.match(line, i).end()  # type: ignore[union-attr]  # always matches
        if i >= n or line[i] == "#":
            return None
        if line.startswith(line[i] * 3, i):
            state, i = line[i] * 3, i + 3
        else:
            i = (_BASIC if line[i] == '"' else _LITERAL).match(line, i).end()  # type: ignore[union-attr]
    return state


# --------------------------------------------------------------------------- decoding


def toml_error_line(exc: Exception) -> tuple[int | None, str]:
    """(line, message without position) from a `tomllib.TOMLDecodeError`."""
    message = str(exc)
    match = re.search(r"\s*\(at line (\d+), column \d+\)", message)
    if match:
        return int(match.group(1)), message[: match.start()] + message[match.end() :]
    match = re.search(r"\s*\(at end of document\)", message)
    if match:
        return None, message[: match.start()] + " at end of file"
    return None, message


class _Decoder:
    def __init__(self, lines: KeyLines) -> None:
        self.lines = lines
        self.problems: list[FieldProblem] = []

    def problem(self, kind: str, key: str, message: str, article: int | None, article_id: str | None) -> None:
        self.problems.append(
            FieldProblem(kind, key, message, self.lines.line(key, article), article, article_id)
        )

    def text(self, table: Mapping[str, Any], key: str, article: int | None, aid: str | None) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            where = (
                f"article {aid}" if aid else f"article #{article + 1}" if article is not None else "the issue"
            )
            self.problem(
                "type",
                key,
                f"{key} of {where} must be a string, not {_toml_type(value)}",
                article,
                aid,
            )
            return None
        return value

    def date(
        self, table: Mapping[str, Any], key: str, article: int | None, aid: str | None
    ) -> dt.date | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            self.problem(
                "type",
                key,
                f"{key} must be a date like 2023-06-05, not a date and time",
                article,
                aid,
            )
            return None
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return parse_date(value, relative=False)
            except DateError as exc:
                self.problem("date", key, f"{key}: {exc.message}", article, aid)
                return None
        self.problem(
            "type", key, f"{key} must be a date like 2023-06-05, not {_toml_type(value)}", article, aid
        )
        return None

    def unknown(
        self, table: Mapping[str, Any], known: tuple[str, ...], article: int | None, aid: str | None
    ) -> None:
        for key in table:
            if key not in known:
                self.problem(
                    "unknown-key",
                    key,
                    f"unknown key {key!r} (known keys: {', '.join(known)})",
                    article,
                    aid,
                )


def _toml_type(value: object) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
        dt.datetime: "a date-time",
        dt.date: "a date",
        dt.time: "a time",
    }
    return names.get(type(value), type(value).__name__)


def decode_issue(data: Mapping[str, Any], text: str | None = None) -> tuple[Issue, list[FieldProblem]]:
    """The issue in `data` (as tomllib returns it) and every structural problem found.

    Missing or empty fields are not problems here (validation reports them); wrong types,
    unknown keys, unreadable dates and invalid ids are. Bad values are left empty.
    """
    d = _Decoder(KeyLines(text))
    d.unknown(data, ISSUE_KEYS, None, None)
    issue_id = d.text(data, "id", None, None) or ""
    if issue_id and not is_valid_issue_id(issue_id):
        d.problem(
            "id",
            "id",
            f"invalid issue id {_shown(issue_id)}: use {ID_RULE}, at most {MAX_ISSUE_ID_LENGTH} characters",
            None,
            None,
        )
    status = d.text(data, "status", None, None) or "draft"
    if status not in STATUSES:
        d.problem("value", "status", f"status must be 'draft' or 'published', not {status!r}", None, None)
        status = "draft"
    last = data.get("last_article_number", 0)
    if not isinstance(last, int) or isinstance(last, bool) or not 0 <= last <= MAX_ARTICLE_NUMBER:
        d.problem(
            "type",
            "last_article_number",
            f"last_article_number must be a whole number from 0 to {MAX_ARTICLE_NUMBER} (10^30 - 1)",
            None,
            None,
        )
        last = 0

    raw_articles = data.get("articles", [])
    articles: list[Article] = []
    if not isinstance(raw_articles, list) or not all(isinstance(a, dict) for a in raw_articles):
        d.problem("type", "articles", "articles must be [[articles]] tables", None, None)
        raw_articles = []
    for index, table in enumerate(raw_articles):
        articles.append(_decode_article(d, table, index))

    numbers = [n for a in articles if (n := article_number(issue_id, a.id)) is not None]
    issue = Issue(
        id=issue_id,
        title=d.text(data, "title", None, None) or "",
        date=d.date(data, "date", None, None),
        status=status,
        articles=tuple(articles),
        last_article_number=max([last, *numbers]),
    )
    return issue, d.problems


def _shown(value: str) -> str:
    """A value quoted for a message, cut short when it is long."""
    return repr(value) if len(value) <= 120 else repr(value[:100]) + f"… ({len(value)} characters)"


def _decode_article(d: _Decoder, table: Mapping[str, Any], index: int) -> Article:
    raw_id = table.get("id")
    aid = raw_id if isinstance(raw_id, str) else None
    d.unknown(table, ARTICLE_KEYS, index, aid)
    article_id = d.text(table, "id", index, aid) or ""
    if article_id and not is_valid_id(article_id):
        d.problem(
            "id",
            "id",
            f"invalid article id {_shown(article_id)}: use {ID_RULE}, at most {MAX_ID_LENGTH} characters",
            index,
            aid,
        )
    tags: list[str] = []
    raw_tags = table.get("tags", [])
    if isinstance(raw_tags, list) and all(isinstance(t, str) for t in raw_tags):
        tags = list(raw_tags)
    else:
        d.problem("type", "tags", "tags must be an array of strings", index, aid)
    return Article(
        id=article_id,
        section=d.text(table, "section", index, aid) or "",
        title=d.text(table, "title", index, aid) or "",
        source=d.text(table, "source", index, aid) or "",
        compiled_by=d.text(table, "compiled_by", index, aid),
        date=d.date(table, "date", index, aid),
        url=d.text(table, "url", index, aid),
        tags=tuple(tags),
        body=d.text(table, "body", index, aid) or "",
    )


# --------------------------------------------------------------------------- encoding


def _check_text(field: str, value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(
            f"{field} contains text that is not valid Unicode (a lone surrogate or broken bytes)",
            hint="check the input's encoding",
        ) from None
    return value


def _value(key: str, value: object, *, multiline: bool = False) -> str:
    import tomli_w

    if isinstance(value, str):
        _check_text(key, value)
    elif isinstance(value, list):
        for item in value:
            _check_text(key, str(item))
    return tomli_w.dumps({key: value}, multiline_strings=multiline)


# An entry of an encoded issue: (anchor, gap, text). The anchor names what the text
# encodes, so that comments found next to it in the old file can follow it:
# (None, key) for the issue's own keys, (article, key) for an article's, (article, HEADER)
# for its `[[articles]]` line. `gap` is what the encoder puts before the text (a blank line
# before each article). An article is named by its id when that is unique, else its index.
Anchor = tuple[object, str]
HEADER = "[[articles]]"


def _article_keys(article_ids: list[str]) -> list[object]:
    counts: dict[str, int] = {}
    for article_id in article_ids:
        counts[article_id] = counts.get(article_id, 0) + 1
    return [
        ("id", article_id) if article_id and counts[article_id] == 1 else ("index", index)
        for index, article_id in enumerate(article_ids)
    ]


def _issue_entries(issue: Issue) -> list[tuple[Anchor, str, str]]:
    entries: list[tuple[Anchor, str, str]] = [
        ((None, "id"), "", _value("id", issue.id)),
        ((None, "title"), "", _value("title", issue.title)),
    ]
    if issue.date is not None:
        entries.append(((None, "date"), "", _value("date", issue.date)))
    entries.append(((None, "status"), "", _value("status", issue.status)))
    numbers = [n for a in issue.articles if (n := article_number(issue.id, a.id)) is not None]
    # Stored so that an article deleted by hand never hands its id (its RSS guid) to another.
    last = max(issue.last_article_number, *numbers, 0)
    if last:
        entries.append(((None, "last_article_number"), "", _value("last_article_number", last)))
    keys = _article_keys([a.id for a in issue.articles])
    for key, article in zip(keys, issue.articles, strict=True):
        entries.append(((key, HEADER), "\n", HEADER + "\n"))
        entries += [((key, name), "", text) for name, text in _article_entries(article)]
    return entries


def encode_issue(issue: Issue) -> str:
    """The issue file's text. Deterministic: equal issues give identical bytes."""
    return _closed(issue, "".join(gap + text for _anchor, gap, text in _issue_entries(issue)))


def _closed(issue: Issue, text: str) -> str:
    """`text` ending with a blank line when the issue has articles (a file whose editor
    wrote comments after the last article ends with those instead).

    Merge-friendliness (git, line-based): every article is then followed by a blank line,
    the last one too, so a change to one article never touches a line next to another
    article's lines. Without it, an article appended (or the last one removed) touched the
    line right after the last article's body, and two editors' clones, one fixing that
    body and one adding an article, could not merge (tests/test_history.py measures the
    cases with real git).
    """
    if issue.articles and not text.endswith("\n\n"):
        return text + "\n"
    return text


def _article_entries(article: Article) -> list[tuple[str, str]]:
    parts = [
        ("id", _value("id", article.id)),
        ("section", _value("section", article.section)),
        ("title", _value("title", article.title)),
        ("source", _value("source", article.source)),
    ]
    if article.compiled_by is not None:
        parts.append(("compiled_by", _value("compiled_by", article.compiled_by)))
    if article.date is not None:
        parts.append(("date", _value("date", article.date)))
    if article.url is not None:
        parts.append(("url", _value("url", article.url)))
    if article.tags:
        parts.append(("tags", _value("tags", list(article.tags))))
    parts.append(("body", _value("body", article.body, multiline="\n" in article.body)))
    return parts


# --------------------------------------------------------------------------- keeping comments
#
# Editors write comments in issue files (`# 编者按：…`), and every command that rewrites a
# file (add, publish, import, the coming edit) re-encodes it. Comments are kept by a splice,
# not by a comment-preserving TOML library: the old text is scanned once for its comments
# and what each one sits next to (the key below it, the value it trails, or the end of the
# file), and the new encoding gets them back at the same places. A file without comments
# is exactly `encode_issue`'s bytes, as before. tomlkit was measured instead (README,
# "Comments in issue files").


class CommentsNotKept(InputError):
    """A comment sits where the splice cannot put it back (inside a multi-line array)."""


@record
class _Statement:
    anchor: Anchor | None  # None: in a table ecdigest does not write
    gap: list[str]  # the blank and comment lines just above it, verbatim
    trailing: str  # `  # comment` after its value on its last line, or ""


_WS = lazy(r"[ \t]*")
_BARE_OR_QUOTED = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
_KEY_AT = lazy(rf"{_BARE_OR_QUOTED}(?:[ \t]*\.[ \t]*{_BARE_OR_QUOTED})*[ \t]*=[ \t]*")
_TABLE_AT = lazy(r"\[\[?[^\]\n]*\]\]?")
_ARTICLES_HEADER = lazy(r"\[\[[ \t]*articles[ \t]*\]\]")
_END_OF_LINE = lazy(r"[ \t]*(#[^\n]*)?(?:\n|\Z)")
_STRINGS = (
    lazy(r'"""(?:\\.|[^\\])*?""""{0,2}', re.DOTALL),
    lazy(r"'''.*?'''(?:''?)?", re.DOTALL),
    lazy(r'"(?:\\.|[^"\\\n])*"'),
    lazy(r"'[^'\n]*'"),
)
_SCALAR = lazy(r"\d{4}-\d\d-\d\d[T ]\d\d:[0-9:.]+(?:Z|[+-]\d\d:\d\d)?|[^\s,\]}#]+")


def _value_end(text: str, pos: int, line: int) -> int:
    """Where the TOML value starting at `pos` ends. A comment inside a multi-line array
    cannot be anchored to anything the encoder writes: CommentsNotKept."""
    for pattern in _STRINGS:
        found = pattern.match(text, pos)
        if found:
            return found.end()
    opening = text[pos : pos + 1]
    if opening in ("[", "{"):
        closing = "]" if opening == "[" else "}"
        pos += 1
        while True:
            while pos < len(text) and text[pos] in " \t\n,":
                pos += 1
            if pos >= len(text):
                raise CommentsNotKept("an array or table that does not end", line=line)
            if text[pos] == closing:
                return pos + 1
            if text[pos] == "#":
                raise CommentsNotKept(
                    "a comment inside a multi-line array cannot be kept when ecdigest rewrites the file",
                    line=text.count("\n", 0, pos) + 1,
                    hint="move the comment to its own line above the key; nothing was written",
                )
            key = _KEY_AT.match(text, pos) if opening == "{" else None
            pos = _value_end(text, key.end() if key else pos, line)
    found = _SCALAR.match(text, pos)
    if not found:
        raise CommentsNotKept("a value ecdigest cannot scan", line=line)
    return found.end()


def _statements(text: str, article_keys: list[object]) -> tuple[list[_Statement], list[str]]:
    """The old file's statements with their anchors, and the lines after the last one."""
    statements: list[_Statement] = []
    gap: list[str] = []
    table: object = None
    articles = -1
    pos = 0
    line = 1
    while pos < len(text):
        start = pos
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if pos >= len(text) or text[pos] in "#\n":  # a comment line or a blank one
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end + 1
            gap.append(text[start:pos].rstrip("\n"))
            line += 1
            continue
        anchor: Anchor | None
        if text[pos] == "[":
            found = _TABLE_AT.match(text, pos)
            if not found:
                raise CommentsNotKept("a table header ecdigest cannot scan", line=line)
            if _ARTICLES_HEADER.fullmatch(found.group(0)):
                articles += 1
                table = article_keys[articles] if articles < len(article_keys) else ("index", articles)
                anchor = (table, HEADER)
            else:
                table, anchor = "other", None
            pos = found.end()
        else:
            found = _KEY_AT.match(text, pos)
            if not found:
                raise CommentsNotKept("a line ecdigest cannot scan", line=line)
            key = found.group(0).rstrip(" \t=").strip("\"'")
            anchor = None if table == "other" else (table, key)
            pos = _value_end(text, found.end(), line)
        rest = _END_OF_LINE.match(text, pos)
        if not rest:
            raise CommentsNotKept("text after a value that ecdigest cannot scan", line=line)
        trailing = text[pos : rest.end()].rstrip("\n") if rest.group(1) else ""
        line += text.count("\n", start, rest.end())
        pos = rest.end()
        statements.append(_Statement(anchor, gap, trailing))
        gap = []
    return statements, gap


def encode_issue_keeping(issue: Issue, old_text: str | None, *, path: Path | str | None = None) -> str:
    """`encode_issue(issue)`, with the comments of `old_text` (the file it replaces) kept.

    Each comment stays with what it was written next to: comment lines (and the blank
    lines among them) above a key or an `[[articles]]` line stay above it, a comment after
    a value stays after that value, and lines after the last value stay at the end of the
    file (so they follow a newly added article). Articles are recognised by their ids.
    A comment next to something the new issue no longer has moves down to the next thing
    that remains. Raises CommentsNotKept (exit 2, nothing written) for a comment the
    splice cannot place.
    """
    entries = _issue_entries(issue)
    plain = _closed(issue, "".join(gap + text for _anchor, gap, text in entries))
    if not old_text or "#" not in old_text:
        return plain
    old_text = old_text.replace("\r\n", "\n")
    import tomllib

    try:
        old_data = tomllib.loads(old_text)
    except (tomllib.TOMLDecodeError, ValueError, RecursionError):
        return plain  # not a file anyone could have read: there is nothing to keep
    raw = old_data.get("articles")
    tables = [a for a in raw if isinstance(a, dict)] if isinstance(raw, list) else []
    old_ids = [a["id"] if isinstance(a.get("id"), str) else "" for a in tables]
    try:
        statements, tail = _statements(old_text, _article_keys(old_ids))
    except CommentsNotKept as exc:
        exc.path = str(path) if path is not None else None
        raise
    if not any(_has_comment(s.gap) or s.trailing for s in statements) and not _has_comment(tail):
        return plain  # every '#' was inside a string
    wanted = {anchor for anchor, _gap, _text in entries}
    kept: dict[Anchor, _Statement] = {}
    carried: list[str] = []  # comments of things the new issue no longer has
    for statement in statements:
        gap = carried + statement.gap
        carried = []
        if statement.anchor is None or statement.anchor not in wanted or statement.anchor in kept:
            carried = [line for line in gap if line.strip()]
            if statement.trailing:
                carried.append(statement.trailing.strip())
            continue
        kept[statement.anchor] = _Statement(statement.anchor, gap, statement.trailing)
    out: list[str] = []
    for anchor, default_gap, text in entries:
        old = kept.get(anchor)
        if old is not None and _has_comment(old.gap):
            out.append("".join(line + "\n" for line in old.gap))
        else:
            out.append(default_gap)
        if old is not None and old.trailing:
            text = text[:-1] + old.trailing + "\n"
        out.append(text)
    tail = carried + tail
    if _has_comment(tail):  # lines that never change follow the last article: no blank needed
        out.append("".join(line + "\n" for line in tail))
        return "".join(out)
    return _closed(issue, "".join(out))


def _has_comment(lines: list[str]) -> bool:
    return any(line.lstrip().startswith("#") for line in lines)


# --------------------------------------------------------------------------- settings

_SETTINGS_LAYOUT: dict[str, dict[str, str]] = {
    # table -> {key in the file: Newsletter field}
    "newsletter": {
        "title": "title",
        "editor": "editor",
        "language": "language",
        "timezone": "timezone",
        "description": "description",
        "link": "link",
        "feed_url": "feed_url",
        "sections": "sections",
        "issue_url": "issue_url",
        "atom_url": "atom_url",
        "tag_authority": "tag_authority",
        "tag_date": "tag_date",
        "editions": "editions",
        "protected_terms": "protected_terms",
    },
    "email": {
        "from": "email_from",
        "to": "email_to",
        "format": "email_format",
        "list_id": "list_id",
        "unsubscribe_mailto": "unsubscribe_mailto",
        "unsubscribe_url": "unsubscribe_url",
        "max_articles": "max_articles",
    },
    "validate": {"max_article_age_days": "max_article_age_days", "known_sources": "known_sources"},
    "smtp": {
        "host": "smtp_host",
        "port": "smtp_port",
        "security": "smtp_security",
        "user": "smtp_user",
        "timeout": "smtp_timeout",
    },
    "history": {"git": "history_git"},
}
# Keys that would hold a secret: the archive is shared through git, so ecdigest.toml never does.
_SECRET_KEYS = frozenset({"password", "passwd", "pass", "secret", "smtp_password", "app_password"})
# Settings with a fixed set of values: field -> allowed values.
_CHOICES: dict[str, tuple[str, ...]] = {"email_format": EMAIL_FORMATS, "smtp_security": SMTP_SECURITY}

# Integer settings with bounds: field -> (lowest, highest).
_RANGES: dict[str, tuple[int, int]] = {
    "max_articles": (0, 100_000),
    "smtp_port": (0, 65535),
    "smtp_timeout": (1, 3600),
}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def decode_settings(data: Mapping[str, Any], text: str | None = None) -> Newsletter:
    """`ecdigest.toml` -> Newsletter; raises InputError (with its line) on the first problem."""
    defaults = Newsletter()
    types: dict[str, Callable[[object], bool]] = {
        "sections": _is_str_list,
        "known_sources": _is_str_list,
        "editions": _is_str_list,
        "protected_terms": _is_str_list,
        "max_article_age_days": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
        "history_git": lambda v: isinstance(v, bool),
        **dict.fromkeys(_RANGES, _is_int),
    }
    values: dict[str, Any] = {}
    lines = text.split("\n") if text else []  # TOML breaks lines at \n only

    def line_of(key: str) -> int | None:
        for number, line in enumerate(lines, start=1):
            if re.match(rf"^\s*\"?{re.escape(key)}\"?\s*=", line):
                return number
        return None

    for table, value in data.items():
        if table not in _SETTINGS_LAYOUT:
            raise InputError(
                f"unknown table [{table}]",
                line=line_of(table),
                hint=f"known tables: {', '.join(_SETTINGS_LAYOUT)}",
            )
        if not isinstance(value, dict):
            raise InputError(f"{table} must be a table: [{table}]", line=line_of(table))
        for key, item in value.items():
            field = _SETTINGS_LAYOUT[table].get(key)
            if key.lower() in _SECRET_KEYS:
                raise InputError(
                    f"[{table}] {key}: ecdigest.toml never holds a password (the archive is shared through git)",
                    line=line_of(key),
                    hint="delete the line; set ECDIGEST_SMTP_PASSWORD or put it in ~/.netrc",
                )
            if field is None:
                raise InputError(
                    f"unknown key {key!r} in [{table}]",
                    line=line_of(key),
                    hint=f"known keys: {', '.join(_SETTINGS_LAYOUT[table])}",
                )
            check = types.get(field, _is_str)
            if not check(item):
                raise InputError(
                    f"[{table}] {key} has the wrong type ({_toml_type(item)})", line=line_of(key)
                )
            if field in _RANGES:
                low, high = _RANGES[field]
                if not low <= item <= high:
                    raise InputError(
                        f"[{table}] {key} = {item} is out of range ({low} to {high})", line=line_of(key)
                    )
            if field in _CHOICES and item not in _CHOICES[field]:
                raise InputError(
                    f"[{table}] {key} = {item!r} is not one of: {', '.join(_CHOICES[field])}",
                    line=line_of(key),
                )
            values[field] = tuple(item) if isinstance(item, list) else item
    settings = Newsletter(
        **{name: values.get(name, getattr(defaults, name)) for name in Newsletter.__match_args__}
    )
    if not settings.sections:
        raise InputError("[newsletter] sections must name at least one section", line=line_of("sections"))
    _check_editions(settings, line_of)
    return settings


def _check_editions(settings: Newsletter, line_of: Callable[[str], int | None]) -> None:
    """Edition names must be known and protected terms well-formed (zhconv says how)."""
    if not settings.editions and not settings.protected_terms:
        return  # nothing to check: zhconv is not imported (every command reads the settings)
    from .zhconv import EDITIONS, parse_protected_terms

    for name in settings.editions:
        if name not in EDITIONS:
            raise InputError(
                f"[newsletter] editions: unknown edition {name!r}",
                line=line_of("editions"),
                hint=f"known: {', '.join(EDITIONS)}",
            )
    if len(set(settings.editions)) != len(settings.editions):
        raise InputError("[newsletter] editions names an edition twice", line=line_of("editions"))
    try:
        parse_protected_terms(settings.protected_terms)
    except UsageError as exc:
        raise InputError(
            f"[newsletter] {exc.message}", line=line_of("protected_terms"), hint=exc.hint
        ) from None


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


_SETTINGS_COMMENTS = {
    "issue_url": "# Web page of an issue; {link} and {issue} are replaced.\n",
    "atom_url": "# Where atom.xml is served (empty: next to feed_url).\n",
    "format": (
        "# flowed: RFC 3676 text that mail clients may re-flow (no spaces added between Chinese\n"
        "# characters); fixed: plain 72-column lines.\n"
    ),
    "list_id": "# List-Id header; empty: from the `to` address (list@host -> list.host).\n",
    "unsubscribe_mailto": (
        "# List-Unsubscribe: an address and/or an https URL (the URL also enables one-click\n"
        "# unsubscribe, RFC 8058). Empty: no such header.\n"
    ),
    "max_articles": "# Put only the first N articles in the email, with a link to the rest; 0: all.\n",
    "host": (
        "# `ecdigest send`. The password is never written here: set ECDIGEST_SMTP_PASSWORD or\n"
        "# add `machine HOST login USER password …` to ~/.netrc. security: starttls, ssl or none;\n"
        "# port 0: 587, 465 or 25 by security.\n"
    ),
    "tag_authority": (
        "# Feed GUIDs are tag:{tag_authority},{tag_date}:ecd/{article id}. Never change these two\n"
        "# once the feed is public: readers would see every article again as new.\n"
    ),
    "editions": (
        "# Traditional Chinese editions (`--script` on the exports): zh-Hant-TW (Taiwan,\n"
        "# OpenCC s2twp with Taiwan phrasing), zh-Hant-HK (Hong Kong, s2hk).\n"
    ),
    "protected_terms": (
        '# Names, brands and outlets the editions print as given: "TERM" stays as printed,\n'
        '# "TERM=繁體" prints that Traditional form (it wins over OpenCC and our fixes).\n'
    ),
}

# Written commented out by `init` while empty: an example of each.
_SETTINGS_EXAMPLES = {
    "editions": '# editions = ["zh-Hant-TW"]\n',
    "protected_terms": '# protected_terms = ["于东来=于東來", "#双11#"]\n',
}


def encode_settings(settings: Newsletter) -> str:
    """A commented `ecdigest.toml`, as `init` writes it."""
    nl = _SETTINGS_LAYOUT["newsletter"]
    out = ["# ecdigest archive settings. See `ecdigest --help`.\n", "[newsletter]\n"]
    for key, field in nl.items():
        if key in _SETTINGS_COMMENTS:
            out.append(_SETTINGS_COMMENTS[key])
        value = getattr(settings, field)
        if key in _SETTINGS_EXAMPLES and not value:
            out.append(_SETTINGS_EXAMPLES[key])
            continue
        out.append(_value(key, _plain(value)))
    for table in ("email", "smtp"):
        out.append(f"\n[{table}]\n")
        for key, field in _SETTINGS_LAYOUT[table].items():
            out.append(_SETTINGS_COMMENTS.get(key, ""))
            out.append(_value(key, _plain(getattr(settings, field))))
    out.append("\n[validate]\n# Warn when an article is this many days older than its issue.\n")
    out.append(_value("max_article_age_days", settings.max_article_age_days))
    out.append('# Outlets as printed, e.g. "《人民日报》"; empty: no check.\n')
    out.append(_value("known_sources", list(settings.known_sources)))
    out.append(
        "\n[history]\n# Make every change ecdigest makes a commit in the git repository holding the\n"
        "# archive (`ecdigest log`, `ecdigest undo`); the author is git's user.name/user.email.\n"
    )
    out.append(_value("git", settings.history_git))
    return "".join(out)


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value
