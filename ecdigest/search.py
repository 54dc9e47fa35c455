"""Search across issues: the query language, filters, ranking, snippets and the two output forms.

What a term matches: an article matches a term when the term, folded, is a substring of the
article's folded title or body (`--in` narrows that to one of them). Folding (`query.key`)
is the text as `show` presents it (lines of a paragraph joined, invisible characters gone),
then NFKC, case folding and NFKC again, with every run of whitespace or control characters
turned into one space, and every Traditional character replaced by its Simplified key
(zhkey.py): `５Ｇ` finds `5G`, `chatgpt` finds `ChatGPT`, a hard-wrapped `跨境\n电商` is
found by 跨境电商, `跨境電商` finds `跨境电商` and the other way round, and Chinese needs no
word segmentation because a term is a plain substring. Snippets and highlights show the
article's own text. The SQLite index (`search_index.py`) answers exactly this question;
tests compare it with a brute-force scan.

The query language (`query.py`; all words of the command line are joined with spaces):
- `跨境 电商`: terms separated by spaces must all match (AND);
- `"supply chain"`: a quoted phrase is one term, spaces included;
- `-直播` or `-"直播 带货"`: the article must not match the term;
- `直播 OR 短视频`: either term; OR binds tighter than the implicit AND, so
  `跨境 直播 OR 短视频` means 跨境 AND (直播 OR 短视频). A literal OR is written `"OR"`.
Repeated terms and filter values count once; more than 64 different terms, or 100 values
of one filter, is one error line (exit 2).

Filters: `--section` (a section's name; several: any of them), `--source` (text in the
outlet as printed, `央广网` finds `“央广网”`), `--since`/`--until` (inclusive, on the issue's
date, or the article's when the issue has none), `--issue` (ids), `--in`. Ranking: bm25
with titles weighted 3x, equal scores newest first, over the matches when there are at most
2,000 (search_index.RANK_LIMIT), else over the newest 2,000 (and every match of the date
where they end), the older ones following newest first; a one-character term in more than
2,000 articles puts the titles that have it first. `--sort date` puts newest issues first.
JSON's `score` is bm25 where it was computed, 0 where not.
`--limit` (default 20, 0 for all) applies to both output forms; the total is always counted.
An issue file that cannot be read (bad TOML, not UTF-8) is skipped with a warning on
stderr naming file and line, on every search until it is fixed; one with field problems is
indexed as far as it could be read, with a warning too. The search still succeeds (exit 0):
one broken file must not hide the rest of twenty years; `ecdigest validate` is the check.

This module is on the path of every `ecdigest search`, which must start fast: it imports
nothing beyond the standard library's cheapest modules at load time, and the project's
errors only when it raises one.
"""

from __future__ import annotations

import unicodedata

from .query import Query, fold, has_surrogates, is_ignorable, key, parse_query, reader_text

__all__ = ["Query", "SearchOptions", "SearchResult", "fold", "key", "parse_query", "search"]

# `typing` costs milliseconds to import and this module is on every search's start-up path.
TYPE_CHECKING = False

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Sequence
    from typing import Any

    from .derived import ScanInThread
    from .errors import EcdigestError

WITHIN = ("title", "body", "all")
SORTS = ("relevance", "date")
FORMATS = ("text", "json")
DEFAULT_LIMIT = 20
# About one terminal line of snippet, in display columns (a Chinese character takes two).
SNIPPET_COLUMNS = 76
SNIPPET_BEFORE = 16
# More values than this for one filter come from a script gone wrong, not from a person.
MAX_FILTER_VALUES = 100


def _error(kind: str, message: str, hint: str | None = None) -> EcdigestError:
    from . import errors

    cls: type[EcdigestError] = getattr(errors, kind)
    return cls(message, hint=hint)


# --------------------------------------------------------------------------- options and results


class SearchOptions:
    """What to search for and how to present it; values as the command line gave them."""

    __slots__ = (
        "issues",
        "limit",
        "query",
        "scores",
        "sections",
        "since",
        "sort",
        "sources",
        "until",
        "within",
    )

    def __init__(
        self,
        query: Query,
        *,
        sections: Sequence[str] = (),
        sources: Sequence[str] = (),
        since: str | None = None,
        until: str | None = None,
        issues: Sequence[str] = (),
        within: str = "all",
        limit: int = DEFAULT_LIMIT,
        sort: str = "relevance",
        scores: bool = True,
    ) -> None:
        """`scores=False`: the output shows no scores (text), so `--sort date` ranks nothing."""
        if within not in WITHIN:
            raise _error("UsageError", f"--in must be one of {', '.join(WITHIN)}, not {within!r}")
        if sort not in SORTS:
            raise _error("UsageError", f"--sort must be one of {', '.join(SORTS)}, not {sort!r}")
        if limit < 0:
            raise _error("UsageError", f"--limit must be 0 (no limit) or more, not {limit}")
        self.query = query
        self.sections = _values("--section", sections)
        self.sources = _values("--source", sources)
        self.since = _values("--since", [since])[0] if since is not None else None
        self.until = _values("--until", [until])[0] if until is not None else None
        self.issues = _values("--issue", issues)
        self.within = within
        # A limit past SQLite's 64-bit integers (`--limit 99999999999999999999999`) shows all.
        self.limit = limit if limit < 2**63 else 0
        self.sort = sort
        self.scores = scores


