"""Email export: wrapped by display width with Chinese line-breaking rules; the .eml is a
deterministic RFC 5322 message whose text equals the .txt, and headers cannot be injected."""

from __future__ import annotations

import dataclasses
import datetime as dt
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from _flowed import wire_problems
from _mail import check_message
from _publishing import FIXTURE_ARCHIVE, email_problems
from conftest import SHIPPED_ARCHIVE, Invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecdigest.archive import Archive
from ecdigest.errors import UsageError
from ecdigest.export import common
from ecdigest.export import email as email_export
from ecdigest.model import Article, Issue, Newsletter
from ecdigest.textwrap_cjk import display_width, join_lines, wrap

HEADERS = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Archive",
    "MIME-Version",
    "Content-Type",
]


def fixture_issue() -> tuple[Issue, Newsletter]:
    archive = Archive.open(FIXTURE_ARCHIVE)
    return archive.get("2023-06").issue, archive.settings


def parse(data: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def plain(data: bytes) -> EmailMessage:
    """The text alternative of a message."""
    part = parse(data).get_body(("plain",))
    assert isinstance(part, EmailMessage)
    return part


# --------------------------------------------------------------------------- the text


@pytest.mark.parametrize("width", [30, 40, 56, 72, 100])
def test_fixture_lines_fit_and_follow_kinsoku(width: int) -> None:
    issue, settings_ = fixture_issue()
    text = email_export.render_text(issue, settings_, width=width)
    assert email_problems(text, width) == []
    # the long word and URL are never split
    assert "Pneumonoultramicroscopicsilicovolcanoconiosis-is-a-very-long-word-that-cannot-be-broken" in text
    assert "https://example.org/a/very/long/path/that/goes/on/and/on/and/on/and/on/forever/index.html" in text


def test_checker_catches_what_it_should() -> None:
    assert email_problems("中文中文中文\n。开头", 40) == ["line 2 starts with '。': '。开头'"]
    assert email_problems("结尾“\n后面", 40) == ["line 1 ends with '“': '结尾“'"]
    assert email_problems("a " + "b" * 50, 20) != []
    assert email_problems("https://example.org/" + "x" * 80, 20) == []


def test_layout() -> None:
    issue, settings_ = fixture_issue()
    text = email_export.render_text(issue, settings_)
    lines = text.split("\n")
    assert lines[:3] == [
        "电子商务动态 2023 年 6 月",
        "2023 年 06 月 05 日 · 共 4 篇",
        "网页版：https://example.org/ecd/2023-06.html",
    ]
    assert "目录" in lines and "【行业资讯】" in lines and "【政策法规】" in lines
    assert "2. 标题里有换行 Bcc: victim@example.com" in lines  # the CR/LF became a space
    for article in issue.articles:
        assert common.attribution(article) in lines
    assert "\x00" not in text and "\x07" not in text and "\r" not in text
    assert text.endswith("\n-- \n《电子商务动态》编辑部\nRSS：https://example.org/ecd/feed.xml\n")
    # the signature separator keeps its space; every other line is trimmed
    assert all(line == line.rstrip() or line == "-- " for line in lines)
    assert lines.count("-- ") == 1


def test_numbers_are_aligned_when_there_are_ten_or_more() -> None:
    articles = tuple(
        Article(
            id=f"x-{n:03d}",
            section="行业资讯",
            title=f"第 {n} 篇",
            source="《人民日报》",
            date=dt.date(2023, 6, 1),
            body="正文。",
        )
        for n in range(1, 12)
    )
    issue = Issue(id="x", title="t", date=dt.date(2023, 6, 5), articles=articles)
    lines = email_export.render_text(issue, Newsletter()).split("\n")
    assert " 9. 第 9 篇" in lines and "10. 第 10 篇" in lines


def test_width_below_minimum_is_refused() -> None:
    issue, settings_ = fixture_issue()
    with pytest.raises(UsageError, match="width"):
        email_export.render_text(issue, settings_, width=10)


# --------------------------------------------------------------------------- textwrap_cjk


def test_join_lines_reflows_hard_wrapped_text() -> None:
    assert (
        join_lines("跨境电商发展取得可喜进展。商务部会同有关\n部门，在制度")
        == "跨境电商发展取得可喜进展。商务部会同有关部门，在制度"
    )
    assert join_lines("5G 等\nfields of\r\nwork") == "5G 等 fields of work"
    assert join_lines("中文\n  \n English") == "中文 English"
    assert join_lines("一\u2028二") == "一二"


def test_wrap_never_keeps_a_line_break() -> None:
    lines = wrap("第一行\n第二行 with\nLatin words\r\n和中文。", 12)
    assert all("\n" not in line and "\r" not in line for line in lines)
    assert "".join(lines).replace(" ", "") == "第一行第二行withLatinwords和中文。"
    assert all(display_width(line) <= 12 for line in lines)


# --------------------------------------------------------------------------- the message


def test_eml_parses_and_its_text_is_the_txt_flowed() -> None:
    issue, settings_ = fixture_issue()
    text = email_export.render_text(issue, settings_)
    data = email_export.render_eml(issue, settings_)
    check_message(data, issue, settings_)
    part = plain(data)
    assert part.get_content_charset() == "utf-8"
    assert (part.get_param("format"), part.get_param("delsp")) == ("flowed", "yes")
    body = part.get_content()
    assert body == email_export.render_flowed(issue, settings_)
    assert wire_problems(body, text) == []


def test_fixed_format_setting_sends_the_txt_as_it_is() -> None:
    issue, settings_ = fixture_issue()
    fixed = dataclasses.replace(settings_, email_format="fixed")
    data = email_export.render_eml(issue, fixed)
    check_message(data, issue, fixed)
    part = plain(data)
    assert part.get_param("format") is None and part.get_param("delsp") is None
    assert part.get_content() == email_export.render_text(issue, fixed)


def test_eml_headers() -> None:
    issue, settings_ = fixture_issue()
    data = email_export.render_eml(issue, settings_)
    message = parse(data)
    assert list(message.keys()) == HEADERS
    assert message["Subject"] == "电子商务动态 2023 年 6 月"
    assert message["From"] == "《电子商务动态》编辑部 <editor@example.org>"
    assert message["To"] == "subscribers@example.org"
    assert message["Date"] == "Mon, 05 Jun 2023 08:00:00 +0800"
    assert message["Date"].datetime == dt.datetime(2023, 6, 5, 8, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert message["Message-ID"].startswith("<ecd.2023-06.") and message["Message-ID"].endswith(
        "@example.org>"
    )
    assert b"\r\n" not in data  # local line endings, as `sendmail -t` reads them
    assert data.isascii()  # headers RFC 2047-encoded, body base64


def test_eml_is_deterministic_and_changes_id_with_the_content(monkeypatch: pytest.MonkeyPatch) -> None:
    issue, settings_ = fixture_issue()
    first = email_export.render_eml(issue, settings_)
    monkeypatch.setenv("ECDIGEST_NOW", "2030-01-01T00:00:00+08:00")
    assert email_export.render_eml(issue, settings_) == first
    edited = dataclasses.replace(
        issue, articles=(dataclasses.replace(issue.articles[0], body="改过的正文。"), *issue.articles[1:])
    )
    assert parse(email_export.render_eml(edited, settings_))["Message-ID"] != parse(first)["Message-ID"]


def test_title_with_newlines_cannot_add_headers() -> None:
    issue, settings_ = fixture_issue()
    evil = dataclasses.replace(issue, title="正常标题\r\nBcc: victim@example.com\nX-Evil: 1\r\n\r\nbody")
    message = parse(email_export.render_eml(evil, settings_))
    assert list(message.keys()) == HEADERS
    assert message["Subject"] == "正常标题 Bcc: victim@example.com X-Evil: 1 body"


@pytest.mark.parametrize(
    ("field", "value"),
    [("email_from", "not an address"), ("email_to", ""), ("email_from", "a@b.c\nBcc: x@y.z, <>")],
)
def test_bad_addresses_are_an_error(field: str, value: str) -> None:
    issue, settings_ = fixture_issue()
    with pytest.raises(UsageError, match=r"\[email\]"):
        email_export.render_eml(issue, dataclasses.replace(settings_, **{field: value}))


def test_several_recipients() -> None:
    issue, settings_ = fixture_issue()
    settings_ = dataclasses.replace(settings_, email_to="a@example.org, 读者 <b@example.org>")
    message = parse(email_export.render_eml(issue, settings_))
    assert [a.addr_spec for a in message["To"].addresses] == ["a@example.org", "b@example.org"]


# --------------------------------------------------------------------------- hypothesis

ANY = st.text(st.characters(exclude_categories=()), max_size=40)
NASTY = st.lists(
    st.sampled_from(
        [
            "\r\n",
            "\n",
            "\r",
            "Bcc: x@y.z",
            ": ",
            "=?utf-8?q?x?=",
            "\x00",
            "\x85",
            "\u2028",
            "中文，",
            "x" * 90,
            " ",
        ]
    ),
    max_size=6,
).map("".join)
FIELD = st.one_of(ANY, NASTY)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=FIELD, article_title=FIELD, source=FIELD, body=FIELD, editor=FIELD, name=FIELD)
def test_arbitrary_unicode_never_breaks_the_headers_or_the_text(
    title: str, article_title: str, source: str, body: str, editor: str, name: str
) -> None:
    article = Article(
        id="2023-06-001",
        section="行业资讯",
        title=article_title,
        source=source,
        date=dt.date(2023, 6, 1),
        body=body,
    )
    issue = Issue(
        id="2023-06", title=title, date=dt.date(2023, 6, 5), status="published", articles=(article,)
    )
    sender = str(Address(display_name=common.one_line(name), addr_spec="editor@example.org"))
    settings_ = dataclasses.replace(Newsletter(), editor=editor, email_from=sender)
    text = email_export.render_text(issue, settings_)
    data = email_export.render_eml(issue, settings_)
    message = check_message(data, issue, settings_)
    assert list(message.keys()) == HEADERS
    assert wire_problems(plain(data).get_content(), text) == []
    assert message["From"].addresses[0].addr_spec == "editor@example.org"
    assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])
    width_problems = [p for p in email_problems(text, 72) if "columns" in p]
    assert width_problems == []


