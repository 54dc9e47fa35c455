"""The web archive `ecdigest build` writes: pages, links, feeds, incremental builds, the
manifest's rules, editions, templates, determinism, hostile text. (In a real browser:
tests/test_site_browser.py.)"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from _publishing import FIXTURE_ARCHIVE, copy_fixture, w3c_rss_problems
from _site import SITE_LINK, files, html_errors, link_problems, many_issues, resolve_site_url, set_editions
from conftest import SHIPPED_ARCHIVE, Invoke
from hypothesis import given, settings
from hypothesis import strategies as st

from ecdigest.site.names import href, issue_path, key, slug


def build(invoke: Invoke, root: Path, out: Path, *args: str) -> dict[str, object]:
    result = invoke("build", "-o", str(out), "--format", "json", *args, archive=root)
    assert result.exit_code == 0, result.output
    report: dict[str, object] = json.loads(result.stdout)
    return report


# --------------------------------------------------------------------------- names and paths


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("跨境电商", "跨境电商"),
        ("《人民日报》", "人民日报"),
        ("“人民日报”", "人民日报"),  # marks frame the name: one outlet, one page
        ("５Ｇ", "5g"),
        ("AI", "ai"),
        ("电商/直播", "电商-直播"),
        ("what?now#x", "what-now-x"),
        ("a  b\tc", "a-b-c"),
        ("..", "~"),  # nothing left but a digest
        ("../../etc/passwd", "etc-passwd"),
        ("100%", "100"),
        ("CON", "con-"),
        ("《电子商务动态》编辑部", "电子商务动态-编辑部"),
    ],
)
def test_slugs_are_readable_and_safe(name: str, expected: str) -> None:
    value = slug(name)
    if expected == "~":
        assert re.fullmatch(r"~[0-9a-f]{8}", value), value
    else:
        assert value == expected
    assert "/" not in value and not value.startswith((".", "-")) and value not in ("", ".", "..")


def test_long_names_are_cut_with_a_digest_and_never_collide() -> None:
    long_one = "跨境电商" * 30
    other = "跨境电商" * 29 + "跨境电子"
    a, b = slug(long_one), slug(other)
    assert a != b
    assert len(a.encode()) <= 130 and "~" in a
    assert a.startswith("跨境电商跨境电商")
    assert slug(long_one) == a  # a pure function: the same every time


def test_names_that_fold_alike_share_a_page() -> None:
    assert key("《人民日报》") == key("“人民日报”") == key(" 人民日报 ")
    assert slug("ChatGPT") == slug("chatgpt") == slug("ＣｈａｔＧＰＴ")


def test_relative_links_are_percent_encoded() -> None:
    assert href("source/人民日报.html", "2023-06.html", "2023-06-001") == "../2023-06.html#2023-06-001"
    assert href("index.html", "tag/跨境电商.html") == "tag/%E8%B7%A8%E5%A2%83%E7%94%B5%E5%95%86.html"
    assert href("zh-Hant-TW/index.html", "index.html") == "../index.html"


def test_issue_pages_follow_issue_url() -> None:
    from dataclasses import replace

    from ecdigest.model import Newsletter

    settings = Newsletter()
    assert issue_path(settings, "2023-06") == "2023-06.html"
    assert (
        issue_path(replace(settings, issue_url="{link}issues/{issue}/"), "2023-06")
        == "issues/2023-06/index.html"
    )
    assert (
        issue_path(replace(settings, issue_url="https://elsewhere.example/{issue}.html"), "2023-06")
        == "2023-06.html"
    )
    assert issue_path(replace(settings, issue_url="{link}../x/{issue}.html"), "2023-06") == "2023-06.html"


# --------------------------------------------------------------------------- the whole site


def test_every_page_parses_and_every_link_resolves(invoke: Invoke, tmp_path: Path) -> None:
    root = many_issues(tmp_path, 24, editions=("zh-Hant-TW",))
    out = tmp_path / "site"
    build(invoke, root, out)
    names = files(out)
    for expected in (
        "index.html",
        "2023-06.html",
        "2023-05.html",
        "year/2019.html",
        "sections.html",
        "sources.html",
        "tags.html",
        "stats.html",
        "search.html",
        "404.html",
        "robots.txt",
        "sitemap.xml",
        "feed.xml",
        "atom.xml",
        "feed.json",
        "archive/feed-1.xml",
        "archive/atom-2.xml",
        "section/行业资讯.html",
        "section/行业资讯.xml",
        "section/行业资讯.atom.xml",
        "a/2023-06-001.html",
        "zh-Hant-TW/index.html",
        "zh-Hant-TW/2023-06.html",
        "zh-Hant-TW/section/行業資訊.html",
        "zh-Hant-TW/feed.xml",
        "zh-Hant-TW/search.html",
    ):
        assert expected in names, expected
    pages = [n for n in names if n.endswith(".html")]
    for name in pages:
        assert html_errors((out / name).read_bytes()) == [], name
    outside = set()
    for toml in root.rglob("*.toml"):
        outside.update(re.findall(r'(?m)^url = "([^"]+)"', toml.read_text("utf-8")))
    from ecdigest.export.common import web_url

    assert link_problems(out, outside={web_url(u) or "" for u in outside}) == []


def test_feeds_pass_the_publishing_checks_and_link_to_pages(invoke: Invoke, tmp_path: Path) -> None:
    import feedparser

    root = many_issues(tmp_path, 24)
    out = tmp_path / "site"
    build(invoke, root, out)
    main = (out / "feed.xml").read_bytes()
    # The fixed archive's titles are hostile on purpose (tests/test_build.py allows the same).
    assert [p for p in w3c_rss_problems(main, SITE_LINK + "feed.xml") if "title contains HTML" not in p] == []
    archived = (out / "archive" / "feed-1.xml").read_bytes()
    archive_problems = w3c_rss_problems(archived, SITE_LINK + "archive/feed-1.xml")
    history = "undefined element {http://purl.org/syndication/history/1.0}archive"  # RFC 5005, known to the validator
    assert [p for p in archive_problems if "title contains HTML" not in p and history not in p] == []
    for name in ("feed.xml", "atom.xml", "archive/feed-1.xml", "archive/atom-1.xml", "section/数据观察.xml"):
        parsed = feedparser.parse((out / name).read_bytes())
        assert not parsed.bozo, (name, parsed.bozo_exception)
        for entry in parsed.entries:
            link = entry.link
            if link.startswith(SITE_LINK):
                target = resolve_site_url(out, link)
                assert target is not None, (name, link)
                fragment = link.split("#", 1)[1] if "#" in link else ""
                assert not fragment or f'id="{fragment}"' in target.read_text("utf-8"), link
    # RFC 5005: the main feed links the newest archive page, pages link each other, all
    # issues are somewhere, no page holds more than 10 issues' items.
    channel = feedparser.parse(main).feed
    assert [link.href for link in channel.links if link.rel == "prev-archive"] == [
        SITE_LINK + "archive/feed-2.xml"
    ]
    page = feedparser.parse((out / "archive" / "feed-2.xml").read_bytes())
    rels = {link.rel: link.href for link in page.feed.links}
    assert rels["current"] == SITE_LINK + "feed.xml"
    assert rels["prev-archive"] == SITE_LINK + "archive/feed-1.xml"
    assert b"<fh:archive/>" in (out / "archive" / "feed-2.xml").read_bytes()
    guids = set()
    for name in ("feed.xml", "archive/feed-1.xml", "archive/feed-2.xml"):
        guids |= {e.id for e in feedparser.parse((out / name).read_bytes()).entries}
    issue_files = [p for p in root.rglob("*.toml") if p.name != "ecdigest.toml"]
    published = [p for p in issue_files if 'status = "published"' in p.read_text("utf-8")]
    expected = sum(p.read_text("utf-8").count("[[articles]]") for p in published)
    assert len(guids) == expected
    data = json.loads((out / "feed.json").read_text("utf-8"))
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert data["items"] and all(item["id"].startswith("tag:") for item in data["items"])
    page_html = (out / "2023-06.html").read_text("utf-8")
    for kind in ("application/rss+xml", "application/atom+xml", "application/feed+json"):
        assert f'type="{kind}"' in page_html  # autodiscovery on every page


def test_email_page_link_resolves(invoke: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(invoke, FIXTURE_ARCHIVE, out)
    text = (out / "email" / "2023-06.txt").read_text("utf-8")
    links = re.findall(r"https://example\.org/ecd/\S+\.html", text)
    assert links
    for link in links:
        assert resolve_site_url(out, link) is not None, link


def test_sitemap_robots_and_open_graph(invoke: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(invoke, FIXTURE_ARCHIVE, out)
    robots = (out / "robots.txt").read_text("utf-8")
    assert "Sitemap: https://example.org/ecd/sitemap.xml" in robots
    sitemap = (out / "sitemap.xml").read_text("utf-8")
    assert "<loc>https://example.org/ecd/2023-06.html</loc><lastmod>2023-06-05</lastmod>" in sitemap
    assert "/a/" not in sitemap  # share pages are cards, not pages to index
    page = (out / "2023-06.html").read_text("utf-8")
    assert '<meta property="og:type" content="article">' in page
    assert '<meta property="og:url" content="https://example.org/ecd/2023-06.html">' in page
    card = (out / "a" / "2023-06-001.html").read_text("utf-8")
    assert '<meta property="og:title"' in card and 'name="twitter:card"' in card
    assert 'url=../2023-06.html#2023-06-001"' in card


def test_pages_say_their_language_and_edition(invoke: Invoke, tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    set_editions(root, ("zh-Hant-TW", "zh-Hant-HK"))
    out = tmp_path / "site"
    build(invoke, root, out)
    original = (out / "2023-06.html").read_text("utf-8")
    taiwan = (out / "zh-Hant-TW" / "2023-06.html").read_text("utf-8")
    assert original.startswith('<!doctype html>\n<html lang="zh-CN">')
    assert '<html lang="zh-TW">' in taiwan
    assert 'href="zh-Hant-TW/2023-06.html" hreflang="zh-TW"' in original
    assert 'href="../zh-Hant-HK/2023-06.html" hreflang="zh-HK"' in taiwan
    assert "電子商務動態" in taiwan and "目錄" in taiwan
    feed = (out / "zh-Hant-TW" / "feed.xml").read_text("utf-8")
    assert "<language>zh-TW</language>" in feed and "https://example.org/ecd/zh-Hant-TW/2023-06.html#" in feed


def test_stats_page_has_inline_svg_without_scripts(invoke: Invoke, tmp_path: Path) -> None:
    root = many_issues(tmp_path, 8)
    out = tmp_path / "site"
    build(invoke, root, out)
    page = (out / "stats.html").read_text("utf-8")
    assert page.count("<svg ") == 3
    assert "<script" not in page
    assert "Generated with pygal" not in page and "chart-" in page


# --------------------------------------------------------------------------- incremental


def test_a_one_issue_change_renders_only_what_depends_on_it(invoke: Invoke, tmp_path: Path) -> None:
    root = many_issues(tmp_path, 30)
    out = tmp_path / "site"
    first = build(invoke, root, out)
    assert first["written"]
    again = build(invoke, root, out)
    assert again["written"] == [] and again["removed"] == []
    path = root / "2019" / "2019-03-04w.toml"
    path.write_text(path.read_text("utf-8").replace("这一段以数字和句点开头", "这一段以数字开头"), "utf-8")
    report = build(invoke, root, out)
    written = set(report["written"])  # type: ignore[arg-type]
    assert "2019-03-04w.html" in written and "2019-03-04w.md" in written
    # Archive pages carry summaries: an edit past the first paragraph leaves them alone.
    assert "archive/feed-1.xml" not in written and "feed.xml" not in written  # not among the newest
    assert "2019-02-25w.html" not in written  # the text changed, not the title its neighbours show
    assert len(written) < 40, sorted(written)
    # A title change reaches the neighbours' previous/next links and the lists.
    path.write_text(
        path.read_text("utf-8").replace('title = "电子商务动态 2019-03-04"', 'title = "三月特刊"'), "utf-8"
    )
    written = set(build(invoke, root, out)["written"])  # type: ignore[arg-type]
    assert {"2019-02-25w.html", "2019-03-11w.html", "year/2019.html"} <= written
    # An article's title is in its feed items: the archive page that holds it follows.
    path.write_text(
        path.read_text("utf-8").replace("超长的拉丁单词与网址不会被拆开", "超长的拉丁单词不会被拆开"), "utf-8"
    )
    written = set(build(invoke, root, out)["written"])  # type: ignore[arg-type]
    assert {"archive/feed-1.xml", "archive/atom-1.xml"} <= written
    assert "archive/feed-2.xml" not in written


def test_unpublished_pages_are_removed_and_nothing_else(invoke: Invoke, tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    out = tmp_path / "site"
    build(invoke, root, out)
    mine = out / "about.html"
    mine.write_text("<!doctype html><title>ours</title>", "utf-8")  # not the build's
    (out / "notes").mkdir()
    (out / "notes" / "x.txt").write_text("keep", "utf-8")
    path = root / "2023" / "2023-05.toml"
    path.write_text(path.read_text("utf-8").replace('status = "published"', 'status = "draft"'), "utf-8")
    report = build(invoke, root, out)
    removed = set(report["removed"])  # type: ignore[arg-type]
    assert {"2023-05.html", "2023-05.md", "a/2023-05-001.html"} <= removed
    assert not (out / "2023-05.html").exists()
    assert mine.read_text("utf-8") == "<!doctype html><title>ours</title>"
    assert (out / "notes" / "x.txt").exists()


def test_hand_changed_files_are_reported_not_overwritten(invoke: Invoke, tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    out = tmp_path / "site"
    build(invoke, root, out)
    page = out / "2023-06.html"
    page.write_text(page.read_text("utf-8").replace("目录", "目次"), "utf-8")
    path = root / "2023" / "2023-06.toml"
    path.write_text(path.read_text("utf-8").replace("不是引用", "不是引文"), "utf-8")
    result = invoke("build", "-o", str(out), archive=root)
    assert result.exit_code == 1
    assert f"{page}: was changed since ecdigest wrote it; left as it is" in result.stderr
    assert "目次" in page.read_text("utf-8")
    again = invoke("build", "-o", str(out), archive=root)  # reported until resolved
    assert again.exit_code == 1 and "2023-06.html" in again.stderr
    forced = invoke("build", "-o", str(out), "--force", archive=root)
    assert forced.exit_code == 0, forced.output
    assert "目次" not in page.read_text("utf-8") and "不是引文" in page.read_text("utf-8")
    # A file in the way that ecdigest did not write is not replaced either.
    shutil.rmtree(out)
    out.mkdir()
    (out / "index.html").write_text("mine", "utf-8")
    result = invoke("build", "-o", str(out), archive=root)
    assert result.exit_code == 1 and "was not written by ecdigest" in result.stderr
    assert (out / "index.html").read_text("utf-8") == "mine"


def test_an_old_build_folder_is_adopted(invoke: Invoke, tmp_path: Path) -> None:
    """A folder the build wrote before the manifest existed: its files are replaced, not conflicts."""
    out = tmp_path / "site"
    out.mkdir()
    (out / ".ecdigest-build.lock").touch()
    (out / "feed.xml").write_text("old feed", "utf-8")
    (out / "2023-05.md").write_text("old page", "utf-8")
    result = invoke("build", "-o", str(out), archive=FIXTURE_ARCHIVE)
    assert result.exit_code == 0, result.output
    assert (out / "feed.xml").read_bytes().startswith(b"<?xml")


def test_same_archive_same_bytes(invoke: Invoke, tmp_path: Path) -> None:
    root = many_issues(tmp_path, 5, editions=("zh-Hant-TW",))
    a, b = tmp_path / "a", tmp_path / "b"
    build(invoke, root, a)
    build(invoke, root, b)
    assert files(a) == files(b)
    for name in files(a):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_no_change_build_writes_nothing_and_reads_no_issue(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    build(invoke, FIXTURE_ARCHIVE, out)
    from ecdigest.archive import Archive

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("a no-change build read an issue file")

    monkeypatch.setattr(Archive, "read", no_reading)
    report = build(invoke, FIXTURE_ARCHIVE, out)
    assert report["written"] == [] and report["removed"] == []


_SEGMENT = st.sampled_from(["issues", "2023", "ecd", ".", "..", "...", "a..b", "档案", "x y", ".hidden"])


@settings(max_examples=300, deadline=None)
@given(
    start=st.sampled_from(["", "/", "/srv/", "./", "../"]),
    root_parts=st.lists(_SEGMENT, max_size=4),
    below=st.lists(_SEGMENT, min_size=1, max_size=3),
    trailing=st.booleans(),
    other_root=st.booleans(),
)
def test_an_issue_key_is_what_relpath_answers(
    start: str, root_parts: list[str], below: list[str], trailing: bool, other_root: bool
) -> None:
    """manifest.issue_key cuts the root off as text when it can: for every spelling of a
    root (relative, absolute, with . and ..) and of a path below it or elsewhere, the
    answer is os.path.relpath's."""
    import os

    from ecdigest.site.manifest import issue_key

    spelled = start + "/".join(root_parts) + ("/" if trailing and root_parts else "")
    root = Path(spelled or ".")
    path = (Path("/elsewhere") if other_root else root).joinpath(*below)
    assert issue_key(root, path) == os.path.relpath(path, root)


