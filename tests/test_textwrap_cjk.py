"""Wrapping by display width with Chinese line-breaking rules."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ecdigest.textwrap_cjk import _SPACE, NO_END, NO_START, char_width, display_width, join_lines, wrap

FORBIDDEN_START = set("。，、；：？！）》」』】”’")
FORBIDDEN_END = set("（《「『【“‘")


def test_widths() -> None:
    assert display_width("电子商务") == 8
    assert display_width("5G") == 2
    assert display_width("“直播”……——") == 16  # ambiguous marks drawn full-width
    assert display_width("e\u0301") == 1  # combining accent
    assert display_width("😀") == 2


def test_latin_words_numbers_and_urls_are_never_split() -> None:
    text = "分享人工智能、大数据、5G 等领域经验 ChatGPT-4 模型 3.1415926 https://example.org/a/b?c=d 结束。"
    lines = wrap(text, 20)
    words = {w for line in lines for w in line.split()}
    assert {"ChatGPT-4", "https://example.org/a/b?c=d"} <= words or any(
        "https://example.org/a/b?c=d" in line for line in lines
    )
    for token in ("ChatGPT-4", "3.1415926", "https://example.org/a/b?c=d"):
        assert any(token in line for line in lines), token


def test_long_token_gets_its_own_line() -> None:
    url = "https://example.org/" + "x" * 100
    lines = wrap(f"见 {url} 一文。", 30)
    assert url in lines or any(line.startswith(url) for line in lines)
    assert all(display_width(line) <= 30 or url in line for line in lines)


def test_kinsoku_in_the_sample_style() -> None:
    text = "会议指出，近年来，跨境电商发展取得可喜进展。“上海企业登记在线”新增外资企业变更（试行）。"
    for width in range(8, 40):
        lines = wrap(text, width)
        assert "".join(lines) == text
        for line in lines[1:]:
            assert line[0] not in FORBIDDEN_START, (width, lines)
        for line in lines:
            assert line[-1] not in FORBIDDEN_END, (width, lines)


cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x4E80)
punct = st.sampled_from(sorted(FORBIDDEN_START | FORBIDDEN_END | {" ", "—", "…"}))
latin = st.text(alphabet="abcXYZ019.-/:", min_size=1, max_size=12)
pieces = st.lists(st.one_of(cjk, punct, latin, st.just(" ")), max_size=80).map("".join)


@settings(max_examples=500)
@given(pieces, st.integers(min_value=6, max_value=60))
def test_wrap_properties(text: str, width: int) -> None:
    lines = wrap(text, width)
    # Nothing is lost but the spaces at which lines were broken.
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    atoms = {atom for atom, _ in reference_atoms(text)}
    for index, line in enumerate(lines):
        assert line == line.strip()
        if display_width(line) > width:
            assert line in atoms, (line, width)  # a single unbreakable token, alone
        if index > 0:
            assert line[0] not in FORBIDDEN_START, lines
        if index < len(lines) - 1:
            assert line[-1] not in FORBIDDEN_END, lines


# --------------------------------------------------------------------------- the reference
# The wrapper as it was before it worked on break positions (a per-character loop building
# atoms): the new one must give exactly its lines, for every text and width.


def _reference_units(word: str) -> list[str]:
    units: list[str] = []
    latin = -1
    for index, char in enumerate(word):
        if char_width(char) == 2:
            if latin >= 0:
                units.append(word[latin:index])
                latin = -1
            units.append(char)
        elif latin < 0:
            latin = index
    if latin >= 0:
        units.append(word[latin:])
    return units


def reference_atoms(text: str) -> list[tuple[str, bool]]:
    atoms: list[tuple[list[str], bool]] = []
    for index, word in enumerate(_SPACE.split(join_lines(text).strip())):
        if not word:
            continue
        space = index > 0
        merged: list[list[str]] = []
        glue_next = False
        for unit in _reference_units(word):
            if merged and (glue_next or unit[0] in NO_START):
                merged[-1].append(unit)
            else:
                merged.append([unit])
            glue_next = unit[-1] in NO_END
        if atoms and merged and merged[0][0][0] in NO_START and space:
            atoms[-1][0].append(" ")
            atoms[-1][0].extend(merged.pop(0))
            space = False
        if atoms and merged and atoms[-1][0][-1][-1] in NO_END:
            if space:
                atoms[-1][0].append(" ")
            atoms[-1][0].extend(merged.pop(0))
            space = False
        for position, parts in enumerate(merged):
            atoms.append((parts, space if position == 0 else False))
    return [("".join(parts), space) for parts, space in atoms]


def reference_wrap(
    text: str, width: int, *, indent: str = "", subsequent_indent: str | None = None
) -> list[str]:
    if subsequent_indent is None:
        subsequent_indent = indent
    lines: list[str] = []
    current = [indent]
    current_width = display_width(indent)
    empty = True
    for atom, space in reference_atoms(text):
        atom_width = display_width(atom)
        gap = 1 if space and not empty else 0
        if not empty and current_width + gap + atom_width > width:
            lines.append("".join(current))
            current = [subsequent_indent]
            current_width = display_width(subsequent_indent)
            empty = True
            gap = 0
        if gap:
            current.append(" ")
        current.append(atom)
        current_width += gap + atom_width
        empty = False
    if not empty:
        lines.append("".join(current))
    return lines


# Every class of character the rules tell apart: wide ones (ideographs, full-width forms,
# the ambiguous marks drawn wide, emoji), marks that may not start or end a line (wide and
# narrow), Latin letters and digits, zero-width ones (combining accents, format and
# control characters, a wide combining mark), every blank the wrapper squeezes and every
# line break it joins, and characters that are neither (Greek, Hangul jamo, unassigned).
_MARKS = "".join(sorted(NO_START | NO_END))
_ODD = "e\u0301\u200b\u200d\x00\x1f\u302a\u3099\xa0\u2009\u0378\U000e0080\u1100\u03b1😀\ufe0f\uff21\uff65"
_BLANKS = " \t\u3000\n\r\x0b\x0c\x85\u2028\u2029"
mixed = st.lists(
    st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x4E40),
        st.sampled_from(_MARKS),
        st.sampled_from(_ODD),
        st.sampled_from(_BLANKS),
        st.text(alphabet="abXY019.-/:", min_size=1, max_size=15),
        st.characters(),
    ),
    max_size=120,
).map("".join)
indents = st.sampled_from(["", "  ", "1. ", "　", "十、", " " * 30])


@settings(max_examples=3000, deadline=None)
@given(mixed, st.integers(min_value=1, max_value=70), indents, st.one_of(st.none(), indents))
def test_wrap_gives_the_reference_lines(text: str, width: int, indent: str, subsequent: str | None) -> None:
    assert wrap(text, width, indent=indent, subsequent_indent=subsequent) == reference_wrap(
        text, width, indent=indent, subsequent_indent=subsequent
    )


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_MARKS + "中a ", max_size=300), st.integers(min_value=1, max_value=20))
def test_wrap_gives_the_reference_lines_in_runs_of_marks(text: str, width: int) -> None:
    assert wrap(text, width, indent="  ") == reference_wrap(text, width, indent="  ")


def test_wrap_gives_the_reference_lines_for_the_sample_issue() -> None:
    from pathlib import Path

    sample = (Path(__file__).parent / "data" / "ecd-2023-06.txt").read_text("utf-8")
    paragraphs = [p for p in sample.split("\n\n") if p.strip()]
    assert len(paragraphs) > 50
    for width in (20, 33, 60, 72, 80, 119):
        for paragraph in paragraphs:
            assert wrap(paragraph, width, indent="  ") == reference_wrap(paragraph, width, indent="  ")


def test_the_width_table_is_char_width_for_every_code_point() -> None:
    """wrap's widths (str.translate over a cached table) are char_width's, for every code
    point, the first time (filling the table, and past its cap) and from the table."""
    from ecdigest.textwrap_cjk import _widths

    every = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code < 0xE000)
    expected = bytes(map(char_width, every))
    assert _widths(every) == expected
    assert _widths(every) == expected
    assert _widths(every[::-1]) == expected[::-1]


@settings(max_examples=2000, deadline=None)
@given(st.one_of(mixed, st.text(alphabet=_BLANKS + "中a ", max_size=40)))
def test_normalize_is_the_two_substitutions(text: str) -> None:
    """_normalize skips its regular expressions when the text holds no blank they change."""
    from ecdigest.textwrap_cjk import _SPACE, _normalize, join_lines

    assert _normalize(text) == _SPACE.sub(" ", join_lines(text).strip())


def test_widths_from_utf8_are_char_width() -> None:
    """Text _SIMPLE matches takes its widths from its UTF-8 bytes: every character it
    matches is printable ASCII or three bytes of width 2, and the widths are char_width's."""
    from ecdigest.textwrap_cjk import _SIMPLE, _widths

    simple = [chr(code) for code in range(0x10000) if _SIMPLE.fullmatch(chr(code))]
    assert len(simple) > 21_000
    for char in simple:
        assert (char_width(char), len(char.encode("utf-8"))) in {(1, 1), (2, 3)}, hex(ord(char))
    text = "".join(simple)
    assert _widths(text) == bytes(map(char_width, text))
    assert not _SIMPLE.fullmatch("中\u00b7文") and not _SIMPLE.fullmatch("a\tb")


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="中文，。“”—… ab1!~\x7f\u00b7\u302a\t\u3000", max_size=60))
def test_widths_either_way(text: str) -> None:
    from ecdigest.textwrap_cjk import _widths

    assert _widths(text) == bytes(map(char_width, text))


@given(st.binary(max_size=60).map(lambda b: bytes(x % 3 for x in b)), st.integers(0, 60), st.integers(-3, 40))
def test_fitting_is_the_longest_run_that_fits(widths: bytes, start: int, room: int) -> None:
    """A line's end from the paragraph's prefix sums: the largest end whose characters from
    `start` take at most `room` columns (zero-width characters included), else `start`."""
    from itertools import accumulate

    from ecdigest.textwrap_cjk import _fitting

    start = min(start, len(widths))
    ends = [end for end in range(start, len(widths) + 1) if sum(widths[start:end]) <= room]
    assert _fitting(list(accumulate(widths, initial=0)), start, room) == max(ends, default=start)
