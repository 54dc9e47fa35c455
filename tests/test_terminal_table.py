"""terminal.plain_table: `list`'s aligned columns, column by column at C speed, exactly as
the cell-by-cell table it replaced (kept here as the reference)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecdigest.terminal import plain_table, printable
from ecdigest.textwrap_cjk import char_width, display_width


def reference_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cells = [[printable(cell, one_line=True) for cell in row] for row in [headers, *rows]]
    sizes = [[sum(map(char_width, cell)) for cell in row] for row in cells]
    widths = [max(row[i] for row in sizes) for i in range(len(headers))]
    lines = [
        "  ".join(
            cell + " " * max(0, w - size) for cell, size, w in zip(row, row_sizes, widths, strict=True)
        ).rstrip()
        for row, row_sizes in zip(cells, sizes, strict=True)
    ]
    return "\n".join(lines) + "\n"


cell = st.one_of(
    st.text(alphabet="0123456789-abc ", max_size=12),
    st.text(alphabet="行业资讯政策法规 12“”—\t\n\x1b\u0301é😀", max_size=12),
    st.text(max_size=6),
)


@settings(max_examples=400, deadline=None)
@given(
    st.integers(0, 5).flatmap(
        lambda n: st.lists(st.lists(cell, min_size=n, max_size=n), min_size=1, max_size=8)
    )
)
def test_plain_table_is_the_reference(table: list[list[str]]) -> None:
    headers, rows = table[0], table[1:]
    assert plain_table(headers, rows) == reference_table(headers, rows)


def test_the_list_table() -> None:
    headers = ("id", "date", "status", "articles", "sections")
    rows = [
        ["2023-06", "2023-06-05", "published", "53", "行业资讯 20 政策法规 12"],
        ["2023-07", "-", "draft", "1", ""],
    ]
    assert plain_table(headers, rows) == (
        "id       date        status     articles  sections\n"
        "2023-06  2023-06-05  published  53        行业资讯 20 政策法规 12\n"
        "2023-07  -           draft      1\n"
    )


def test_rows_of_another_length_are_refused() -> None:
    with pytest.raises(ValueError):
        plain_table(("a", "b"), [["1"]])


@given(st.text())
def test_display_width_is_the_sum_of_char_widths(text: str) -> None:
    assert display_width(text) == sum(map(char_width, text))
