"""Counting: a Chinese character is a word, Latin words and numbers are words; one
function behind `show`'s numbers."""

from __future__ import annotations

import json

import pytest
from conftest import SHIPPED_ARCHIVE, Invoke
from hypothesis import given
from hypothesis import strategies as st

from ecdigest.counting import Count, count_article, count_issue, count_text
from ecdigest.model import Article, Issue


@pytest.mark.parametrize(
    ("text", "cjk", "latin"),
    [
        ("跨境电商", 4, 0),
        ("5G 网络", 2, 1),
        ("５Ｇ网络", 2, 1),  # full-width forms are their ASCII twins
        ("2023 年 5 月 30—31 日", 3, 4),
        ("ChatGPT 与 B2B 平台", 3, 2),
        ("增长 8.6%，达 1,000.5 亿元", 5, 2),
        ("Macy’s e-commerce rock'n'roll", 0, 3),
        ("，。！？……“”《》", 0, 0),
        ("", 0, 0),
        ("𠀀𪚥", 2, 0),  # beyond the BMP
        ("ひらがなカタカナ", 8, 0),
        ("안녕하세요 세계", 0, 2),
        ("第\x00一\u200b段", 3, 0),
    ],
)
def test_count_text(text: str, cjk: int, latin: int) -> None:
    count = count_text(text)
    assert (count.cjk, count.latin, count.words) == (cjk, latin, cjk + latin)


@pytest.mark.parametrize(
    ("count", "minutes"),
    [(Count(0, 0), 0), (Count(1, 0), 1), (Count(255, 0), 1), (Count(256, 0), 2), (Count(0, 228), 1),
     (Count(255, 228), 2), (Count(2550, 0), 10)],
)  # fmt: skip
def test_reading_time(count: Count, minutes: int) -> None:
    assert count.minutes == minutes


def test_article_and_issue_counts_add_up() -> None:
    a = Article(id="x-001", title="标题 AI", body="第一段。\n\n第二段 5G。")
    b = Article(id="x-002", title="另一篇", body="正文")
    assert count_article(a) == Count(cjk=2 + 6, latin=2)
    assert count_issue(Issue(id="x", articles=(a, b))) == count_article(a) + count_article(b)


def test_show_prints_the_counts(invoke: Invoke) -> None:
    result = invoke("show", "2023-06", "--width", "60", archive=SHIPPED_ARCHIVE)
    lines = result.stdout.splitlines()
    assert lines[1] == "2023-06 · 2023-06-05 · published · 53 articles · 17,419 words · 69 min"
    assert "   [2023-06-001] 356 words · 2 min" in lines
    data = json.loads(invoke("show", "2023-06", "-f", "json", archive=SHIPPED_ARCHIVE).stdout)
    assert (data["words"], data["reading_minutes"]) == (17419, 69)
    assert (data["articles"][0]["words"], data["articles"][0]["reading_minutes"]) == (356, 2)
    assert sum(a["words"] for a in data["articles"]) == data["words"]


def test_an_issue_of_one_article_is_not_called_articles() -> None:
    """`show` and `show --toc` open with one head line: "1 article", "2 articles"."""
    from ecdigest.contents import toc_text
    from ecdigest.export.text import head_lines
    from ecdigest.model import Article, Issue, Newsletter

    one = Issue(id="2024-01", title="T", articles=[Article(id="2024-01-001", title="标题", body="正文。")])
    assert head_lines(one)[1].startswith("2024-01 · no date · draft · 1 article · ")
    assert toc_text(one, Newsletter()).splitlines()[1] == head_lines(one)[1]
    two = Issue(
        id="2024-01", title="T", articles=[*one.articles, Article(id="2024-01-002", title="二", body="文。")]
    )
    assert " · 2 articles · " in head_lines(two)[1]


def _by_token(text: str) -> Count:
    """The definition: one TOKEN_PATTERN match per word."""
    import re
    import unicodedata

    from ecdigest.counting import TOKEN_PATTERN

    token = re.compile(TOKEN_PATTERN)
    cjk = latin = 0
    for match in token.finditer(unicodedata.normalize("NFKC", text)):
        if match.lastgroup == "cjk":
            cjk += 1
        else:
            latin += 1
    return Count(cjk, latin)


def test_counting_without_a_match_per_character_counts_the_same() -> None:
    from hypothesis import settings

    pieces = st.sampled_from(
        [
            "电",
            "商",
            "々",
            "カ",
            "𠀀",
            "한국",
            "5G",
            "B2B",
            "1,000",
            "5.5",
            "it’s",
            "a-b",
            "-",
            " ",
            "，",
            "Ａ",
            "\u3000",
            "ｱ",
            "一",
            "e",
            "\u0301",  # a combining mark: composes with a Latin letter, never with 一
            "\u0323",
            "\uf900",  # a compatibility ideograph: NFKC changes it
            "㈠",
            "①",
            "ﬁ",
        ]
    )

    @settings(max_examples=1000, deadline=None)
    @given(st.lists(pieces, max_size=30).map("".join))
    def check(text: str) -> None:
        assert count_text(text) == _by_token(text), text

    check()
    sample = (SHIPPED_ARCHIVE / "2023" / "2023-06.toml").read_text("utf-8")
    assert count_text(sample) == _by_token(sample)


# Each end of every class count_text reads from UTF-8 bytes, and its neighbours outside.
_EDGES = [
    chr(code + delta)
    for code in (0x3005, 0x3007, 0x3040, 0x30FF, 0x3400, 0x3FFF, 0x4000, 0x4DBF, 0x4E00, 0x4FFF,
                 0x5000, 0x9FFF, 0xAC00, 0xD7A3, 0xF900, 0xFAFF, 0x20000, 0x2FFFF, 0x30000, 0x30FFF,
                 0x3133F, 0x3134F)
    for delta in (-1, 0, 1)
]  # fmt: skip


@given(
    st.lists(
        st.sampled_from([*_EDGES, "a", "1", ".", "’", "-", " ", "한", "\ud800", "\u0301"]), max_size=30
    ).map("".join)
    | st.text(max_size=40)
)
def test_the_utf8_classes_are_the_character_classes(text: str) -> None:
    """count_text reads its classes from UTF-8 bytes: the counts of the definition at every
    edge of every range (and by the character classes for a text UTF-8 cannot hold)."""
    assert count_text(text) == _by_token(text), ascii(text)


def test_every_edge_alone_and_in_company() -> None:
    for char in _EDGES:
        for text in (char, char * 3, f"a{char}1{char}电", f"{char}\u0301"):
            assert count_text(text) == _by_token(text), ascii(text)