def _values(option: str, values: Sequence[str]) -> tuple[str, ...]:
    """A filter's values, each once; text only (bytes that were not UTF-8 are refused)."""
    unique = tuple(dict.fromkeys(values))
    for value in unique:
        if has_surrogates(value):
            raise _error(
                "UsageError",
                f"{option}: the value is not valid text (bytes that are not UTF-8)",
                "type it again, or check the shell's locale (e.g. LANG=C.UTF-8)",
            )
    if len(unique) > MAX_FILTER_VALUES:
        raise _error(
            "UsageError",
            f"{option} was given {len(unique)} different values; a search takes at most {MAX_FILTER_VALUES}",
            "split it into several searches",
        )
    return unique


class Hit:
    """One matching article, ready to print."""

    __slots__ = (
        "article",
        "date",
        "issue",
        "score",
        "section",
        "snippet",
        "snippet_terms",
        "source",
        "title",
        "title_terms",
    )

    def __init__(
        self,
        *,
        issue: str,
        article: str,
        title: str,
        date: str | None,
        section: str,
        source: str,
        score: float,
        snippet: str,
        title_terms: tuple[str, ...] = (),
        snippet_terms: tuple[str, ...] = (),
    ) -> None:
        self.issue = issue
        self.article = article
        self.title = title
        self.date = date
        self.section = section
        self.source = source
        self.score = score
        self.snippet = snippet
        self.title_terms = title_terms
        self.snippet_terms = snippet_terms

    def title_spans(self) -> list[tuple[int, int]]:
        """Where the title shows a match: (start, end) offsets to highlight."""
        return find_spans(self.title, self.title_terms)

    def snippet_spans(self) -> list[tuple[int, int]]:
        return find_spans(self.snippet, self.snippet_terms)

    def as_json(self) -> dict[str, Any]:
        return {
            "issue": self.issue,
            "article": self.article,
            "title": self.title,
            "date": self.date,
            "section": self.section,
            "source": self.source,
            # Six significant digits: bm25 of a term in most articles is tiny, not zero.
            "score": float(f"{self.score:.6g}"),
            "snippet": self.snippet,
        }


class SearchResult:
    """The hits shown (at most `limit`), how many matched in all, and warnings about the archive."""

    __slots__ = ("hits", "total", "warnings")

    def __init__(self, hits: list[Hit], total: int, warnings: list[str]) -> None:
        self.hits = hits
        self.total = total
        self.warnings = warnings


# --------------------------------------------------------------------------- running a search


