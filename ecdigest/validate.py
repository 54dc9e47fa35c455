"""Validation of the archive: every rule, its stable code, and the safe mechanical fixes.

`validate_archive(archive, issue_ids)` returns a list of `Problem`s; it never raises for a
broken file (an unreadable file or invalid TOML becomes one Problem with its line, and the
other files are still checked). `plan_fixes` / `apply_fixes` rewrite titles and bodies for
the copy-editing rules marked "fix" below, and only those.

Codes (stable: scripts and editors rely on them; never reuse a retired code)

| code | severity | rule | fix |
|------|----------|------|-----|
| E001 | error | issue file cannot be read (I/O error, too large, symlink out of the archive) | |
| E002 | error | issue file is not valid UTF-8 | |
| E003 | error | issue file is not valid TOML | |
| E004 | error | a key has the wrong type (`date = 5`, `title = ["…"]`) | |
| E005 | error | unknown key (a save would drop it) | |
| E006 | error | invalid value (`status` other than draft/published) | |
| E101 | error | issue id missing or empty | |
| E102 | error | invalid issue id | |
| E103 | error | two files use the same issue id | |
| E104 | error | issue date missing | |
| E105 | error | issue date unreadable | |
| E106 | error | a published issue dated in the future (newsletter timezone); `publish` refuses it too | |
| E107 | error | issue date out of range (before 1900-01-01 or after 9998-12-31, `dates.in_range`) | |
| E201 | error | article id missing or empty | |
| E202 | error | invalid article id | |
| E203 | error | article id used twice in the archive | |
| E204 | error | article title missing or empty | |
| E205 | error | article section missing or empty | |
| E206 | error | section not in the configured `sections` | |
| E207 | error | article source missing or empty | |
| E208 | error | article date missing | |
| E209 | error | article body empty | |
| E301 | error | article date unreadable | |
| E302 | error | article date in the future (newsletter timezone) | |
| E303 | error | article date after its issue's date | |
| E401 | error | unbalanced or mixed marks in `source`/`compiled_by` (`《人民日报”`) | |
| E402 | error | `compiled_by` without a `source` | |
| E501 | error | `url` that is not http(s) | |
| W501 | warning | `url` with tracking parameters (`utm_*`, `spm`, …) or a WeChat article link not in its stable form (urls.py) | fix: cleaned |
| W502 | warning | `url` is a temporary WeChat link (`src`/`timestamp`/`signature`): it expires | |
| W101 | warning | issue has no title | |
| W301 | warning | article date more than `max_article_age_days` before the issue date | |
| W401 | warning | source without `《》`/`“”` marks | |
| W402 | warning | source not in `known_sources` (when set), with "did you mean" | |
| W601 | warning | same story already in another (published) issue: title identical or nearly | |
| W602 | warning | same title twice in one issue | |
| W603 | warning | same text (body) as an article earlier in the archive, in any issue | |
| W701 | warning | layout residue: a page number line in a body | |
| W702 | warning | layout residue: an attribution line (`来源：… 2023 年 05 月 31 日`) in a body | |
| W703 | warning | layout residue: a section header (`【行业资讯】`) in a body | |
| W704 | warning | layout residue: a hard line break inside a paragraph (or a title) | |
| W801 | warning | half-width `, : ; ! ?` next to Chinese (other side Chinese or a digit), `( )` around Chinese | fix: full-width |
| W802 | warning | no space between Chinese and Latin letters or digits (`2023年` -> `2023 年`) | fix |
| W803 | warning | doubled space, tab, full-width or no-break space inside a line | fix: one space |
| W804 | warning | space next to full-width punctuation (`能力， 让`) | fix: removed |

Chinese copy-editing: autocorrect-py was evaluated and not adopted.
autocorrect-py 2.14.0: wheel 1.87 MB (a 6.5 MB native module), import 1.4 ms, `format()`
on the shipped issue's 214 texts (53 titles, 161 paragraphs) 26 ms. It would change 17 of
them with 31 edits, and only 3 are right (a space after `，`: `能力， 让`). The rest fight
the newsletter's own style: 13 put a space between `%` and Chinese (`56%的份额` ->
`56% 的份额`; the sample writes `%` + Chinese without a space 70 times, with one once);
8 put spaces around `+` (`跨境电商+海外仓`); 6 put spaces around half-width parentheses
where the sample's own form is full-width without spaces (`荷兰(92%)` -> `荷兰 (92%)`, vs
`保加利亚（49%）` two words later); 1 removes a title's separator space (`回暖 “618”`).
On the raw PDF text it also removes the space before 编选 in 25 attribution lines, the
newsletter's fixed form. It agrees with `2023 年` (a space between Chinese and digits),
but does nothing for `;` or doubled spaces, and its lint returns rewritten lines without
rule codes; its `%` spacing is part of its core rule, so configuration cannot remove it.
The four rules W801-W804 are a few regular expressions instead: on the shipped issue they
make 8 edits, all where the sample is inconsistent with itself (`荷兰(92%)` next to
`保加利亚（49%）`; `， ` three times), and none where it is consistent (0 of its 761
Chinese/Latin boundaries lack the space).
"""

from __future__ import annotations

import array
import datetime as dt
import difflib
import functools
import itertools
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path

from .catalog import MIN_NEAR, body_digest, title_key, title_pairs
from .codec import FieldProblem, KeyLines
from .errors import InputError, NotFoundError
from .lazyre import lazy  # the text rules' patterns compile on first use (add never runs them)
from .model import Article, Issue, Newsletter

# Not `typing`'s, and records.py's classes (the dataclasses module costs ~7 ms to import):
# add's guard rails import this module.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from dataclasses import dataclass as record
    from dataclasses import field
    from typing import Any

    from .archive import Archive
    from .catalog import ArticleEntry, Catalog
    from .fasttoml import Lines
else:
    from .records import field, record

ERROR = "error"
WARNING = "warning"

# At most this many problems of one code in one field; the last one says how many more.
MAX_PER_FIELD = 10


@record(frozen=True, slots=True)  # slots: a 20-year archive has some 30,000 warnings
class Problem:
    code: str  # stable, e.g. "E101"; errors start with E, warnings with W
    severity: str  # "error" | "warning"
    issue: str | None  # issue id (None if the file could not be read)
    article: str | None  # article id
    field: str | None
    path: str | None  # the issue file
    line: int | None
    message: str  # says what is wrong and how to fix it

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def to_dict(self) -> dict[str, object]:
        """The JSON object of `validate --format json`."""
        return {
            "code": self.code,
            "severity": self.severity,
            "issue": self.issue,
            "article": self.article,
            "field": self.field,
            "path": self.path,
            "line": self.line,
            "message": self.message,
        }


def _severity(code: str) -> str:
    return ERROR if code.startswith("E") else WARNING


@record(frozen=True)
class Report:
    """Problems found and the files that were checked (for the summary line)."""

    problems: list[Problem]
    checked: list[Path]
    # Every issue file of the archive as read for this report (issue None: unreadable), so
    # callers such as `build` need not read the files a second time.
    issues: list[tuple[Path, Issue | None]] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.is_error)

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if not p.is_error)


# =========================================================================== text rules

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_H = f"[{_HAN}]"
# Half-width punctuation sits "between Chinese" when Chinese (or Chinese closing/opening
# punctuation) is on both sides of it.
_CN_LEFT = f"[{_HAN}”’》」』）】]"
_CN_RIGHT = f"[{_HAN}“‘《「『（【]"
_FULL = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？"}
_SPACE = "[ \\t\u3000\u00a0]"
_URL = lazy(r"(?:https?|ftp)://[^\s\u3000-\u303f\uff00-\uffef“”‘’《》]+|www\.[A-Za-z0-9.-]+[^\s]*")


@record(frozen=True)
class Edit:
    """One mechanical change to a text: where, what it was, what it becomes, why."""

    code: str
    offset: int  # in the text as the rule saw it (fixes never add or remove newlines)
    before: str
    after: str
    message: str


@functools.cache
def _compile(source: str) -> re.Pattern[str]:
    """A pattern compiled on first use: each class of Chinese characters costs ~1.5 ms to
    compile, and most commands that import this module (`add`'s guard rails, `build`)
    never run the copy-editing rules."""
    return re.compile(source)


@record(frozen=True)
class _Rule:
    code: str
    source: str  # the pattern (`pattern` compiles it once, when first asked)
    replace: Callable[[re.Match[str], str], str | None]  # None: leave this match alone
    message: Callable[[re.Match[str], str], str]

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compile(self.source)


def _punct_replace(m: re.Match[str], text: str) -> str | None:
    # One side must be Chinese; the other may be a digit (`表示,2023 年`, `13%,前`), so that
    # `1,000` and `10:30` stay as they are.
    before = text[m.start() - 1] if m.start() > 0 else ""
    after = text[m.end()] if m.end() < len(text) else ""
    if _compile(_CN_LEFT).match(before) or _compile(_CN_RIGHT).match(after):
        return _FULL[m.group(1)]
    return None


