"""Editions: every export renders the issue converted through one function, the archive's
own text untouched; ids, dates and URLs never converted; an edition's feed has its own
GUIDs and links; the settings `editions` and `protected_terms` are checked with lines."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from _hardening import copy_shipped
from _publishing import copy_fixture
from conftest import Invoke

from ecdigest import zhconv
from ecdigest.cli.export_cmds import Script
from ecdigest.codec import decode_issue
from ecdigest.editions import convert_issue, edition_url, for_edition
from ecdigest.model import Article, Issue, Newsletter

TW, HK = "zh-Hant-TW", "zh-Hant-HK"
SIMPLIFIED_ONLY = re.compile("[电务资讯数据观专点编辑来选发]")  # characters that always change


def test_cli_choices_are_the_scripts() -> None:
    assert tuple(s.value for s in Script) == zhconv.SCRIPTS


def test_convert_issue_converts_text_and_nothing_else() -> None:
    import datetime as dt

    article = Article(
        id="2023-06-001", section="数据观察", title="跨境电商", source="“央广网”", compiled_by="编辑部",
        date=dt.date(2023, 5, 29), url="https://example.org/发展?a=电商", tags=("直播",), body="第一段。\n\n发展。",
    )  # fmt: skip
    issue = Issue(id="2023-06", title="电子商务动态", date=dt.date(2023, 6, 5), articles=(article,))
    converted = convert_issue(issue, zhconv.converter(TW).convert)
    (out,) = converted.articles
    assert (out.section, out.title, out.source, out.compiled_by, out.tags, out.body) == (
        "資料觀察", "跨境電商", "「央廣網」", "編輯部", ("直播",), "第一段。\n\n發展。",
    )  # fmt: skip
    assert (out.id, out.date, out.url) == (article.id, article.date, article.url)
    assert (converted.id, converted.date, converted.status) == (issue.id, issue.date, issue.status)
    assert converted.title == "電子商務動態" and issue.title == "电子商务动态"  # a copy


def test_the_archive_own_script_is_the_identity() -> None:
    settings = Newsletter()
    issues = [Issue(id="x", title="电子")]
    for script in (None, "zh-Hans"):
        out_issues, out_settings = for_edition(issues, settings, script)
        assert out_issues == issues and out_settings is settings


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/ecd/", "https://example.org/ecd/zh-Hant-TW/"),
        ("https://example.org/ecd/feed.xml", "https://example.org/ecd/zh-Hant-TW/feed.xml"),
        ("https://feeds.example.org/ecd.xml?x=1", "https://feeds.example.org/zh-Hant-TW/ecd.xml?x=1"),
        ("https://example.org", "https://example.org/zh-Hant-TW/"),
        ("https://example.org/ecd/{issue}.html", "https://example.org/ecd/zh-Hant-TW/{issue}.html"),
        ("{link}{issue}.html", "{link}{issue}.html"),
        ("", ""),
    ],
)
def test_edition_url(url: str, expected: str) -> None:
    assert edition_url(url, TW) == expected


def test_settings_of_an_edition() -> None:
    _, settings = for_edition([], Newsletter(), HK)
    assert settings.title == "電子商務動態" and settings.editor == "《電子商務動態》編輯部"
    assert settings.sections == ("行業資訊", "政策法規", "數據觀察", "專家視點")
    assert settings.email_from == "《電子商務動態》編輯部 <editor@example.org>"
    assert settings.language == "zh-HK" and settings.edition == HK
    assert settings.link == "https://example.org/ecd/zh-Hant-HK/"


# --------------------------------------------------------------------------- through the CLI


EXPORTS = [
    ["export", "markdown", "2023-06"],
    ["export", "rss"],
    ["export", "rss", "--format", "atom", "--per", "issue"],
    ["export", "email", "2023-06"],
    ["export", "email", "2023-06", "--eml"],
    ["export", "json", "2023-06"],
    ["export", "wechat", "2023-06"],
]


def _text_of(result_bytes: bytes, args: list[str]) -> str:
    if "--eml" in args:
        import email
        import email.policy

        message = email.message_from_bytes(result_bytes, policy=email.policy.default)
        return str(message["Subject"]) + "\n" + message.get_body().get_content()  # type: ignore[union-attr]
    return result_bytes.decode("utf-8")


@pytest.mark.parametrize("edition", [TW, HK])
@pytest.mark.parametrize("args", EXPORTS, ids=[" ".join(a[1:]) for a in EXPORTS])
def test_every_export_renders_the_edition(
    invoke: Invoke, tmp_path: Path, args: list[str], edition: str
) -> None:
    archive = copy_shipped(tmp_path / "shipped")
    before = {p: p.read_bytes() for p in archive.rglob("*.toml")}
    original = invoke(*args, archive=archive)
    converted = invoke(*args, "--script", edition, archive=archive)
    assert original.exit_code == converted.exit_code == 0, converted.output
    text = _text_of(converted.stdout_bytes, args)
    assert SIMPLIFIED_ONLY.search(_text_of(original.stdout_bytes, args))
    found = SIMPLIFIED_ONLY.search(text)
    assert found is None, f"{found.group()!r} left in {text[max(0, found.start() - 30) : found.end() + 30]!r}"
    assert "電子商務" in text
    assert {p: p.read_bytes() for p in archive.rglob("*.toml")} == before  # the archive is untouched


def test_ids_dates_and_urls_are_never_converted(invoke: Invoke, tmp_path: Path) -> None:
    archive = copy_fixture(tmp_path)
    original = json.loads(invoke("export", "json", "--all", archive=archive).stdout)
    converted = json.loads(invoke("export", "json", "--all", "--script", TW, archive=archive).stdout)
    for issue, other in zip(original, converted, strict=True):
        assert (issue["id"], issue["date"], issue["status"]) == (other["id"], other["date"], other["status"])
        for a, b in zip(issue["articles"], other["articles"], strict=True):
            assert (a["id"], a["date"], a["url"]) == (b["id"], b["date"], b["url"])
    assert "https://example.org/新闻/2023?id=二&x=1" in json.dumps(converted, ensure_ascii=False)


def _guids(data: bytes) -> list[str]:
    return [g.text or "" for g in ET.fromstring(data).iter("guid")]


def test_edition_feeds_have_their_own_guids_and_links(invoke: Invoke, tmp_path: Path) -> None:
    archive = copy_shipped(tmp_path / "shipped")
    original = invoke("export", "rss", archive=archive).stdout_bytes
    tw = invoke("export", "rss", "--script", TW, archive=archive).stdout_bytes
    hk = invoke("export", "rss", "--script", HK, archive=archive).stdout_bytes
    guids = [_guids(x) for x in (original, tw, hk)]
    assert guids[0][0] == "tag:example.org,2023:ecd/2023-06-001"
    assert guids[1][0] == "tag:example.org,2023:ecd/zh-Hant-TW/2023-06-001"
    assert len({g for group in guids for g in group}) == 3 * len(guids[0]) == 3 * 53
    channel = ET.fromstring(tw).find("channel")
    assert channel is not None
    assert channel.findtext("language") == "zh-TW" and channel.findtext("title") == "電子商務動態"
    assert channel.findtext("link") == "https://example.org/ecd/zh-Hant-TW/"
    assert all(link.text and "/ecd/zh-Hant-TW/" in link.text for link in ET.fromstring(tw).iter("link"))
    # the same edition twice: the same bytes
    assert invoke("export", "rss", "--script", TW, archive=archive).stdout_bytes == tw


def test_labels_follow_the_edition(invoke: Invoke, tmp_path: Path) -> None:
    archive = copy_shipped(tmp_path / "shipped")
    markdown = invoke("export", "markdown", "--script", TW, archive=archive).stdout
    assert "## 目錄" in markdown and "來源：" in markdown and "編選：" in markdown
    mail = invoke("export", "email", "--script", HK, archive=archive).stdout
    assert "網頁版：https://example.org/ecd/zh-Hant-HK/2023-06.html" in mail and "目錄" in mail


def test_unknown_script_is_a_usage_error(invoke: Invoke) -> None:
    result = invoke("export", "markdown", "--script", "zh-TW")
    assert result.exit_code == 2 and "zh-Hant-TW" in result.output


def test_protected_terms_from_the_settings(invoke: Invoke, tmp_path: Path) -> None:
    archive = copy_shipped(tmp_path / "shipped")
    settings = archive / "ecdigest.toml"
    text = settings.read_text("utf-8").replace(
        '# protected_terms = ["于东来=于東來", "#双11#"]',
        'protected_terms = ["达达快送=達達快送!", "“央广网”"]',
    )
    settings.write_text(text, "utf-8")
    out = invoke("export", "wechat", "--script", TW, archive=archive)
    assert out.exit_code == 0, out.output
    assert "達達快送!" in out.stdout and "“央广网”" in out.stdout and "「央廣網」" not in out.stdout


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('editions = ["zh-TW"]', "unknown edition 'zh-TW'"),
        ('editions = ["zh-Hant-TW", "zh-Hant-TW"]', "names an edition twice"),
        ('editions = "zh-Hant-TW"', "editions has the wrong type"),
        ('protected_terms = ["a=b=c"]', "is not TERM or TERM=TRADITIONAL"),
        ("protected_terms = [1]", "protected_terms has the wrong type"),
    ],
)
def test_bad_edition_settings_are_one_line_with_the_line(
    invoke: Invoke, archive_dir: Path, line: str, message: str
) -> None:
    settings = archive_dir / "ecdigest.toml"
    lines = settings.read_text("utf-8").splitlines()
    at = lines.index('tag_date = "2023"') + 1
    lines.insert(at, line)
    settings.write_text("\n".join(lines) + "\n", "utf-8")
    result = invoke("list")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert f"ecdigest.toml:{at + 1}:" in result.stderr


def test_init_writes_the_settings_commented_out(archive_dir: Path) -> None:
    text = (archive_dir / "ecdigest.toml").read_text("utf-8")
    assert '# editions = ["zh-Hant-TW"]' in text
    assert '# protected_terms = ["于东来=于東來", "#双11#"]' in text


def test_settings_round_trip_with_editions(tmp_path: Path) -> None:
    import tomllib

    from ecdigest.codec import decode_settings, encode_settings

    settings = Newsletter(editions=(TW, HK), protected_terms=("于东来=于東來",))
    text = encode_settings(settings)
    assert decode_settings(tomllib.loads(text), text) == settings


def test_shipped_archive_settings_are_what_init_writes() -> None:
    import tomllib

    from conftest import SHIPPED_ARCHIVE

    from ecdigest.codec import decode_settings, encode_settings

    text = (SHIPPED_ARCHIVE / "ecdigest.toml").read_text("utf-8")
    assert encode_settings(decode_settings(tomllib.loads(text), text)) == text


def test_decode_issue_is_unaffected() -> None:
    # the issue file format has no edition fields: editions are a rendering, not data
    issue, problems = decode_issue({"id": "x", "title": "电子"})
    assert not problems and issue.title == "电子"