# --------------------------------------------------------------------------- CLI


def test_cli_export_email(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("export", "email", "--width", "40", archive=FIXTURE_ARCHIVE)
    assert result.exit_code == 0, result.output
    assert email_problems(result.stdout, 40) == []
    out = tmp_path / "issue.eml"
    eml = invoke("export", "email", "2023-05", "--eml", "-o", str(out), archive=FIXTURE_ARCHIVE)
    assert eml.exit_code == 0, eml.output
    assert parse(out.read_bytes())["Subject"] == "电子商务动态 2023 年 5 月"
    assert invoke("export", "email", "--width", "5", archive=FIXTURE_ARCHIVE).exit_code == 2


@pytest.mark.skipif(not (SHIPPED_ARCHIVE / "ecdigest.toml").exists(), reason="shipped archive not there")
def test_shipped_archive_email() -> None:
    archive = Archive.open(SHIPPED_ARCHIVE)
    issue = archive.latest(status="published").issue
    for width in (40, 72):
        text = email_export.render_text(issue, archive.settings, width=width)
        assert email_problems(text, width) == []
        data = email_export.render_eml(issue, archive.settings, width=width)
        check_message(data, issue, archive.settings)
        assert wire_problems(plain(data).get_content(), text) == []
    # the whole issue's HTML part fits before Gmail clips (README reports the numbers)
    message = email_export.compose(issue, archive.settings)
    assert message.clip_part.subtype == "html" and message.clip_warning() is None, message.size_line()
    # verbatim, once the wrapping is undone (a 75-column line does not fit in 72)
    flowed = join_lines(email_export.render_text(issue, archive.settings))
    assert all(common.attribution(a) in flowed for a in issue.articles)


# --------------------------------------------------------------------------- list headers


def test_list_headers_from_the_settings() -> None:
    issue, settings_ = fixture_issue()
    listed = dataclasses.replace(
        settings_,
        list_id="ecd.example.org",
        unsubscribe_mailto="leave@example.org",
        unsubscribe_url="https://example.org/ecd/unsubscribe?list=ecd",
    )
    message = parse(email_export.render_eml(issue, listed))
    assert message["List-Id"] == "电子商务动态 <ecd.example.org>"
    assert message["List-Unsubscribe"] == (
        "<mailto:leave@example.org>, <https://example.org/ecd/unsubscribe?list=ecd>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Archive"] == "<https://example.org/ecd/>"
    text = email_export.render_text(issue, listed)
    assert "\n-- \n《电子商务动态》编辑部\n退订：https://example.org/ecd/unsubscribe?list=ecd\nRSS：" in text


@pytest.mark.parametrize(
    ("mailto", "url", "header"),
    [
        ("leave@example.org", "", "<mailto:leave@example.org>"),
        (
            "mailto:leave@example.org?subject=退订",
            "",
            "<mailto:leave@example.org?subject=%E9%80%80%E8%AE%A2>",
        ),
        ("", "http://example.org/u", "<http://example.org/u>"),
    ],
)
def test_one_click_only_with_an_https_url(mailto: str, url: str, header: str) -> None:
    issue, settings_ = fixture_issue()
    listed = dataclasses.replace(settings_, unsubscribe_mailto=mailto, unsubscribe_url=url)
    message = parse(email_export.render_eml(issue, listed))
    assert message["List-Unsubscribe"] == header
    assert "List-Unsubscribe-Post" not in message


def test_no_unsubscribe_settings_no_unsubscribe_headers() -> None:
    issue, settings_ = fixture_issue()
    message = parse(email_export.render_eml(issue, settings_))
    assert "List-Unsubscribe" not in message and "List-Unsubscribe-Post" not in message
    assert message["List-Id"] == "电子商务动态 <subscribers.example.org>"  # from `to`
    assert "退订" not in email_export.render_text(issue, settings_)


def test_long_list_headers_fold_between_urls_and_parse_back() -> None:
    issue, settings_ = fixture_issue()
    url = "https://example.org/ecd/unsubscribe/" + "a" * 50
    listed = dataclasses.replace(settings_, unsubscribe_mailto="leave@example.org", unsubscribe_url=url)
    data = email_export.render_eml(issue, listed)
    head = data.split(b"\n\n", 1)[0].decode("ascii")
    assert f"List-Unsubscribe: <mailto:leave@example.org>,\n <{url}>\n" in head
    assert parse(data)["List-Unsubscribe"] == f"<mailto:leave@example.org>, <{url}>"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("list_id", "no dots", "list id"),
        ("list_id", "a.b\nBcc: x@y.z", "list id"),
        ("unsubscribe_url", "javascript:alert(1)", "http"),
        ("unsubscribe_url", "ftp://example.org/x", "http"),
        ("unsubscribe_mailto", "not an address", "unsubscribe_mailto"),
    ],
)
def test_bad_list_settings_are_an_error(field: str, value: str, message: str) -> None:
    issue, settings_ = fixture_issue()
    with pytest.raises(UsageError, match=message):
        email_export.render_eml(issue, dataclasses.replace(settings_, **{field: value}))