def _paren_replace(m: re.Match[str], text: str) -> str | None:
    start, end = m.start(), m.end()
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    left_cn = _compile(_CN_LEFT).match(before) is not None
    right_cn = _compile(_CN_RIGHT).match(after) is not None
    if not (left_cn or right_cn or _compile(_H).search(m.group(2))):
        return None
    lead = "" if left_cn else m.group(1)
    trail = "" if right_cn else m.group(3)
    return f"{lead}（{m.group(2)}）{trail}"


_RULES: tuple[_Rule, ...] = (
    _Rule(
        "W801",
        f"(?<={_CN_LEFT[:-1]}0-9%])[ \\t]*([,:;!?])[ \\t]*(?={_CN_RIGHT[:-1]}0-9])",
        _punct_replace,
        lambda m, t: f"half-width {m.group(1)!r} in Chinese text: use {_FULL[m.group(1)]!r}",
    ),
    _Rule(
        "W801",
        r"([ \t]*)\(([^()\n]*)\)([ \t]*)",
        _paren_replace,
        lambda m, t: "half-width parentheses in Chinese text: use full-width （）",
    ),
    _Rule(
        "W804",
        f"(?<=[，。、；：！？（《“「『【]){_SPACE}+(?=\\S)|(?<=\\S){_SPACE}+(?=[，。、；：！？）》”」』】])",
        lambda m, t: "",
        lambda m, t: "space next to full-width punctuation: remove it",
    ),
    _Rule(
        "W803",
        f"(?<=\\S)(?:{_SPACE}{{2,}}|[\\t\u3000\u00a0])(?=\\S)",
        lambda m, t: " ",
        lambda m, t: (
            "doubled space inside a line: use one"
            if len(m.group(0)) > 1
            else "tab, full-width or no-break space inside a line: use one plain space"
        ),
    ),
    _Rule(
        "W802",
        # Consumes the first of the two characters (one at a time, so `a中b` gets both
        # spaces): much faster on long texts than a zero-width match with a lookbehind.
        f"{_H}(?=[A-Za-z0-9])|[A-Za-z0-9](?={_H})",
        lambda m, t: m.group(0) + " ",
        lambda m, t: (
            "no space between Chinese and Latin letters or digits (the newsletter writes 2023 年, 5G 网络)"
        ),
    ),
)


def _snippet(text: str, start: int, end: int, width: int = 6) -> tuple[int, int]:
    """Bounds of `text[start:end]` with some context, not crossing a line break."""
    left = max(0, start - width)
    newline = text.rfind("\n", left, start)
    if newline != -1:
        left = newline + 1
    right = min(len(text), end + width)
    newline = text.find("\n", end, right)
    if newline != -1:
        right = newline
    return left, right


def _matches(rule: _Rule, text: str) -> list[tuple[re.Match[str], str]]:
    """The matches of `rule` that change something, with their replacement (URLs left alone)."""
    urls = [(u.start(), u.end()) for u in _URL.finditer(text)]
    found: list[tuple[re.Match[str], str]] = []
    for m in rule.pattern.finditer(text):
        if urls and any(a < m.start() < b or a < m.end() < b for a, b in urls):
            continue
        new = rule.replace(m, text)
        if new is not None and new != m.group(0):
            found.append((m, new))
    return found


def _edit(rule: _Rule, m: re.Match[str], new: str, text: str) -> Edit:
    left, right = _snippet(text, m.start(), m.end())
    after = text[left : m.start()] + new + text[m.end() : right]
    return Edit(rule.code, m.start(), text[left:right], after, rule.message(m, text))


_MAX_ROUNDS = 8


@record(frozen=True)
class CopyEdit:
    """The result of the copy-editing rules on one text.

    `edits` describes at most `limit` spots per code (a 10 MB body may have a million);
    `counts` has the true number per code.
    """

    text: str
    edits: list[Edit]
    counts: Counter[str]


def copyedit(text: str, limit: int | None = None) -> CopyEdit:
    """Apply every copy-editing rule in turn: the fixed text and the edits made.

    Each rule runs on the text the rules before it left, so the edits describe the steps.
    No rule adds or removes a line break, so every offset keeps its line number. Rounds
    repeat until nothing changes, for nested parentheses `((…))` (a few rounds at most).
    """
    edits: list[Edit] = []
    counts: Counter[str] = Counter()
    for _round in range(_MAX_ROUNDS):
        changed = False
        for rule in _RULES:
            found = _matches(rule, text)
            if not found:
                continue
            changed = True
            pieces: list[str] = []
            last = 0
            for m, new in found:
                counts[rule.code] += 1
                if limit is None or counts[rule.code] <= limit:
                    edits.append(_edit(rule, m, new, text))
                pieces += [text[last : m.start()], new]
                last = m.end()
            pieces.append(text[last:])
            text = "".join(pieces)
        if not changed:
            break
    return CopyEdit(text, edits, counts)


def copyedit_findings(text: str, limit: int | None = None) -> CopyEdit:
    """What `copyedit` would change, described on the original text, each spot once.

    `edits` holds the first `limit` spots per code (by position), `text` is unchanged.
    """
    import bisect

    # Disjoint spans already claimed by earlier rules, sorted by start.
    starts: list[int] = []
    ends: list[int] = []
    kept: dict[str, list[tuple[int, _Rule, re.Match[str], str]]] = defaultdict(list)
    counts: Counter[str] = Counter()
    for rule in _RULES:
        fresh: list[tuple[int, int]] = []
        for m, new in _matches(rule, text):
            start, end = m.start(), max(m.end(), m.start() + 1)
            i = bisect.bisect_right(starts, start) - 1
            if (i >= 0 and ends[i] > start) or (i + 1 < len(starts) and starts[i + 1] < end):
                continue
            fresh.append((start, end))
            counts[rule.code] += 1
            spots = kept[rule.code]
            if limit is None or len(spots) < limit or start < spots[-1][0]:
                spots.append((start, rule, m, new))
                spots.sort(key=lambda spot: spot[0])
                if limit is not None:
                    del spots[limit:]
        if fresh:
            spans = sorted([*zip(starts, ends, strict=True), *fresh])
            starts = [a for a, _ in spans]
            ends = [b for _, b in spans]
    edits = [_edit(rule, m, new, text) for spots in kept.values() for _, rule, m, new in spots]
    return CopyEdit(text, sorted(edits, key=lambda e: e.offset), counts)


# --------------------------------------------------------------------------- residue

_PAGE_NUMBER = lazy(
    r"^(?:[-—–~]?\s*\d{1,3}\s*[-—–~]?|第\s*\d{1,3}\s*页(?:\s*[/／共]\s*\d{1,3}\s*页?)?"
    r"|\d{1,3}\s*/\s*\d{1,3}|(?:page|p\.)\s*\d{1,3}(?:\s*(?:/|of)\s*\d{1,3})?)$",
    re.IGNORECASE,
)
_ATTRIBUTION_TAIL = lazy(
    r"来\s*源\s*[:：].{0,80}?\d{4}\s*(?:年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|[-/.]\s*\d{1,2}\s*[-/.]\s*\d{1,2})\s*$"
)


@record(frozen=True)
class _Finding:
    code: str
    offset: int
    message: str


def residue(text: str, sections: Sequence[str]) -> list[_Finding]:
    """Layout left over from the PDF: page numbers, attribution lines, headers, hard breaks."""
    from .attribution import try_parse

    found: list[_Finding] = []
    offset = 0
    previous_blank = True
    broken_paragraph = False
    headers = {s.strip() for s in sections}
    for line in text.split("\n"):
        plain = unicodedata.normalize("NFKC", line).strip()
        if not plain:
            previous_blank = True
            broken_paragraph = False
            offset += len(line) + 1
            continue
        if _PAGE_NUMBER.match(plain):
            found.append(_Finding("W701", offset, f"page number {plain!r} left in the text: delete the line"))
        elif try_parse(line) is not None or _ATTRIBUTION_TAIL.search(plain):
            found.append(
                _Finding(
                    "W702",
                    offset,
                    "attribution line left in the text: move it to source/compiled_by/date and delete it",
                )
            )
        elif (plain.startswith(("【", "[")) and plain.strip("【】[] ") in headers) or plain in headers:
            found.append(
                _Finding("W703", offset, f"section header {plain!r} left in the text: delete the line")
            )
        elif not previous_blank and not broken_paragraph:
            found.append(
                _Finding(
                    "W704",
                    offset,
                    "hard line break inside a paragraph: join the lines "
                    "(paragraphs are separated by one blank line)",
                )
            )
            broken_paragraph = True
        previous_blank = False
        offset += len(line) + 1
    return found


# =========================================================================== loading


@record
class _Loaded:
    path: Path
    issue: Issue | None
    text: str | None
    structural: tuple[FieldProblem, ...] = ()
    failure: Problem | None = None
    lines: KeyLines | Lines | _KeptLines = field(default_factory=lambda: KeyLines(None))

    @property
    def issue_id(self) -> str | None:
        return self.issue.id if self.issue is not None and self.issue.id else None


