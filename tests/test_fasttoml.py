"""The fast reader of issue files answers exactly what tomllib answers, or steps aside.

For any text, `fasttoml.loads` returns either None (tomllib then reads it, and reports its
errors) or exactly `tomllib.loads(text)`. Checked on issues written by the codec (with
strings that need escapes, quotes, control characters, any Unicode) and on those texts
mutated at random (characters inserted, deleted, lines duplicated or swapped); and the fast
path must actually be taken for the plain files ecdigest writes.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecdigest import fasttoml
from ecdigest.codec import KeyLines, encode_issue
from ecdigest.model import Article, Issue

PLAIN = st.text(
    alphabet=st.sampled_from(list("直播电商跨境数据的一了abAZ09 ，。“”《》（）-_:#=[]'")), max_size=30
)
ANY = st.text(max_size=30).filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s))


@st.composite
def issues(draw: st.DrawFn, text: st.SearchStrategy[str]) -> Issue:
    articles = []
    for n in range(draw(st.integers(0, 3))):
        articles.append(
            Article(
                id=f"x-{n:03d}",
                section=draw(text),
                title=draw(text),
                source=draw(text),
                compiled_by=draw(st.none() | text),
                date=draw(st.none() | st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))),
                url=draw(st.none() | text),
                tags=tuple(draw(st.lists(text, max_size=3))),
                body=draw(st.lists(text, max_size=3).map("\n\n".join)),
            )
        )
    return Issue(
        id=draw(text),
        title=draw(text),
        date=draw(st.none() | st.dates()),
        status=draw(st.sampled_from(["draft", "published"])),
        articles=tuple(articles),
        last_article_number=draw(st.integers(0, 10**6)),
    )


def same_as_tomllib(text: str) -> dict[str, object] | None:
    fast = fasttoml.loads(text)
    if fast is not None:
        assert tomllib.loads(text) == fast, text
    return fast


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(issues(PLAIN))
def test_plain_files_take_the_fast_path(issue: Issue) -> None:
    text = encode_issue(issue)
    lines = fasttoml.Lines()
    data = fasttoml.loads(text, lines)
    assert data is not None and data == tomllib.loads(text)
    # ...and say where every key is, as codec.KeyLines finds it by scanning.
    same_lines(text, data, lines)


def same_lines(text: str, data: dict[str, Any], lines: fasttoml.Lines) -> None:
    scanned = KeyLines(text)
    tables = [None, *range(len(data.get("articles", [])))]
    for table in tables:
        keys = data if table is None else data["articles"][table]
        for key in [*keys, "nonexistent"]:
            assert lines.line(key, table) == scanned.line(key, table), (key, table)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(issues(ANY))
def test_any_text_is_read_as_tomllib_reads_it(issue: Issue) -> None:
    text = encode_issue(issue)
    lines = fasttoml.Lines()
    data = fasttoml.loads(text, lines)
    if data is not None:
        assert data == tomllib.loads(text)
        same_lines(text, data, lines)  # quotes of every kind inside the values too


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = encode_issue(draw(issues(PLAIN)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["insert", "delete", "dup-line", "swap-lines", "replace"]))
        at = draw(st.integers(0, len(text)))
        if kind == "insert":
            text = (
                text[:at]
                + draw(
                    st.sampled_from(
                        [
                            '"',
                            '"""',
                            "\\",
                            "\n",
                            " ",
                            "#",
                            "\r",
                            "\t",
                            "\x01",
                            "=",
                            "[",
                            "]",
                            "0",
                            "-",
                            ",",
                            "[[articles]]\n",
                            'x = "y"\n',
                        ]
                    )
                )
                + text[at:]
            )
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 5)) :]
        elif kind == "replace":
            text = text[:at] + draw(st.sampled_from(["1", "a", '"', "\n"])) + text[at + 1 :]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, max(0, len(lines) - 1)))
            if kind == "dup-line":
                lines.insert(i, lines[i])
            else:
                j = draw(st.integers(0, max(0, len(lines) - 1)))
                lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return text


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_files_are_read_as_tomllib_reads_them_or_left_to_it(text: str) -> None:
    same_as_tomllib(text)


