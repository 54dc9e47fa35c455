"""The site search's cross-script key: the browser folds a query with the table zhfold.py
makes (a character map and phrases from the installed OpenCC); that fold must be the
Python side's (`zhconv.fold`, the key the index stores). The browser's own run of the
same algorithm is checked in tests/test_site_browser.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecdigest import zhconv
from ecdigest.site import zhfold

SAMPLE = Path(__file__).parent / "data" / "ecd-2023-06.txt"


def _mismatches(strings: list[str]) -> list[tuple[str, str, str]]:
    strings = [s for s in strings if "\n" not in s]
    expected = zhconv.fold("\n".join(strings)).split("\n")
    return [
        (s, e, zhfold.fold_query(s))
        for s, e in zip(strings, expected, strict=True)
        if zhfold.fold_query(s) != e
    ]


@pytest.mark.parametrize("script", ["zh-Hans", "zh-Hant-TW", "zh-Hant-HK"])
def test_every_substring_of_the_shipped_issue_folds_as_python_folds(script: str) -> None:
    text = SAMPLE.read_text("utf-8")
    if script != "zh-Hans":
        text = zhconv.convert(text, script)
    pieces = {text[i : i + size] for size in range(1, 7) for i in range(len(text) - size + 1)}
    assert _mismatches(sorted(pieces)) == []


def test_every_candidate_phrase_and_its_spellings_fold_as_python_folds() -> None:
    chars, phrases = zhfold.browser_table()
    assert len(chars) > 5000 and len(phrases) > 500
    assert _mismatches(zhfold.candidate_phrases()) == []
    assert _mismatches(sorted(phrases)) == []


def test_words_whose_phrase_fold_differs_from_their_characters() -> None:
    # 么 alone folds to 幺, 什么/什麼 stay 什么; 乾 alone is 干, 乾隆 stays.
    for text, folded in (
        ("什麼", "什么"),
        ("怎麼樣", "怎么样"),
        ("乾隆", "乾隆"),
        ("乾燥", "干燥"),
        ("跨境電商", "跨境电商"),
    ):
        assert zhconv.fold(text) == folded
        assert zhfold.fold_query(text) == folded


def test_the_table_script_is_deterministic_and_names_its_content() -> None:
    from ecdigest.site import searchindex

    first, second = searchindex.zh_file(), searchindex.zh_file()
    assert first == second and first[0].startswith("zh-") and first[1].startswith(b"ECD_SEARCH.zh(")