def _load(archive: Archive, path: Path, data: bytes | None = None) -> _Loaded:
    try:
        result = archive.read_lenient(path, data)
    except InputError as exc:
        message = exc.message
        if message.startswith("invalid TOML"):
            code, fix = "E003", exc.hint or "fix the syntax"
        elif message.startswith("not valid UTF-8"):
            code, fix = "E002", exc.hint or "save the file as UTF-8"
        else:
            code, fix = "E001", exc.hint or "make the file readable or remove it"
        problem = Problem(code, ERROR, None, None, None, str(path), exc.line, f"{message} ({fix})")
        return _Loaded(path, None, None, failure=problem)
    lines = result.lines if result.lines is not None else KeyLines(result.text)
    return _Loaded(path, result.issue, result.text, result.problems, None, lines)


class _KeptLines:
    """The lines a checked file's cross-issue problems may name (its id, its articles' ids
    and titles), kept after its text and bodies were let go."""

    __slots__ = ("_id", "_ids", "_titles")

    def __init__(self, lines: KeyLines | Lines | _KeptLines, articles: int) -> None:
        import array

        self._id = lines.line("id")
        self._ids = array.array("l", (lines.line("id", i) or 0 for i in range(articles)))
        self._titles = array.array("l", (lines.line("title", i) or 0 for i in range(articles)))

    def line(self, key: str | None, article: int | None = None) -> int | None:
        if article is None:
            return self._id if key == "id" else None
        found = {"id": self._ids, "title": self._titles}.get(key or "")
        return (found[article] or None) if found is not None and article < len(found) else None


class _SlimArticle:
    """What the cross-issue rules read of an article that was checked: its id and title."""

    __slots__ = ("id", "title")

    def __init__(self, article_id: str, title: str) -> None:
        self.id = article_id
        self.title = title


def _slim(item: _Loaded) -> _Loaded:
    from dataclasses import replace

    """`item` with only what the cross-issue rules need: no text, no bodies."""
    if item.issue is None:
        return item
    # Ids and titles only: every other field is let go with the text.
    articles = tuple(_SlimArticle(a.id, a.title) for a in item.issue.articles)
    issue = replace(item.issue, articles=articles)  # type: ignore[arg-type]
    lines = _KeptLines(item.lines, len(issue.articles))
    return _Loaded(item.path, issue, None, item.structural, item.failure, lines)


def _number_pairs(key: str) -> set[int]:
    """The character pairs of a title key as numbers (`title_pairs`, one to one: both
    characters' code points): a set of 165,000 titles' pairs in a fraction of the memory of
    two-character strings, and the same similarities."""
    codes = [ord(ch) for ch in key]
    return {(a << 21) | b for a, b in itertools.pairwise(codes)}


class _LazyPairs(Sequence[set[int]]):
    """The character pairs of title keys (`_number_pairs`), made when asked (a sequence
    for NearTitles): a 20-year archive's 165,000 sets of pairs would take hundreds of
    megabytes at once."""

    def __init__(self, keys: list[str]) -> None:
        self._keys = keys

    def __len__(self) -> int:
        return len(self._keys)

    def __getitem__(self, number: int) -> set[int]:  # type: ignore[override]
        return _number_pairs(self._keys[number])

    def __iter__(self) -> Iterator[set[int]]:
        return (_number_pairs(key) for key in self._keys)


def _known_hint(names: Iterable[str]) -> str:
    known = sorted(set(names))
    shown = ", ".join(known[-10:])
    return f"issues: {'…, ' if len(known) > 10 else ''}{shown}" if known else "the archive has no issues"


def _selected_paths(archive: Archive, catalog: Catalog, issue_ids: Sequence[str]) -> list[Path]:
    """The files of the named issues (as `_select` finds them), from the catalog: the files
    with that id, and files without an id named like it (by two indexed queries; every
    entry only to name the issues there are when one is not found)."""
    chosen: list[Path] = []
    unnamed = catalog.files_without_id()
    for wanted in dict.fromkeys(issue_ids):
        found = [*catalog.issue_files(wanted), *(e for e in unnamed if e.path.stem == wanted)]
        matches = [e.path for e in sorted(found, key=lambda e: e.path.parts)]
        if not matches:
            entries = catalog.issues()
            raise NotFoundError(
                f"no issue {wanted!r} in {archive.root}",
                hint=_known_hint(e.id or e.path.stem for e in entries),
            )
        chosen += [m for m in matches if m not in chosen]
    return chosen


# =========================================================================== rules


class _Checker:
    """Collects problems for one file, with lines found through its KeyLines."""

    def __init__(self, item: _Loaded, settings: Newsletter) -> None:
        self.item = item
        self.settings = settings
        self.problems: list[Problem] = []
        self._text_lines = item.text.splitlines() if item.text else []

    def add(
        self,
        code: str,
        message: str,
        *,
        article: str | None = None,
        field: str | None = None,
        index: int | None = None,
        line: int | None = None,
    ) -> None:
        if line is None and (field is not None or index is not None):
            line = self.item.lines.line(field, index)
        self.problems.append(
            Problem(
                code,
                _severity(code),
                self.item.issue_id,
                article,
                field,
                str(self.item.path),
                line,
                message,
            )
        )

    def value_line(self, key: str, index: int | None, value: str, offset: int) -> int | None:
        """The file line of `value[offset]` for a string stored under `key`."""
        key_line = self.item.lines.line(key, index)
        if key_line is None or key_line > len(self._text_lines):
            return key_line
        after = self._text_lines[key_line - 1].split("=", 1)[-1].strip()
        if after in ('"""', "'''"):  # TOML trims the newline right after the opening quotes
            return key_line + 1 + value.count("\n", 0, offset)
        if after.startswith(('"""', "'''")):
            return key_line + value.count("\n", 0, offset)
        return key_line


_STRUCTURAL = {"type": "E004", "unknown-key": "E005", "value": "E006"}
# What the text rules of `_check_article` find (the costly part of checking a file).
TEXT_CODES = frozenset({"W501", "W502", "W701", "W702", "W703", "W704", "W801", "W802", "W803", "W804"})


def _check_file(
    item: _Loaded, settings: Newsletter, today: dt.date, *, warnings: bool = True, text: bool = True
) -> list[Problem]:
    if item.failure is not None:
        return [item.failure]
    assert item.issue is not None
    c = _Checker(item, settings)
    issue = item.issue
    bad_fields: set[tuple[int | None, str]] = set()
    for fp in item.structural:
        bad_fields.add((fp.article, fp.field))
        where = _article_label(fp.article_id, fp.article)
        if fp.kind in _STRUCTURAL:
            code = _STRUCTURAL[fp.kind]
            hint = "; remove it or correct its spelling" if fp.kind == "unknown-key" else ""
            message = f"{where}{fp.message}{hint}"
        elif fp.kind == "date":
            code = "E105" if fp.article is None else "E301"
            message = f"{where}{fp.message} (write it as a TOML date: {fp.field} = 2023-06-05)"
        elif fp.kind == "id":
            code = "E102" if fp.article is None else "E202"
            message = fp.message
        else:
            code, message = "E004", f"{where}{fp.message}"
        c.add(code, message, article=fp.article_id, field=fp.field, index=fp.article, line=fp.line)

    # ---- the issue itself
    if not issue.id and (None, "id") not in bad_fields:
        c.add("E101", 'issue id is missing: add id = "YYYY-MM" at the top of the file', field="id")
    if issue.date is None and (None, "date") not in bad_fields:
        c.add("E104", "issue date is missing: add date = YYYY-MM-DD (the publication date)", field="date")
    if not issue.title.strip() and (None, "title") not in bad_fields:
        c.add("W101", 'issue has no title: add title = "电子商务动态 YYYY 年 M 月"', field="title")
    c.problems += issue_date_problems(issue, str(item.path), c.item.lines.line("date"), today, settings)

    titles: dict[str, str] = {}
    for index, article in enumerate(issue.articles):
        _check_article(c, issue, article, index, bad_fields, today, warnings=warnings and text)
        key = _title_key(article.title)
        if key and article.id:
            if key in titles:
                c.add(
                    "W602",
                    f"same title as {titles[key]} in this issue: drop one of them",
                    article=article.id,
                    field="title",
                    index=index,
                )
            else:
                titles[key] = article.id
    return c.problems


def issue_date_problems(
    issue: Issue,
    path: str,
    line: int | None,
    today: dt.date,
    settings: Newsletter,
    date: dt.date | None = None,
) -> list[Problem]:
    """E107 (out of range) and E106 (published, yet dated after today) for the issue's date,
    or for `date`, the date `publish` is about to give it. A draft may be dated ahead."""
    from .dates import RANGE_TEXT, in_range

    when = date if date is not None else issue.date
    if when is None:
        return []
    if not in_range(when):
        code, message = "E107", f"issue date {when} is out of range ({RANGE_TEXT}): correct it"
    elif (date is not None or issue.is_published) and when > today:
        code = "E106"
        message = (
            f"issue date {when} is in the future (today is {today} in {settings.timezone}): "
            "a published issue carries the day it was sent; publish it on that day"
        )
    else:
        return []
    return [Problem(code, ERROR, issue.id or None, None, "date", path, line, message)]