def test_what_is_left_to_tomllib() -> None:
    plain = 'id = "a"\ntitle = "t"\n\n[[articles]]\nid = "a-001"\nbody = """\n第一段\n\n第二段"""\n'
    assert same_as_tomllib(plain) == {
        "id": "a",
        "title": "t",
        "articles": [{"id": "a-001", "body": "第一段\n\n第二段"}],
    }
    for other in (
        'id = "a" # a comment\n',
        'id = "a\\u0041"\n',
        "id = 'a'\n",
        'id="a"\n',
        'id = "a"\r\n',
        "n = 1.5\n",
        "n = +1\n",
        "n = 007\n",
        "d = 2023-02-30\n",
        "d = 2023-06-05T10:00:00\n",
        'id = "a"\nid = "b"\n',
        '[meta]\nid = "a"\n[meta]\nx = 1\n',
        '[meta]\nid = "a"\n[meta.x]\nx = 1\n',
        '[ meta ]\nid = "a"\n',
        '[meta] # c\nid = "a"\n',
        'meta = 1\n[meta]\nid = "a"\n',
        '# a comment\x01\nid = "a"\n',
        ' # indented comment\nid = "a"\n',
        "t = True\n",
        'body = """x\n"""\n',
        'body = """\nx""" # c\n',
        'body = """\nx\x01"""\n',
        'a.b = "c"\n',
        '  id = "a"\n',
    ):
        assert fasttoml.loads(other) is None, other
    # A table is the settings file's: an issue file's reader, which asks where keys are,
    # leaves it to tomllib.
    table = '# settings\n[meta]\nid = "a"\nflag = true\n\n[other]\nn = 0\n'
    assert same_as_tomllib(table) == {"meta": {"id": "a", "flag": True}, "other": {"n": 0}}
    assert fasttoml.loads(table, fasttoml.Lines()) is None


# --------------------------------------------------------------------------- settings files


def test_the_settings_files_ecdigest_writes_take_the_fast_path() -> None:
    from ecdigest.codec import encode_settings
    from ecdigest.model import Newsletter

    for settings_ in (
        Newsletter(),
        Newsletter(editions=("zh-Hant-TW",), known_sources=("《人民日报》", "新华社"), history_git=True),
    ):
        text = encode_settings(settings_)
        assert "#" in text and "[newsletter]" in text
        assert same_as_tomllib(text) is not None, text


COMMENT = st.text(alphabet=st.sampled_from(list("注释 comment#=[]\"'\t\x01\x7f，。")), max_size=20)
VALUE = st.one_of(
    PLAIN.map(lambda s: f'"{s}"'),
    st.integers(-5, 10**6).map(str),
    st.sampled_from(["true", "false", "True", "[]", "1.5", "2023-06-05", "''", "0x10"]),
    st.lists(PLAIN, max_size=3).map(lambda items: "[\n" + "".join(f'    "{i}",\n' for i in items) + "]"),
)


@st.composite
def settings_documents(draw: st.DrawFn) -> str:
    """Settings-like TOML: tables, keys, values of every kind the settings use (and a
    few they do not), whole-line and trailing comments, blank lines; names repeated now
    and then."""
    out = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["key", "key", "key", "table", "comment", "blank", "articles"]))
        if kind == "key":
            key = draw(st.sampled_from(["title", "from", "sections", "git", "port", "x-y", "a.b"]))
            line = f"{key} = {draw(VALUE)}"
            if draw(st.integers(0, 9)) == 0:
                line += " # trailing"
            out.append(line)
        elif kind == "table":
            out.append(
                f"[{draw(st.sampled_from(['newsletter', 'email', 'smtp', 'history', 'title', ' email ']))}]"
            )
        elif kind == "comment":
            out.append(draw(st.sampled_from(["#", "# ", " #", "##"])) + draw(COMMENT))
        elif kind == "articles":
            out.append("[[articles]]")
        else:
            out.append("")
    return "\n".join(out) + draw(st.sampled_from(["\n", "", "\n\n"]))


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(settings_documents())
def test_settings_like_documents_are_read_as_tomllib_reads_them_or_left_to_it(text: str) -> None:
    try:
        expected = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        assert fasttoml.loads(text) is None, text
        return
    fast = fasttoml.loads(text)
    assert fast is None or fast == expected, text
