"""The one-issue build's shortcuts answer what the long way answers (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ecdigest.export.jsonout import _C1, dumps

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


def test_a_body_edit_renders_the_share_page_of_its_article_alone(tmp_path: Path, monkeypatch: Any) -> None:
    """An issue's share pages show its id and date and one article each: after an edit of
    one article the others take their new key unrendered, and every card of the issue holds
    what a cold build writes; a new date renders them all again."""
    import shutil

    from _site import many_issues

    from ecdigest.archive import Archive
    from ecdigest.build import build
    from ecdigest.site import render

    root = many_issues(tmp_path, 3)
    out = tmp_path / "site"
    build(Archive.open(root), out)
    rendered: list[str] = []
    share_page = render.Site.share_page

    def counted(self: Any, issue: Any, article: Any) -> bytes:
        rendered.append(article.id)
        data: bytes = share_page(self, issue, article)
        return data

    monkeypatch.setattr(render.Site, "share_page", counted)
    path = root / "2019" / "2019-01-14w.toml"
    cards = sorted(p.name for p in (out / "a").glob("2019-01-14w-*.html"))
    assert len(cards) > 3

    def edit(old: str, new: str) -> list[str]:
        text = path.read_text("utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), "utf-8")
        rendered.clear()
        build(Archive.open(root), out)
        seen = list(rendered)
        cold = tmp_path / "cold"
        shutil.rmtree(cold, ignore_errors=True)
        build(Archive.open(root), cold)
        for card in cards:
            assert (out / "a" / card).read_bytes() == (cold / "a" / card).read_bytes(), card
        return seen

    assert edit("这一段以数字和句点开头", "这一段以数字开头") == ["2019-01-14w-001"]
    rendered.clear()
    assert build(Archive.open(root), out).written == [] and rendered == []
    assert len(edit("date = 2019-01-14", "date = 2019-01-15")) == len(cards)


# --------------------------------------------------------------------------- the latest issue's email

_EMAIL_TEXT = st.lists(
    st.sampled_from(
        ["电子商务", "。", "，", " ", "\n\n", "-- ", ">", "From ", "5G", "https://example.org/p", "x" * 40]
    ),
    min_size=1,
    max_size=30,
).map("".join)


@given(
    bodies=st.lists(_EMAIL_TEXT, min_size=0, max_size=4),
    width=st.integers(30, 90),
    max_articles=st.none() | st.integers(1, 4),
    fmt=st.sampled_from(["flowed", "fixed"]),
)
@settings(max_examples=60, deadline=None)
def test_text_and_eml_laid_out_once_are_render_text_and_render_eml(
    bodies: list[str], width: int, max_articles: int | None, fmt: str
) -> None:
    """The build writes the latest issue's .txt and .eml from one layout: the same bytes
    as render_text and render_eml, flowed or fixed, cut or whole."""
    import dataclasses
    import datetime as dt

    from ecdigest.export import email
    from ecdigest.model import Article, Issue, Newsletter

    articles = tuple(
        Article(
            id=f"x-{n:03d}",
            section=("行业资讯", "政策法规")[n % 2],
            title=f"标题{n}",
            source="《人民日报》",
            body=body,
        )
        for n, body in enumerate(bodies, start=1)
    )
    issue = Issue(id="x", title="t", date=dt.date(2023, 6, 5), status="published", articles=articles)
    settings_ = dataclasses.replace(Newsletter(), email_format=fmt)
    text, eml = email.render_text_and_eml(issue, settings_, width=width, max_articles=max_articles)
    assert text == email.render_text(issue, settings_, width=width, max_articles=max_articles)
    assert eml == email.render_eml(issue, settings_, width=width, max_articles=max_articles)


def test_the_latest_issues_email_is_laid_out_once_and_as_a_cold_build_writes_it(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """A body edit of the latest issue lays its email text out once for the .txt and the
    .eml; either file removed by hand is written alone; every time as a cold build does."""
    import shutil

    from _site import many_issues

    from ecdigest.archive import Archive
    from ecdigest.build import build
    from ecdigest.export import email

    root = many_issues(tmp_path, 3)
    out = tmp_path / "site"
    build(Archive.open(root), out)
    layouts: list[str] = []
    layout = email._layout

    def counted(issue: Any, *args: Any) -> Any:
        layouts.append(issue.id)
        return layout(issue, *args)

    monkeypatch.setattr(email, "_layout", counted)
    latest = max(p for p in root.rglob("*.toml") if 'status = "published"' in p.read_text("utf-8"))
    names = [f"email/{latest.stem}.txt", f"email/{latest.stem}.eml"]

    def check(written: list[str]) -> None:
        cold = tmp_path / "cold"
        shutil.rmtree(cold, ignore_errors=True)
        build(Archive.open(root), cold)
        for name in names:
            assert (out / name).read_bytes() == (cold / name).read_bytes(), name
        assert [n for n in written if n.startswith("email/")] == [n for n in names if n in written]

    text = latest.read_text("utf-8")
    latest.write_text(text.replace("。", "。（改）", 1), "utf-8")
    layouts.clear()
    result = build(Archive.open(root), out)
    assert layouts == [latest.stem] and set(names) <= set(result.written)
    check(result.written)
    for name in names:
        (out / name).unlink()
        layouts.clear()
        result = build(Archive.open(root), out)
        assert layouts == [latest.stem] and [n for n in result.written if n.startswith("email/")] == [name]
        check(result.written)


# --------------------------------------------------------------------------- facets


@given(
    ids=st.lists(st.sampled_from(["x-001", "x-002", "x-003", "x-004"]), min_size=0, max_size=8),
    bodies=st.lists(st.text(max_size=30), min_size=8, max_size=8),
    sections=st.lists(st.sampled_from(["行业资讯", "政策法规", ""]), min_size=8, max_size=8),
)
@settings(max_examples=100, deadline=None)
def test_the_share_digests_are_those_of_each_ids_first_article(
    ids: list[str], bodies: list[str], sections: list[str]
) -> None:
    """issue_facets hashes each article's repr once: its "sh" facet is share_digest of the
    first article of each id, in order, and share_digests reads them back by id; the
    section facets are those of the articles' reprs."""
    import datetime as dt

    from ecdigest.model import Article, Issue
    from ecdigest.site.builder import _short, issue_facets, share_digest, share_digests

    articles = tuple(
        Article(id=i, section=sections[n], title=f"标题{n}", body=bodies[n]) for n, i in enumerate(ids)
    )
    issue = Issue(id="x", title="t", date=dt.date(2023, 6, 5), status="published", articles=articles)
    facets, _ = issue_facets(issue)
    firsts: dict[str, Article] = {}
    for article in articles:
        firsts.setdefault(article.id, article)
    assert facets["sh"] == "".join(share_digest(issue, repr(a)) for a in firsts.values())
    assert share_digests(facets, issue) == {i: share_digest(issue, repr(a)) for i, a in firsts.items()}
    head = (issue.id, issue.title, issue.date, issue.status)
    for section in {a.section for a in articles}:
        assert facets[f"s\x1f{section}"] == _short(
            *head, *(repr(a) for a in articles if a.section == section)
        )


