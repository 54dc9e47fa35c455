"""Wrapping by display width with Chinese line-breaking rules."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ecdigest.textwrap_cjk import _atoms, display_width, wrap

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
    atoms = {atom for atom, _ in _atoms(text)}
    for index, line in enumerate(lines):
        assert line == line.strip()
        if display_width(line) > width:
            assert line in atoms, (line, width)  # a single unbreakable token, alone
        if index > 0:
            assert line[0] not in FORBIDDEN_START, lines
        if index < len(lines) - 1:
            assert line[-1] not in FORBIDDEN_END, lines