def search(root: str, options: SearchOptions, *, scanning: ScanInThread | None = None) -> SearchResult:
    """Bring the archive's index up to date and answer `options` from it (`scanning`: a
    scan of `root` the caller started, `derived.ScanInThread`).

    Without the cyclic garbage collector while it runs: a search makes no cycles worth
    collecting, and the thousands of objects it makes (the archive's scan, the index's
    file rows, the hits) set off a collection every 700 (~1 ms of a warm search)."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        return _search(root, options, scanning)
    finally:
        if enabled:
            gc.enable()


def _search(root: str, options: SearchOptions, scanning: ScanInThread | None) -> SearchResult:
    """The answer from the index as it is, while the archive is scanned in a thread (the
    scan's 1,000 stats and the query overlap), kept only if the scan then shows the index
    was up to date (a file changed: the index is brought up to date and asked again, as
    is any error met before the scan said the index was current)."""
    from . import search_index
    from .derived import Corrupt, discard

    index, early = search_index.open_unchecked(root, scanning)
    if index is not None:
        try:
            result = _answer(index, options)
        except Exception:
            result = None  # asked again below, from an index known to be up to date
        try:
            if result is not None and early.fresh():
                return result
        finally:
            early.close()
    for attempt in (1, 2):
        index = search_index.open_index(root, early if attempt == 1 else None)
        try:
            return _answer(index, options)
        except Corrupt as exc:
            # Damaged on disk (a crash, a bad copy): the index is a cache, so rebuild it once.
            if attempt == 2:
                raise _error("InputError", f"the search index is damaged: {exc.place}", "delete it") from None
            discard(exc.place)
        finally:
            index.close()
    raise AssertionError("unreachable")  # pragma: no cover


def _answer(index: Any, options: SearchOptions) -> SearchResult:
    filters = _resolve_filters(index, options)
    rows, total = index.query(
        options.query,
        within=options.within,
        sort=options.sort,
        limit=options.limit,
        scores=options.scores,
        **filters,
    )
    hits = [_hit(row, options) for row in rows]
    return SearchResult(hits, total, index.warnings())


def _resolve_filters(index: Any, options: SearchOptions) -> dict[str, Any]:
    """Command-line filter values -> exact values for the index; UsageError for unknown ones."""
    sections: list[str] = []
    if options.sections:
        known = list(index.settings_sections())
        for name in index.sections_in_use():
            if name not in known:
                known.append(name)
        by_fold = {key(name): name for name in known}
        for wanted in options.sections:
            found = by_fold.get(key(wanted))
            if found is None:
                raise _error(
                    "UsageError",
                    f"unknown section {wanted!r}",
                    f"sections: {', '.join(known)}" if known else "the archive has no articles yet",
                )
            sections.append(found)
    issues: list[str] = []
    for issue_id in options.issues:
        if not index.has_issue(issue_id):
            raise _error("NotFoundError", f"no issue {issue_id!r} in the archive", "see `ecdigest list`")
        issues.append(issue_id)
    tz = None
    since = until = None
    if options.since is not None or options.until is not None:
        tz = index.settings_timezone()
        since = _date(options.since, "--since", tz)
        until = _date(options.until, "--until", tz)
        if since and until and since > until:
            raise _error("UsageError", f"--since {since} is after --until {until}")
    return {
        "sections": list(dict.fromkeys(sections)),
        "sources": list(dict.fromkeys(folded for s in options.sources if (folded := key(s)))),
        "issues": issues,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
    }


def _date(value: str | None, option: str, tz: str | None) -> dt.date | None:
    if value is None:
        return None
    text = value.strip()
    # The canonical form is parsed here directly: the general parser (dates.parse_date, which
    # gives the same answer for it) costs a few milliseconds of imports on every search.
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and (text[:4] + text[5:7] + text[8:]).isdigit():
        import datetime as dt

        try:
            return dt.date(int(text[:4]), int(text[5:7]), int(text[8:]))
        except ValueError:
            pass
    from .dates import parse_date
    from .errors import EcdigestError

    try:
        return parse_date(text, tz=tz)
    except EcdigestError as exc:
        exc.message = f"{option}: {exc.message}"
        raise


# --------------------------------------------------------------------------- snippets


def _hit(row: Any, options: SearchOptions) -> Hit:
    issue, article, title, date, section, source, score, body = row
    terms = options.query.positive_terms
    body_terms = terms if options.within != "title" else ()
    return Hit(
        issue=issue,
        article=article,
        title=title,
        date=date,
        section=section,
        source=source,
        score=score,
        snippet=make_snippet(body, body_terms),
        title_terms=terms if options.within != "body" else (),
        snippet_terms=body_terms,
    )


def _char_columns(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def _folded_with_offsets(text: str) -> tuple[str, list[int]]:
    """`text` folded character by character, and for each folded character its source index.

    Whitespace and control characters become one space; characters nobody sees vanish.
    Folding one character at a time can differ from folding the whole text around combining
    marks; that only moves a highlight, never what matches (the index decides that).
    """
    out: list[str] = []
    where: list[int] = []
    space = True
    for index, char in enumerate(text):
        if is_ignorable(char):
            continue
        piece = key(char) if not char.isspace() else ""
        if not piece:
            if not space:
                out.append(" ")
                where.append(index)
                space = True
            continue
        for folded in piece:
            out.append(folded)
            where.append(index)
        space = False
    return "".join(out), where


def find_spans(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Where the (folded) terms occur in `text`, as merged (start, end) offsets into `text`."""
    if not terms or not text:
        return []
    folded, where = _folded_with_offsets(text)
    spans: list[tuple[int, int]] = []
    for term in terms:
        start = folded.find(term)
        while start >= 0:
            end = start + len(term)
            spans.append((where[start], where[end - 1] + 1))
            start = folded.find(term, start + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _first_match(text: str, terms: Sequence[str]) -> int:
    """Offset in `text` of the earliest term occurrence, or -1."""
    best = -1
    lowered = text.lower()
    exact = len(lowered) == len(text)
    missing = []
    for term in terms:
        position = lowered.find(term) if exact else -1
        if position < 0:
            missing.append(term)
        elif best < 0 or position < best:
            best = position
    if missing:
        # Full-width forms, compatibility characters and the like (or not in the text at all:
        # the match was in the title). `key(text)` is `fold`, then the script key, whose
        # table costs ~0.7 ms to build: asked only when every character of a term has a
        # character in the folded text that keys to it.
        folded = fold(text)
        missing = [term for term in missing if _may_hold(folded, term)]
        if missing:
            from .zhkey import fold as script_key

            whole = script_key(folded)
            missing = [term for term in missing if term in whole]
    if missing:
        spans = find_spans(text, missing)
        if spans and (best < 0 or spans[0][0] < best):
            best = spans[0][0]
    return best


def _sources(char: str) -> str:
    """The characters whose script key is `char` (zhkey's table, read as a string)."""
    from .zhkey import PAIRS

    found = [] if _is_keyed(char) else [char]
    start = 1
    while (at := PAIRS.find(char, start)) >= 0:
        if at % 2 == 1:
            found.append(PAIRS[at - 1])
        start = at + 1
    return "".join(found)


def _is_keyed(char: str) -> bool:
    """Whether zhkey's table replaces `char` by another character."""
    from .zhkey import PAIRS

    start = 0
    while (at := PAIRS.find(char, start)) >= 0:
        if at % 2 == 0:
            return True
        start = at + 1
    return False


def _may_hold(folded: str, term: str) -> bool:
    """False when the script key of `folded` cannot hold `term`: a character of the term
    that no character of `folded` keys to."""
    return all(any(source in folded for source in _sources(char)) for char in set(term))


def make_snippet(body: str, terms: Sequence[str]) -> str:
    """About one line of `body` around the first match of `terms` (its start if none),
    its lines joined as `show` joins them."""
    flat = " ".join(reader_text(body).split())
    if not flat:
        return ""
    first = _first_match(flat, terms) if terms else -1
    start = 0
    if first > 0:
        start = first
        budget = SNIPPET_BEFORE
        while start > 0:
            width = _char_columns(flat[start - 1])
            if width > budget:
                break
            budget -= width
            start -= 1
    end = start
    budget = SNIPPET_COLUMNS
    while end < len(flat):
        width = _char_columns(flat[end])
        if width > budget:
            break
        budget -= width
        end += 1
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(flat) else ""
    return f"{prefix}{flat[start:end].strip()}{suffix}"


# --------------------------------------------------------------------------- output


def count_line(result: SearchResult) -> str:
    shown, total = len(result.hits), result.total
    if total == 0:
        return "no articles match"
    noun = "article matches" if total == 1 else "articles match"
    if shown < total:
        return f"{total} {noun}; showing {shown} (--limit 0 shows all)"
    return f"{total} {noun}"


def hit_lines(hit: Hit) -> tuple[str, str, int]:
    """The head line, the snippet line, and where the title starts in the head line."""
    from .terminal import printable

    def shown(text: str) -> str:
        return printable(text, one_line=True)

    head = f"{shown(hit.issue)}  {hit.date or '-'}  {shown(hit.section) or '-'}  "
    return head + shown(hit.title), "    " + shown(hit.snippet), len(head)


def render_text(result: SearchResult) -> str:
    """One hit per article: issue, date, section, title; the snippet below; then the count."""
    lines: list[str] = []
    for hit in result.hits:
        head, snippet, _ = hit_lines(hit)
        lines.append(head)
        if hit.snippet:
            lines.append(snippet)
    lines.append(count_line(result))
    return "\n".join(lines) + "\n"


def render_json(result: SearchResult) -> str:
    """`[{"issue", "article", "title", "date", "section", "source", "score", "snippet"}]`."""
    import json

    # The same form as export/jsonout.dumps (UTF-8, indent 2, newline) without its imports.
    return json.dumps([hit.as_json() for hit in result.hits], ensure_ascii=False, indent=2) + "\n"


def render_rich(result: SearchResult, write: Callable[[Any], None]) -> None:
    """The text form with matches highlighted, through rich (only used on a terminal)."""
    from rich.text import Text

    for hit in result.hits:
        head, snippet, title_at = hit_lines(hit)
        line = Text(head)
        line.stylize("bold", title_at)
        # Highlights are offsets into the text as stored: shown only where escaping
        # control characters did not move them.
        if hit.title.isprintable():
            for start, end in hit.title_spans():
                line.stylize("bold yellow", title_at + start, title_at + end)
        write(line)
        if hit.snippet:
            below = Text(snippet)
            if hit.snippet.isprintable():
                for start, end in hit.snippet_spans():
                    below.stylize("bold yellow", 4 + start, 4 + end)
            write(below)
    write(Text(count_line(result), style="dim"))


def archive_root(option: str | None) -> str:
    """`--archive`, else `$ECDIGEST_ARCHIVE`, else the nearest folder upward with
    `ecdigest.toml`, else `./issues` (as `archive.resolve_root`)."""
    from .derived import archive_root as root

    return root(option)