@pytest.mark.parametrize("spelling", ["relative", "with dot-dot"])
def test_the_archive_named_another_way_is_the_same_archive(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spelling: str
) -> None:
    """The manifest names issue files below the archive's root: building the same archive
    by its absolute path, then as `--archive issues` from its parent or `./x/../issues`,
    plans nothing the second time (keyed by the root as spelled, every issue looked
    changed: a full re-render, 65 s and 1 GB at 3,000 issues, to write nothing)."""
    root = copy_fixture(tmp_path)
    out = tmp_path / "site"
    build(invoke, root, out)
    monkeypatch.chdir(root.parent)
    (root.parent / "x").mkdir()
    other = {
        "relative": Path(root.name),
        "with dot-dot": Path(".") / "x" / ".." / root.name,
    }[spelling]
    from ecdigest.archive import Archive

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("a build of the same archive named another way read an issue file")

    with monkeypatch.context() as patched:
        patched.setattr(Archive, "read", no_reading)
        report = build(invoke, other, out)
    assert report["written"] == [] and report["removed"] == []
    # and an edit is still seen, whichever way the archive is named
    issue = next(p for p in sorted(root.rglob("*.toml")) if p.name != "ecdigest.toml")
    text = issue.read_text("utf-8")
    issue.write_text(text.replace("。", "。（改）", 1), "utf-8")
    report = build(invoke, other, out)
    assert report["written"], report


