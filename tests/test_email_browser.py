"""The email's HTML part in a real browser (headless Chromium, as the web archive's tests):
a phone's 390 px without horizontal scrolling, the site's Chinese typography, the preheader
hidden, the contents' links landing on their articles, nothing loaded from anywhere.
Screenshots are kept in the test's tmp folder for a person to look at."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from _browser import skip_without_browser
from _hardening import cli_env, ecdigest_argv
from _mail import check_message, parse
from _publishing import FIXTURE_ARCHIVE
from conftest import SHIPPED_ARCHIVE

from ecdigest.archive import Archive
from ecdigest.editions import for_edition
from ecdigest.export.email import kept

skip_without_browser()


def message_of(archive: Path, *args: str) -> bytes:
    """`ecdigest export email ISSUE --eml` as cron or an editor runs it (a real process)."""
    result = subprocess.run(
        [*ecdigest_argv(), "--archive", str(archive), "export", "email", *args, "--eml"],
        capture_output=True,
        env=cli_env(),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def html_file(data: bytes, path: Path) -> Path:
    html = parse(data).get_body(("html",))
    assert html is not None
    path.write_text(html.get_content(), "utf-8")
    return path


CASES = [  # (name, archive, export arguments, edition)
    ("shipped", SHIPPED_ARCHIVE, ["2023-06"], None),
    ("tricky", FIXTURE_ARCHIVE, ["2023-06"], None),
    (
        "tricky-zh-Hant-TW-cut",
        FIXTURE_ARCHIVE,
        ["2023-06", "--script", "zh-Hant-TW", "--max-articles", "2"],
        "zh-Hant-TW",
    ),
    ("proof", FIXTURE_ARCHIVE, ["2023-07"], None),
]


@pytest.mark.parametrize(("name", "archive", "args", "edition"), CASES, ids=[c[0] for c in CASES])
def test_the_html_part_reads_well_on_a_phone(
    browser: Any, tmp_path: Path, name: str, archive: Path, args: list[str], edition: str | None
) -> None:
    data = message_of(archive, *args)
    opened = Archive.open(archive)
    (issue,), settings = for_edition([opened.get(args[0]).issue], opened.settings, edition)
    cut = int(args[args.index("--max-articles") + 1]) if "--max-articles" in args else None
    check_message(data, kept(issue, settings, cut), settings)
    page = html_file(data, tmp_path / f"{name}.html")
    shots = tmp_path / "screenshots"
    shots.mkdir()

    browser.set_window_size(390, 844)
    browser.get(page.as_uri())
    scroll, inner = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= inner, (name, scroll, inner)
    browser.save_screenshot(str(shots / f"{name}-390.png"))
    # the site's typography: the system CJK stack, line-height at least 1.7, indented paragraphs
    paragraphs = browser.execute_script(
        """return Array.from(document.querySelectorAll('h3 ~ p')).slice(0, 40).map(p => {
             const s = getComputedStyle(p);
             return [parseFloat(s.lineHeight) / parseFloat(s.fontSize), s.fontFamily, s.textIndent,
                     p.getBoundingClientRect().right, p.textContent.slice(0, 20)];
           })"""
    )
    assert paragraphs, name
    stack = "PingFang TC" if edition else "PingFang SC"
    for ratio, family, _indent, right, text in paragraphs:
        assert ratio >= 1.7, (name, text, ratio)
        assert stack in family and "Noto Sans CJK" in family, family
        assert right <= inner, (name, text, right)  # nothing sticks out of the phone's width
    body = browser.execute_script(
        "return Array.from(document.querySelectorAll('h3 + p')).map(p => getComputedStyle(p).textIndent)"
    )
    assert body and all(indent == "32px" for indent in body), body  # two characters of 16 px
    # the preheader is in the message but takes no room
    hidden = browser.execute_script(
        "const d = document.body.querySelector('div'); return [getComputedStyle(d).display, d.offsetHeight, d.textContent]"
    )
    assert hidden[0] == "none" and hidden[1] == 0 and hidden[2].strip(), hidden
    # nothing was loaded: no image, font or stylesheet from anywhere
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    # the contents' first article link lands on that article (as far as the page scrolls)
    landed = browser.execute_script(
        """const a = Array.from(document.querySelectorAll('a[href^="#"]'))
               .find(a => /^#\\d/.test(a.getAttribute('href')));
           const target = document.getElementsByName(a.getAttribute('href').slice(1))[0];
           const top = target.getBoundingClientRect().top + window.scrollY;
           const most = document.documentElement.scrollHeight - window.innerHeight;
           a.click();
           return [window.scrollY, Math.min(top, most), target.parentElement.querySelector('h3').textContent,
                   a.textContent]"""
    )
    assert abs(landed[0] - landed[1]) < 2 and landed[0] > 0 and landed[2] == landed[3], landed

    browser.set_window_size(1280, 900)
    browser.get(page.as_uri())
    width = browser.execute_script(
        "return parseFloat(getComputedStyle(document.querySelector('div[lang]')).width)"
    )
    assert 600 < width <= 640, width  # one column of text, as wide as a line of Chinese reads well
    browser.save_screenshot(str(shots / f"{name}-1280.png"))
    assert sorted(p.name for p in shots.glob("*.png")) == [f"{name}-1280.png", f"{name}-390.png"]