# --------------------------------------------------------------------------- proofs, recipients


def test_a_draft_is_a_proof_and_a_test_send_goes_to_its_own_address() -> None:
    issue, settings_ = fixture_issue()
    listed = email_export.compose(issue, settings_)
    test = email_export.compose(issue, settings_, to=["编辑 <me@example.org>"])
    assert test.recipients == ("me@example.org",) and listed.recipients == ("subscribers@example.org",)
    assert parse(test.data)["To"] == "编辑 <me@example.org>"
    assert test.message_id != listed.message_id  # a proof is not the list's message
    assert parse(test.data)["Subject"] == "电子商务动态 2023 年 6 月"
    draft = dataclasses.replace(issue, status="draft")
    proof = parse(email_export.compose(draft, settings_, to=["me@example.org"]).data)
    assert proof["Subject"] == "【样稿】电子商务动态 2023 年 6 月"
    with pytest.raises(UsageError, match="--to"):
        email_export.compose(issue, settings_, to=["nobody"])


def test_the_wire_form_has_crlf_and_the_same_identity() -> None:
    issue, settings_ = fixture_issue()
    file_form = email_export.compose(issue, settings_)
    wire = email_export.compose(issue, settings_, linesep="\r\n")
    assert wire.message_id == file_form.message_id
    assert b"\n" not in wire.data.replace(b"\r\n", b"")
    assert wire.data.replace(b"\r\n", b"\n") != file_form.data  # the body's own lines are CRLF too
    for kind in ("plain", "html"):
        body = parse(wire.data).get_body((kind,)).get_content()  # type: ignore[union-attr]
        assert body == parse(file_form.data).get_body((kind,)).get_content().replace("\n", "\r\n")  # type: ignore[union-attr]