def _article_label(article_id: str | None, index: int | None) -> str:
    """Names an article in a message only when it has no id (the id has its own field)."""
    if index is None or article_id:
        return ""
    return f"article #{index + 1}: "


def _check_article(
    c: _Checker,
    issue: Issue,
    article: Article,
    index: int,
    bad_fields: set[tuple[int | None, str]],
    today: dt.date,
    *,
    warnings: bool = True,
) -> None:
    settings = c.settings
    aid = article.id or None
    label = _article_label(aid, index)

    def add(code: str, message: str, field: str, line: int | None = None) -> None:
        c.add(code, f"{label}{message}", article=aid, field=field, index=index, line=line)

    def ok(name: str) -> bool:
        return (index, name) not in bad_fields

    if not article.id and ok("id"):
        add("E201", f'id is missing: add id = "{issue.id or "ISSUE"}-NNN"', "id")
    if not article.title.strip() and ok("title"):
        add("E204", "title is missing or empty: write the headline", "title")
    if not article.section.strip() and ok("section"):
        add("E205", f"section is missing: use one of {', '.join(settings.sections)}", "section")
    elif article.section and article.section not in settings.sections:
        near = difflib.get_close_matches(article.section, settings.sections, n=1, cutoff=0.5)
        hint = f"did you mean {near[0]}? " if near else ""
        add(
            "E206",
            f"section {article.section!r} is not configured: {hint}use one of "
            f"{', '.join(settings.sections)} (or add it to sections in ecdigest.toml)",
            "section",
        )
    compiled = (article.compiled_by or "").strip()
    if not article.source.strip() and ok("source"):
        if compiled:
            add(
                "E402",
                f"compiled_by {compiled!r} without a source: name the outlet in source "
                f"(an own article has source = {settings.editor!r} and no compiled_by)",
                "compiled_by",
            )
        else:
            add(
                "E207",
                f"source is missing: write the outlet as printed, e.g. 《人民日报》 or {settings.editor}",
                "source",
            )
    if article.date is None and ok("date"):
        add("E208", "date is missing: add date = YYYY-MM-DD (the attribution date)", "date")
    if not article.body.strip() and ok("body"):
        add("E209", "body is empty: write the text, paragraphs separated by a blank line", "body")

    # ---- dates
    if article.date is not None:
        if article.date > today:
            add(
                "E302",
                f"date {article.date} is in the future (today is {today} in {settings.timezone}): "
                "correct the attribution date",
                "date",
            )
        if issue.date is not None:
            if article.date > issue.date:
                add(
                    "E303",
                    f"date {article.date} is after the issue's date {issue.date}: correct the article "
                    "date or move it to a later issue",
                    "date",
                )
            elif (issue.date - article.date).days > settings.max_article_age_days:
                add(
                    "W301",
                    f"date {article.date} is {(issue.date - article.date).days} days before the issue "
                    f"({issue.date}), more than max_article_age_days = {settings.max_article_age_days}: "
                    "check the date",
                    "date",
                )

    # ---- attribution
    for name, value in (("source", article.source), ("compiled_by", article.compiled_by or "")):
        if value and (complaint := _marks_problem(value)):
            add("E401", f"{name} {value!r}: {complaint}", name)
    source = article.source.strip()
    if source and not _marks_problem(source):
        known = (*settings.known_sources, settings.editor)
        if settings.known_sources and source not in known:
            guess = _suggest_source(source, known)
            hint = f"did you mean {guess}? " if guess else ""
            add(
                "W402",
                f"source {source!r} is not in known_sources: {hint}correct it or add it to "
                "known_sources in ecdigest.toml",
                "source",
            )
        elif not any(mark in source for mark in "《“") and source not in known:
            add(
                "W401",
                f"source {source!r} has no marks: write 《报刊》 for papers and magazines, “网站” for web sites",
                "source",
            )

    # ---- url
    if article.url is not None and ok("url") and not _is_http_url(article.url):
        add("E501", f"url {article.url!r} is not an http(s) address: use https://… or remove the url", "url")
    elif article.url is not None and ok("url") and warnings:
        _check_url(article.url, lambda code, message: add(code, message, "url"))

    # ---- text (warnings only, and the costliest rules: skipped when only errors matter)
    if not warnings:
        return
    for name, value in (("title", article.title), ("body", article.body)):
        if not value or not ok(name):
            continue
        edited = copyedit_findings(value, MAX_PER_FIELD)
        findings = [
            _Finding(e.code, e.offset, f"{e.message}: {e.before!r} -> {e.after!r}") for e in edited.edits
        ]
        if name == "body":
            findings += residue(value, settings.sections)
        elif "\n" in value.strip():
            findings.append(
                _Finding("W704", value.index("\n"), "line break inside the title: join the lines")
            )
        counts: Counter[str] = Counter()
        totals = Counter(f.code for f in findings) + edited.counts
        for code in edited.counts:
            totals[code] -= sum(1 for e in edited.edits if e.code == code)
        for finding in sorted(findings, key=lambda f: (f.offset, f.code)):
            counts[finding.code] += 1
            if counts[finding.code] > MAX_PER_FIELD:
                continue
            message = finding.message
            if counts[finding.code] == MAX_PER_FIELD and totals[finding.code] > MAX_PER_FIELD:
                message += f" (and {totals[finding.code] - MAX_PER_FIELD} more like this in the {name})"
            line = c.value_line(name, index, value, finding.offset)
            add(finding.code, message, name, line)


_MARK_PAIRS = {"《": "》", "“": "”", "「": "」", "『": "』", "〈": "〉", "（": "）", "【": "】"}
_MARK_CLOSERS = {close: open_ for open_, close in _MARK_PAIRS.items()}


def _marks_problem(value: str) -> str | None:
    """What is wrong with the 《》/“” marks of an outlet's name, or None."""
    stack: list[str] = []
    for char in value:
        if char in _MARK_PAIRS:
            stack.append(char)
        elif char in _MARK_CLOSERS:
            if not stack:
                return f"{char!r} closes nothing: add {_MARK_CLOSERS[char]!r} before the name"
            opened = stack.pop()
            if _MARK_PAIRS[opened] != char:
                return f"mixed marks: {opened!r} is closed by {char!r}; write {opened}…{_MARK_PAIRS[opened]}"
    if stack:
        return f"{stack[-1]!r} is never closed: add {_MARK_PAIRS[stack[-1]]!r}"
    if value.count('"') % 2:
        return 'an unbalanced straight quote ": write “…”'
    return None


def _core(name: str) -> str:
    return re.sub(r"[《》“”\"「」『』〈〉\s]", "", name)


def _suggest_source(source: str, known: Sequence[str]) -> str | None:
    for candidate in known:
        if _core(candidate) == _core(source):
            return candidate
    near = difflib.get_close_matches(source, list(known), n=1, cutoff=0.75)
    return near[0] if near else None


def _check_url(url: str, add: Callable[[str, str], None]) -> None:
    """W501/W502: what urls.clean_url would remove, and WeChat links that expire."""
    from .urls import inspect

    cleaning = inspect(url)
    if cleaning.changed:
        add("W501", f"url carries {', '.join(cleaning.removed)}: the stable link is {cleaning.url}")
    if cleaning.temporary_wechat:
        add(
            "W502", "url is a temporary WeChat link that expires: use the article's mp.weixin.qq.com/s/… link"
        )


