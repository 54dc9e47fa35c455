"""The email's text part as format=flowed; DelSp=yes (RFC 3676).

Un-flowed by the decoder in `_flowed.py` (written from the RFC, not from ecdigest), every
paragraph comes back exactly as the article has it (after the wrapper's one documented
change: each run of blanks is one space), and a client without format=flowed sees the
fixed 72-column text line for line. On the shipped issue, the hostile corpus, and
hypothesis-generated Chinese/Latin/punctuation text with lines that start with a space,
`>`, `From ` and the `-- ` separator.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from _flowed import Logical, as_wrapped, unflow, unflow_part, wire_problems
from _publishing import FIXTURE_ARCHIVE, email_problems
from conftest import DATA, SHIPPED_ARCHIVE
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ecdigest.archive import Archive
from ecdigest.codec import decode_issue
from ecdigest.export import common
from ecdigest.export import email as email_export
from ecdigest.model import Article, Issue, Newsletter
from ecdigest.textwrap_cjk import display_width, wrap


def parse(data: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def article_runs(issue: Issue) -> list[list[str]]:
    """Per article, the logical lines its body must un-flow to, in order: a blank line and
    each paragraph, a blank line and the attribution (then the source link, if any)."""
    runs = []
    for article in issue.articles:
        run: list[str] = []
        for paragraph in article.paragraphs:
            if as_wrapped(paragraph):
                run += ["", as_wrapped(paragraph)]
        run += ["", as_wrapped(common.attribution(article))]
        link = common.web_url(article.url)
        if link:
            run.append(f"原文：{link}")
        runs.append(run)
    return runs


def check_unflowed(logical: list[str], issue: Issue) -> None:
    """Each article's run appears, whole and in order, in the un-flowed text."""
    start = 0
    for article, run in zip(issue.articles, article_runs(issue), strict=True):
        for index in range(start, len(logical) - len(run) + 1):
            if logical[index : index + len(run)] == run:
                start = index + len(run)
                break
        else:
            pytest.fail(f"{article.id}: {run!r} is not in the un-flowed text after line {start}")


def check_issue(issue: Issue, settings_: Newsletter, width: int = 72) -> list[str]:
    """Every property of the flowed text and its message; returns the logical lines."""
    fixed = email_export.render_text(issue, settings_, width=width)
    flowed = email_export.render_flowed(issue, settings_, width=width)
    assert wire_problems(flowed, fixed) == []
    logical = [line.text for line in unflow(flowed, delsp=True)]
    check_unflowed(logical, issue)
    # what a flowed reader shows of the header block and the signature
    assert logical[0] == as_wrapped(common.issue_title(issue, settings_))
    assert logical.count("-- ") == 1
    editor = common.one_line(settings_.editor)
    if editor:
        assert logical[logical.index("-- ") + 1] == as_wrapped(editor)
    if issue.date is not None and issue.date.year >= 1900:
        message = parse(email_export.render_eml(issue, settings_, width=width))
        assert unflow_part(message) == logical
    return logical


# --------------------------------------------------------------------------- the decoder


def test_the_decoder_follows_the_rfc() -> None:
    # DelSp=yes: the marker space goes, a second space stays
    assert unflow("中文 \n中文\n", delsp=True) == [Logical(0, "中文中文")]
    assert unflow("word  \nword\n", delsp=True) == [Logical(0, "word word")]
    assert unflow("word \nword\n", delsp=False) == [Logical(0, "word word")]
    # stuffing removed once; quotes counted first; `-- ` is neither fixed nor flowed
    assert unflow("  indented\n >not quoted\n>> quoted \n>>more\n", delsp=True) == [
        Logical(0, " indented"),
        Logical(0, ">not quoted"),
        Logical(2, "quotedmore"),
    ]
    assert unflow("body \n-- \nsig\n", delsp=True) == [
        Logical(0, "body"),
        Logical(0, "-- "),
        Logical(0, "sig"),
    ]
    # a flowed line before another quote depth, or at the end, ends its paragraph
    assert unflow("a \n>b\nc \n", delsp=True) == [Logical(0, "a"), Logical(1, "b"), Logical(0, "c")]