# --------------------------------------------------------------------------- parts and size


def test_the_builder_makes_alternatives_from_the_parts_it_is_given() -> None:
    """Text first, HTML last (RFC 2046: least preferred first); one part is the body itself."""
    issue, settings_ = fixture_issue()
    message = email_export.compose(issue, settings_)
    assert [p.subtype for p in message.parts] == ["plain", "html"]
    assert email_export.build(message.headers, message.parts) == message.data
    parsed = parse(message.data)
    assert parsed.get_content_type() == "multipart/alternative"
    text, markup = list(parsed.iter_parts())
    assert (text.get_content_type(), markup.get_content_type()) == ("text/plain", "text/html")
    assert text.get_content() == message.parts[0].text
    assert text.get_param("format") == "flowed" and text.get_param("delsp") == "yes"
    assert markup.get_content() == message.parts[1].text
    assert parsed["Message-ID"] == message.message_id
    one = email_export.build(message.headers, message.parts[:1])
    assert parse(one).get_content_type() == "text/plain"
    ours = one.split(b"\nContent-Transfer-Encoding:", 1)[0]  # every header we set
    assert message.data.startswith(ours + b"\n")  # folded exactly as in the one-part message
    # the boundary is the parts' (deterministic), and a change of a part changes it
    boundary = parsed.get_boundary()
    assert boundary is not None and boundary.startswith("ecd-alternative-")
    other = email_export.build(message.headers, [message.parts[0], email_export.Part("html", "<p>x</p>\n")])
    assert parse(other).get_boundary() != boundary


