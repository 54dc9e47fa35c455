"""The cross-script search key in the browser: what the site's search page needs to fold a
query the way `zhconv.fold` folds the indexed text (Traditional -> Simplified, character
for character: 跨境電商 and 跨境电商 both give 跨境电商).

`zhconv.fold` is OpenCC (hk2s, then tw2s): a character map plus phrase dictionaries that
segment the text first (乾隆 stays 乾隆 while 乾燥 gives 干燥; 什么 stays 什么 while 么 alone
gives 幺). The browser gets both, made here from the installed OpenCC, so its key is the
Python side's key:

- `chars`: every CJK character (the BMP blocks and the supplementary ideographs) whose
  fold is another character, folded alone (5,130 with OpenCC 1.4.2);
- `phrases`: the strings whose fold differs from folding their characters one by one, plus
  the ones that overlap such a string (a phrase OpenCC takes first decides where the next
  one can start). Candidates are the keys of the phrase dictionaries of OpenCC 1.4.2 that
  these conversions use (`ecdigest/data/zh_fold_phrases.txt`), each also in every spelling
  that hk2s turns into it (the second pass sees 什么 where the text has 什麼); each is
  folded with the installed OpenCC, and only the ones above are shipped.

The browser applies them as `fold_query` does: at each position the longest phrase that
starts there, else the character's fold. Measured against `zhconv.fold`
(tests/test_site_search.py): equal on every 1- to 6-character substring of the shipped
issue in all three scripts and on every candidate phrase; the rare differences left are
strings made of two dictionary phrases that overlap across OpenCC's two passes.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache

PHRASES_FILE = "zh_fold_phrases.txt"
# Where folding can change a character: CJK radicals to the CJK unified ideographs
# (Extension A, the URO), the compatibility ideographs, and the supplementary ideographs.
_RANGES = ((0x2E80, 0x2FDF), (0x3000, 0x303F), (0x3400, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x323AF))


def candidate_phrases() -> list[str]:
    """The phrase keys of OpenCC's dictionaries used by hk2s and tw2s (shipped list)."""
    from importlib.resources import files

    text = files("ecdigest").joinpath("data", PHRASES_FILE).read_text("utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


@lru_cache(maxsize=1)
def browser_table() -> tuple[dict[str, str], dict[str, str]]:
    """(chars, phrases): the character map and the phrases the browser folds with."""
    from ..zhconv import fold

    chars = [chr(code) for low, high in _RANGES for code in range(low, high + 1)]
    # One call for all (a line break stops every phrase): 0.1 s instead of 90,000 calls.
    folded = fold("\n".join(chars)).split("\n")
    assert len(folded) == len(chars), "zhconv.fold keeps one character for one"
    char_map = {c: f for c, f in zip(chars, folded, strict=True) if c != f and len(f) == 1}
    candidates = _spellings(candidate_phrases(), chars)
    by_phrase = dict(zip(candidates, fold("\n".join(candidates)).split("\n"), strict=True))

    def charwise(text: str) -> str:
        return "".join(char_map.get(c, c) for c in text)

    exceptions = {p: f for p, f in by_phrase.items() if f != charwise(p) and len(f) == len(p)}
    phrases = dict(exceptions)
    by_char: dict[str, list[str]] = {}
    for other in exceptions:
        for char in set(other):
            by_char.setdefault(char, []).append(other)
    for phrase, value in by_phrase.items():
        if phrase in phrases or len(value) != len(phrase):
            continue
        near = {other for char in set(phrase) for other in by_char.get(char, ())}
        if any(_overlap(phrase, other) for other in near):
            phrases[phrase] = value
    return char_map, dict(sorted(phrases.items()))


def _spellings(phrases: list[str], chars: list[str]) -> list[str]:
    """`phrases` and every string that hk2s (the first pass) turns into one of them,
    character for character: 什麼 for 什么. (At most 256 spellings a phrase.)"""
    import itertools

    from ..zhconv import _folders

    hk2s, _ = _folders()
    first = str(hk2s("\n".join(chars))).split("\n")
    sources: dict[str, list[str]] = {}
    for char, folded in zip(chars, first, strict=True):
        if folded != char and len(folded) == 1:
            sources.setdefault(folded, []).append(char)
    found = dict.fromkeys(phrases)
    for phrase in phrases:
        options = [[char, *sources.get(char, ())] for char in phrase]
        if math.prod(map(len, options)) <= 256:
            found.update(dict.fromkeys(map("".join, itertools.product(*options))))
    return sorted(found)


def _overlap(a: str, b: str) -> bool:
    """`a` and `b` can cover one character of a text together (one inside the other, or an
    end of one is a start of the other)."""
    if a in b or b in a:
        return True
    return any(a[-k:] == b[:k] or b[-k:] == a[:k] for k in range(1, min(len(a), len(b))))


def fold_query(text: str) -> str:
    """The browser's fold (search.js `zhFold`), in Python: the longest phrase at each
    position, else the character's own fold."""
    char_map, phrases = browser_table()
    longest = max(map(len, phrases), default=1)
    out: list[str] = []
    position = 0
    while position < len(text):
        for size in range(min(longest, len(text) - position), 1, -1):
            found = phrases.get(text[position : position + size])
            if found is not None:
                out.append(found)
                position += size
                break
        else:
            out.append(char_map.get(text[position], text[position]))
            position += 1
    return "".join(out)


def table_script() -> bytes:
    """The search index's `zh-….js`: the table as the browser loads it. Characters as one
    string of pairs (folded from, folded to), phrases as an object."""
    char_map, phrases = browser_table()
    pairs = "".join(k + v for k, v in char_map.items())
    data = json.dumps({"chars": pairs, "phrases": phrases}, ensure_ascii=False, separators=(",", ":"))
    return f"ECD_SEARCH.zh({data});\n".encode()
