"""What search compares: the text as a reader sees it (`fold`), and the query language.

One floor below `search.py` (output, snippets) and `search_index.py` (SQLite), which both
need it: one folding function, used for the indexed texts and for the query terms alike.

`fold(text)` is the text as `ecdigest show` presents it, reduced to what a match ignores:

1. Line breaks inside a paragraph are joined the way the text renderer joins them
   (`textwrap_cjk.join_lines`): a break between two wide (Chinese) characters disappears,
   any other becomes a space; paragraphs are separated by a space. So `跨境\\n电商` in a
   hard-wrapped body is found by 跨境电商, as a reader sees it.
2. Characters nobody sees are removed: the Unicode default-ignorable code points (soft
   hyphen U+00AD, zero-width space, joiners and marks U+200B-U+200F, U+2060-U+206F, the
   byte order mark U+FEFF, variation selectors, tags...). `跨\\u200b境` is 跨境.
3. NFKC, case folding, NFKC again: `５Ｇ` is `5g`, `ChatGPT` is `chatgpt`.
4. Every run of whitespace and control characters becomes one space; the ends are trimmed.

`key(text)` is what search compares, texts and terms alike: `fold`, then every Traditional
character replaced by its Simplified key, one for one (zhkey.py): 跨境電商 is 跨境电商, so a
query in either script finds an article in either. (`fold` alone keeps the script: the web
archive's page names are told apart by it, an edition's 行業資訊 from 行业资讯.)

The query language (all words of the command line are joined with spaces, then parsed):
`跨境 电商` (AND), `"supply chain"` (a phrase), `-直播` (excluded), `直播 OR 短视频`
(either; OR binds tighter than AND). Repeated terms and groups count once; a query of more
than MAX_TERMS distinct terms, or a term longer than MAX_TERM_CHARS, is refused with one
error line (such queries come from scripts gone wrong, and cost minutes otherwise).

This module is on the path of every `ecdigest search`: it imports nothing beyond the
standard library's cheapest modules at load time.
"""

from __future__ import annotations

import unicodedata

from .zhkey import fold as script_key

# `typing` costs milliseconds to import and this module is on every search's start-up path.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .errors import EcdigestError

MAX_TERMS = 64
MAX_TERM_CHARS = 1000

# C0/C1 control characters that are not whitespace: folded to a space like whitespace is,
# so no folded text or term ever contains one (the index relies on that).
_CONTROLS = (*range(0, 32), *range(127, 160))
# The compatibility characters of everyday Chinese text (full-width punctuation, the
# ideographic space), replaced by what NFKC maps them to before asking whether NFKC has
# anything left to do: that answer is nearly always no, and NFKC itself is the slowest step
# of building the index (measured 4 s -> 1.3 s per 22 million characters).
_COMMON_COMPAT = [(chr(c), chr(c - 0xFEE0)) for c in map(ord, "，：；（）！？％")] + [("\u3000", " ")]
# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt, Unicode 15): invisible.
_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
# The tag characters (U+E0000-U+E0FFF, 4,096 of them) are tested as a range: a set of every
# ignorable character cost ~0.7 ms to build at import, a few per cent of a whole search.
_TAGS = ("\U000e0000", "\U000e0fff")
_IGNORABLE_FEW = frozenset(
    chr(c) for low, high in _IGNORABLE_RANGES if low != 0xE0000 for c in range(low, high + 1)
)
_LINE_BREAKS = "\n\r\v\f\x85\u2028\u2029"
_LONG = 256  # texts longer than this are scanned with a regular expression (C speed)
_ignorable_pattern: list[object] = []
# Long texts are first checked character by character (a set), until this many characters
# were: a search folds a few bodies for its snippets, and importing and compiling `re` for
# them cost more than the rest of its output (~3 ms); an index build folds millions.
_CHECK_BEFORE_PATTERN = 200_000
_checked = [0]


def _error(kind: str, message: str, hint: str | None = None) -> EcdigestError:
    from . import errors

    cls: type[EcdigestError] = getattr(errors, kind)
    return cls(message, hint=hint)


# --------------------------------------------------------------------------- folding


def reader_text(text: str) -> str:
    """The text's lines joined as `ecdigest show` joins them; paragraphs one per line."""
    if "\n" not in text.replace("\n\n", "") and not any(mark in text for mark in _LINE_BREAKS[1:]):
        # No break inside a paragraph (the common case): paragraph breaks are whitespace,
        # which folding turns into one space as the joined form would.
        return text
    from .model import split_paragraphs
    from .textwrap_cjk import join_lines

    return "\n".join(join_lines(paragraph) for paragraph in split_paragraphs(text))


def is_ignorable(char: str) -> bool:
    """Whether the character is one nobody sees (a default-ignorable code point)."""
    return char in _IGNORABLE_FEW or _TAGS[0] <= char <= _TAGS[1]


def drop_ignorable(text: str) -> str:
    """`text` without the characters nobody sees (default-ignorable code points)."""
    if len(text) <= _LONG:
        if _IGNORABLE_FEW.isdisjoint(text) and (text.isascii() or max(text) < _TAGS[0]):
            return text
        return "".join(ch for ch in text if not is_ignorable(ch))
    if not _ignorable_pattern and _checked[0] < _CHECK_BEFORE_PATTERN:
        _checked[0] += len(text)
        if _IGNORABLE_FEW.isdisjoint(text) and (text.isascii() or max(text) < _TAGS[0]):
            return text
    if not _ignorable_pattern:
        import re

        ranges = "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in _IGNORABLE_RANGES)
        _ignorable_pattern.append(re.compile(f"[{ranges}]+"))
    pattern = _ignorable_pattern[0]
    return pattern.sub("", text)  # type: ignore[attr-defined, no-any-return]