def _is_http_url(value: str) -> bool:
    from urllib.parse import urlsplit

    if not value or any(ch.isspace() for ch in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


# --------------------------------------------------------------------------- cross-issue


# A title reduced to its letters and digits, and its character pairs: the catalog keeps
# both for every published title, so one definition serves it and the rules here.
_title_key = title_key
_bigrams = title_pairs

NEAR_TITLE = 0.85  # Dice similarity of character bigrams; one changed character in ~15 still matches
_MIN_NEAR = MIN_NEAR  # shorter titles must match exactly


def dice(a: set[Any], b: set[Any]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a or b else 1.0


class NearTitles:
    """All titles whose bigram Dice similarity to a query reaches `threshold`, found without
    comparing every pair (a 20-year archive has ~55,000 titles).

    Prefix filtering (Chaudhuri et al. 2006; Bayardo et al., "All-Pairs", 2007): Dice >= d
    means Jaccard >= j = d / (2 - d), so two sets share at least ceil(j * |A|) grams; order
    every gram by how rare it is, and any such pair must then share a gram among the first
    |A| - ceil(j * |A|) + 1 (the rarest) of each. Only those prefixes are indexed, so a query
    meets the few titles that share a rare gram instead of every title containing 电商.
    The answer is exact: candidates are verified with the real similarity.
    """

    def __init__(
        self, gram_sets: Sequence[set[Any]], threshold: float = NEAR_TITLE, *, index_all: bool = True
    ) -> None:
        self.threshold = threshold
        self._jaccard = threshold / (2 - threshold) - 1e-9
        self._sets = gram_sets  # a Sequence; a lazy one (_LazyPairs) stays lazy
        # Grams of any kind that sorts (two-character strings, or numbers: _number_pairs).
        counts: Counter[Any] = Counter(g for grams in self._sets for g in grams)
        # Grams of one set only (nearly half of a 20-year archive's 290,000 pairs) are not
        # kept: they and grams of no set both count as 1. Any one order of the grams, used
        # for every prefix, gives the exact answer; rarer first only makes it fast.
        self._frequency = {g: n for g, n in counts.items() if n > 1}
        del counts
        # Arrays of set numbers, not lists of ints: a 20-year archive's postings in a
        # tenth of the memory.
        # A gram in one prefix only (most of them) keeps the set number itself.
        self._postings: dict[Any, int | array.array[int]] = {}
        if index_all:
            for number in range(len(self._sets)):
                self.add(number)

    def add(self, number: int) -> None:
        """Make set `number` findable (with `index_all=False`, sets join one by one)."""
        postings = self._postings
        for gram in self._prefix(self._sets[number]):
            found = postings.get(gram)
            if found is None:
                postings[gram] = number
            elif isinstance(found, int):
                postings[gram] = array.array("I", (found, number))
            else:
                found.append(number)

    def _prefix(self, grams: set[Any]) -> list[Any]:
        import math

        ordered = sorted(grams, key=lambda g: (self._frequency.get(g, 1), g))
        return ordered[: len(ordered) - math.ceil(self._jaccard * len(ordered)) + 1]

    def matches(self, grams: set[Any]) -> list[tuple[float, int]]:
        """(similarity, number) of every indexed set at or above the threshold."""
        if not grams:
            return []
        low, high = self._jaccard * len(grams), len(grams) / self._jaccard
        candidates: set[int] = set()
        for gram in self._prefix(grams):
            posting = self._postings.get(gram)
            if isinstance(posting, int):
                candidates.add(posting)
            elif posting is not None:
                candidates.update(posting)
        found = []
        for number in candidates:
            other = self._sets[number]
            if low <= len(other) <= high and (score := dice(grams, other)) >= self.threshold:
                found.append((score, number))
        return found


def _order(item: _Loaded) -> tuple[str, str]:
    assert item.issue is not None
    return (item.issue.date.isoformat() if item.issue.date else "", item.issue.id)


class _Entries(Sequence[tuple[_Loaded, Article]]):
    """(file, article) of each published title, kept as an array of file numbers and a list
    of articles: a 20-year archive's 165,000 titles without a tuple each."""

    __slots__ = ("_articles", "_items", "_numbers")

    def __init__(self, items: list[_Loaded]) -> None:
        self._items = items
        self._numbers = array.array("I")
        self._articles: list[Article] = []

    def append(self, item_number: int, article: Article) -> None:
        self._numbers.append(item_number)
        self._articles.append(article)

    def __len__(self) -> int:
        return len(self._articles)

    def __getitem__(self, number: int) -> tuple[_Loaded, Article]:  # type: ignore[override]
        return self._items[self._numbers[number]], self._articles[number]


def _published_elsewhere(loaded: list[_Loaded], selected: list[_Loaded]) -> list[Problem]:
    """W601: a title that an earlier published issue already ran (identical or nearly).

    The titles of published issues join the lookups issue by issue, oldest first, and each
    published issue is checked just before its own titles join: it meets only earlier
    issues, never itself. (Looking everything up in one index and discarding the issue's own
    titles afterwards was quadratic: an issue of 100,000 similar titles took hours.) Drafts
    are checked against every published issue.
    """
    published = sorted((i for i in loaded if i.issue is not None and i.issue.is_published), key=_order)
    entries = _Entries(published)
    entry_keys: list[str] = []
    first_entry: dict[int, int] = {}  # id(published item) -> its first entries index
    near_keys: list[str] = []
    # Entries index -> NearTitles number (-1: too short to be near) and back, as arrays:
    # a 20-year archive has 165,000 titles.
    near_of_entry = array.array("i")
    near_entry = array.array("I")
    for item_number, item in enumerate(published):
        assert item.issue is not None
        first_entry[id(item)] = len(entries)
        for article in item.issue.articles:
            key = _title_key(article.title)
            if not key:
                continue
            if key == article.title:
                key = article.title  # one string, not two (most titles have no punctuation)
            if len(key) >= _MIN_NEAR:
                near_of_entry.append(len(near_keys))
                near_entry.append(len(entries))
                near_keys.append(key)
            else:
                near_of_entry.append(-1)
            entries.append(item_number, article)
            entry_keys.append(key)
    near = NearTitles(_LazyPairs(near_keys), index_all=False)
    exact: dict[str, int | list[int]] = {}  # a title key -> its entries (one, nearly always)

    def index(upto: int, start: int) -> None:
        for number in range(start, upto):
            key = entry_keys[number]
            found = exact.get(key)
            if found is None:
                exact[key] = number
            elif isinstance(found, int):
                exact[key] = [found, number]
            else:
                found.append(number)
            if near_of_entry[number] >= 0:
                near.add(near_of_entry[number])

    chosen = {id(item) for item in selected if item.issue is not None}
    problems: list[Problem] = []
    indexed = 0
    position = 0
    while position < len(published):
        # Issues of one date and id (two files with one id) are checked before any joins.
        group_end = position
        while group_end < len(published) and _order(published[group_end]) == _order(published[position]):
            group_end += 1
        for item in published[position:group_end]:
            if id(item) in chosen:
                problems += _check_titles(item, entries, exact, near, near_entry)
        upto = first_entry[id(published[group_end])] if group_end < len(published) else len(entries)
        index(upto, indexed)
        indexed, position = upto, group_end
    for item in selected:
        if item.issue is not None and not item.issue.is_published:
            problems += _check_titles(item, entries, exact, near, near_entry)
    return problems


def _published_elsewhere_from(
    catalog: Catalog, selected: list[_Loaded], only: Collection[str] | None = None
) -> list[Problem]:
    """W601 for the selected issues (for the articles in `only`, when given), asking the
    catalog about every other file: the same answers as `_published_elsewhere` over the
    whole archive (tests compare them)."""
    problems: list[Problem] = []
    for item in selected:
        if item.issue is None:
            continue
        issue = item.issue
        before = _order(item) if issue.is_published else None
        for index, article in enumerate(issue.articles):
            if only is not None and article.id not in only:
                continue
            key = _title_key(article.title)
            if not key:
                continue
            best = catalog.already_published(
                key, before=before, exclude_issue=issue.id, exclude_path=item.path, threshold=NEAR_TITLE
            )
            if best is None:
                continue
            found = best.article
            problems.append(_published_problem(item, index, article, best.exact, found.issue or None, found))
    return problems


def _published_problem(
    item: _Loaded, index: int, article: Article, exact: bool, where: str | None, found: Article | ArticleEntry
) -> Problem:
    """W601: `article` (the `index`-th of `item`) is already in issue `where` as `found`."""
    how = "already" if exact else "nearly the same story already"
    return Problem(
        "W601",
        WARNING,
        item.issue_id,
        article.id or None,
        "title",
        str(item.path),
        item.lines.line("title", index),
        f"{_article_label(article.id or None, index)}{how} in {where} as "
        f"{found.id}: “{found.title}”; drop it unless it is a new development",
    )


def _check_titles(
    item: _Loaded,
    entries: Sequence[tuple[_Loaded, Article]],
    exact: dict[str, int | list[int]],
    near: NearTitles,
    near_entry: Sequence[int],
) -> list[Problem]:
    """W601 for one issue's titles against the titles indexed so far (other issues only)."""
    assert item.issue is not None
    issue = item.issue

    def other(number: int) -> bool:
        found, _ = entries[number]
        return found is not item and found.issue_id != issue.id

    problems = []
    for index, article in enumerate(issue.articles):
        key = _title_key(article.title)
        if not key:
            continue
        same = exact.get(key, [])
        best = next((n for n in ([same] if isinstance(same, int) else same) if other(n)), None)
        if best is None and len(key) >= _MIN_NEAR:
            scored = [
                (score, near_entry[n])
                for score, n in near.matches(_number_pairs(key))
                if other(near_entry[n])
            ]
            if scored:
                best = max(scored, key=lambda s: (s[0], -s[1]))[1]
        if best is None:
            continue
        other_item, found = entries[best]
        exact_title = _title_key(found.title) == key
        problems.append(_published_problem(item, index, article, exact_title, other_item.issue_id, found))
    return problems


# W603: the archive's order of articles (issue date, issue id, file, position); an article
# whose text an earlier one already has is reported, naming the first that has it.
_Place = tuple[str, str, tuple[str, ...], int]


def _same_body_problem(
    issue_id: str | None,
    article_id: str | None,
    index: int,
    path: Path,
    line: int | None,
    first: tuple[str, str, str],
) -> Problem:
    first_issue, first_id, first_title = first
    return Problem(
        "W603",
        WARNING,
        issue_id or None,
        article_id or None,
        "body",
        str(path),
        line,
        f"{_article_label(article_id or None, index)}the same text as {first_id or '?'} in "
        f"{first_issue or '?'} (“{first_title}”): drop one of them unless both belong",
    )


def _same_bodies_everywhere(archive: Archive, catalog: Catalog | None = None) -> list[Problem]:
    """W603 over the whole archive, from the catalog alone (the one mechanism for both
    whole-archive paths; no file is read and no body held): each article whose text an
    earlier one already has, naming the first, at the line the catalog keeps for it."""
    empty = body_digest("")
    if catalog is None:
        with archive.catalog() as opened:
            return _same_bodies_everywhere(archive, opened)
    rows = [row for row in catalog.repeated_bodies() if row[0] != empty]
    groups: dict[str, list[tuple[str, Path, str, str, int, str, str, int | None]]] = {}
    for row in rows:
        groups.setdefault(row[0], []).append(row)
    problems = []
    for group in groups.values():
        # The archive's order: issue date, issue id, file, position.
        first, *later = sorted(group, key=lambda r: (r[3], r[2], r[1].parts, r[4]))
        named = (first[2], first[5], first[6])
        for _, path, issue, _, pos, article, _, line in later:
            problems.append(_same_body_problem(issue, article, pos, path, line, named))
    return problems


def _same_bodies_from(
    catalog: Catalog, selected: list[_Loaded], only: Collection[str] | None = None
) -> list[Problem]:
    """W603 for the selected issues (for the articles in `only`, when given), asking the
    catalog about every other article (the same answers as over the whole archive)."""
    dates: dict[Path, str] | None = None
    problems = []
    for item in selected:
        if item.issue is None:
            continue
        mine_date = item.issue.date.isoformat() if item.issue.date else ""
        # Each body's digest once (not once per later article of the issue).
        digests = [body_digest(a.body) if a.body.strip() else None for a in item.issue.articles]
        for index, article in enumerate(item.issue.articles):
            if not article.body.strip() or (only is not None and article.id not in only):
                continue
            digest = digests[index]
            assert digest is not None
            # This file as it is read here (the catalog may hold an older copy of it).
            own = [
                (mine_date, item.issue.id, item.path.parts, pos, (item.issue.id, other.id, other.title))
                for pos, other in enumerate(item.issue.articles[:index])
                if digests[pos] == digest
            ]
            others = [e for e in catalog.same_body(digest) if e.path != item.path]
            if others and dates is None:
                dates = {e.path: e.date.isoformat() if e.date else "" for e in catalog.issues()}
            candidates = own + [
                ((dates or {}).get(e.path, ""), e.issue, e.path.parts, e.pos, (e.issue, e.id, e.title))
                for e in others
            ]
            mine: _Place = (mine_date, item.issue.id, item.path.parts, index)
            earlier = sorted(c for c in candidates if c[:4] < mine)
            if earlier:
                line = item.lines.line("body", index)
                problems.append(
                    _same_body_problem(item.issue_id, article.id, index, item.path, line, earlier[0][4])
                )
    return problems


def _duplicates(loaded: list[_Loaded]) -> list[Problem]:
    """E103 (issue ids) and E203 (article ids) across the whole archive."""
    problems: list[Problem] = []
    issues: dict[str, list[_Loaded]] = defaultdict(list)
    articles: dict[str, list[tuple[_Loaded, int]]] = defaultdict(list)
    for item in loaded:
        if item.issue is None:
            continue
        if item.issue.id:
            issues[item.issue.id].append(item)
        for index, article in enumerate(item.issue.articles):
            if article.id:
                articles[article.id].append((item, index))
    for issue_id, items in issues.items():
        if len(items) < 2:
            continue
        for item in items:
            others = ", ".join(str(o.path) for o in items if o is not item)
            problems.append(
                Problem(
                    "E103",
                    ERROR,
                    issue_id,
                    None,
                    "id",
                    str(item.path),
                    item.lines.line("id"),
                    f"issue id {issue_id!r} is also used by {others}: give each issue file its own id",
                )
            )
    for article_id, places in articles.items():
        if len(places) < 2:
            continue
        for item, index in places:
            others = ", ".join(
                f"{o.issue_id or o.path.stem} ({o.path}:{o.lines.line('id', i) or '?'})"
                for o, i in places
                if (o, i) != (item, index)
            )
            problems.append(
                Problem(
                    "E203",
                    ERROR,
                    item.issue_id,
                    article_id,
                    "id",
                    str(item.path),
                    item.lines.line("id", index),
                    f"article id {article_id!r} is also used in {others}: ids are unique in the archive "
                    "(the RSS guid derives from them); give the newer article the next free number",
                )
            )
    return problems


# =========================================================================== entry points


def _sort_key(p: Problem) -> tuple[str, int, str, str]:
    # Stable sort: problems on one line keep the order in which the text was read.
    return (p.path or "", p.line or 0, p.code, p.article or "")


def validate_report(
    archive: Archive,
    issue_ids: Sequence[str] | None = None,
    *,
    warnings: bool = True,
    keep: bool = True,
    cache: bool = False,
    articles: Collection[str] | None = None,
    codes: Collection[str] | None = None,
) -> Report:
    """Problems of the named issues (all when None) and the files checked.

    `warnings=False` reports errors only and skips the warning-only rules (copy-editing,
    layout residue, stories already published), which are most of the work: for `build`
    and `publish`, which only ask whether anything blocks publication.

    Named issues are read from their own files; their cross-issue checks (duplicate ids,
    titles already published) ask the catalog about every other file. The whole archive is
    read one file at a time; `keep=False` lets each file's text and bodies go once it is
    checked (`Report.issues` then holds issues without bodies), so the memory a 20-year
    archive needs is its titles, not its texts. `cache=True` (with `keep=False`, warnings
    on: the `validate` command) takes each unchanged file's result from validate_cache.py;
    `Report.issues` is then empty (the command reads only the problems and the files).
    `articles` (with named issues): the cross-issue warnings only for these article ids
    (`add`'s guard rails ask about the articles they wrote, not the whole issue again).
    `codes`: only problems of these codes are wanted (others may be reported or not): the
    text rules (copy-editing, layout residue, url warnings: most of checking a file) run
    only when one of their codes is asked for.
    """
    from .dates import today

    now = today(archive.settings.timezone)
    text = codes is None or not TEXT_CODES.isdisjoint(codes)
    if issue_ids:
        with archive.catalog() as catalog:
            selected = [_load(archive, path) for path in _selected_paths(archive, catalog, issue_ids)]
            others = _others_sharing_ids(archive, catalog, selected)
            titles = _published_elsewhere_from(catalog, selected, articles) if warnings else []
            titles += _same_bodies_from(catalog, selected, articles) if warnings else []
        loaded = sorted([*selected, *others], key=lambda item: item.path.parts)
        problems: list[Problem] = []
        for item in selected:
            problems += _check_file(item, archive.settings, now, warnings=warnings, text=text)
    elif warnings and not keep and cache:
        return _whole_archive_cached(archive, now)
    else:
        # One file at a time: checked, then kept only as far as the cross-issue rules need
        # it (unless the caller wants the issues whole, as build does).
        problems = []
        loaded = []
        for path in archive.issue_paths():
            item = _load(archive, path)
            problems += _check_file(item, archive.settings, now, warnings=warnings, text=text)
            loaded.append(item if keep else _slim(item))
        selected = loaded
        titles = _published_elsewhere(loaded, selected) if warnings else []
        titles += _same_bodies_everywhere(archive) if warnings else []
    paths = {str(item.path) for item in selected}
    problems += [p for p in _duplicates(loaded) if p.path in paths]
    problems += titles
    if not warnings:
        problems = [p for p in problems if p.is_error]
    return Report(
        sorted(problems, key=_sort_key),
        [item.path for item in selected],
        [(item.path, item.issue) for item in (selected if issue_ids else loaded)],
    )


def _whole_archive_cached(archive: Archive, now: dt.date) -> Report:
    """The whole archive's report (warnings included, `keep=False`) from the per-file
    results of validate_cache.py: files whose result is not usable are checked here; the
    cross-issue rules as validate_report's, over the stored ids and titles."""
    import json
    import os

    from .derived import digest_bytes, read_file
    from .validate_cache import Results

    results = Results(str(archive.root))
    try:
        stored = results.by_path()
        sharing = results.sharing_ids()
        digests = results.digests()
        place = results.place
    finally:
        results.close()
    day = now.isoformat()
    problems: list[Problem] = []
    slims: list[tuple[Path, bytes, Any]] = []
    root = str(archive.root)
    same = True  # every slim is of the bytes whose digest the results hold
    # The kept problems stay JSON text until W601's pass is over: as objects (a 20-year
    # archive has ~30,000 warnings) they would add to that pass's peak.
    kept: list[tuple[str, str]] = []
    for path in archive.issue_paths():
        relative = os.fsencode(os.path.relpath(path, root))
        result = stored.pop(relative, None)
        if result is not None and result.usable(day):
            if result.problems != "[]":
                kept.append((str(path), result.problems))
            slims.append((path, relative, result.slim))  # JSON text: read only when needed
        else:
            # Read as the store reads: the kept W601 answers name the digest of these bytes.
            found = read_file(str(path))
            data = found[2] if found is not None else None
            if data is None or digest_bytes(data) != digests.get(relative):
                same = False  # changed since the results saw it (or unreadable): keep nothing
            item = _load(archive, path, data)
            problems += _check_file(item, archive.settings, now)
            slims.append((path, relative, _slim_record(item)))
    del stored
    # E103/E203: only files that share an id can have them; read those in full.
    shared = [_load(archive, Path(root, os.fsdecode(p))) for p in sharing]
    problems += _duplicates(shared)
    checked = [path for path, _, _ in slims]
    with archive.catalog() as catalog:
        problems += _published_elsewhere_kept(catalog, place if same else None, slims, digests)
        del slims
        problems += _same_bodies_everywhere(archive, catalog)  # no file read
    kept.reverse()
    while kept:
        shown, text = kept.pop()
        problems += [_from_record(record, shown) for record in json.loads(text)]
    return Report(sorted(problems, key=_sort_key), checked)


def _slim_value(slim: Any) -> Any:
    import json

    return json.loads(slim) if isinstance(slim, str) else slim


def _entries(slim: Any) -> tuple[str, str]:
    """What a file gives the other files' W601 checks: a digest of its published titles
    with everything their answers name or are ordered by ('' for a draft or a broken file),
    and the titles' keys (one per line)."""
    import hashlib
    import json

    if slim is None or slim[2] != "published":
        return "", ""
    issue_id, date, status, articles = slim
    titles = [(a[0], a[1]) for a in articles]
    data = json.dumps([issue_id, date, status, titles], ensure_ascii=False)
    digest = hashlib.blake2b(data.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    keys = "\n".join(key for _, title in titles if (key := _title_key(title)))
    return digest, keys


def _item_entries(item: _Loaded) -> tuple[str, str]:
    """`_entries` of a file's slim, from the file as `_loaded_from_slim` made it."""
    issue = item.issue
    if issue is None:
        return "", ""
    date = issue.date.isoformat() if issue.date else None
    return _entries([issue.id, date, issue.status, [[a.id, a.title] for a in issue.articles]])


# More changed files than this (or a share of the archive) and W601 is computed over every
# title at once: asking the catalog costs ~3 ms a title, the whole pass ~3 s per 1,000 issues.
_INCREMENTAL_FILES = 24


def _published_elsewhere_kept(
    catalog: Catalog, place: str | None, slims: list[tuple[Path, bytes, Any]], digests: dict[bytes, str]
) -> list[Problem]:
    """W601 over the whole archive from the answers kept per file (validate_cache.Answers):
    files changed since, and the files holding a title the same as or near one that the
    changes added or removed, are asked about again through the catalog; the rest keep
    their answers. Without a usable basis (the first run, many changes, or a catalog that
    saw another state of the archive than the results did), every title is compared at
    once (`_published_elsewhere`) and the answers kept for next time; `slims` then lose
    their JSON (None) as it is decoded. `place`: the results' store (None: keep nothing)."""
    import json

    from .validate_cache import open_answers

    current = {relative: (path, slim) for path, relative, slim in slims}
    # The catalog and the results must describe the same files, else neither the
    # incremental answer nor a kept one would be the archive's.
    consistent = place is not None and digests.keys() == current.keys() and catalog.digests() == digests
    answers = open_answers(place) if place is not None and consistent else None
    try:
        basis = answers.basis() if answers is not None else {}
        limit = max(_INCREMENTAL_FILES, len(slims) // 50)
        changed = [r for r in current if r not in basis or basis[r].digest != digests[r]]
        removed = [r for r in basis if r not in current]
        incremental = bool(basis) and len(changed) + len(removed) <= limit
        fresh: dict[bytes, tuple[str, str]] = {}
        affected = set(changed)
        if incremental:
            # The titles whose answers may differ: those the changes added or removed.
            keys: set[str] = set()
            for relative in changed:
                fresh[relative] = entries, new_keys = _entries(_slim_value(current[relative][1]))
                old = basis.get(relative)
                if old is None or old.entries != entries:
                    keys.update(new_keys.split("\n") if new_keys else ())
                    keys.update(old.keys.split("\n") if old is not None and old.keys else ())
            for relative in removed:
                keys.update(basis[relative].keys.split("\n") if basis[relative].keys else ())
            if keys:
                affected |= catalog.files_with_titles_like(keys, NEAR_TITLE) & current.keys()
            incremental = len(affected) <= limit
        if not incremental:
            # Every title at once. Each file's JSON is let go as soon as it is decoded (the
            # caller reads only the paths of `slims` afterwards): never both in memory.
            current.clear()
            loaded = []
            for number, (path, relative, slim) in enumerate(slims):
                loaded.append(_loaded_from_slim(path, _slim_value(slim)))
                slims[number] = (path, relative, None)
            found = _published_elsewhere(loaded, loaded)
            if answers is not None:
                mine: dict[str, list[list[Any]]] = defaultdict(list)
                for problem in found:
                    mine[problem.path or ""].append(_record(problem, problem.path))
                answers.clear()
                for item, (path, relative, _) in zip(loaded, slims, strict=True):
                    entries, keys_text = _item_entries(item)
                    records = json.dumps(mine.get(str(path), []), ensure_ascii=False)
                    answers.put(relative, digests[relative], entries, keys_text, records)
                answers.commit()
            return found
        assert answers is not None
        for relative in removed:
            answers.remove(relative)
        for relative in sorted(affected):
            path, slim = current[relative]
            found = _published_elsewhere_from(catalog, [_loaded_from_slim(path, _slim_value(slim))])
            entries, keys_text = fresh[relative] if relative in fresh else _entries(_slim_value(slim))
            records = json.dumps([_record(p, str(path)) for p in found], ensure_ascii=False)
            answers.put(relative, digests[relative], entries, keys_text, records)
        problems = [
            _from_record(record, str(current[relative][0]))
            for relative, records in answers.problems()
            for record in json.loads(records)
        ]
        answers.commit()
        return problems
    finally:
        if answers is not None:
            answers.close()


def _record(problem: Problem, path: str | None) -> list[Any]:
    """A problem as stored (its path left out when it is the file's own, `path`)."""
    p = problem
    return [
        p.code,
        p.severity,
        p.issue,
        p.article,
        p.field,
        None if p.path == path else p.path,
        p.line,
        p.message,
    ]


def _from_record(record: list[Any], path: str | None) -> Problem:
    code, severity, issue, article, field_name, own, line, message = record
    return Problem(code, severity, issue, article, field_name, path if own is None else own, line, message)


def _slim_record(item: _Loaded) -> Any:
    """What the cross-issue rules need of a checked file, as JSON: None when unreadable,
    else [id, date, status, [[article id, title, title line], ...]]."""
    if item.issue is None:
        return None
    issue = item.issue
    return [
        issue.id,
        issue.date.isoformat() if issue.date else None,
        issue.status,
        [[a.id, a.title, item.lines.line("title", i)] for i, a in enumerate(issue.articles)],
    ]


def _slim_issue(slim: Any) -> Issue | None:
    if slim is None:
        return None
    issue_id, date, status, articles = slim
    return Issue(
        issue_id,
        date=dt.date.fromisoformat(date) if date else None,
        status=status,
        articles=tuple(_SlimArticle(a[0], a[1]) for a in articles),  # type: ignore[misc]
    )


class _TitleLines:
    """The title lines of a file's articles, as stored (for W601's messages)."""

    __slots__ = ("_titles",)

    def __init__(self, titles: list[int | None]) -> None:
        self._titles = titles

    def line(self, key: str | None, article: int | None = None) -> int | None:
        if key == "title" and article is not None and article < len(self._titles):
            return self._titles[article]
        return None


def _loaded_from_slim(path: Path, slim: Any) -> _Loaded:
    issue = _slim_issue(slim)
    lines = _TitleLines([a[2] for a in slim[3]] if slim is not None else [])
    return _Loaded(path, issue, None, lines=lines)  # type: ignore[arg-type]


def check_file_for_cache(
    archive: Archive, path: Path, data: bytes | None, now: dt.date
) -> tuple[list[list[Any]], Any, list[tuple[str, str]], str]:
    """What validate_cache.py keeps of one file: its problems (as `_record`s), what the
    cross-issue rules need (`_slim_record`), its ids (("i", issue id), ("a", article id)
    each time one is used) and its latest date ('' when it has none)."""
    item = _load(archive, path, data)
    own = str(path)
    problems = [_record(p, own) for p in _check_file(item, archive.settings, now)]
    ids: list[tuple[str, str]] = []
    dates: list[str] = []
    if item.issue is not None:
        issue = item.issue
        if issue.id:
            ids.append(("i", issue.id))
        if issue.date is not None:
            dates.append(issue.date.isoformat())
        for article in issue.articles:
            if article.id:
                ids.append(("a", article.id))
            if article.date is not None:
                dates.append(article.date.isoformat())
    return problems, _slim_record(item), ids, max(dates, default="")


def _others_sharing_ids(archive: Archive, catalog: Catalog, selected: list[_Loaded]) -> list[_Loaded]:
    """Other files that use an issue id or an article id of the selected ones (read in full:
    the messages name their lines). Usually none."""
    mine = {item.path for item in selected}
    paths: set[Path] = set()
    for item in selected:
        if item.issue is None:
            continue
        if item.issue.id:
            paths.update(e.path for e in catalog.issue_files(item.issue.id))
        for article in item.issue.articles:
            if article.id:
                paths.update(a.path for a in catalog.find_articles(article.id))
    return [_load(archive, path) for path in sorted(paths - mine)]


def validate_text(archive: Archive, path: Path, data: bytes) -> list[Problem]:
    """The problems of the issue file `path` if it held `data` (`edit ISSUE` checks the text
    before saving it): its own rules, and its cross-issue checks against the other files
    through the catalog, as `validate_report` checks a named issue."""
    from .dates import today

    item = _load(archive, path, data)
    with archive.catalog() as catalog:
        others = _others_sharing_ids(archive, catalog, [item])
        titles = _published_elsewhere_from(catalog, [item]) + _same_bodies_from(catalog, [item])
    problems = _check_file(item, archive.settings, today(archive.settings.timezone))
    loaded = sorted([item, *others], key=lambda each: each.path.parts)
    problems += [p for p in _duplicates(loaded) if p.path == str(path)]
    return sorted(problems + titles, key=_sort_key)


def validate_archive(archive: Archive, issue_ids: Sequence[str] | None = None) -> list[Problem]:
    """All problems in the archive (or only in the named issues; cross-issue rules such as
    duplicate article ids and 'already published' still look at the whole archive). Unknown
    issue id -> NotFoundError. Never raises for a broken file: it becomes a Problem."""
    return validate_report(archive, issue_ids).problems


# =========================================================================== fixes


@record(frozen=True)
class Change:
    """One fix applied to a file, for the "what changed" listing."""

    code: str
    issue: str
    article: str | None
    field: str
    line: int | None
    before: str
    after: str
    message: str


@record(frozen=True)
class FileFix:
    """The fixes for one file: old and new text, the changes, or why it was skipped."""

    path: Path
    issue: str | None
    old_text: str
    new_text: str
    changes: tuple[Change, ...] = ()  # at most MAX_PER_FIELD per code in each field
    skipped: str | None = None
    total: int = 0  # every fix, listed or not

    @property
    def unlisted(self) -> int:
        return self.total - len(self.changes)

    def diff(self) -> str:
        """A unified diff from the old text to the new one (empty when nothing changes)."""
        if self.skipped or self.old_text == self.new_text:
            return ""
        return "".join(
            difflib.unified_diff(
                self.old_text.splitlines(keepends=True),
                self.new_text.splitlines(keepends=True),
                fromfile=f"a/{self.path}",
                tofile=f"b/{self.path}",
            )
        )


def _fix_one(archive: Archive, path: Path) -> FileFix | None:
    from dataclasses import replace

    """What the fixes would make of one file; None when there is nothing to fix."""
    item = _load(archive, path)
    if item.failure is not None or item.issue is None or item.text is None:
        return None  # the report names the error; there is no text to fix
    issue = item.issue
    checker = _Checker(item, archive.settings)
    changes: list[Change] = []
    total = 0
    articles: list[Article] = []
    bad = {(fp.article, fp.field) for fp in item.structural}
    for index, article in enumerate(issue.articles):
        updates: dict[str, str] = {}
        for name in ("title", "body"):
            value: str = getattr(article, name)
            if (index, name) in bad or not value:
                continue
            edited = copyedit(value, MAX_PER_FIELD)
            if edited.text == value:
                continue
            updates[name] = edited.text
            total += sum(edited.counts.values())
            for edit in edited.edits:
                changes.append(
                    Change(
                        edit.code,
                        issue.id,
                        article.id or None,
                        name,
                        checker.value_line(name, index, value, edit.offset),
                        edit.before,
                        edit.after,
                        edit.message,
                    )
                )
        url_fix = _url_fix(article, index, bad, issue.id, checker)
        if url_fix is not None:
            updates["url"] = url_fix.after
            changes.append(url_fix)
            total += 1
        articles.append(replace(article, **updates) if updates else article)  # type: ignore[arg-type]
    if not changes:
        return None
    skipped: str | None = None
    new_text: str | None = item.text
    if item.structural:
        skipped = "has structural errors; fix them first"
    else:
        new_text = _rewrite(item.text, issue, replace(issue, articles=tuple(articles)))
        if new_text is None:
            skipped = "its strings are not written the way ecdigest writes them; fix these by hand"
    return FileFix(
        path, issue.id, item.text, new_text or item.text, tuple(changes), skipped=skipped, total=total
    )


def _url_fix(
    article: Article, index: int, bad: set[tuple[int | None, str]], issue_id: str, checker: _Checker
) -> Change | None:
    """W501's fix: the article's url as urls.clean_url prints it."""
    if article.url is None or (index, "url") in bad or not _is_http_url(article.url):
        return None
    from .urls import inspect

    cleaning = inspect(article.url)
    if not cleaning.changed:
        return None
    line = checker.item.lines.line("url", index)
    message = f"removed {', '.join(cleaning.removed)}"
    return Change("W501", issue_id, article.id or None, "url", line, article.url, cleaning.url, message)


def _rewrite(text: str, old: Issue, new: Issue) -> str | None:
    """The file's text with only the changed strings replaced, or None if that is not safe.

    A file in ecdigest's own layout is simply re-encoded; a hand-edited one (comments,
    other quoting) gets each changed `key = "…"` replaced where it appears exactly once.
    The result is parsed back and must decode to exactly the fixed issue.
    """
    import tomli_w

    from .archive import parse_toml
    from .codec import decode_issue, encode_issue

    if encode_issue(old) == text:
        result = encode_issue(new)
    else:
        result = text
        for before, after in zip(old.articles, new.articles, strict=True):
            for name in ("title", "body", "url"):
                a, b = getattr(before, name), getattr(after, name)
                if a == b or a is None or b is None:
                    continue
                old_repr = tomli_w.dumps({name: a}, multiline_strings="\n" in a).rstrip("\n")
                new_repr = tomli_w.dumps({name: b}, multiline_strings="\n" in b).rstrip("\n")
                if result.count(old_repr) != 1:
                    return None
                result = result.replace(old_repr, new_repr)
    try:
        decoded, problems = decode_issue(parse_toml(result, Path("-")), result)
    except InputError:
        return None
    if problems or decoded != new:
        return None
    return result


def _fix_paths(archive: Archive, issue_ids: Sequence[str] | None) -> list[Path]:
    if not issue_ids:
        return archive.issue_paths()
    with archive.catalog() as catalog:
        return _selected_paths(archive, catalog, issue_ids)


def plan_fixes(archive: Archive, issue_ids: Sequence[str] | None = None) -> list[FileFix]:
    """The fixes `apply_fixes` would make, without writing anything (for --dry-run)."""
    return [fix for path in _fix_paths(archive, issue_ids) if (fix := _fix_one(archive, path)) is not None]


def apply_fixes(archive: Archive, issue_ids: Sequence[str] | None = None) -> list[FileFix]:
    """Apply the safe fixes under the archive lock, re-reading each file inside it; atomic writes."""
    from .fileio import atomic_write

    done: list[FileFix] = []
    with archive.locked():
        for path in _fix_paths(archive, issue_ids):
            fix = _fix_one(archive, path)
            if fix is None:
                continue
            if fix.skipped is None:
                target = path.resolve() if path.is_symlink() else path
                archive.before_write(target)
                atomic_write(target, fix.new_text.encode("utf-8"))
            done.append(fix)
        fixed = [fix for fix in done if fix.skipped is None]
        if fixed:
            ids = [fix.issue for fix in fixed if fix.issue]
            count = sum(fix.total for fix in fixed)
            archive.change().describe(
                "fix",
                f"fix {', '.join(ids) or 'issues'} ({count} safe fix{'es' if count != 1 else ''})",
                issues=ids,
            )
    return done