def test_size_and_gmail_clipping(monkeypatch: pytest.MonkeyPatch) -> None:
    issue, settings_ = fixture_issue()
    message = email_export.compose(issue, settings_)
    assert message.size == len(message.data)
    # the part Gmail's clipping measures is the HTML one
    assert message.clip_part is message.parts[1] and message.clip_warning() is None and message.fits is None
    assert message.parts[1].size == len(message.parts[1].text.encode("utf-8"))
    big = dataclasses.replace(
        issue,
        articles=tuple(
            dataclasses.replace(issue.articles[0], id=f"2023-06-{n:03d}", body="长文。" * 2000)
            for n in range(1, 13)
        ),
    )
    searches = []
    search = email_export._fitting
    monkeypatch.setattr(email_export, "_fitting", lambda *args: searches.append(1) or search(*args))
    heavy = email_export.compose(big, settings_)
    assert heavy.parts[1].size > email_export.CLIP_BYTES
    assert searches == []  # the message is made without the search (build never asks for it)
    warning = heavy.clip_warning()
    assert warning is not None and "text/html part is" in warning
    # the most articles that fit, found by rendering: one more would clip
    fits = heavy.fits
    assert fits is not None and 0 < fits < len(big.articles), fits
    assert f"--max-articles {fits} " in warning and f"max_articles = {fits}" in warning
    assert heavy.fits == fits and searches == [1]  # asked for, once
    assert email_export.compose(big, settings_, max_articles=fits).clip_warning() is None
    assert email_export.compose(big, settings_, max_articles=fits + 1).parts[1].size > email_export.CLIP_BYTES
    # a single article over the limit: nothing fits, the warning says to cut anyway
    huge = dataclasses.replace(
        issue, articles=(dataclasses.replace(issue.articles[0], body="长文。" * 20000),)
    )
    alone = email_export.compose(huge, settings_)
    assert alone.fits is None and "--max-articles N" in (alone.clip_warning() or "")
