"""Markdown export: text renders literally under CommonMark, anchors resolve, structure holds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from _publishing import FIXTURE_ARCHIVE, render_commonmark
from conftest import SHIPPED_ARCHIVE, Invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecdigest.archive import Archive
from ecdigest.export import common, markdown
from ecdigest.model import Article, Issue, Newsletter

SETTINGS = Newsletter()
TRICKY = [
    "*强调* **加粗** _下划线_ __双__",
    "# 井号 ## 结尾 #",
    "[链接](https://x.example) ![图](y.png) [ref]: /url",
    "<script>alert(1)</script> <b>粗</b> <!-- 注释 -->",
    "&amp; &copy; &#169; & 单独",
    "`代码` ``双`` ```三```",
    "\\ 反斜杠 \\* 已转义",
    "~~删除~~ | 表 | 格 |",
    "- 列表",
    "+ 列表",
    "* 列表",
    "1. 有序",
    "2) 有序",
    "123456789. 九位数字",
    "> 引用",
    "    缩进代码",
    "---",
    "===",
    "***",
    "___",
    "]]> CDATA 结束",
    "行尾两个空格  ",
    "http://example.org/a_b_c*d*",
]


def paragraph_html_text(text: str) -> str:
    outline = render_commonmark(markdown.escape(text))
    assert outline.tags == ["p"], (text, outline.tags)
    (paragraph,) = outline.paragraphs
    return paragraph


@pytest.mark.parametrize("text", TRICKY)
def test_markup_characters_render_literally(text: str) -> None:
    assert paragraph_html_text(text) == common.one_line(text)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("*_#[]()<>&`\\~|!-+=.:)1 \t中文a\n")), min_size=1))
def test_any_mix_of_markup_characters_renders_literally(text: str) -> None:
    if not common.one_line(text):
        return
    assert paragraph_html_text(text) == common.one_line(text)


def _issue() -> Issue:
    archive = Archive.open(FIXTURE_ARCHIVE)
    return archive.get("2023-06").issue


def test_fixture_structure_titles_attributions_and_anchors() -> None:
    issue = _issue()
    archive = Archive.open(FIXTURE_ARCHIVE)
    text = markdown.render([issue], archive.settings)
    outline = render_commonmark(text)
    h3 = [t for tag, t in outline.headings if tag == "h3"]
    assert h3 == [common.one_line(a.title) for _, group in issue.by_section(SETTINGS.sections) for a in group]
    assert [t for tag, t in outline.headings if tag == "h1"] == [issue.title]
    assert [t for tag, t in outline.headings if tag == "h2"] == ["目录", "行业资讯", "政策法规", "数据观察"]
    # no stray emphasis, code, quotes, rules or raw HTML from article text
    assert not {"em", "strong", "code", "pre", "blockquote", "hr", "script", "b", "img"} & set(outline.tags)
    for article in issue.articles:
        assert common.attribution(article) in outline.paragraphs
    # every table-of-contents link points at an anchor that exists, once
    fragments = [h[1:] for h in outline.hrefs if h.startswith("#")]
    assert len(fragments) == len(issue.articles) + 3
    assert all(outline.ids.count(f) == 1 for f in fragments), (fragments, outline.ids)
    assert {a.id for a in issue.articles} <= set(outline.ids)
    # the only other link is none: the title's [方括号](https://evil.example/) stays text
    assert all(h.startswith("#") for h in outline.hrefs)


def test_control_characters_and_crlf_title() -> None:
    text = markdown.render([_issue()], SETTINGS)
    assert "\x00" not in text and "\x07" not in text and "\r" not in text
    assert '### <a id="2023-06-002"></a>标题里有换行 Bcc: victim@example.com\n' in text


def test_section_anchor_never_collides_with_an_article_id() -> None:
    article = Article(
        id="section-1", section="行业资讯", title="t", source="s", date=dt.date(2023, 6, 1), body="b"
    )
    issue = Issue(id="x", title="x", date=dt.date(2023, 6, 5), articles=(article,))
    outline = render_commonmark(markdown.render([issue], SETTINGS))
    assert sorted(outline.ids) == ["section-1", "section-1-s"]


# --------------------------------------------------------------------------- hypothesis

ANY_CHAR = st.characters(exclude_categories=())
FIELD = st.one_of(
    st.text(ANY_CHAR, max_size=40),
    st.lists(st.sampled_from([*TRICKY, "\r\n", "\u2028", "\x00", "中文。", " "]), max_size=5).map("".join),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=FIELD, section=FIELD, source=FIELD, body=st.lists(FIELD, max_size=4), issue_title=FIELD)
def test_arbitrary_unicode_never_breaks_the_structure(
    title: str, section: str, source: str, body: list[str], issue_title: str
) -> None:
    article = Article(
        id="2023-06-001",
        section=section,
        title=title,
        source=source,
        date=dt.date(2023, 6, 1),
        body="\n\n".join(body),
    )
    issue = Issue(id="2023-06", title=issue_title, date=dt.date(2023, 6, 5), articles=(article,))
    outline = render_commonmark(markdown.render([issue], SETTINGS))
    assert [t for tag, t in outline.headings if tag == "h1"] == [common.issue_title(issue, SETTINGS)]
    assert [t for tag, t in outline.headings if tag == "h3"] == [common.title_of(article)]
    assert [t for tag, t in outline.headings if tag == "h2"] == ["目录", common.one_line(section) or "未分类"]
    assert not {"em", "strong", "code", "pre", "blockquote", "hr", "h4", "h5", "h6"} & set(outline.tags)
    expected = [*common.paragraphs(article), common.attribution(article)]
    assert outline.paragraphs[-len(expected) :] == expected
    assert sorted(outline.ids) == ["2023-06-001", "section-1"]


# --------------------------------------------------------------------------- CLI


def test_cli_export_markdown_default_is_latest_published(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("export", "markdown", archive=FIXTURE_ARCHIVE)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# 电子商务动态 2023 年 6 月\n")  # 2023-07 is a draft
    out = tmp_path / "page.md"
    assert invoke("export", "markdown", "2023-05", "-o", str(out), archive=FIXTURE_ARCHIVE).exit_code == 0
    assert out.read_text("utf-8").startswith("# 电子商务动态 2023 年 5 月\n")


def test_cli_export_markdown_unknown_issue(invoke: Invoke) -> None:
    result = invoke("export", "markdown", "1999-01", archive=FIXTURE_ARCHIVE)
    assert result.exit_code == 2
    assert "no issue '1999-01'" in result.stderr


@pytest.mark.skipif(not (SHIPPED_ARCHIVE / "ecdigest.toml").exists(), reason="shipped archive not there")
def test_shipped_archive_titles_are_headings_and_attributions_verbatim() -> None:
    archive = Archive.open(SHIPPED_ARCHIVE)
    issue = archive.latest(status="published").issue
    outline = render_commonmark(markdown.render([issue], archive.settings))
    assert len(issue.articles) == 53
    h3 = [t for tag, t in outline.headings if tag == "h3"]
    assert sorted(h3) == sorted(a.title for a in issue.articles)
    assert not {"em", "strong", "code", "pre", "blockquote"} & set(outline.tags)
    lines = [common.attribution(a) for a in issue.articles]
    assert all(line in outline.paragraphs for line in lines)
    assert len(set(lines) & set(outline.paragraphs)) == len(set(lines))
