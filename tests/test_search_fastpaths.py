"""The shortcuts a warm search takes to start faster answer exactly what the long way does.

Each shortcut skips work on every search's start (bench/RESULTS.md, "Scale"): the terms'
script key without building the translate table (zhkey), the invisible characters tested
without a set of all 4,300 of them (query), SQLite's C module without the `sqlite3`
package's date adapters (derived), no `array` until a document is built (search_index). Each is compared here with the long way it replaces.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from _hardening import SHIPPED_ARCHIVE, cli_env
from hypothesis import given
from hypothesis import strategies as st

from ecdigest import query, zhkey

# --------------------------------------------------------------------------- zhkey: short texts


def test_table_characters_are_unique_and_ordered() -> None:
    """_fold_short takes the first place a character is found: the table's entry only if
    each character has one entry."""
    characters = zhkey.PAIRS[0::2]
    assert len(set(characters)) == len(characters) == len(zhkey.table())
    assert list(characters) == sorted(characters)


def test_short_fold_is_translate_for_every_character_in_the_table() -> None:
    table = zhkey.table()
    keys = zhkey.PAIRS[1::2]
    for char in zhkey.PAIRS[0::2] + keys + "跨境电商直播网abcＡＢＣ🙂\U000e0041":
        assert zhkey._fold_short(char) == char.translate(table), repr(char)


@given(
    st.text(
        alphabet=st.sampled_from(zhkey.PAIRS[:400] + zhkey.PAIRS[-400:] + "跨境电商 ab５\U00020000"),
        max_size=64,
    )
)
def test_short_fold_is_translate(text: str) -> None:
    assert zhkey._fold_short(text) == text.translate(zhkey.table())


def test_random_short_texts_fold_as_translate() -> None:
    rng = random.Random(11)
    pool = zhkey.PAIRS + "电子商务动态跨境电商网络直播，。a1 "
    for _ in range(2000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(1, 64)))
        assert zhkey._fold_short(text) == text.translate(zhkey.table())


def _fresh(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_fold_of_a_search_term_builds_no_table() -> None:
    """A fresh process (a search): the terms fold through the shortcut, the same keys."""
    code = (
        "from ecdigest import zhkey\n"
        "out = [zhkey.fold(t) for t in ('跨境電商', '臺灣', '著', 'abc', '电商')]\n"
        "print(len(zhkey._table), '|'.join(out))\n"
    )
    built, folded = _fresh(code).split(" ")
    assert built == "0"
    assert folded == "跨境电商|台湾|着|abc|电商"


# --------------------------------------------------------------------------- query: invisible characters


DEFAULT_IGNORABLE = [(0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
                     (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
                     (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
                     (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
                     (0xE0000, 0xE0FFF)]  # fmt: skip


def _ref_ignorable(char: str) -> bool:
    return any(low <= ord(char) <= high for low, high in DEFAULT_IGNORABLE)


def test_is_ignorable_is_the_unicode_list() -> None:
    """Every code point near and inside the ranges (each range's ends and neighbours), and
    the whole tag block, answer as Unicode's list does."""
    points = set(range(0, 0x3200)) | set(range(0xDFFF0, 0xE1010)) | {0x10FFFF}
    for low, high in DEFAULT_IGNORABLE:
        points |= {low - 1, low, low + 1, high - 1, high, high + 1}
    for point in sorted(points):
        if 0xD800 <= point <= 0xDFFF:
            continue
        char = chr(point)
        assert query.is_ignorable(char) == _ref_ignorable(char), hex(point)


@given(
    st.text(
        alphabet=st.sampled_from(["a", "跨", " ", "\u00ad", "\u200b", "\ufeff", "\U000e0001", "\U000e0fff"])
        | st.characters(),
        max_size=300,
    )
)
def test_drop_ignorable_is_the_definition(text: str) -> None:
    assert query.drop_ignorable(text) == "".join(c for c in text if not _ref_ignorable(c))


# --------------------------------------------------------------------------- derived: the SQLite driver


def test_driver_is_what_sqlite3_exports() -> None:
    import sqlite3

    from ecdigest.derived import sqlite_driver

    driver = sqlite_driver()
    for name in ("connect", "Connection", "Error", "DatabaseError", "OperationalError", "sqlite_version"):
        assert getattr(driver, name) is getattr(sqlite3, name)


@pytest.fixture(scope="module")
def warm_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    root = tmp_path_factory.mktemp("fast") / "archive"
    shutil.copytree(SHIPPED_ARCHIVE, root, ignore=shutil.ignore_patterns(".ecdigest"))
    _loaded(root, "search", "跨境")
    return root


PROBE = (
    "import sys, runpy, json\n"
    "sys.argv = ['ecdigest', *sys.argv[1:]]\n"
    "try:\n    runpy.run_module('ecdigest', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
)


def _loaded(root: Path, *args: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "--archive", str(root), *args],
        capture_output=True,
        text=True,
        check=False,
        env=cli_env(),
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [["search", "跨境"], ["search", "電商", "--format", "json"]])
def test_warm_search_loads_neither_the_sqlite3_package_nor_datetime(
    warm_archive: Path, args: list[str]
) -> None:
    """Nor `array` (the index's documents are built only when a file changed)."""
    loaded = _loaded(warm_archive, *args)
    assert "_sqlite3" in loaded
    unwanted = {"sqlite3", "datetime", "_datetime", "array"}
    assert not loaded & unwanted, sorted(loaded & unwanted)
