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
# one kind can be part of a token of the other, so the counts are TOKEN_PATTERN's.
_CJK_RUN = re.compile(f"[{_CJK}]+")
_LATIN = re.compile(r"[A-Za-z0-9]+(?:[.,'’-][A-Za-z0-9]+)*|[\uac00-\ud7a3]+")


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
_STABLE_RUN = re.compile("[\u4e00-\u9fff]+")
_STAND_IN = "\u4e00"


def count_text(text: str) -> Count:
    """What TOKEN_PATTERN finds, counted without a match per character (a Chinese text is
    mostly one-character tokens): the Chinese characters are the length the text loses
    without them, the other tokens never hold one (tests/test_counting.py compares both).
    Each run of unified ideographs is read as one (`_STABLE_RUN`): the characters it
    stood for are the length the text lost by it."""
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