# --------------------------------------------------------------------------- real issues


@pytest.mark.skipif(not (SHIPPED_ARCHIVE / "ecdigest.toml").exists(), reason="shipped archive not there")
@pytest.mark.parametrize("width", [40, 72])
def test_the_shipped_issue_unflows_to_its_paragraphs(width: int) -> None:
    archive = Archive.open(SHIPPED_ARCHIVE)
    issue = archive.latest(status="published").issue
    logical = check_issue(issue, archive.settings, width)
    # Chinese paragraphs are long: most of them were broken, and re-joined without a space
    flowed = email_export.render_flowed(issue, archive.settings, width=width)
    soft = [line for line in flowed.split("\n") if line.endswith(" ") and line != "-- "]
    assert len(soft) > 200
    assert all(" " not in p for p in logical if p and all(display_width(c) == 2 for c in p))


def test_the_fixture_issues_unflow_to_their_paragraphs() -> None:
    archive = Archive.open(FIXTURE_ARCHIVE)
    for item in archive.issues():
        check_issue(item.issue, archive.settings)


def _hostile_issues() -> list[tuple[str, Issue]]:
    """The hostile corpus's files that decode to an issue (the rest are not TOML at all:
    test_hardening_hostile covers what the readers say about those)."""
    found = []
    for path in sorted((DATA / "hostile").glob("*.toml")):
        try:
            data = tomllib.loads(path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
            continue
        found.append((path.name, decode_issue(data)[0]))
    return found


HOSTILE = _hostile_issues()


def test_the_hostile_corpus_has_issues_to_render() -> None:
    assert len(HOSTILE) >= 30
    assert sum(len(issue.articles) for _, issue in HOSTILE) >= 30


@pytest.mark.parametrize(("name", "issue"), HOSTILE, ids=[name for name, _ in HOSTILE])
def test_hostile_issues_unflow_to_their_paragraphs(name: str, issue: Issue) -> None:
    check_issue(issue, Newsletter())


# --------------------------------------------------------------------------- the edges


def _one_article(body: str, title: str = "标题") -> Issue:
    article = Article(
        id="x-001",
        section="行业资讯",
        title=title,
        source="《人民日报》",
        date=dt.date(2023, 6, 1),
        body=body,
    )
    return Issue(id="x", title="t", date=dt.date(2023, 6, 5), status="published", articles=(article,))


def test_a_break_at_a_space_keeps_the_space_and_a_break_between_hanzi_adds_none() -> None:
    body = "甲" * 30 + "乙" * 10 + " word " + "x" * 30
    flowed = email_export.render_flowed(_one_article(body), Newsletter(), width=40)
    lines = flowed.split("\n")
    first = lines.index("甲" * 20 + " ")  # 40 columns, then a soft break (DelSp marker)
    assert lines[first + 1] == "甲" * 10 + "乙" * 10 + "  "  # the space kept, then the marker
    assert lines[first + 2] == "word " + "x" * 30
    assert as_wrapped(body) in [line.text for line in unflow(flowed, delsp=True)]


def test_lines_that_would_read_as_quoted_or_from_are_stuffed() -> None:
    body = "> 不是引用。\n\n" + "甲" * 36 + "From here on, " + "乙" * 30
    issue = _one_article(body, title="> 标题")
    flowed = email_export.render_flowed(issue, dataclasses.replace(Newsletter(), editor="From 编辑部"))
    lines = flowed.split("\n")
    assert " > 不是引用。" in lines and " From 编辑部" in lines
    assert any(line.startswith(" From here") for line in lines)
    check_issue(issue, dataclasses.replace(Newsletter(), editor="From 编辑部"))


def test_a_line_that_is_only_dashes_never_becomes_a_signature_separator() -> None:
    # "--" then a token too wide for the rest of the line: the wrapper breaks right after
    # "--" (no space there); "--" + the soft-break space would be "-- ".
    body = "--“" + "x" * 60 + "” 结束。"
    assert wrap(body, 40)[:2] == ["--", "“" + "x" * 60 + "”"]
    issue = _one_article(body)
    fixed = email_export.render_text(issue, Newsletter(), width=40).split("\n")
    flowed = email_export.render_flowed(issue, Newsletter(), width=40).split("\n")
    # joined with the over-wide token after it, in both views
    assert "--“" + "x" * 60 + "”" in fixed and "--" not in fixed
    assert "--“" + "x" * 60 + "”  " in flowed  # then a soft break at the space
    assert flowed.count("-- ") == 1  # the real separator only
    check_unflowed([line.text for line in unflow("\n".join(flowed), delsp=True)], issue)


def test_numbered_titles_are_hard_lines_indented_in_both_views() -> None:
    title = "很长的标题" * 12
    flowed = email_export.render_flowed(_one_article("正文。", title=title), Newsletter(), width=40)
    logical = [line.text for line in unflow(flowed, delsp=True)]
    continued = [line for line in logical if line.startswith(" ")]
    assert len(continued) == 6  # twice 3 lines: in the contents and over the article
    # 3 spaces on the wire (under "1. "), of which a flowed reader takes 1 as the stuffing
    assert all(line.startswith("  ") and line[2] != " " for line in continued)
    fixed = email_export.render_text(_one_article("正文。", title=title), Newsletter(), width=40)
    assert sum(line.startswith("   ") and line[3] != " " for line in fixed.split("\n")) == 6


def test_max_articles_cuts_with_a_link_to_the_web_page() -> None:
    archive = Archive.open(FIXTURE_ARCHIVE)
    issue = archive.get("2023-06").issue
    text = email_export.render_text(issue, archive.settings, max_articles=2)
    assert "共 4 篇，本邮件收录前 2 篇" in text
    flowed = email_export.render_flowed(issue, archive.settings, max_articles=2)
    logical = [line.text for line in unflow(flowed, delsp=True)]
    assert "本期另有 2 篇文章未收入邮件，请阅读网页版：https://example.org/ecd/2023-06.html" in logical
    assert "3. " not in text and "1. " in text and "2. " in text
    assert email_problems(text, 72) == []
    full = email_export.render_text(issue, archive.settings)
    assert "未收入邮件" not in full and "本邮件收录" not in full
    assert email_export.render_text(issue, archive.settings, max_articles=4) == full
    setting = dataclasses.replace(archive.settings, max_articles=2)
    assert email_export.render_text(issue, setting) == text


# --------------------------------------------------------------------------- hypothesis

TOKENS = st.sampled_from(
    [
        "中文",
        "电子商务",
        "。",
        "，",
        "、",
        "“",
        "”",
        "《",
        "》",
        "（",
        "）",
        "……",
        "——",
        " ",
        "  ",
        "\u3000",
        "\t",
        "\n",
        "\n\n",
        "\n ",
        "\n>",
        "\n> ",
        "> ",
        ">",
        "From ",
        "From",
        "\nFrom ",
        "-- ",
        "--",
        "\n-- \n",
        "-",
        "5G",
        "word",
        "Latin words here",
        "https://example.org/" + "p" * 70,
        "x" * 80,
        "=?utf-8?q?x?=",
        "\u00a0",
    ]
)
TEXT = st.lists(TOKENS, min_size=1, max_size=40).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies=st.lists(TEXT, min_size=1, max_size=2), title=TEXT, editor=TEXT, width=st.integers(30, 90))
@example(bodies=["--“" + "x" * 60 + "”"], title="t", editor="e", width=40)
@example(bodies=["甲" * 35 + "From here"], title="From the editors", editor="> ed", width=72)
def test_generated_text_unflows_to_its_paragraphs(
    bodies: list[str], title: str, editor: str, width: int
) -> None:
    articles = tuple(
        Article(
            id=f"x-{n:03d}",
            section="行业资讯",
            title=title,
            source="《人民日报》",
            date=dt.date(2023, 6, 1),
            body=body,
        )
        for n, body in enumerate(bodies, start=1)
    )
    issue = Issue(id="x", title=title, date=dt.date(2023, 6, 5), status="published", articles=articles)
    check_issue(issue, dataclasses.replace(Newsletter(), editor=editor), width)
