"""Issue files: model -> TOML -> model is lossless and byte-stable; bad files say where."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecdigest.codec import decode_issue, encode_issue
from ecdigest.errors import UsageError
from ecdigest.model import Article, Issue, next_article_id

# Any text a web page or an editor can produce, minus lone surrogates (not encodable at all).
texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),
    max_size=60,
)
tricky = st.sampled_from(
    ['"""', "'''", "\\", '\\"""', "\t", "第一段\n\n第二段", "😀", "]]>", "\x00", "\x7f", "\u2028"]
)
rich_text = st.lists(st.one_of(texts, tricky), max_size=6).map("".join)
dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31))


@st.composite
def articles(draw: st.DrawFn, issue_id: str, number: int) -> Article:
    return Article(
        id=f"{issue_id}-{number:03d}",
        section=draw(rich_text),
        title=draw(rich_text),
        source=draw(rich_text),
        compiled_by=draw(st.none() | rich_text),
        date=draw(st.none() | dates),
        url=draw(st.none() | rich_text),
        tags=tuple(draw(st.lists(rich_text, max_size=3))),
        body=draw(rich_text),
    )


@st.composite
def issues(draw: st.DrawFn) -> Issue:
    issue_id = draw(st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,12}\Z"))
    count = draw(st.integers(min_value=0, max_value=4))
    items = tuple(draw(articles(issue_id, n + 1)) for n in range(count))
    return Issue(
        id=issue_id,
        title=draw(rich_text),
        date=draw(st.none() | dates),
        status=draw(st.sampled_from(["draft", "published"])),
        articles=items,
        last_article_number=count + draw(st.integers(min_value=0, max_value=3)),
    )


def roundtrip(issue: Issue) -> tuple[Issue, str]:
    text = encode_issue(issue)
    loaded, problems = decode_issue(tomllib.loads(text), text)
    assert problems == []
    return loaded, text


@settings(max_examples=300, deadline=None)
@given(issues())
def test_any_text_survives_save_and_load(issue: Issue) -> None:
    loaded, text = roundtrip(issue)
    assert loaded == issue
    assert encode_issue(issue) == text  # saving twice gives identical bytes
    assert encode_issue(loaded) == text  # load-then-save of an unchanged file too


def test_crlf_in_a_body_is_a_line_ending_not_content() -> None:
    article = Article(id="x-001", body="第一段。\r\n\r\n第二段。\r第三行")
    assert article.body == "第一段。\n\n第二段。\n第三行"
    assert article.paragraphs == ("第一段。", "第二段。\n第三行")


def test_a_lone_surrogate_is_refused_not_written() -> None:
    issue = Issue(id="x", title="bad \udcff bytes")
    with pytest.raises(UsageError, match="not valid Unicode"):
        encode_issue(issue)


def test_file_layout_is_readable_and_ordered() -> None:
    issue = Issue(
        id="2023-06",
        title="电子商务动态 2023 年 6 月",
        date=dt.date(2023, 6, 5),
        status="published",
        articles=(
            Article(
                id="2023-06-001",
                section="行业资讯",
                title="标题",
                source="“央广网”",
                compiled_by="《电子商务动态》编辑部",
                date=dt.date(2023, 5, 29),
                tags=("跨境电商",),
                body="第一段。\n\n第二段。",
            ),
        ),
    )
    assert encode_issue(issue) == (
        'id = "2023-06"\n'
        'title = "电子商务动态 2023 年 6 月"\n'
        "date = 2023-06-05\n"
        'status = "published"\n'
        "last_article_number = 1\n"
        "\n[[articles]]\n"
        'id = "2023-06-001"\n'
        'section = "行业资讯"\n'
        'title = "标题"\n'
        'source = "“央广网”"\n'
        'compiled_by = "《电子商务动态》编辑部"\n'
        "date = 2023-05-29\n"
        'tags = [\n    "跨境电商",\n]\n'
        'body = """\n第一段。\n\n第二段。"""\n'
        "\n"  # every article ends with a blank line, the last too: changes merge (codec._closed)
    )


def test_removed_article_numbers_are_remembered() -> None:
    issue = Issue(id="2023-07", articles=(Article(id="2023-07-001"), Article(id="2023-07-002")))
    assert "last_article_number = 2" in encode_issue(issue)
    shrunk = Issue(id="2023-07", articles=issue.articles[:1], last_article_number=2)
    loaded, _ = roundtrip(shrunk)
    assert next_article_id(loaded) == ("2023-07-003", 3)
    assert "last_article_number" not in encode_issue(Issue(id="2023-07"))


def test_ids_moved_from_elsewhere_are_never_reused() -> None:
    issue = Issue(id="2023-07", articles=(Article(id="2023-07-001"),))
    assert next_article_id(issue, taken=["2023-07-009", "2023-06-050"]) == ("2023-07-010", 10)


BAD = """\
id = "2023-06"
title = 7
date = "2023年2月30日"
status = "done"
colour = "red"

[[articles]]
id = "2023-06-001"
title = "ok"
body = \"\"\"
tags = 1 is inside a string here
\"\"\"

[[articles]]
id = "../../etc/x"
tags = "a"
date = 2023-05-31T10:00:00
"""


def test_structural_problems_carry_their_lines() -> None:
    issue, problems = decode_issue(tomllib.loads(BAD), BAD)
    found = {(p.kind, p.field, p.line, p.article) for p in problems}
    assert found == {
        ("type", "title", 2, None),
        ("date", "date", 3, None),
        ("value", "status", 4, None),
        ("unknown-key", "colour", 5, None),
        ("id", "id", 15, 1),
        ("type", "tags", 16, 1),
        ("type", "date", 17, 1),
    }
    assert issue.title == "" and issue.date is None and issue.status == "draft"
    assert [a.id for a in issue.articles] == ["2023-06-001", "../../etc/x"]


@pytest.mark.parametrize(
    "value",
    [
        "\"it's '''quoted'''\"",  # three single quotes inside a basic string
        '\'say """hi"""\'',  # three double quotes inside a literal string
        '"a \\" \\"\\"\\" b \'\'\'"',  # escaped quotes, then three single ones, in a basic string
        '"x" # a comment with """ in it',
        '"""one line"""',  # opened and closed on its line
        '"NEL\x85 and LINE SEPARATOR\u2028 are not line ends in TOML"',
        '"""ends with quotes"""""',  # two quotes more belong to the text
        "'''\n[[articles]]\nid = \"not a key\"\n'''",  # a table header inside a string
        '"""\nline\\"""\ntitle = "in the string"\n"""',  # an escaped delimiter does not close
    ],
)
def test_key_lines_read_strings_as_toml_does(value: str) -> None:
    """Where each key is, whatever quotes a value holds: what comes after the value is
    found on the line tomllib says (the lines of `title` and `date` after it)."""
    import tomllib

    from ecdigest.codec import KeyLines

    text = f'id = "2023-06"\nnote = {value}\ntitle = "T"\n\n[[articles]]\nid = "2023-06-001"\ndate = 2023-06-01\n'
    data = tomllib.loads(text)  # the case is valid TOML
    assert data["title"] == "T"
    lines = KeyLines(text)
    numbered = text.split("\n")
    assert numbered[lines.line("title") - 1] == 'title = "T"'  # type: ignore[operator]
    assert numbered[lines.line("date", 0) - 1] == "date = 2023-06-01"  # type: ignore[operator]
    assert lines.line("id", 0) == numbered.index('id = "2023-06-001"') + 1