# --------------------------------------------------------------------------- feeds


_FEED_TEXT = st.lists(
    st.sampled_from(
        ["电子商务", "。", "<b>", "&amp;", "\"'", " ", "\n\n", "x", "https://example.org/?a=1&b=2"]
    ),
    min_size=0,
    max_size=12,
).map("".join)


@given(
    bodies=st.lists(_FEED_TEXT, min_size=1, max_size=5),
    sources=st.lists(st.sampled_from(["", "《人民日报》", "a & b <c>"]), min_size=5, max_size=5),
    urls=st.lists(
        st.sampled_from(["", "https://example.org/a?b=1&c=2", "javascript:x"]), min_size=5, max_size=5
    ),
    pages=st.integers(0, 3),
    atom_first=st.booleans(),
    issues=st.integers(1, 3),
)
@settings(max_examples=60, deadline=None)
def test_main_feed_items_made_once_are_each_formats_own(
    bodies: list[str], sources: list[str], urls: list[str], pages: int, atom_first: bool, issues: int
) -> None:
    """feed.xml and atom.xml share their items (one feedgen entry for both formats): each
    document is the bytes its format renders alone, in either order; the second format
    makes no entry of its own."""
    import datetime as dt

    from ecdigest.export import rss
    from ecdigest.model import Article, Issue, Newsletter
    from ecdigest.site import feeds

    made: list[str] = []
    add_entry = rss._add_entry

    def counted(fg: Any, fmt: str, **kwargs: Any) -> None:
        made.append(fmt)
        add_entry(fg, fmt, **kwargs)

    chosen = [
        Issue(
            id=f"2023-06-{n + 1:02d}",
            title=f"第 {n} 期" if n % 2 else "",
            date=dt.date(2023, 6, n + 1),
            status="published",
            articles=tuple(
                Article(
                    id=f"2023-06-{n + 1:02d}-{k:03d}",
                    section=("行业资讯", "政策法规", "")[k % 3],
                    title=f"标题 {k} <&>",
                    source=sources[k % 5],
                    url=urls[k % 5],
                    tags=("跨境", "电商") if k % 2 else (),
                    body=body,
                )
                for k, body in enumerate(bodies, start=1)
            ),
        )
        for n in range(issues)
    ]
    settings_ = Newsletter()
    order = ["atom", "rss"] if atom_first else ["rss", "atom"]
    alone = {fmt: feeds.main_feed(chosen, settings_, fmt, pages) for fmt in order}
    shared = rss.SharedEntries()
    rss._add_entry = counted
    try:
        together = {fmt: feeds.main_feed(chosen, settings_, fmt, pages, shared=shared) for fmt in order}
    finally:
        rss._add_entry = add_entry
    assert together == alone
    assert made == ["both"] * (len(bodies) * issues)  # the second format made none
    assert shared._made == {}  # let go once both formats took them


