"""Simplified -> Traditional Chinese for the editions, and the script-neutral search key.

The editions (`EDITIONS`): `zh-Hant-TW` is OpenCC's `s2twp` (Taiwan characters and
phrasing: 软件 -> 軟體), `zh-Hant-HK` its `s2hk` (Hong Kong characters). Names are BCP 47
tags, script + region; `zh-Hans` names the archive's own text (no conversion).

OpenCC (the `opencc` package: the project's own C++ library and dictionaries) makes
well-known phrase mistakes (被发明 -> 被髮明, 粉丝发布 -> 粉絲髮布, 演算法 doubling, …).
`ecdigest/data/zh_hant_fixes.tsv` is our dictionary on top of it: a matched key is
replaced by its result for the edition and OpenCC converts the text on each side of it
separately, so a fix also stops OpenCC from reading a phrase across the key. An archive
adds its own names, brands and outlets (`[newsletter] protected_terms`): `"TERM"` stays as
printed, `"TERM=繁體"` prints the given Traditional form; they win over the shipped fixes.

On top of the characters, both editions print the corner brackets Taiwan and Hong Kong
use: “” -> 「」, ‘’ -> 『』 (an apostrophe between Latin letters stays). URLs, ids and dates
are not text fields and never reach this module (ecdigest/editions.py decides what is
converted).

`fold(text)` is the key search needs to match across scripts (zhkey.py): every character
OpenCC converts alone by hk2s then tw2s (Hong Kong and Taiwan variants back to OpenCC's
Traditional, then Simplified) replaced by that character, so the Simplified text and both
editions of it give the same key, character for character (the key of a part is part of
the key of the whole, as substring search needs). `fold_table()` makes its table from
the installed OpenCC; phrase-level wording (軟體 for 软件, 瞭解 for 了解) is not undone,
by design: another word, not another script.

No printing and no Typer here: the web archive calls `converter()` for its edition pages.
OpenCC is imported on first use (loading its dictionaries takes ~0.1 s).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

SOURCE_SCRIPT = "zh-Hans"


@dataclass(frozen=True)
class Edition:
    name: str  # BCP 47: script + region
    config: str  # OpenCC configuration
    language: str  # what a feed's <language> says (RSS 2.0 takes language-region codes)
    label: str  # the edition's name, in its own script
    column: int  # its column in zh_hant_fixes.tsv


EDITIONS: dict[str, Edition] = {
    "zh-Hant-TW": Edition("zh-Hant-TW", "s2twp", "zh-TW", "繁體中文（臺灣）", 1),
    "zh-Hant-HK": Edition("zh-Hant-HK", "s2hk", "zh-HK", "繁體中文（香港）", 2),
}
SCRIPTS: tuple[str, ...] = (SOURCE_SCRIPT, *EDITIONS)

FIXES_FILE = "zh_hant_fixes.tsv"

# OpenCC stops at a NUL and cannot take a lone surrogate: such characters pass through as
# they are, and the text between them is converted on its own.
_UNSAFE = re.compile("[\x00\ud800-\udfff]+")
# “” always; ‘’ unless it is an apostrophe (between a Latin letter or digit and a letter).
_QUOTES = re.compile("[“”‘]|(?<![A-Za-z0-9])’|’(?![A-Za-z])")
_QUOTE_MAP = {"“": "「", "”": "」", "‘": "『", "’": "』"}


def get_edition(name: str) -> Edition:
    """The edition called `name`; UsageError naming the known ones."""
    try:
        return EDITIONS[name]
    except KeyError:
        raise UsageError(
            f"unknown edition {name!r}",
            hint=f"known: {', '.join(EDITIONS)} ({SOURCE_SCRIPT}: the archive's own)",
        ) from None


def parse_protected_terms(terms: Iterable[str]) -> dict[str, str]:
    """`[newsletter] protected_terms` as key -> printed form; UsageError for a bad entry.

    `"TERM"`: TERM stays as printed; `"TERM=繁體"`: TERM is printed as 繁體. Blanks around
    either side are ignored; an entry with two '=' or an empty side is refused.
    """
    found: dict[str, str] = {}
    for entry in terms:
        key, sep, target = entry.partition("=")
        key, target = key.strip(), target.strip()
        if not sep:
            target = key
        if not key or (sep and not target) or "=" in target:
            raise UsageError(
                f"protected_terms: {entry!r} is not TERM or TERM=TRADITIONAL",
                hint='e.g. "《人民日报》" (kept as printed) or "于东来=于東來"',
            )
        if found.get(key, target) != target:
            raise UsageError(f"protected_terms: {key!r} is given twice with different forms")
        found[key] = target
    return found


@lru_cache(maxsize=4)
def shipped_fixes(edition: str) -> dict[str, str]:
    """The shipped fixes for one edition (key -> result), from zh_hant_fixes.tsv."""
    from importlib.resources import files

    column = get_edition(edition).column
    text = files("ecdigest").joinpath("data", FIXES_FILE).read_text("utf-8")
    fixes: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) != 4 or not cells[0]:
            raise ValueError(f"{FIXES_FILE}:{number}: expected 4 TAB-separated columns")
        if cells[column] != "-":
            fixes[cells[0]] = cells[column]
    return fixes


class Converter:
    """One edition's conversion: OpenCC, the fixes, the corner brackets."""

    def __init__(self, edition: Edition, fixes: dict[str, str]) -> None:
        import opencc

        self.edition = edition
        self.fixes = dict(fixes)
        self._opencc: Any = opencc.OpenCC(edition.config)
        # Longest first: at each position the regex takes the first alternative that
        # matches, so this is leftmost-longest matching.
        keys = sorted(self.fixes, key=lambda k: (-len(k), k))
        self._pattern = re.compile("|".join(map(re.escape, keys))) if keys else None

    def _opencc_safe(self, text: str) -> str:
        if not _UNSAFE.search(text):
            return str(self._opencc.convert(text))
        out: list[str] = []
        position = 0
        for match in _UNSAFE.finditer(text):
            out += [str(self._opencc.convert(text[position : match.start()])), match.group()]
            position = match.end()
        out.append(str(self._opencc.convert(text[position:])))
        return "".join(out)

    def _plain(self, text: str) -> str:
        if not text:
            return text
        converted = self._opencc_safe(text)
        return _QUOTES.sub(lambda m: _QUOTE_MAP[m.group()], converted)

    def convert(self, text: str) -> str:
        if not text or self._pattern is None:
            return self._plain(text)
        out: list[str] = []
        position = 0
        for match in self._pattern.finditer(text):
            out += [self._plain(text[position : match.start()]), self.fixes[match.group()]]
            position = match.end()
        out.append(self._plain(text[position:]))
        return "".join(out)

    __call__ = convert