def fold(text: str) -> str:
    """The form both texts and terms are compared in (see the module's docstring)."""
    nfkc = drop_ignorable(reader_text(text))
    if not unicodedata.is_normalized("NFKC", nfkc):
        for compat, plain in _COMMON_COMPAT:
            nfkc = nfkc.replace(compat, plain)
        if not unicodedata.is_normalized("NFKC", nfkc):
            nfkc = unicodedata.normalize("NFKC", nfkc)
    folded = nfkc.casefold()
    if folded != nfkc and not unicodedata.is_normalized("NFKC", folded):
        # Case folding can leave text that NFKC changes again (e.g. a decomposed `ǰ`).
        folded = unicodedata.normalize("NFKC", folded)
    result = " ".join(folded.split())
    if not result.isprintable():
        result = " ".join(result.translate(dict.fromkeys(_CONTROLS, " ")).split())
    return result


def key(text: str) -> str:
    """The form search compares texts and terms in: `fold`, then the script-neutral key."""
    return script_key(fold(text))


def has_surrogates(text: str) -> bool:
    """Bytes that were not UTF-8 (in argv or a file name) arrive as lone surrogates."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


# --------------------------------------------------------------------------- the query


class Query:
    """Parsed query: every group must match (a group is terms joined by OR); no excluded may."""

    __slots__ = ("excluded", "groups", "text")

    def __init__(self, text: str, groups: tuple[tuple[str, ...], ...], excluded: tuple[str, ...]) -> None:
        self.text = text
        self.groups = groups
        self.excluded = excluded

    @property
    def positive_terms(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for group in self.groups:
            for term in group:
                seen.setdefault(term, None)
        return tuple(seen)

    def __repr__(self) -> str:
        return f"Query(groups={self.groups!r}, excluded={self.excluded!r})"


_OR_HINT = 'write terms on both sides of OR; to search for the word itself, quote it: "OR"'


def parse_query(words: str | Sequence[str]) -> Query:
    """Parse the query language; UsageError (exit 2) for a query that cannot mean anything."""
    text = words if isinstance(words, str) else " ".join(words)
    if has_surrogates(text):
        raise _error(
            "UsageError",
            "the query is not valid text: the command line has bytes that are not UTF-8",
            "type the terms again, or check the shell's locale (e.g. LANG=C.UTF-8)",
        )
    source = unicodedata.normalize("NFKC", text)
    tokens = _lex(source)
    groups: list[list[str]] = []
    excluded: list[str] = []
    pending_or = False
    last_was_positive = False
    for negated, quoted, raw in tokens:
        if raw == "OR" and not quoted and not negated:
            if not last_was_positive or pending_or:
                raise _error("UsageError", "OR must stand between two terms", _OR_HINT)
            pending_or = True
            continue
        term = key(raw)
        if not term:
            shown = f'"{raw}"' if quoted else repr(raw)
            raise _error(
                "UsageError", f"the term {shown} is empty", "remove it or put text inside the quotes"
            )
        if len(term) > MAX_TERM_CHARS:
            raise _error(
                "UsageError",
                f"a term of {len(term)} characters is longer than a search takes ({MAX_TERM_CHARS})",
                "search for a distinctive part of it",
            )
        if negated:
            if pending_or:
                raise _error(
                    "UsageError",
                    f"an excluded term cannot be part of OR (-{raw})",
                    "put exclusions outside the OR: 直播 OR 短视频 -广告",
                )
            excluded.append(term)
            last_was_positive = False
            continue
        if pending_or:
            groups[-1].append(term)
            pending_or = False
        else:
            groups.append([term])
        last_was_positive = True
    if pending_or:
        raise _error("UsageError", "OR must stand between two terms", _OR_HINT)
    if not groups:
        raise _error(
            "UsageError",
            "nothing to search for: give at least one term that is not excluded",
            "e.g. ecdigest search 跨境 电商 -直播",
        )
    # A term repeated, or an OR group repeated, asks nothing more: each counts once.
    unique = tuple(dict.fromkeys(tuple(dict.fromkeys(g)) for g in groups))
    unique_excluded = tuple(dict.fromkeys(excluded))
    distinct = {term for group in unique for term in group} | set(unique_excluded)
    if len(distinct) > MAX_TERMS:
        raise _error(
            "UsageError",
            f"the query has {len(distinct)} different terms; a search takes at most {MAX_TERMS}",
            "split it into several searches",
        )
    return Query(text, unique, unique_excluded)


def _lex(text: str) -> list[tuple[bool, bool, str]]:
    """(negated, quoted, text) for each token: `-` prefix, `"…"` phrases, bare words."""
    tokens: list[tuple[bool, bool, str]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        negated = False
        if text[i] == "-" and i + 1 < n and not text[i + 1].isspace():
            negated = True
            i += 1
        if text[i] == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise _error(
                    "UsageError",
                    f"unbalanced quote in the query: {text[i:][:30]}",
                    'close the phrase with a second ": "跨境 电商"',
                )
            tokens.append((negated, True, text[i + 1 : end]))
            i = end + 1
            continue
        end = i
        while end < n and not text[end].isspace():
            end += 1
        tokens.append((negated, False, text[i:end]))
        i = end
    return tokens
