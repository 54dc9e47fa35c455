"""RSS 2.0 / Atom export: valid as the W3C validator checks it, feedparser-clean, stable guids
and dates, text escaped, arbitrary Unicode harmless."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import feedparser
import pytest
from _publishing import FIXTURE_ARCHIVE, RSS_NS, TAG_URI, copy_fixture, w3c_rss_problems
from conftest import SHIPPED_ARCHIVE, Invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from ecdigest.archive import Archive
from ecdigest.errors import NotFoundError, UsageError
from ecdigest.export import common, rss
from ecdigest.model import Article, Issue, Newsletter

FEED_URL = "https://example.org/ecd/feed.xml"


def fixture() -> tuple[list[Issue], Newsletter]:
    archive = Archive.open(FIXTURE_ARCHIVE)
    return [i.issue for i in archive.issues()], archive.settings


def items(data: bytes) -> list[etree._Element]:
    return etree.fromstring(data).findall("channel/item")


def guids(data: bytes) -> list[str]:
    return [item.findtext("guid") or "" for item in items(data)]


# --------------------------------------------------------------------------- validity


def test_fixture_feed_passes_the_w3c_rules_except_the_html_looking_title() -> None:
    issues, settings_ = fixture()
    problems = w3c_rss_problems(rss.render(issues, settings_), FEED_URL)
    # The one title that literally contains "</script>" is flagged, as the validator would:
    # the text is content, shown escaped, never markup.
    assert len(problems) == 1 and problems[0].startswith("item 1: title contains HTML"), problems


def test_feedparser_reads_rss_and_atom_without_errors() -> None:
    issues, settings_ = fixture()
    for fmt, version in (("rss", "rss20"), ("atom", "atom10")):
        parsed = feedparser.parse(rss.render(issues, settings_, format=fmt))
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        assert parsed.version == version
        assert len(parsed.entries) == 6  # 4 + 2 published articles; the draft is left out
        assert [e.id for e in parsed.entries][:2] == [
            "tag:example.org,2023:ecd/2023-06-001",
            "tag:example.org,2023:ecd/2023-06-002",
        ]
        assert parsed.entries[1].title == "标题里有换行 Bcc: victim@example.com"


def test_items_newest_issue_first_in_newsletter_order() -> None:
    issues, settings_ = fixture()
    assert [g.rsplit("/", 1)[1] for g in guids(rss.render(issues, settings_))] == [
        "2023-06-001",
        "2023-06-002",
        "2023-06-003",
        "2023-06-004",
        "2023-05-001",
        "2023-05-002",
    ]


def test_channel_and_item_fields() -> None:
    issues, settings_ = fixture()
    root = etree.fromstring(rss.render(issues, settings_))
    channel = root.find("channel")
    assert channel is not None
    assert channel.findtext("link") == "https://example.org/ecd/"
    assert channel.findtext("language") == "zh-CN"
    assert channel.findtext("lastBuildDate") == "Mon, 05 Jun 2023 08:00:00 +0800"
    assert channel.findtext("generator") == "ecdigest"
    (self_link,) = channel.findall("atom:link", RSS_NS)
    assert self_link.attrib == {"href": FEED_URL, "rel": "self", "type": "application/rss+xml"}
    assert root.nsmap["dc"] == "http://purl.org/dc/elements/1.1/"
    first, second = channel.findall("item")[:2]
    assert first.findtext("category") == "行业资讯"
    assert first.findtext("dc:creator", namespaces=RSS_NS) == "“央广网”"
    assert first.findtext("link") == "https://example.org/ecd/2023-06.html#2023-06-001"
    assert first.findtext("pubDate") == "Mon, 05 Jun 2023 08:00:00 +0800"
    # a url with Chinese in it is percent-encoded (validators reject raw IRIs)
    assert second.findtext("link") == "https://example.org/%E6%96%B0%E9%97%BB/2023?id=%E4%BA%8C&x=1"
    for item in channel.findall("item"):
        guid = item.find("guid")
        assert guid is not None and guid.get("isPermaLink") == "false"
        assert TAG_URI.match(guid.text or "")
        assert re.search(r" \+0800$", item.findtext("pubDate") or "")
        assert item.find("author") is None


def test_markup_is_escaped_never_passed_through() -> None:
    issues, settings_ = fixture()
    data = rss.render(issues, settings_)
    first = items(data)[0]
    content = first.findtext("content:encoded", namespaces=RSS_NS) or ""
    description = first.findtext("description") or ""
    # once XML-decoded, the HTML shows the article's markup as text
    assert "&lt;b&gt;不是 HTML&lt;/b&gt;" in content and "<b>" not in content
    assert "]]&gt; 不结束 CDATA" in content
    assert content.startswith("<p># 不是标题") and content.count("<p>") == 6
    assert content.endswith("<p>来源：“央广网” 编选：《电子商务动态》编辑部 2023 年 05 月 29 日</p>")
    assert "&lt;b&gt;" in description and "<b>" not in description
    assert b"<![CDATA[" not in data
    html_of_second = items(data)[1].findtext("content:encoded", namespaces=RSS_NS) or ""
    assert "控制字符被删除，换页也是；正文保持完整。" in html_of_second


def test_control_characters_are_removed_before_lxml() -> None:
    issues, settings_ = fixture()
    data = rss.render(issues, settings_)
    for char in "\x00\x07\x1b\x0c\x85":
        assert char.encode("utf-8") not in data
    assert b"&#13;" not in data


# --------------------------------------------------------------------------- stability


def test_dates_do_not_depend_on_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import feedgen.entry
    import feedgen.feed

    issues, settings_ = fixture()
    first = rss.render(issues, settings_)
    atom = rss.render(issues, settings_, format="atom")

    class Datetimes(type):
        def __instancecheck__(cls, value: object) -> bool:
            return isinstance(value, dt.datetime)

    class Future(metaclass=Datetimes):
        @staticmethod
        def now(tz: dt.tzinfo | None = None) -> dt.datetime:
            return dt.datetime(2031, 1, 1, tzinfo=tz)

    # feedgen fills lastBuildDate and every atom:updated with datetime.now() unless told
    monkeypatch.setattr(feedgen.feed, "datetime", Future)
    monkeypatch.setattr(feedgen.entry, "datetime", Future)
    monkeypatch.setenv("ECDIGEST_NOW", "2031-01-01T00:00:00+00:00")
    assert rss.render(issues, settings_) == first
    assert rss.render(issues, settings_, format="atom") == atom
    assert b"2031" not in first and b"2031" not in atom


def _set_body(path: Path, article_id: str, body: str) -> None:
    archive = Archive.open(path.parents[1])
    item = archive.read(path)
    articles = tuple(
        dataclasses.replace(a, body=body) if a.id == article_id else a for a in item.issue.articles
    )
    archive.write(path, dataclasses.replace(item.issue, articles=articles))


def test_guids_survive_editing_and_a_new_issue(tmp_path: Path, invoke: Invoke) -> None:
    root = copy_fixture(tmp_path)
    before = invoke("export", "rss", archive=root)
    assert before.exit_code == 0, before.output
    old = guids(before.stdout_bytes)

    _set_body(root / "2023" / "2023-06.toml", "2023-06-001", "全新的正文。\n\n第二段。")
    edited = invoke("export", "rss", archive=root).stdout_bytes
    assert guids(edited) == old
    assert edited != before.stdout_bytes  # the edit did reach the feed

    assert invoke("new", "--id", "2023-08", "--date", "2023-07-08", archive=root).exit_code == 0
    added = invoke(
        "add", "2023-08", "--title", "新一期", "--section", "行业资讯", "--source", "《人民日报》",
        "--date", "2023-07-07", "--body", "正文。", archive=root,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert invoke("publish", "2023-08", archive=root).exit_code == 0
    after = invoke("export", "rss", archive=root).stdout_bytes
    assert guids(after) == ["tag:example.org,2023:ecd/2023-08-001", *old]
    assert b"<lastBuildDate>Sat, 08 Jul 2023 08:00:00 +0800</lastBuildDate>" in after


def test_guid_depends_only_on_id_and_fixed_settings() -> None:
    s = Newsletter()
    assert common.article_guid(s, "2023-06-002") == "tag:example.org,2023:ecd/2023-06-002"
    moved = dataclasses.replace(
        s, link="https://elsewhere.example/", title="改名", feed_url="https://x.example/f"
    )
    assert common.article_guid(moved, "2023-06-002") == "tag:example.org,2023:ecd/2023-06-002"
    assert common.issue_guid(s, "2023-06") == "tag:example.org,2023:ecd/issue/2023-06"


@pytest.mark.parametrize(
    ("field", "value"), [("tag_authority", "Example.ORG"), ("tag_authority", "a b"), ("tag_date", "23")]
)
def test_bad_tag_settings_are_refused(field: str, value: str) -> None:
    issues, settings_ = fixture()
    with pytest.raises(UsageError, match=field):
        rss.render(issues, dataclasses.replace(settings_, **{field: value}))


# --------------------------------------------------------------------------- options


def test_limit_and_per_issue() -> None:
    issues, settings_ = fixture()
    assert len(items(rss.render(issues, settings_, limit=1))) == 4
    per_issue = rss.render(issues, settings_, per="issue")
    assert guids(per_issue) == [
        "tag:example.org,2023:ecd/issue/2023-06",
        "tag:example.org,2023:ecd/issue/2023-05",
    ]
    assert w3c_rss_problems(per_issue, FEED_URL) == []
    first = items(per_issue)[0]
    assert first.findtext("title") == "电子商务动态 2023 年 6 月"
    assert first.findtext("link") == "https://example.org/ecd/2023-06.html"
    content = first.findtext("content:encoded", namespaces=RSS_NS) or ""
    assert content.count("<h3>") == 4 and content.count("<h2>") == 3


def test_atom_feed() -> None:
    issues, settings_ = fixture()
    root = etree.fromstring(rss.render(issues, settings_, format="atom"))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert root.findtext("a:id", namespaces=ns) == "tag:example.org,2023:ecd/feed"
    assert root.findtext("a:updated", namespaces=ns) == "2023-06-05T08:00:00+08:00"
    links = {link.get("rel"): link.get("href") for link in root.findall("a:link", namespaces=ns)}
    assert links == {"self": "https://example.org/ecd/atom.xml", "alternate": "https://example.org/ecd/"}
    entries = root.findall("a:entry", namespaces=ns)
    assert len(entries) == 6
    for entry in entries:
        assert entry.findtext("a:updated", namespaces=ns) == entry.findtext("a:published", namespaces=ns)
        assert entry.findtext("a:author/a:name", namespaces=ns)
        assert entry.find("a:content", namespaces=ns).get("type") == "html"  # type: ignore[union-attr]


def test_no_published_issue_is_an_error() -> None:
    issues, settings_ = fixture()
    drafts = [dataclasses.replace(i, status="draft") for i in issues]
    with pytest.raises(NotFoundError, match="no published issue"):
        rss.render(drafts, settings_)


def test_cli_export_rss(invoke: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "feed.xml"
    result = invoke(
        "export", "rss", "-o", str(out), "--per", "issue", "--limit", "1", archive=FIXTURE_ARCHIVE
    )
    assert result.exit_code == 0, result.output
    assert len(guids(out.read_bytes())) == 1
    atom = invoke("export", "rss", "--format", "atom", archive=FIXTURE_ARCHIVE)
    assert atom.exit_code == 0 and atom.stdout.startswith("<?xml")
    assert b'<feed xmlns="http://www.w3.org/2005/Atom"' in atom.stdout_bytes
    bad = invoke("export", "rss", "--per", "section", archive=FIXTURE_ARCHIVE)
    assert bad.exit_code == 2
    zero = invoke("export", "rss", "--limit", "0", archive=FIXTURE_ARCHIVE)
    assert zero.exit_code == 2


# --------------------------------------------------------------------------- hypothesis

ANY = st.text(st.characters(exclude_categories=()), max_size=30)
NASTY = st.lists(
    st.sampled_from(
        ["]]>", "<script>alert(1)</script>", "&amp;", "\r\n", "\x00", "\x1b", "\ufffe", "x" * 200, "中文"]
    ),
    max_size=4,
).map("".join)
FIELD = st.one_of(ANY, NASTY)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=FIELD,
    section=FIELD,
    source=FIELD,
    body=FIELD,
    url=st.one_of(st.none(), FIELD.map(lambda s: "https://example.org/" + s)),
    channel_title=FIELD,
    fmt=st.sampled_from(["rss", "atom"]),
)
def test_arbitrary_unicode_never_breaks_the_xml(
    title: str, section: str, source: str, body: str, url: str | None, channel_title: str, fmt: str
) -> None:
    article = Article(
        id="2023-06-001",
        section=section,
        title=title,
        source=source,
        date=dt.date(2023, 6, 1),
        url=url,
        body=body,
    )
    issue = Issue(
        id="2023-06", title=title, date=dt.date(2023, 6, 5), status="published", articles=(article,)
    )
    settings_ = dataclasses.replace(Newsletter(), title=channel_title, description=body)
    data = rss.render([issue], settings_, format=fmt)
    etree.fromstring(data)  # well-formed XML 1.0, or this raises
    parsed = feedparser.parse(data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    (entry,) = parsed.entries
    assert entry.id == "tag:example.org,2023:ecd/2023-06-001"
    if fmt == "rss":
        item = items(data)[0]
        assert item.findtext("title") == common.title_of(article)
        # Only text that itself looks like HTML in a title may draw the validator's warning.
        problems = [p for p in w3c_rss_problems(data, FEED_URL) if "title contains HTML" not in p]
        assert problems == []


# --------------------------------------------------------------------------- the shipped archive


@pytest.mark.skipif(not (SHIPPED_ARCHIVE / "ecdigest.toml").exists(), reason="shipped archive not there")
def test_shipped_archive_feed_is_clean_and_complete() -> None:
    archive = Archive.open(SHIPPED_ARCHIVE)
    issues = [i.issue for i in archive.issues()]
    data = rss.render(issues, archive.settings)
    assert w3c_rss_problems(data, archive.settings.feed_url) == []
    parsed = feedparser.parse(data)
    assert parsed.bozo == 0
    published = [a for i in issues if i.is_published for a in i.articles]
    assert len(parsed.entries) == len(published) == 53
    assert sorted(e.title for e in parsed.entries) == sorted(a.title for a in published)
    assert len({e.id for e in parsed.entries}) == 53


def test_the_feed_reads_only_the_issues_it_carries(invoke: Invoke, tmp_path: Path) -> None:
    """`export rss --limit N` picks its issues through the catalog and reads those files
    alone: an older issue with a bad field does not stop it (it stops `export json --all`,
    which reads every file); a file that could be among the newest (one that is not TOML
    could hold any issue) is an error, exit 2."""
    root = copy_fixture(tmp_path)
    whole = invoke("export", "rss", archive=root).stdout_bytes
    assert guids(whole)[-1].endswith("ecd/2023-05-002")  # both published issues are in it
    one = invoke("export", "rss", "--limit", "1", archive=root)
    assert one.exit_code == 0, one.output
    assert all("ecd/2023-06-" in guid for guid in guids(one.stdout_bytes))

    older = root / "2023" / "2023-05.toml"
    text = older.read_text("utf-8")
    older.write_text(text.replace('source = "《电子商务动态》编辑部"', "source = 42", 1), "utf-8")
    again = invoke("export", "rss", "--limit", "1", archive=root)
    assert again.exit_code == 0, again.output
    assert again.stdout_bytes == one.stdout_bytes
    assert invoke("export", "json", "--all", archive=root).exit_code == 2
    everything = invoke("export", "rss", archive=root)  # the bad issue is one of the feed's
    assert everything.exit_code == 2 and "2023-05.toml:10" in everything.stderr, everything.output

    newest = root / "2023" / "2023-08.toml"
    newest.write_text('id = "2023-08"\ndate = 2023-08-01\nstatus = "published"\n[[article]\n', "utf-8")
    broken = invoke("export", "rss", "--limit", "1", archive=root)
    assert broken.exit_code == 2 and "2023-08.toml" in broken.stderr, broken.output