def test_shared_feed_items_are_not_taken_for_other_issues_or_settings() -> None:
    """The items are keyed by the settings and the issues whole: an edited article, other
    settings or the same format again make their own."""
    import dataclasses
    import datetime as dt

    from ecdigest.export import rss
    from ecdigest.model import Article, Issue, Newsletter

    article = Article(id="x-001", section="行业资讯", title="标题", body="正文。")
    issue = Issue(id="x", title="t", date=dt.date(2023, 6, 5), status="published", articles=(article,))
    edited = dataclasses.replace(issue, articles=(dataclasses.replace(article, body="改过的正文。"),))
    other = dataclasses.replace(Newsletter(), tag_authority="example.com")
    shared = rss.SharedEntries()
    rss.render([issue], Newsletter(), format="rss", shared=shared)
    assert rss.render([edited], Newsletter(), format="atom", shared=shared) == rss.render(
        [edited], Newsletter(), format="atom"
    )
    assert rss.render([issue], other, format="atom", shared=shared) == rss.render(
        [issue], other, format="atom"
    )
    assert rss.render([issue], Newsletter(), format="rss", shared=shared) == rss.render(
        [issue], Newsletter(), format="rss"
    )
    assert rss.render([issue], Newsletter(), format="atom", shared=shared) == rss.render(
        [issue], Newsletter(), format="atom"
    )


def _stale_the_long_way(manifest: Any, out: Path, racy_ns: int) -> tuple[list[str], list[str]]:
    """The check as it was (one lstat by full path, the digest fetched with every row): the
    oracle for Manifest.stale_files."""
    import os
    import stat

    from ecdigest.site.output import digest_bytes

    stale, names = [], []
    saved = manifest.saved_ns - racy_ns
    for name, size, mtime, digest in manifest.conn.execute(
        "SELECT name, size, mtime_ns, digest FROM files ORDER BY name"
    ):
        names.append(name)
        try:
            info = os.lstat(os.path.join(str(out), "") + name)
        except (OSError, ValueError):
            stale.append(name)
            continue
        if not stat.S_ISREG(info.st_mode):
            stale.append(name)
        elif info.st_size != size or info.st_mtime_ns != mtime or mtime >= saved:
            try:
                data = (out / name).read_bytes()
            except OSError:
                stale.append(name)
                continue
            if digest_bytes(data) != digest:
                stale.append(name)
    return stale, names


