"""Dates as editors write them, and the attribution line in all its printed variants."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecdigest import attribution
from ecdigest.attribution import Attribution, AttributionError
from ecdigest.dates import EARLIEST, LATEST, DateError, parse_date, today

D = dt.date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-05-31", D(2023, 5, 31)),
        ("2023/5/31", D(2023, 5, 31)),
        ("2023.05.31", D(2023, 5, 31)),
        ("2023 年 05 月 31 日", D(2023, 5, 31)),
        ("2023年5月31日", D(2023, 5, 31)),
        ("２０２３年５月３１日", D(2023, 5, 31)),
        ("２０２３－０５－３１", D(2023, 5, 31)),
        ("  2023 年 5 月 1 日 ", D(2023, 5, 1)),
        ("May 31, 2023", D(2023, 5, 31)),
        ("31 May 2023", D(2023, 5, 31)),
        ("2023-05-31T10:00:00", D(2023, 5, 31)),
    ],
)
def test_forms_editors_write(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2023年2月30日", "not a real date"),
        ("2023-02-29", "not a real date"),
        ("2023-13-01", "not a real date"),
        ("05/06/2023", "ambiguous"),
        ("May 2023", "not a complete date"),
        ("2023", "not a complete date"),
        ("next tuesday-ish", "cannot read"),
        ("二〇二三年五月", "cannot read"),
        ("", "empty"),
    ],
)
def test_bad_dates_are_clear_errors(text: str, reason: str) -> None:
    with pytest.raises(DateError, match=reason):
        parse_date(text)


def test_fuzzy_parsing_trap_is_avoided() -> None:
    # dateutil's fuzzy mode reads this as 2024-05-31; we never use it.
    assert parse_date("2023年5月31日") == D(2023, 5, 31)


def test_today_and_yesterday_are_in_the_newsletter_timezone(monkeypatch: pytest.MonkeyPatch) -> None:
    # 23:30 UTC on the 10th is already the 11th in Shanghai.
    monkeypatch.setenv("ECDIGEST_NOW", "2023-07-10T23:30:00+00:00")
    assert today("Asia/Shanghai") == D(2023, 7, 11)
    assert parse_date("today", tz="Asia/Shanghai") == D(2023, 7, 11)
    assert parse_date("yesterday", tz="Asia/Shanghai") == D(2023, 7, 10)
    assert parse_date("today", tz="UTC") == D(2023, 7, 10)
    with pytest.raises(DateError, match="relative"):
        parse_date("today", relative=False)


# Every variant the sample prints, exactly as it prints it.
SAMPLE_LINES = [
    ("来源：《电子商务动态》编辑部 2023 年 05 月 31 日 ", "《电子商务动态》编辑部", None, D(2023, 5, 31)),
    (
        "来源：“央广网” 编选：《电子商务动态》编辑部 2023 年 05 月 29 日 ",
        "“央广网”",
        "《电子商务动态》编辑部",
        D(2023, 5, 29),
    ),
    (
        "来源：《新民晚报》编选：《电子商务动态》编辑部 2023 年 06 月 01 日",
        "《新民晚报》",
        "《电子商务动态》编辑部",
        D(2023, 6, 1),
    ),
    ("来源:《人民日报》 2023年6月1日", "《人民日报》", None, D(2023, 6, 1)),
    (
        "来源： “新华网”  编选 ：《电子商务动态》编辑部 ２０２３ 年 ０６ 月 ０２ 日",
        "“新华网”",
        "《电子商务动态》编辑部",
        D(2023, 6, 2),
    ),
]


@pytest.mark.parametrize(("line", "source", "compiled", "date"), SAMPLE_LINES)
def test_attribution_variants(line: str, source: str, compiled: str | None, date: dt.date) -> None:
    assert attribution.parse(line) == Attribution(source=source, date=date, compiled_by=compiled)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("来源：《人民日报》", "without a date"),
        ("来源： 2023 年 05 月 31 日", "names no source"),
        ("据《人民日报》报道", "not an attribution line"),
        ("来源：《人民日报》 2023 年 02 月 30 日", "not a real date"),
    ],
)
def test_broken_attribution_lines(line: str, message: str) -> None:
    with pytest.raises((AttributionError, DateError), match=message):
        attribution.parse(line)


def test_format_is_the_newsletters_own_form() -> None:
    assert (
        attribution.format_line("“央广网”", D(2023, 5, 29), "《电子商务动态》编辑部")
        == "来源：“央广网” 编选：《电子商务动态》编辑部 2023 年 05 月 29 日"
    )
    assert attribution.format_line("《电子商务动态》编辑部", D(2023, 5, 31)) == (
        "来源：《电子商务动态》编辑部 2023 年 05 月 31 日"
    )


outlet = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=12
).filter(lambda s: "编选" not in s and s.strip() == s)
marked = st.builds(
    lambda marks, name: f"{marks[0]}{name}{marks[1]}",
    st.sampled_from([("《", "》"), ("“", "”"), ("", "")]),
    outlet,
)


@given(marked, st.none() | marked, st.dates(min_value=EARLIEST, max_value=LATEST))
def test_parse_of_format_is_identity(source: str, compiled: str | None, date: dt.date) -> None:
    value = Attribution(source=source, date=date, compiled_by=compiled)
    assert attribution.parse(attribution.format_attribution(value)) == value
