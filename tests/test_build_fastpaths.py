"""The one-issue build's shortcuts answer what the long way answers (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ecdigest.export.common import atom_url, feed_guid, one_line, uri
from ecdigest.export.jsonout import _C1, dumps
from ecdigest.export.rss import ATOM_MEDIA_TYPE, ATOM_NS, HISTORY_NS, MEDIA_TYPE

_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=("Cs",)))
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)


@given(_VALUES)
@settings(max_examples=300, deadline=None)
def test_json_output_is_the_translated_dump(value: object) -> None:
    """dumps skips translate() when no DEL/C1 character is there: the same text either way."""
    assert dumps(value) == json.dumps(value, ensure_ascii=False, indent=2).translate(_C1) + "\n"


def test_json_output_escapes_c1_among_chinese() -> None:
    value = {"name": "section/行业资讯.xml", "odd": "a\x9b31mb\x7f", "plain": ["电商"] * 3}
    text = dumps(value)
    assert "\\u009b" in text and "\\u007f" in text and "\x9b" not in text and "\x7f" not in text
    assert json.loads(text) == value


def test_the_sitemaps_rows_are_the_rows_get_loads(tmp_path: Path) -> None:
    """Files.sitemap keeps the rows it reads: get answers from them what a query by name
    answers, and a record changed in this build still wins."""
    from _site import many_issues

    from ecdigest.archive import Archive
    from ecdigest.build import build
    from ecdigest.site.manifest import Manifest, Record

    root = many_issues(tmp_path, 3)
    out = tmp_path / "site"
    build(Archive.open(root), out)
    primed, plain = Manifest.load(out), Manifest.load(out)
    try:
        changed = Record("k", "d", 1, 2, "page|-", "2030-01-01")
        primed.files["index.html"] = changed
        entries = primed.files.sitemap()
        assert len(entries) > 10 and ("index.html", "2030-01-01") in entries
        for name, lastmod in entries:
            assert name in primed.files._cache  # no query of its own
            record = primed.files.get(name)
            assert record is not None and record.sitemap == lastmod
            assert record == (changed if name == "index.html" else plain.files.get(name))
    finally:
        primed.close()
        plain.close()


# --------------------------------------------------------------------------- feeds


def _feedgen_add_entry(fg: Any, fmt: str, **item: Any) -> None:
    """How rss.render added an item before it built them itself (feedgen's own setters):
    the oracle its bytes are held to."""
    import html as html_module

    entry = fg.add_entry(order="append")
    entry.guid(item["guid"], permalink=False)
    entry.title(item["title"])
    entry.link(href=item["link"], rel="alternate")
    entry.published(item["when"])
    entry.updated(item["when"])
    if fmt == "atom":
        entry.summary(item["summary"])
        if item["content"] is not None:
            entry.content(item["content"], type="html")
        if item["creator"]:
            entry.author({"name": item["creator"]})
    else:
        entry.description(html_module.escape(item["summary"], quote=False))
        if item["content"] is not None:
            entry.content(item["content"], type="html")
        if item["creator"]:
            entry.dc.dc_creator(item["creator"])
    if item["category"]:
        entry.category({"term": item["category"]})


# The feed's head as rss.py made it through feedgen before _head (the oracle).
def _feedgen_history(links: Any, archive: bool) -> tuple[type, type]:
    """A feedgen extension adding RFC 5005 links (`current`, `prev-archive`,
    `next-archive`) as atom:link and, in an archive document, `<fh:archive/>`."""
    from feedgen.ext.base import BaseEntryExtension, BaseExtension

    def add(parent: Any, fmt: str) -> None:
        children = list(parent)
        first_item = next((i for i, c in enumerate(children) if c.tag in ("item", "entry")), len(children))
        made = []
        if archive:
            made.append(parent.makeelement(f"{{{HISTORY_NS}}}archive", {}))
        media = ATOM_MEDIA_TYPE if fmt == "atom" else MEDIA_TYPE
        # feedgen writes Atom's elements without a namespace under an xmlns attribute.
        tag = "link" if fmt == "atom" else f"{{{ATOM_NS}}}link"
        for rel, href in links:
            made.append(parent.makeelement(tag, {"rel": rel, "href": href, "type": media}))
        for offset, element in enumerate(made):
            parent.insert(first_item + offset, element)

    class History(BaseExtension):  # type: ignore[misc]
        def extend_ns(self) -> dict[str, str]:
            return {"fh": HISTORY_NS}

        def extend_rss(self, feed: Any) -> Any:
            add(feed[0], "rss")
            return feed

        def extend_atom(self, feed: Any) -> Any:
            add(feed, "atom")
            return feed

    return History, BaseEntryExtension


def _feedgen_head(settings: Any, newest: Any, fmt: str) -> Any:
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    title = one_line(settings.title) or "ecdigest"
    fg.title(title)
    fg.description(one_line(settings.description) or title)
    fg.language(one_line(settings.language) or "zh-CN")
    fg.generator("ecdigest")
    fg.updated(newest)
    if fmt == "atom":
        fg.id(feed_guid(settings))
        fg.author({"name": one_line(settings.editor) or title})
        fg.link(href=atom_url(settings), rel="self", type=ATOM_MEDIA_TYPE)
        fg.link(href=uri(settings.link), rel="alternate", type="text/html")
    else:
        # The self link first: RSS's channel <link> is whichever link() came last.
        fg.link(href=uri(settings.feed_url), rel="self", type=MEDIA_TYPE)
        fg.link(href=uri(settings.link), rel="alternate")
    return fg


class _ThroughFeedgen:
    """rss._Entries as it was: every item added through feedgen, the feed made by its
    rss_str/atom_str."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.items: list[dict[str, Any]] = []

    def add(self, **item: Any) -> None:
        self.items.append(item)

    def feed(self, fg: Any, parent: None) -> bytes:
        for item in self.items:
            _feedgen_add_entry(fg, self.fmt, **item)
        method = fg.atom_str if self.fmt == "atom" else fg.rss_str
        data: bytes = method(pretty=True, encoding="UTF-8", xml_declaration=True)
        return data


def _feedgen_feed(settings: Any, newest: Any, fmt: str, links: Any, archive: bool) -> tuple[Any, None]:
    """rss._head as it was: feedgen's FeedGenerator with the history extension."""
    fg = _feedgen_head(settings, newest, fmt)
    if links or archive:
        feed_extension, entry_extension = _feedgen_history(links, archive)
        fg.register_extension("history", feed_extension, entry_extension)
    return fg, None


def _both(render: Any) -> tuple[Any, Any]:
    """(what `render()` makes, what it made through feedgen's setters)."""
    import pytest

    from ecdigest.export import rss

    ours = render()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rss, "_Entries", _ThroughFeedgen)
        patch.setattr(rss, "_head", _feedgen_feed)
        return ours, render()


