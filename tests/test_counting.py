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


def _count_by_tokens(text: str) -> Count:
    """The definition: every match of the one token pattern, Chinese or Latin."""
    import unicodedata

    from ecdigest.counting import _TOKEN

    cjk = latin = 0
    for match in _TOKEN.finditer(unicodedata.normalize("NFKC", text)):
        if match.lastgroup == "cjk":
            cjk += 1
        else:
            latin += 1
    return Count(cjk, latin)


_MIXED = "电商直播ABCxyz019 .,'’-。，（）５Ｇ한국어〇々ぁアｶ\U00020000é\u0301\n"


@given(st.text(alphabet=_MIXED, max_size=60) | st.text(max_size=40))
def test_count_text_is_the_token_count(text: str) -> None:
    assert count_text(text) == _count_by_tokens(text)
