"""Word counts and reading time that count Chinese correctly.

A Chinese character (or Japanese kana) is one word, as Chinese word counts (字数) are
kept; a run of Latin letters and digits is one word (`5G`, `B2B`, `ChatGPT`), and so is a
number with its separators (`2023`, `5.5`, `1,000`); a Hangul run is one word (Korean
separates words with spaces). Full-width forms count as their ASCII twins (`５Ｇ` is one
word) and punctuation counts for nothing.

Reading time uses the IReST study of reading speed in 17 languages (Trauzettel-Klosinski
& Dietz, Investigative Ophthalmology & Visual Science 53(9), 2012): silent reading of
Chinese at 255 characters a minute, English at 228 words a minute. Minutes are rounded up
(a 60-character item reads in 1 minute, an empty one in 0).

`count_text`, `count_article` and `count_issue` are the one implementation: `show` prints
them, and the web archive and `stats` are meant to call them too.
"""

from __future__ import annotations

import math
import re
import unicodedata

from .lazyre import lazy
from .model import Article, Issue

CJK_PER_MINUTE = 255
LATIN_PER_MINUTE = 228

_CJK = (
    "\u3005\u3007"  # 々 〇
    "\u3040-\u30ff"  # kana
    "\u3400-\u4dbf"  # extension A
    "\u4e00-\u9fff"  # unified ideographs
    "\uf900-\ufaff"  # compatibility ideographs
    "\U00020000-\U0003134f"  # extensions B-H
)

# `dataclasses` costs ~7 ms of start-up: records.py makes the same classes without it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from dataclasses import dataclass as record
else:
    from .records import record
# The definition: one match per word (a pattern, not compiled here: `show` never needs it).
TOKEN_PATTERN = rf"(?P<cjk>[{_CJK}])|(?P<latin>[A-Za-z0-9]+(?:[.,'’-][A-Za-z0-9]+)*|[\uac00-\ud7a3]+)"
# The two kinds counted apart, at C speed (`show` counts every article): no character of
# one kind can be part of a token of the other, so the counts are TOKEN_PATTERN's. These
# classes are compiled on first use only (lazyre): re's compiler walks a range of the Basic
# Multilingual Plane character by character (~1.9 ms for the three patterns, in every
# `show` that renders); count_text finds the Chinese characters in UTF-8 bytes
# (`_UTF8_CJK`, byte classes: ~0.3 ms) and needs _CJK_RUN only for a text that cannot be
# encoded (a lone surrogate), _LATIN only for one with Hangul.
_CJK_RUN = lazy(f"[{_CJK}]+")
_LATIN = lazy(r"[A-Za-z0-9]+(?:[.,'’-][A-Za-z0-9]+)*|[\uac00-\ud7a3]+")
# _LATIN for a text without Hangul (its alternation cannot match there): the same tokens.
_LATIN_ONLY = lazy(r"[A-Za-z0-9]+(?:(?:[.,'-]|\u2019)[A-Za-z0-9]+)*")


@record(frozen=True)
class Count:
    cjk: int = 0  # Chinese characters (and kana)
    latin: int = 0  # Latin words, numbers, Hangul words

    @property
    def words(self) -> int:
        return self.cjk + self.latin

    @property
    def minutes(self) -> int:
        """Reading time in whole minutes, rounded up; 0 for no words."""
        return math.ceil(self.cjk / CJK_PER_MINUTE + self.latin / LATIN_PER_MINUTE)

    def __add__(self, other: Count) -> Count:
        return Count(self.cjk + other.cjk, self.latin + other.latin)


# Unified ideographs (U+4E00-U+9FFF) are stable under NFKC: none decomposes, none has a
# combining class, none composes with a neighbour. So NFKC of a text is NFKC of the text
# with each run of them cut to one ideograph, with the runs put back: the count reads the
# short text (`show` normalized ~40,000 characters an issue, ~3 ms, mostly ideographs).
_STABLE_RUN = lazy("[\u4e00-\u9fff]+")
_STAND_IN = "\u4e00"

# One character of _CJK in UTF-8 (U+4E00 is E4 B8 80, U+9FFF E9 BF BF, U+3134F F0 B1 8D
# 8F): each alternative starts with a lead byte, so a match is always whole characters, and
# with a literal, so re's search skips to candidates by the first byte.
_UTF8_CJK = re.compile(
    rb"\xe3\x80[\x85\x87]"  # 々 〇
    rb"|\xe3[\x81-\x83\x90-\xbf][\x80-\xbf]"  # kana U+3040-30FF, U+3400-3FFF
    rb"|\xe4[\x80-\xb6\xb8-\xbf][\x80-\xbf]"  # U+4000-4DBF, U+4E00-4FFF
    rb"|\xe5[\x80-\xbf][\x80-\xbf]|\xe6[\x80-\xbf][\x80-\xbf]|\xe7[\x80-\xbf][\x80-\xbf]"  # U+5000-7FFF
    rb"|\xe8[\x80-\xbf][\x80-\xbf]|\xe9[\x80-\xbf][\x80-\xbf]"  # U+8000-9FFF
    rb"|\xef[\xa4-\xab][\x80-\xbf]"  # U+F900-FAFF
    rb"|\xf0[\xa0-\xb0][\x80-\xbf][\x80-\xbf]|\xf0\xb1[\x80-\x8c][\x80-\xbf]|\xf0\xb1\x8d[\x80-\x8f]"  # U+20000-3134F
)
# The lead bytes of U+A000-DFFF, Hangul syllables among them (absent: no Hangul token).
_UTF8_HANGUL_LEADS = (b"\xea", b"\xeb", b"\xec", b"\xed")


def count_text(text: str) -> Count:
    """What TOKEN_PATTERN finds, counted without a match per character (a Chinese text is
    mostly one-character tokens): the Chinese characters are the length the text loses
    without them, the other tokens never hold one (tests/test_counting.py compares both).
    Each run of unified ideographs is read as one (`_STABLE_RUN`): the characters it
    stood for are the length the text lost by it. The Chinese characters left are found
    in the UTF-8 bytes (`_UTF8_CJK`: the same characters)."""
    short = _STABLE_RUN.sub(_STAND_IN, text)
    normal = unicodedata.normalize("NFKC", short)
    try:
        data = normal.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: the character classes themselves
        return _count_characters(text)
    cjk = len(normal) - len(_UTF8_CJK.sub(b"", data).decode("utf-8")) + len(text) - len(short)
    hangul = any(lead in data for lead in _UTF8_HANGUL_LEADS)
    return Count(cjk, len((_LATIN if hangul else _LATIN_ONLY).findall(normal)))


def _count_characters(text: str) -> Count:
    """count_text by the character classes (for a text UTF-8 cannot hold)."""
    short = _STABLE_RUN.sub(_STAND_IN, text)
    normal = unicodedata.normalize("NFKC", short)
    cjk = len(normal) - len(_CJK_RUN.sub("", normal)) + len(text) - len(short)
    return Count(cjk, len(_LATIN.findall(normal)))


def count_article(article: Article) -> Count:
    """The title and the body (the attribution line is not read as text)."""
    return count_text(article.title) + count_text(article.body)


def count_issue(issue: Issue) -> Count:
    total = Count()
    for article in issue.articles:
        total += count_article(article)
    return total