_FIELD = st.text(alphabet="电商<>&\"' aZ\t\n\u3000·—\u2028é1", max_size=8)


@st.composite
def _issues(draw: st.DrawFn) -> list[Any]:
    import datetime as dt

    from ecdigest.model import Article, Issue

    issues = []
    for number in range(draw(st.integers(1, 3))):
        articles = []
        for index in range(draw(st.integers(0, 4))):
            paragraphs = draw(st.lists(_FIELD, max_size=3))
            articles.append(
                Article(
                    id=f"2023-0{number + 1}-{index + 1:03d}",
                    section=draw(st.sampled_from(["", "行业资讯", "政策法规", "数据 & <观察>"])),
                    title=draw(_FIELD),
                    source=draw(_FIELD),
                    compiled_by=draw(st.none() | _FIELD),
                    url=draw(st.sampled_from([None, "", "https://example.com/a?b=1&c=<2>", "ftp://x"])),
                    tags=tuple(draw(st.lists(_FIELD, max_size=2))),
                    body="\n\n".join(paragraphs),
                )
            )
        issues.append(
            Issue(
                id=f"2023-0{number + 1}",
                title=draw(_FIELD),
                date=dt.date(2023, number + 1, draw(st.integers(1, 28))),
                status=draw(st.sampled_from(["published", "published", "draft"])),
                articles=tuple(articles),
            )
        )
    return issues


