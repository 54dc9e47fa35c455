"""The web archive in a real browser: Debian's headless Chromium through chromedriver
(selenium). In CI (`CI=true`) these run, never skip: `.ci/run` installs chromium and
chromium-driver. One browser for the module; screenshots go to the test's tmp folder."""

from __future__ import annotations

import functools
import http.server
import itertools
import json
import os
import shutil
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _browser import skip_without_browser
from _site import SITE_LINK, many_issues
from conftest import SHIPPED_ARCHIVE

skip_without_browser()  # the `browser` fixture: tests/_browser.py


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECDIGEST_")}
    env["ECDIGEST_NOW"] = "2023-07-10T09:00:00+08:00"
    return subprocess.run(
        [sys.executable, "-m", "ecdigest", *args], capture_output=True, text=True, env=env, check=False
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The shipped archive's site (and a larger one), served on 127.0.0.1."""
    base = tmp_path_factory.mktemp("browser")
    archive = base / "issues"
    shutil.copytree(SHIPPED_ARCHIVE, archive, ignore=shutil.ignore_patterns(".ecdigest"))
    out = base / "site"
    result = cli("--archive", str(archive), "build", "-o", str(out))
    assert result.returncode == 0, result.stderr
    handler = functools.partial(QuietHandler, directory=str(out))
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {
            "archive": archive,
            "out": out,
            "url": f"http://127.0.0.1:{server.server_address[1]}/",
            "tmp": base,
        }
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def cli_hits(archive: Path, query: str) -> list[str]:
    result = cli("--archive", str(archive), "search", query, "--limit", "0", "--format", "json")
    assert result.returncode == 0, result.stderr
    return sorted(hit["article"] for hit in json.loads(result.stdout or "[]"))


def site_hits(browser: Any, url: str, query: str) -> list[str]:
    from urllib.parse import quote

    browser.get(f"{url}search.html?q={quote(query)}")
    deadline = time.monotonic() + 20
    count = None
    while time.monotonic() < deadline:
        count = browser.execute_script(
            "return document.getElementById('search-status').dataset.count || null"
        )
        shown = browser.execute_script("return document.querySelectorAll('.search-result').length")
        if (count is not None and int(count) == shown) or (count is not None and shown >= 20):
            break
        time.sleep(0.1)
    assert count is not None, browser.execute_script(
        "return document.getElementById('search-status').textContent"
    )
    while browser.execute_script("return document.querySelectorAll('.search-result').length") < int(count):
        browser.execute_script("document.querySelector('.search-results + button').click()")
        time.sleep(0.1)
    found: list[str] = browser.execute_script(
        "return Array.from(document.querySelectorAll('.search-result')).map(e => e.dataset.article)"
    )
    return sorted(found)


def test_index_to_issue_to_the_article_a_feed_item_links(site: dict[str, Any], browser: Any) -> None:
    import feedparser
    from selenium.webdriver.common.by import By

    url = site["url"]
    browser.set_window_size(1280, 900)
    browser.get(url + "index.html")
    browser.find_element(By.CSS_SELECTOR, ".issue-row-title a").click()
    assert browser.current_url == url + "2023-06.html"
    assert browser.find_element(By.TAG_NAME, "h1").text == "电子商务动态 2023 年 6 月"
    feed = feedparser.parse((site["out"] / "feed.xml").read_bytes())
    item = feed.entries[5]
    assert item.link.startswith(SITE_LINK)
    browser.get(url + item.link[len(SITE_LINK) :])
    anchor = item.link.split("#", 1)[1]
    target = browser.find_element(By.ID, anchor)
    assert target.find_element(By.TAG_NAME, "h3").text == item.title
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top", target)
    assert 0 <= top < 200, top  # the browser scrolled to the article


def test_site_search_finds_what_the_cli_finds(site: dict[str, Any], browser: Any) -> None:
    for query in ("直播", "店", "网", "电商", "跨境电商", "直播 -淘宝", "快递 OR 物流", "5G"):
        assert site_hits(browser, site["url"], query) == cli_hits(site["archive"], query), query


def test_site_search_works_from_the_files_on_a_disk(site: dict[str, Any], browser: Any) -> None:
    file_url = (site["out"]).as_uri() + "/"
    assert site_hits(browser, file_url, "直播") == cli_hits(site["archive"], "直播")


def test_no_horizontal_scroll_on_a_phone_and_screenshots(site: dict[str, Any], browser: Any) -> None:
    url = site["url"]
    shots = site["tmp"] / "screenshots"
    shots.mkdir(exist_ok=True)
    for width in (360, 390, 1280):
        browser.set_window_size(width, 900)
        for page in (
            "index.html",
            "2023-06.html",
            "stats.html",
            "search.html",
            "sources.html",
            "section/行业资讯.html",
        ):
            browser.get(url + page)
            scroll, inner = browser.execute_script(
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert scroll <= inner, (width, page, scroll, inner)
            if width in (390, 1280) and page in ("2023-06.html", "index.html", "stats.html"):
                browser.save_screenshot(str(shots / f"{page.replace('/', '_')}-{width}.png"))
    assert len(list(shots.glob("*.png"))) == 6


def test_keyboard_users_get_a_skip_link_and_visible_focus(site: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.keys import Keys

    browser.set_window_size(1280, 900)
    browser.get(site["url"] + "2023-06.html")
    browser.find_element("tag name", "body").send_keys(Keys.TAB)
    focused = browser.switch_to.active_element
    assert focused.get_attribute("class") == "skip-link"
    outline = browser.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")
    levels = browser.execute_script(
        "return Array.from(document.querySelectorAll('main h1, main h2, main h3')).map(h => +h.tagName[1])"
    )
    assert levels[0] == 1 and all(b - a <= 1 for a, b in itertools.pairwise(levels))
    assert browser.execute_script("return document.querySelectorAll('header, nav, main, footer').length") >= 4


def test_a_larger_archive_searches_across_segments(tmp_path: Path, browser: Any) -> None:
    """Main segment plus a delta after one edit: the same answers as the CLI."""
    root = many_issues(tmp_path, 12)
    out = tmp_path / "site"
    assert cli("--archive", str(root), "build", "-o", str(out)).returncode == 0
    path = root / "2019" / "2019-02-04w.toml"
    path.write_text(path.read_text("utf-8").replace("快递业务量", "快递直播业务量"), "utf-8")
    assert cli("--archive", str(root), "build", "-o", str(out)).returncode == 0
    assert list((out / "search").glob("delta-*"))
    file_url = out.as_uri() + "/"
    for query in ("直播", "快递", "业务量"):
        assert site_hits(browser, file_url, query) == cli_hits(root, query), query


# The same words in both scripts (no phrase-level wording between them: 软件/軟體 is another
# word, not another script). 1, 2 and 4 characters.
SCRIPT_PAIRS = (
    ("網", "网"),
    ("電商", "电商"),
    ("數字", "数字"),
    ("跨境電商", "跨境电商"),
    ("數字經濟", "数字经济"),
)


@pytest.fixture(scope="module")
def edition_site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The shipped archive with a Taiwan edition, built (searched from file://)."""
    from _site import set_editions

    base = tmp_path_factory.mktemp("browser-editions")
    archive = base / "issues"
    shutil.copytree(SHIPPED_ARCHIVE, archive, ignore=shutil.ignore_patterns(".ecdigest"))
    set_editions(archive, ("zh-Hant-TW",))
    out = base / "site"
    result = cli("--archive", str(archive), "build", "-o", str(out))
    assert result.returncode == 0, result.stderr
    return {"archive": archive, "out": out}


def test_site_search_finds_across_scripts(edition_site: dict[str, Any], browser: Any) -> None:
    """A Traditional query on the Simplified site and a Simplified one on the Taiwan
    edition's site find what `ecdigest search` finds for the word (the CLI folds scripts
    with the same key, zhconv.fold)."""
    archive, out = edition_site["archive"], edition_site["out"]
    original = out.as_uri() + "/"
    taiwan = (out / "zh-Hant-TW").as_uri() + "/"
    for traditional, simplified in SCRIPT_PAIRS:
        expected = cli_hits(archive, simplified)
        assert expected, simplified  # the shipped issue has the word: the test can fail
        assert site_hits(browser, original, traditional) == expected, traditional
        assert site_hits(browser, original, simplified) == expected, simplified
        assert site_hits(browser, taiwan, simplified) == expected, ("zh-Hant-TW", simplified)
        assert site_hits(browser, taiwan, traditional) == expected, ("zh-Hant-TW", traditional)


def test_the_browser_folds_queries_as_the_index_is_folded(edition_site: dict[str, Any], browser: Any) -> None:
    """search.js's fold (NFKC, case folding, the cross-script table) against Python's
    searchindex.key on words of the shipped issue in three scripts, and mixed input."""
    from ecdigest import zhconv
    from ecdigest.site.searchindex import key

    text = (SHIPPED_ARCHIVE / "2023" / "2023-06.toml").read_text("utf-8")
    words = {text[i : i + size] for size in (1, 2, 3, 4) for i in range(0, len(text) - size, 7)}
    words = {w for w in words if w.strip() and '"' not in w and "\\" not in w}
    samples = sorted(words)[:1500]
    samples += [zhconv.convert(w, "zh-Hant-TW") for w in samples[:600]]
    samples += [zhconv.convert(w, "zh-Hant-HK") for w in samples[:300]]
    samples += ["ＡＢＣ電商", "Straße 什麼", "乾隆年間的乾燥", "ﬁ跨境電商 ５Ｇ", "著名", "著"]
    # every character of the key table, alone and as its key (one call: 10,000 strings)
    from ecdigest import zhkey

    samples += [s for pair in zhkey.pairs() for s in pair]
    browser.get((edition_site["out"]).as_uri() + "/search.html")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not browser.execute_script(
        # the table (zh-….js) arrives after the index's entry point
        "return !!(window.ECD_SEARCH && window.ECD_SEARCH.fold) && window.ECD_SEARCH.fold('電') === '电'"
    ):
        time.sleep(0.1)
    got = browser.execute_script(
        "return arguments[0].map(function (s) { return window.ECD_SEARCH.fold(s); })", samples
    )
    expected = [key(s) for s in samples]
    wrong = [(s, e, g) for s, e, g in zip(samples, expected, got, strict=True) if e != g]
    assert wrong == []