# --------------------------------------------------------------------------- templates and trust


def test_archive_templates_override_the_shipped_ones(invoke: Invoke, tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    (root / "templates").mkdir()
    (root / "templates" / "404.html").write_text(
        '{% extends "base.html" %}{% block main %}<h1>本站没有这一页</h1>{% endblock %}', "utf-8"
    )
    out = tmp_path / "site"
    build(invoke, root, out)
    assert "本站没有这一页" in (out / "404.html").read_text("utf-8")
    assert "目录" in (out / "2023-06.html").read_text("utf-8")  # the others are ours


def test_a_template_edited_between_builds_in_one_process_is_used(invoke: Invoke, tmp_path: Path) -> None:
    """The Jinja environment is shared while the templates stay the same (`serve`
    rebuilds in one process): an edit, even of the same size, gets a fresh one."""
    from ecdigest.site.render import environment

    root = copy_fixture(tmp_path)
    (root / "templates").mkdir()
    page = root / "templates" / "404.html"
    page.write_text('{% extends "base.html" %}{% block main %}<h1>没有这一页甲</h1>{% endblock %}', "utf-8")
    first = environment(root)
    assert environment(root) is first
    out = tmp_path / "site"
    build(invoke, root, out)
    assert "没有这一页甲" in (out / "404.html").read_text("utf-8")
    page.write_text('{% extends "base.html" %}{% block main %}<h1>没有这一页乙</h1>{% endblock %}', "utf-8")
    assert environment(root) is not first
    build(invoke, root, out)
    assert "没有这一页乙" in (out / "404.html").read_text("utf-8")


def test_article_text_never_becomes_markup(invoke: Invoke, tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    path = root / "2023" / "2023-06.toml"
    hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>\\"><a href=javascript:alert(3)>x</a>'
    text = path.read_text("utf-8")
    text = text.replace('title = "', f'title = "{hostile}', 1)
    text = text.replace("tags = [", f'tags = ["{hostile}", ', 1) if "tags = [" in text else text
    text = text.replace('source = "《经济日报》"', f'source = "《{hostile}》"')
    path.write_text(text, "utf-8")
    out = tmp_path / "site"
    result = invoke("build", "-o", str(out), archive=root)
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:  # validation refuses the marks: publish it regardless
        result = invoke("build", "-o", str(out), archive=root)
    for name in files(out):
        if name.endswith((".html", ".xml", ".json", ".js")):
            data = (out / name).read_text("utf-8")
            assert "<script>alert" not in data, name
            assert "onerror=alert" not in data.replace("onerror=alert(2)&gt;", ""), name
            assert 'href="javascript:' not in data, name


def test_serve_preview_shows_drafts_under_a_banner(tmp_path: Path) -> None:
    from ecdigest.archive import open_archive
    from ecdigest.build import build as run_build

    root = copy_fixture(tmp_path)
    preview = tmp_path / "preview"
    run_build(open_archive(root), preview, drafts=True, validate=False)
    draft = (preview / "2023-07.html").read_text("utf-8")
    assert 'class="draft-banner"' in draft and "草稿" in draft
    assert 'class="draft-banner"' not in (preview / "2023-06.html").read_text("utf-8")
    out = tmp_path / "site"
    run_build(open_archive(root), out)
    assert not (out / "2023-07.html").exists()  # never in the published site


@pytest.mark.skipif(not (SHIPPED_ARCHIVE / "ecdigest.toml").exists(), reason="shipped archive not there")
def test_shipped_archive_builds_the_whole_site(invoke: Invoke, tmp_path: Path) -> None:
    root = tmp_path / "issues"
    shutil.copytree(SHIPPED_ARCHIVE, root, ignore=shutil.ignore_patterns(".ecdigest"))
    out = tmp_path / "site"
    build(invoke, root, out)
    names = files(out)
    assert len([n for n in names if n.startswith("a/")]) == 53
    assert "source/人民日报.html" in names and "section/专家视点.html" in names


def test_workers_build_the_same_site(invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cold build of many issues runs in forked workers: the same bytes as one process."""
    import ecdigest.site.builder as builder

    root = many_issues(tmp_path, 24, editions=("zh-Hant-HK",))
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    monkeypatch.setattr(builder, "PARALLEL_FROM", 10**6)
    build(invoke, root, serial)
    monkeypatch.setattr(builder, "PARALLEL_FROM", 4)
    monkeypatch.setattr("os.cpu_count", lambda: 3)
    report = build(invoke, root, parallel)
    assert files(serial) == files(parallel)
    for name in files(serial):
        assert (serial / name).read_bytes() == (parallel / name).read_bytes(), name
    assert sorted(report["written"]) == files(parallel)  # type: ignore[arg-type]
    # The parent renders the lists while the workers read the issues, and reports them in
    # the order of a build without that: after the workers' issue pages, search and feeds.
    written = report["written"]
    assert isinstance(written, list)
    last_issue_page = max(n for n, name in enumerate(written) if name.startswith("a/"))
    assert written.index("index.html") > last_issue_page
    assert written.index("stats.html") > written.index("feed.xml")
    assert written[-2:] == ["sitemap.xml", "robots.txt"]
    again = build(invoke, root, parallel)  # the manifest the workers reported is complete
    assert again["written"] == [] and again["removed"] == []


def test_workers_write_in_bulk_and_the_parent_syncs_before_its_save(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold build's workers fsync none of their files (each fsynced its first
    FSYNC_FILES); the parent syncs the file system once, before the manifest records them."""
    import os

    import ecdigest.site.builder as builder
    from ecdigest.site.manifest import Manifest

    root = many_issues(tmp_path, 24)
    log = tmp_path / "calls"  # appended to by the parent and the forked workers
    parent = str(os.getpid())
    real_fsync, real_save = os.fsync, Manifest.save

    def note(what: str) -> None:
        with log.open("a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()} {what}\n")

    def fsync(fd: int) -> None:
        import stat

        note("fsync " + ("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"))
        real_fsync(fd)

    def save(self: Manifest, *args: object, **kwargs: object) -> None:
        note("save")
        real_save(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "sync", lambda: note("sync"))
    monkeypatch.setattr(Manifest, "save", save)
    monkeypatch.setattr(builder, "PARALLEL_FROM", 4)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    out = tmp_path / "site"
    report = build(invoke, root, out)
    calls = [line.split(" ", 1) for line in log.read_text("utf-8").splitlines()]
    workers = {pid for pid, _ in calls} - {parent}
    assert workers == set(), calls  # no worker fsyncs (nor syncs, nor saves)
    assert report["written"]
    parents = [what for _, what in calls]
    assert parents.count("sync") == 1 and parents.index("sync") < parents.index("save")
    assert parents[-1] == "save"


def test_a_worker_that_meets_a_changed_issue_hands_its_stretch_back(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that reads an issue changed since the catalog's answer stops; the parent
    reads every issue again itself. The files the workers wrote (recorded in their spools,
    the one that finished and the one that stopped) are the build's own: no conflict, the
    same site as one process builds, and the manifest is complete."""
    import ecdigest.site.builder as builder
    from ecdigest.model import Issue
    from ecdigest.site.corpus import IssueInfo

    root = many_issues(tmp_path, 24)
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    monkeypatch.setattr(builder, "PARALLEL_FROM", 10**6)
    build(invoke, root, serial)
    monkeypatch.setattr(builder, "PARALLEL_FROM", 4)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    real_read = builder.Plan.read
    seen = tmp_path / "read-by-workers"  # written in the forked workers

    def read(self: builder.Plan, info: IssueInfo) -> Issue:
        if self.in_worker:
            with seen.open("a", encoding="utf-8") as handle:
                handle.write(info.id + "\n")
            if info.id == "2019-05-20w":  # past the middle: the second worker, files written
                raise builder._Stale(str(info.path))
        return real_read(self, info)

    monkeypatch.setattr(builder.Plan, "read", read)
    # What the workers wrote differs from what the parent then writes (as the pages of an
    # edited issue would): the parent may replace them only because they are recorded.
    import os

    from ecdigest.site.render import Site

    parent, real_share = os.getpid(), Site.share_page

    def share_page(self: Site, *args: object) -> bytes:
        data: bytes = real_share(self, *args)  # type: ignore[arg-type]
        return data if os.getpid() == parent else data + b"<!-- a worker's -->"

    monkeypatch.setattr(Site, "share_page", share_page)
    report = build(invoke, root, parallel)
    read_ids = seen.read_text("utf-8").split()
    assert "2019-05-20w" in read_ids and read_ids.index("2019-05-20w") > read_ids.index("2019-01-07w")
    assert report["conflicts"] == []
    assert files(serial) == files(parallel)
    for name in files(serial):
        assert (serial / name).read_bytes() == (parallel / name).read_bytes(), name
    monkeypatch.setattr(builder.Plan, "read", real_read)
    again = build(invoke, root, parallel)
    assert again["written"] == [] and again["removed"] == [] and again["conflicts"] == []


def test_spooled_records_are_saved_over_the_kept_ones(tmp_path: Path) -> None:
    """A worker's spool (its records on disk, read back by the parent's save) takes
    precedence over the records the parent keeps, for the files table and the sitemap; any
    text survives the round trip."""
    import sqlite3

    from ecdigest.site.manifest import SPOOL_BATCH, Manifest, Record, Spool

    out = tmp_path / "site"
    out.mkdir()
    manifest = Manifest.load(out)
    manifest.files["kept.html"] = Record("k1", "d1", 1, 10, "lists", "")
    manifest.files["both.html"] = Record("old", "d0", 2, 20, "page|-", "2020-01-01")
    manifest.files["gone.html"] = Record("k3", "d3", 3, 30, "page|-", "2021-01-01")
    spool = Spool()
    spooled = {
        "both.html": Record("new", "d2", 4, 40, "page|-", "2024-06-30"),
        "gone.html": Record("k4", "d4", 5, 50, "shares|-|x", None),
        "标签/a\x1fb\n.html": Record("键", "d5", 6, 60, "name|-|tag|标签", ""),
    }
    for number in range(SPOOL_BATCH + 3):  # more than one batch
        spooled[f"share/{number}.html"] = Record(f"s{number}", "ds", 7, 70 + number, "shares|-|y")
    for name, record in spooled.items():
        spool.add(name, record)
    spool.flush()
    assert spool.records() == spooled
    manifest.files.spools.append(spool)
    expected = {"kept.html": Record("k1", "d1", 1, 10, "lists", ""), **spooled}
    assert manifest.files.sitemap() == sorted(
        (name, record.sitemap) for name, record in expected.items() if record.sitemap is not None
    )
    manifest.save(out, pending=set(), full=True)
    assert manifest.files.spools == [] and spool.file.closed
    with sqlite3.connect(out / ".ecdigest-manifest.sqlite3") as db:
        rows = db.execute("SELECT name, key, digest, size, mtime_ns, family, sitemap FROM files").fetchall()
    db.close()
    assert {row[0]: Record(*row[1:]) for row in rows} == expected


def test_a_manifest_of_another_version_is_adopted_a_damaged_one_is_not(
    invoke: Invoke, tmp_path: Path
) -> None:
    import sqlite3

    root = copy_fixture(tmp_path)
    out = tmp_path / "site"
    build(invoke, root, out)
    manifest = out / ".ecdigest-manifest.sqlite3"
    with sqlite3.connect(manifest) as db:
        db.execute("UPDATE meta SET value = '2' WHERE key = 'version'")
    db.close()
    path = root / "2023" / "2023-06.toml"
    path.write_text(path.read_text("utf-8").replace("不是引用", "不是引文"), "utf-8")
    assert build(invoke, root, out)["conflicts"] == []
    # The JSON manifest of versions 1 and 2, in place of this one: adopted, then replaced.
    manifest.unlink()
    (out / ".ecdigest-manifest.json").write_text('{"version":2}\n', "utf-8")
    path.write_text(path.read_text("utf-8").replace("不是引文", "不是引用"), "utf-8")
    assert build(invoke, root, out)["conflicts"] == []
    assert manifest.exists() and not (out / ".ecdigest-manifest.json").exists()
    manifest.write_text("{not a database", "utf-8")
    path.write_text(path.read_text("utf-8").replace("不是引用", "不是引文"), "utf-8")
    result = invoke("build", "-o", str(out), archive=root)
    assert result.exit_code == 1 and "2023-06.html: was not written by ecdigest" in result.stderr


def test_the_issue_content_partial_renders_for_an_email(tmp_path: Path) -> None:
    """The seam for the email's HTML part: the issue page's content with absolute links."""
    from ecdigest.archive import open_archive
    from ecdigest.editions import for_edition
    from ecdigest.site.render import issue_fragment

    archive = open_archive(FIXTURE_ARCHIVE)
    issue = archive.get("2023-06").issue
    fragment = issue_fragment(issue, archive.settings)
    assert fragment.lstrip().startswith('<header class="issue-header">')
    assert 'id="2023-06-001"' in fragment and "来源：" in fragment
    assert 'href="https://example.org/ecd/source/' in fragment  # absolute: it leaves the site
    assert "<script>alert(1)</script>" not in fragment and "&lt;script&gt;" in fragment
    assert html_errors(f"<!doctype html><html lang=zh><title>x</title>{fragment}".encode()) == []
    [converted], settings = for_edition([issue], archive.settings, "zh-Hant-TW")
    taiwan = issue_fragment(converted, settings)
    assert "來源：" in taiwan and "https://example.org/ecd/zh-Hant-TW/" in taiwan


def test_share_cards_are_what_the_template_renders(tmp_path: Path) -> None:
    """The share page's fast form (render.ShareCard) against Jinja's own rendering of the
    shipped share.html: any text, hostile marks, an empty date; an archive's own
    share.html is rendered by Jinja."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from ecdigest.site.render import ShareCard, environment

    env = environment(None)
    card = ShareCard.of(env)
    assert card is not None
    template = env.get_template("share.html")
    text = st.lists(
        st.sampled_from(["<", ">", "&", '"', "'", "\x00", "电", "a", " ", "\n", "{{", "%}", "𠀀"]),
        max_size=12,
    ).map("".join)

    @settings(max_examples=200, deadline=None)
    @given(st.lists(text, min_size=len(ShareCard.FIELDS), max_size=len(ShareCard.FIELDS)))
    def check(values: list[str]) -> None:
        context: dict[str, dict[str, str]] = {"site": {}, "page": {}}
        for (group, name), value in zip(ShareCard.FIELDS, values, strict=True):
            context[group][name] = value
        assert card.render(context) == template.render(context).encode("utf-8")

    check()
    own = tmp_path / "templates"
    own.mkdir()
    (own / "share.html").write_text("<p>{{ page.title|upper }}</p>", "utf-8")
    assert ShareCard.of(environment(tmp_path)) is None


def test_a_bulk_writer_syncs_the_file_system_once_at_the_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parent of a cold build's workers writes without an fsync per file; the save
    then syncs before the manifest records them. A few files: an fsync each, no sync."""
    import os

    from ecdigest.site.manifest import Manifest
    from ecdigest.site.output import Writer

    calls: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls.append("fsync")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "sync", lambda: calls.append("sync"))
    for bulk in (True, False):
        calls.clear()
        out = tmp_path / f"out-{bulk}"
        out.mkdir()
        writer = Writer(out, Manifest.load(out))
        writer.bulk = bulk
        writer.put("a.html", "key", b"<p>a</p>", family="f")
        assert calls == ([] if bulk else ["fsync"])
        writer.save(full=True)
        assert ("sync" in calls) is bulk
        assert (out / "a.html").read_bytes() == b"<p>a</p>"


@given(
    st.text(max_size=300)
    | st.text(alphabet=st.sampled_from("行业 a5:/。，\u3000\xa0\r\n\t\x00\ud800"), max_size=300)
    | st.text(alphabet=st.sampled_from("行业 a5:/。，"), max_size=300)
    | st.sampled_from([" 行业\r\n资讯 ", "a\u2028b", "x" * 257, "\ud800 y", " 行业  资讯 ", "http://x/ a"])
)
@settings(max_examples=400, deadline=None)
def test_the_kept_one_line_and_uri_answer_what_they_compute(text: str) -> None:
    """one_line and uri keep their answers for the strings a build asks for again and
    again, and take printable text by a shorter way: each answer is what the computation
    gives (clean's pattern, then the blanks'), asked once or many times."""
    import re

    from ecdigest.export import common

    cleaned = common._FORBIDDEN.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    assert common.clean(text) == cleaned
    assert re.fullmatch(common._FORBIDDEN, "\x00")  # the pattern the comparison uses
    computed = common._BLANKS.sub(" ", cleaned).strip()
    for _ in range(2):
        assert common.one_line(text) == computed
        assert common.uri(text) == common.uri.__wrapped__(text)


@given(
    st.text(alphabet=st.sampled_from("电商直播 a\t\n\r\x00\x85\u2028\u3000\ud800\ufffe。，"), max_size=300)
    | st.text(alphabet=st.sampled_from("电商直播 a5。，-\u3000\xa0\u200b\ufdd0\U0002a6a5"), max_size=300)
    | st.text(alphabet=st.sampled_from("电商直播 a5。，-"), max_size=300)
    | st.text(max_size=300)
)
@settings(max_examples=500, deadline=None)
def test_a_paragraph_as_one_line_is_one_line_of_its_joined_lines(text: str) -> None:
    """paragraph_text skips one_line's second clean and its cache, and only strips a
    printable paragraph without two spaces in a row: it answers
    `one_line(join_lines(clean(paragraph)))` for any text (line breaks between Chinese
    characters and others, CR, controls, surrogates, noncharacters, other spaces, runs of
    spaces and printable text with blanks at its ends, long and short)."""
    from ecdigest.export import common
    from ecdigest.textwrap_cjk import join_lines

    assert common.paragraph_text(text) == common.one_line(join_lines(common.clean(text)))


@given(
    st.text(
        alphabet=st.sampled_from(
            "电商直播 a-1.#*\t\n\r\v\f\x1c\x1f\x00\x85\xa0\u2028\u2029\u200b\u3000\ud800\ufffe。，"
        ),
        max_size=300,
    )
    | st.text(max_size=300)
)
@settings(max_examples=300, deadline=None)
def test_a_paragraphs_line_is_its_own_one_line(text: str) -> None:
    """The Markdown page escapes a paragraph's line without one_line (markdown.escape_line):
    one_line answers every paragraph's text unchanged, so the page is what `escape` made."""
    from ecdigest.export import common, markdown

    line = common.paragraph_text(text)
    assert common.one_line(line) == line
    assert markdown.escape_line(line) == markdown.escape(line)


@given(
    st.sampled_from(
        [
            "https://example.org/",
            "http://例子.测试/ecd",
            "http://",
            "  http://x.org\u2028/a ",
            "ftp://[::1/",
            "",
        ]
    )
    | st.text(max_size=40),
    st.text(alphabet=st.sampled_from("aZ09._~/-"), min_size=1, max_size=40),
)
@settings(max_examples=300, deadline=None)
def test_a_plain_paths_url_is_the_links_uri_and_the_path(link: str, path: str) -> None:
    """render._absolute answers uri(link + path) from uri(link) for a path of unreserved
    ASCII and '/': the same URL for any link (non-ASCII hosts, blanks, no host, broken)."""
    from ecdigest.export.common import uri
    from ecdigest.model import Newsletter
    from ecdigest.site import render

    settings = Newsletter(link=link)
    slashed = link if link.endswith("/") else link + "/"
    assert render._PLAIN_PATH.fullmatch(path)
    assert render._absolute(settings, path) == uri.__wrapped__(slashed + path)