@given(
    issues=_issues(),
    fmt=st.sampled_from(["rss", "atom"]),
    per=st.sampled_from(["article", "issue"]),
    content=st.booleans(),
    archive=st.booleans(),
    links=st.lists(
        st.sampled_from([("current", "https://e.org/f.xml"), ("prev-archive", "https://e.org/a&b")]),
        max_size=2,
    ),
    title=_FIELD,
    editor=_FIELD,
    description=_FIELD,
    language=st.sampled_from(["", "zh-CN", "zh-Hant-TW", " en "]),
    link=st.sampled_from(["", "https://例子.org/ecd", "https://e.org/ecd/?a=1&b=<2>"]),
)
@settings(max_examples=150, deadline=None)
def test_feeds_built_item_by_item_are_feedgens_bytes(
    issues: list[Any],
    fmt: str,
    per: str,
    content: bool,
    archive: bool,
    links: list[Any],
    title: str,
    editor: str,
    description: str,
    language: str,
    link: str,
) -> None:
    import pytest

    from ecdigest.errors import NotFoundError
    from ecdigest.export import rss
    from ecdigest.model import Newsletter

    settings_ = Newsletter(title=title, editor=editor, description=description, language=language, link=link)
    kwargs = {
        "format": fmt,
        "per": per,
        "content": content,
        "archive": archive,
        "links": links,
        "limit": None,
    }
    if not any(issue.is_published for issue in issues):
        with pytest.raises(NotFoundError):
            rss.render(issues, settings_, **kwargs)
        return

    def render() -> bytes | str:
        try:
            data: bytes = rss.render(issues, settings_, **kwargs)
        except ValueError as exc:  # feedgen's refusal (no link for RSS's channel)
            return f"ValueError: {exc}"
        return data

    ours, expected = _both(render)
    assert ours == expected


def test_the_fixture_archives_feeds_are_feedgens_bytes(monkeypatch: Any) -> None:
    """Every feed shape the site writes, over the tricky fixture archive's issues."""
    from _publishing import FIXTURE_ARCHIVE

    from ecdigest.archive import Archive
    from ecdigest.export import rss
    from ecdigest.site import feeds

    archive = Archive.open(FIXTURE_ARCHIVE)
    issues = [archive.read(path).issue for path in archive.issue_paths()]
    settings_ = archive.settings
    made = {
        "main": lambda fmt: feeds.main_feed(issues, settings_, fmt, 2),
        "archive": lambda fmt: feeds.archive_feed(issues, settings_, fmt, 1, 2),
        "section": lambda fmt: feeds.section_feed(issues, settings_, "行业资讯", "section/x.xml", fmt),
        "per issue": lambda fmt: rss.render(issues, settings_, format=fmt, per="issue"),
    }
    for name, render in made.items():
        for fmt in ("rss", "atom"):
            ours, expected = _both(lambda render=render, fmt=fmt: render(fmt))
            assert ours == expected, (name, fmt)
            assert ours.count(b"<item>" if fmt == "rss" else b"<entry>") > 1, (name, fmt)


