"""The site search's cross-script key: the browser folds a query with the table zhfold.py
makes (a character map and phrases from the installed OpenCC); that fold must be the
Python side's (`zhconv.fold`, the key the index stores). The browser's own run of the
same algorithm is checked in tests/test_site_browser.py."""

from __future__ import annotations

import itertools
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


# --------------------------------------------------------------------------- the index's arrays


def _decode(gaps: str) -> list[int]:
    docs, previous = [], -1
    for char in gaps:
        code = ord(char)
        if code >= 0xE000:
            code -= 0x800
        previous += code - 0x30
        docs.append(previous)
    return docs


def _build(
    texts: list[tuple[str, str]], cuts: list[int], monkeypatch: pytest.MonkeyPatch
) -> dict[str, bytes]:
    from ecdigest.site import searchindex

    monkeypatch.setattr(searchindex, "BATCH_CHARS", 40)  # many batches
    monkeypatch.setattr(searchindex, "SHARD_POSTINGS", 50)  # many shards
    builder = searchindex.SegmentBuilder()
    bounds = [0, *cuts, len(texts)]
    summaries = []
    for start, end in itertools.pairwise(bounds):  # one part per "worker"
        part = builder.part(start)
        for number in range(start, end):
            doc = searchindex.Doc("p.html", f"a{number}", f"t{number}", "2024-01-01", "s", "")
            title, body = texts[number]
            part.add(f"i{number}", "d", "2024-01-01", [(doc, title, body)])
        summaries.append(part.close())
    state, files = builder.files("main-x", summaries)
    out = dict(files)
    builder.discard()
    assert state["docs"] == len(texts)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_arrays_hold_every_gram_of_every_document(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each character and pair of each title and body (never across the two, the space
    alone aside) lists exactly the documents that have it, in the shard its FNV-1a names;
    documents added in several parts and many batches."""
    import json
    import random

    from ecdigest.site.searchindex import fnv1a, grams

    rnd = random.Random(seed)
    alphabet = "电商直播跨境 abc𠀀𪚥Ａ的"
    texts = [
        (
            "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 6))),
            "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 30))),
        )
        for _ in range(60)
    ]
    files = _build(texts, [17, 40], monkeypatch)
    expected: dict[str, list[int]] = {}
    for number, (title, body) in enumerate(texts):
        for gram in grams(title) | grams(body):
            expected.setdefault(gram, []).append(number)
    shards = [name for name in files if "/p" in name]
    found: dict[str, list[int]] = {}
    for name in shards:
        text = files[name].decode()
        args = json.loads("[" + text[text.index("(") + 1 : text.rindex(")")] + "]")
        number = args[1]
        for gram, gaps in args[2].items():
            assert fnv1a(gram) % len(shards) == number, gram
            found[gram] = _decode(gaps)
    assert found == expected
    rows = []
    for name in sorted((n for n in files if "/d" in n), key=lambda n: int(n.rsplit("d", 1)[1][:-3])):
        text = files[name].decode()
        rows += json.loads("[" + text[text.index("(") + 1 : text.rindex(")")] + "]")[2]
    assert [row[1] for row in rows] == [f"a{n}" for n in range(len(texts))]