@given(st.data())
@settings(max_examples=15, deadline=None)
def test_stale_files_answers_what_the_long_way_answers(tmp_path_factory: Any, data: st.DataObject) -> None:
    """A no-change build's check of every output (stat from the folder's descriptor, digests
    only for suspects) finds exactly the files the long way finds: edited in place with or
    without the same size and mtime, deleted, replaced by a folder or a symlink, and a
    damaged manifest's names (absolute, NUL, '..')."""
    import os
    import shutil
    import sqlite3

    from _site import many_issues

    from ecdigest.archive import Archive
    from ecdigest.build import build
    from ecdigest.site.manifest import MANIFEST, Manifest

    tmp = tmp_path_factory.mktemp("stale")
    root = many_issues(tmp, 2)
    out = tmp / "site"
    build(Archive.open(root), out)
    odd = data.draw(st.lists(st.sampled_from(["/etc/hostname", "../outside.html", "a\0b", "nope/x.html"])))
    with sqlite3.connect(out / MANIFEST) as conn:  # a damaged manifest's names
        conn.executemany(
            "INSERT OR IGNORE INTO files VALUES (?, 'x', 'k', 'd', 1, 1, NULL)", [(n,) for n in set(odd)]
        )
    conn.close()
    manifest = Manifest.load(out)
    try:
        names = [n for n in manifest.names() if n not in odd]
        picked = data.draw(st.lists(st.sampled_from(names), max_size=6, unique=True))
        hows: dict[str, str] = {}
        for name in picked:
            path = out / name
            how = data.draw(
                st.sampled_from(["same-size", "longer", "delete", "folder", "symlink", "twin", "touch"])
            )
            hows[name] = how
            info = path.stat()
            if how == "same-size":
                raw = bytearray(path.read_bytes())
                raw[0] = raw[0] ^ 1 if raw else 0
                path.write_bytes(bytes(raw))
                os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
            elif how == "longer":
                path.write_bytes(path.read_bytes() + b" ")
            elif how == "delete":
                path.unlink()
            elif how == "folder":
                path.unlink()
                path.mkdir()
            elif how == "twin":  # a link to the same bytes with the same size and mtime
                twin = tmp / f"twin-{len(hows)}"
                shutil.copy2(path, twin)
                path.unlink()
                path.symlink_to(twin)
            elif how == "symlink":
                path.unlink()
                path.symlink_to(out / names[0] if names[0] != name else "/dev/null")
            else:
                os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1))
        racy = data.draw(st.sampled_from([0, 10**18]))
        expected = _stale_the_long_way(manifest, out, racy)
        assert manifest.stale_files(out, racy) == expected
        # every tampered file is found, but an edit keeping size and mtime outside the racy
        # window (git's rule: the manifest trusts them there) and a touch that kept the bytes
        found = {
            n for n, how in hows.items() if how not in ("same-size", "touch") or (how == "same-size" and racy)
        }
        assert found <= set(expected[0])
    finally:
        manifest.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_a_no_change_build_settles_racily_clean_files_by_their_stat_next_time(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """git's index refresh: the files written close to the manifest's save are read by
    their bytes by the next no-change build, which then records when it checked, so the
    builds after it settle them by size and mtime (a cold build's last ~700 files were
    hashed by every no-change build until one saved the manifest again). A file changed in
    place keeping its size and mtime before that check is still caught."""
    import os
    import time

    from _site import many_issues

    from ecdigest.archive import Archive
    from ecdigest.build import build
    from ecdigest.site import output
    from ecdigest.site.manifest import Manifest

    monkeypatch.setattr(output, "RACY_NS", 300_000_000)  # 0.3 s: every file is racy at first
    hashed: list[int] = []
    digest_bytes = output.digest_bytes

    def counted(data: bytes) -> str:
        hashed.append(len(data))
        return digest_bytes(data)

    monkeypatch.setattr(output, "digest_bytes", counted)
    root = many_issues(tmp_path, 3)
    out = tmp_path / "site"
    build(Archive.open(root), out)

    def saved() -> int:
        manifest = Manifest.load(out)
        try:
            return manifest.saved_ns
        finally:
            manifest.close()

    time.sleep(0.35)
    before = saved()
    hashed.clear()
    started = time.time_ns()
    assert build(Archive.open(root), out).written == []
    assert hashed, "the files written close to the save are read by their bytes"
    assert started <= saved() <= time.time_ns() and saved() > before
    hashed.clear()
    time.sleep(0.35)
    again = saved()
    assert build(Archive.open(root), out).written == []
    assert hashed == [] and saved() == again  # by their stat alone; nothing written

    # A racy file changed in place, its size and mtime kept: found by its bytes (a file
    # changed by hand: left alone, reported), no refresh vouches for it, and it stays
    # reported after a save has moved the racy window past its mtime (smudged).
    page = out / "2019-01-07w.html"
    page.unlink()
    assert build(Archive.open(root), out).written == ["2019-01-07w.html"]  # racy again
    info = page.stat()
    data = page.read_bytes()
    page.write_bytes(data.replace("电子商务".encode(), "电商动态".encode(), 1))
    os.utime(page, ns=(info.st_atime_ns, info.st_mtime_ns))
    for _ in range(2):
        time.sleep(0.35)
        assert "2019-01-07w.html" in [name for name, _ in build(Archive.open(root), out).conflicts]
    page.write_bytes(data)  # put back as written: recognised by its bytes
    os.utime(page, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert build(Archive.open(root), out).conflicts == []

    # After a refresh, a hand edit still moves the mtime: found as before.
    page.write_bytes(page.read_bytes() + b"\n")
    assert "2019-01-07w.html" in [name for name, _ in build(Archive.open(root), out).conflicts]


def test_mark_checked_writes_nothing_when_another_build_holds_the_lock_or_saved(tmp_path: Path) -> None:
    import time

    from _site import many_issues

    from ecdigest.archive import Archive
    from ecdigest.build import build
    from ecdigest.fileio import FileLock
    from ecdigest.site.manifest import LOCK_NAME, MANIFEST, Manifest

    root = many_issues(tmp_path, 2)
    out = tmp_path / "site"
    build(Archive.open(root), out)
    manifest = Manifest.load(out)
    try:
        old = manifest.saved_ns
        stamp = (out / MANIFEST).read_bytes()
        with FileLock(out / LOCK_NAME).held():  # another build
            assert manifest.mark_checked(out, time.time_ns()) is False
        assert (out / MANIFEST).read_bytes() == stamp
        assert manifest.mark_checked(out, old) is False  # not after the save: nothing to say
        (out / LOCK_NAME).rename(out / "lock.away")  # no lock file: none is created
        assert manifest.mark_checked(out, time.time_ns()) is False
        assert not (out / LOCK_NAME).exists() and (out / MANIFEST).read_bytes() == stamp
        (out / "lock.away").rename(out / LOCK_NAME)
        other = Manifest.load(out)  # another build saves meanwhile
        other.close()
        build(Archive.open(root), out, force=True)
        assert manifest.mark_checked(out, time.time_ns()) is False
        assert Manifest.load(out).saved_ns != old  # (the forced build's own save)
        fresh = Manifest.load(out)
        try:
            now = time.time_ns()
            assert fresh.mark_checked(out, now) is True and fresh.saved_ns == now
            reread = Manifest.load(out)
            assert reread.saved_ns == now
            reread.close()
        finally:
            fresh.close()
    finally:
        manifest.close()