@given(
    fmt=st.sampled_from(["rss", "atom"]),
    title=st.sampled_from(["", "标题 <b>"]),
    summary=st.sampled_from(["", "摘要 & more"]),
    content=st.sampled_from([None, "", "<p>正文</p>"]),
    creator=st.sampled_from(["", "来源"]),
    category=st.sampled_from([None, "", "行业资讯"]),
    guid=st.sampled_from(["", "tag:e.org,2023:ecd/1"]),
    link=st.sampled_from(["", "https://e.org/1.html#a"]),
)
@settings(max_examples=200, deadline=None)
def test_an_item_with_empty_fields_is_feedgens_item(**item: Any) -> None:
    """Every branch of the item builder (empty title, summary, content, creator, category,
    guid, link), and feedgen's refusals, against feedgen's setters."""
    import datetime as dt

    from ecdigest.export import rss
    from ecdigest.model import Newsletter

    fmt = item.pop("fmt")
    when = dt.datetime(2023, 6, 5, 8, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    settings_ = Newsletter()
    try:
        entries = rss._Entries(fmt)
        entries.add(when=when, **item)
        ours: bytes | str = entries.feed(*rss._head(settings_, when, fmt, (), False))
    except ValueError as exc:
        ours = f"ValueError: {exc}"
    try:
        fg = _feedgen_head(settings_, when, fmt)
        _feedgen_add_entry(fg, fmt, when=when, **item)
        expected: bytes | str = (fg.atom_str if fmt == "atom" else fg.rss_str)(
            pretty=True, encoding="UTF-8", xml_declaration=True
        )
    except ValueError as exc:
        expected = f"ValueError: {exc}"
    assert ours == expected


_URLS = st.sampled_from(
    [
        "https://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=1&sn=abc&chksm=x&scene=21#wechat_redirect",
        "https://例子.中国/路径?utm_source=x&a=1",
        "javascript:alert(1)",
        " http://example.com/a b ",
        "data:text/html,x",
        "ftp://example.com",
        "",
    ]
)


@given(st.none() | st.text(max_size=80) | _URLS)
@settings(max_examples=200, deadline=None)
def test_the_kept_web_url_answers_what_it_computes(url: str | None) -> None:
    """web_url keeps its answers (every feed asks twice per item): each is the computed one."""
    from ecdigest.export import common

    for _ in range(2):
        assert common.web_url(url) == common.web_url.__wrapped__(url)


@given(
    st.datetimes(timezones=st.timezones()),
)
@settings(max_examples=200, deadline=None)
def test_the_rfc2822_date_is_feedgens(when: Any) -> None:
    """pubDate/lastBuildDate as feedgen's formatRFC2822 writes them (C locale names)."""
    import lxml.etree  # noqa: F401  (feedgen.util needs it loaded, as feedgen.feed does)
    from feedgen.util import formatRFC2822

    from ecdigest.export.rss import _rfc2822

    assert _rfc2822(when) == formatRFC2822(when)


# --------------------------------------------------------------------------- index and year pages


def test_a_body_edit_keeps_the_index_and_year_pages_a_title_edit_renders_them(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """The index and year pages show issue rows (title, date, articles per section, first
    titles): after a body edit they take their new key without being rendered, and hold
    what a cold build writes; a title edit (and an article title past the first three,
    or a section) renders them again."""
    import shutil

    from _site import many_issues

    from ecdigest.archive import Archive
    from ecdigest.build import build
    from ecdigest.site import render
    from ecdigest.site.manifest import Manifest

    root = many_issues(tmp_path, 12)
    out = tmp_path / "site"
    build(Archive.open(root), out)
    rendered: list[str] = []
    index_page = render.Site.index_page

    def counted(self: Any, path: str, *args: Any, **kwargs: Any) -> bytes:
        rendered.append(path)
        data: bytes = index_page(self, path, *args, **kwargs)
        return data

    monkeypatch.setattr(render.Site, "index_page", counted)
    path = root / "2019" / "2019-03-04w.toml"

    def edit(old: str, new: str) -> set[str]:
        path.write_text(path.read_text("utf-8").replace(old, new, 1), "utf-8")
        rendered.clear()
        result = build(Archive.open(root), out)
        seen = set(rendered)
        cold = tmp_path / "cold"
        shutil.rmtree(cold, ignore_errors=True)
        build(Archive.open(root), cold)
        for name in ("index.html", "year/2019.html"):
            assert (out / name).read_bytes() == (cold / name).read_bytes(), name
        assert "2019-03-04w.html" in result.written
        return seen

    assert edit("这一段以数字和句点开头", "这一段以数字开头") == set()  # the body only
    manifest = Manifest.load(out)
    try:  # the next build finds them fresh under their new keys
        assert not manifest.stale_files(out, 0)[0]
    finally:
        manifest.close()
    rendered.clear()
    again = build(Archive.open(root), out)
    assert again.written == [] and rendered == []
    assert edit('title = "电子商务动态 2019-03-04"', 'title = "三月特刊"') == {"index.html", "year/2019.html"}
    assert edit("超长的拉丁单词与网址不会被拆开", "超长的拉丁单词不会被拆开") == {
        "index.html",
        "year/2019.html",
    }