@lru_cache(maxsize=16)
def converter(edition: str, protected_terms: tuple[str, ...] = ()) -> Converter:
    """The converter for an edition, with the shipped fixes and the archive's protected
    terms (which win). Cached: build once, convert many texts."""
    fixes = dict(shipped_fixes(edition))
    fixes.update(parse_protected_terms(protected_terms))
    return Converter(get_edition(edition), fixes)


def convert(text: str, edition: str, protected_terms: tuple[str, ...] = ()) -> str:
    return converter(edition, protected_terms).convert(text)


@lru_cache(maxsize=1)
def _folders() -> tuple[Callable[[str], str], Callable[[str], str]]:
    import opencc

    return opencc.OpenCC("hk2s").convert, opencc.OpenCC("tw2s").convert


def fold(text: str) -> str:
    """The script-neutral key of `text`: Simplified and Traditional (Taiwan, Hong Kong)
    spellings of the same characters give the same key (跨境電商 and 跨境电商 both give
    跨境电商), one character for one. The key is for matching, not for display (a few
    characters differ from the original Simplified: 显著 -> 显着). See zhkey.py."""
    from .zhkey import fold as key

    return key(text)


# Where a character can have a key: CJK radicals and symbols, the unified ideographs
# (Extension A and the URO), the compatibility ideographs, the supplementary ideographs.
FOLD_RANGES = ((0x2E80, 0x2FDF), (0x3000, 0x303F), (0x3400, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x323AF))


def fold_table() -> list[tuple[str, str]]:
    """(character, key) for every character that the installed OpenCC converts, alone, to
    another single character by hk2s then tw2s: the table of zhkey.py."""
    hk2s, tw2s = _folders()
    chars = [chr(code) for low, high in FOLD_RANGES for code in range(low, high + 1)]
    # One call for all (a line break ends every phrase): 0.1 s instead of 90,000 calls.
    folded = str(tw2s(hk2s("\n".join(chars)))).split("\n")
    if len(folded) != len(chars):  # pragma: no cover - OpenCC keeps line breaks
        raise RuntimeError("OpenCC changed the number of lines")
    return [(c, f) for c, f in zip(chars, folded, strict=True) if c != f and len(f) == 1]


def write_fold_table(path: str) -> bool:
    """Rewrite the generated table of zhkey.py at `path` from the installed OpenCC; True
    when it changed."""
    import opencc

    with open(path, encoding="utf-8") as source:
        text = source.read()
    begin, end = "    # BEGIN GENERATED\n", "    # END GENERATED\n"
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    pairs = "".join(c + f for c, f in fold_table())
    per_line = 50  # 25 pairs: a line of ~100 columns
    lines = [f'    "{pairs[i : i + per_line]}"\n' for i in range(0, len(pairs), per_line)]
    version = getattr(opencc, "__version__", "")
    head = re.sub(r'OPENCC_VERSION = "[^"]*"', f'OPENCC_VERSION = "{version}"', head)
    new = head + begin + "".join(lines) + end + tail
    if new == text:
        return False
    with open(path, "w", encoding="utf-8") as out:
        out.write(new)
    return True
