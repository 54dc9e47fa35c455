"""WeChat HTML: nothing the 公众号 editor would strip (checked with the allow-list in
ecdigest/export/wechat.py on the shipped issue, its editions and the hostile corpus), no
markup from article text, numbered references for every outside link, and --copy onto
a real X11 clipboard (Xvfb + xclip) as text/html."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import time
import tomllib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from _hardening import cli_env, copy_shipped, ecdigest_argv
from _publishing import copy_fixture
from conftest import SHIPPED_ARCHIVE, Invoke

from ecdigest.clipboard import ClipboardError, command_for
from ecdigest.export import wechat
from ecdigest.export.wechat import STYLE, clipboard_html, editor_findings
from ecdigest.model import Issue, Newsletter

HOSTILE = Path(__file__).parent / "data" / "hostile"
HOSTILE_ISSUES = sorted(p for p in HOSTILE.glob("*.toml"))
OUR_STYLES = set(STYLE.values())
STABLE = "https://mp.weixin.qq.com/s?__biz=MzA3&mid=2650&idx=1&sn=abc"


class _Tags(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def check_document(document: str, where: str, titles: int | None = None) -> None:
    """Nothing the editor strips, and only our own markup: every tag in the body carries
    one of our styles (a tag smuggled in through article text would not)."""
    assert editor_findings(document) == [], where
    body = document[document.index("<body>") :]
    tags = _Tags(body).tags[1:]  # past <body>
    for tag, attrs in tags:
        assert tag in ("strong", "br") or attrs.get("style") in OUR_STYLES, f"{where}: <{tag} {attrs}>"
        if tag == "a":
            assert (attrs.get("href") or "").startswith("https://mp.weixin.qq.com/"), where
    if titles is not None:
        assert sum(1 for tag, _ in tags if tag == "strong") == titles, where


# --------------------------------------------------------------------------- the allow-list


@pytest.mark.parametrize("script", ["zh-Hans", "zh-Hant-TW", "zh-Hant-HK"])
def test_shipped_issue_pastes_intact(invoke: Invoke, script: str) -> None:
    result = invoke("export", "wechat", "--script", script, archive=SHIPPED_ARCHIVE)
    assert result.exit_code == 0, result.output
    check_document(result.stdout, script, titles=53)
    assert result.stdout.startswith("<!DOCTYPE html>\n")


def test_the_check_finds_what_the_editor_strips() -> None:
    """The checker can fail: each of these is something the editor drops."""
    bad = [
        '<section class="x">a</section>',
        '<section id="x">a</section>',
        "<style>p{color:red}</style>",
        "<script>alert(1)</script>",
        '<p style="position: absolute">a</p>',
        '<p style="background-image: url(https://x/y.png)">a</p>',
        '<p style="font-family: SomeWebFont">a</p>',
        '<a href="https://example.com/">a</a>',
        '<a href="#top">a</a>',
        '<img src="https://x/y.png">',
        "<ul><li>a</li></ul>",
        '<link rel="stylesheet" href="https://fonts.example/x.css">',
        "<!-- a comment -->",
        '<p data-tool="x">a</p>',
    ]
    for fragment in bad:
        document = f"<html><head></head><body>{fragment}</body></html>"
        assert editor_findings(document), fragment
    assert editor_findings('<html><body><p style="color: #333333">ok</p></body></html>') == []


@pytest.mark.parametrize("case", HOSTILE_ISSUES, ids=[p.name for p in HOSTILE_ISSUES])
def test_hostile_issue_file(invoke: Invoke, archive_dir: Path, case: Path) -> None:
    (archive_dir / "2023").mkdir()
    (archive_dir / "2023" / case.name).write_bytes(case.read_bytes())
    try:
        issue_id = tomllib.loads(case.read_text("utf-8")).get("id")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        issue_id = None
    ids = [issue_id] if isinstance(issue_id, str) else [case.stem]
    for args in (["export", "wechat", *ids], ["export", "wechat", *ids, "--script", "zh-Hant-TW"]):
        result = invoke(*args)
        assert result.exit_code in (0, 2), result.output
        assert "Traceback" not in result.output
        if result.exit_code == 2:
            assert result.stderr.startswith("ecdigest: error: ") and result.stderr.count("\n") == 1
            continue
        check_document(result.stdout, case.name)
        for _tag, attrs in _Tags(result.stdout).tags:
            for value in attrs.values():
                assert "javascript" not in (value or "").lower() and "data:" not in (value or "")


def test_markup_in_article_text_is_shown_not_run(invoke: Invoke, tmp_path: Path) -> None:
    archive = copy_fixture(tmp_path)
    result = invoke("export", "wechat", "2023-06", archive=archive)
    assert result.exit_code == 0, result.output
    check_document(result.stdout, "tricky", titles=4)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in result.stdout
    assert "<b>" not in result.stdout and "&lt;b&gt;不是 HTML&lt;/b&gt;" in result.stdout


# --------------------------------------------------------------------------- structure


def _issue_with_links(invoke: Invoke) -> None:
    assert invoke("new", "--id", "2023-07", "--date", "2023-07-05").exit_code == 0
    for title, url in (
        ("微信文章", f"{STABLE}&chksm=84f&scene=21#wechat_redirect"),
        ("普通网页", "https://www.example.com/news/1.html?utm_source=wechat&id=7"),
        ("同一网页", "https://www.example.com/news/1.html?id=7"),
        ("没有链接", None),
    ):
        extra = ["--url", url] if url else []
        result = invoke("add", "2023-07", "--title", title, "--section", "行业资讯", "--source", "《人民日报》",
                        "--date", "2023-07-01", *extra, "--body", "正文。")  # fmt: skip
        assert result.exit_code == 0, result.output
    assert invoke("publish", "2023-07").exit_code == 0


def _text(document: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", document))


def test_references(invoke: Invoke) -> None:
    _issue_with_links(invoke)
    document = invoke("export", "wechat").stdout
    check_document(document, "links", titles=4)
    text = _text(document)
    references = text[text.index("参考资料") :].strip().splitlines()
    assert references[1:] == [
        f"[1] 微信文章：{STABLE}",
        "[2] 普通网页：https://www.example.com/news/1.html?id=7",
    ]
    # the mark after each attribution line; one number per distinct cleaned URL
    assert text.count("2023 年 07 月 01 日 [1]") == 1 and text.count("2023 年 07 月 01 日 [2]") == 2
    # only the WeChat article is a link; the other URL is text
    anchors = [a for tag, a in _Tags(document).tags if tag == "a"]
    assert [a["href"] for a in anchors] == [STABLE]
    # the contents list every article, numbered as in print
    assert "1. 微信文章" in text and "4. 没有链接" in text


def test_one_article(invoke: Invoke) -> None:
    _issue_with_links(invoke)
    for args in (["2023-07", "--article", "2023-07-002"], ["--article", "2023-07-002"]):
        document = invoke("export", "wechat", *args).stdout
        check_document(document, "article", titles=1)
        text = _text(document)
        assert "<title>普通网页</title>" in document and "目录" not in text
        assert "微信文章" not in text and "[1] 普通网页：https://www.example.com/news/1.html?id=7" in text
    missing = invoke("export", "wechat", "--article", "2023-07-099")
    assert missing.exit_code == 2 and "2023-07-099" in missing.stderr


def test_traditional_edition_labels(invoke: Invoke) -> None:
    _issue_with_links(invoke)
    text = _text(invoke("export", "wechat", "--script", "zh-Hant-TW").stdout)
    assert "參考資料" in text and "目錄" in text and "來源：《人民日報》" in text
    assert f"[1] 微信文章：{STABLE}" in text  # URLs are never converted


def test_same_issue_same_bytes(invoke: Invoke) -> None:
    first = invoke("export", "wechat", archive=SHIPPED_ARCHIVE).stdout_bytes
    assert invoke("export", "wechat", archive=SHIPPED_ARCHIVE).stdout_bytes == first


def test_clipboard_html_is_the_body() -> None:
    document = wechat.render([Issue(id="x", title="标题")], Newsletter())
    fragment = wechat.fragment(Issue(id="x", title="标题"), Newsletter())
    assert clipboard_html(document) == f'<meta charset="utf-8">{fragment}'


# --------------------------------------------------------------------------- --copy


def test_clipboard_commands_per_platform() -> None:
    found = {"wl-copy": "/usr/bin/wl-copy", "xclip": "/usr/bin/xclip", "osascript": "/usr/bin/osascript"}
    which = found.get
    wayland = command_for(
        "<p>中</p>", env={"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, platform="linux", which=which
    )
    assert (
        wayland.argv == ("/usr/bin/wl-copy", "--type", "text/html") and wayland.input == "<p>中</p>".encode()
    )
    x11 = command_for("<p>中</p>", env={"DISPLAY": ":0"}, platform="linux", which=which)
    assert x11.argv == ("/usr/bin/xclip", "-selection", "clipboard", "-t", "text/html")
    mac = command_for("<p>中</p>", env={}, platform="darwin", which=which)
    assert mac.argv == ("/usr/bin/osascript",)
    assert (
        mac.input == ("set the clipboard to «data HTML" + "<p>中</p>".encode().hex().upper() + "»\n").encode()
    )
    # a display without the tool, or no display at all: one clear error
    for env, platform in (({"DISPLAY": ":0"}, "linux"), ({}, "linux"), ({}, "win32")):
        with pytest.raises(ClipboardError, match="no clipboard here that can take HTML"):
            command_for("x", env=env, platform=platform, which=lambda name: None)


def test_copy_without_a_clipboard_is_one_error_line(tmp_path: Path) -> None:
    env = {k: v for k, v in cli_env().items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PATH"] = os.path.dirname(ecdigest_argv()[0]) if len(ecdigest_argv()) == 1 else os.defpath
    result = subprocess.run(
        [*ecdigest_argv(), "-a", str(SHIPPED_ARCHIVE), "export", "wechat", "--copy"],
        env=env, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    err = result.stderr.decode()
    assert err.startswith("ecdigest: error: no clipboard here that can take HTML") and err.count("\n") == 1
    assert result.stdout == b""


@pytest.fixture
def x_display() -> Iterator[str]:
    """A real X server (Xvfb) on a free display, with xclip; .ci/run installs both."""
    xvfb, xclip = shutil.which("Xvfb"), shutil.which("xclip")
    if not (xvfb and xclip):
        if os.environ.get("CI"):
            pytest.fail("Xvfb and xclip are missing: .ci/run must install xvfb and xclip")
        pytest.skip("Xvfb or xclip not installed (apt-get install xvfb xclip)")
    for number in range(90, 140):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            break
    display = f":{number}"
    server = subprocess.Popen(
        [xvfb, display, "-nolisten", "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(100):
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                break
            time.sleep(0.05)
        yield display
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_copy_puts_html_on_a_real_x11_clipboard(x_display: str, tmp_path: Path) -> None:
    env = {**cli_env(), "DISPLAY": x_display}
    env.pop("WAYLAND_DISPLAY", None)
    archive = copy_shipped(tmp_path / "shipped")
    out = tmp_path / "wechat.html"
    result = subprocess.run(
        [*ecdigest_argv(), "-a", str(archive), "export", "wechat", "--copy", "--script", "zh-Hant-TW", "-o", str(out)],
        env=env, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.decode().startswith("copied 2023-06 to the clipboard as HTML (xclip)")
    targets = subprocess.run(
        ["xclip", "-selection", "clipboard", "-o", "-t", "TARGETS"],
        env=env,
        capture_output=True,
        timeout=10,
        check=True,
    ).stdout.decode()
    assert "text/html" in targets.split()
    pasted = subprocess.run(
        ["xclip", "-selection", "clipboard", "-o", "-t", "text/html"],
        env=env,
        capture_output=True,
        timeout=10,
        check=True,
    ).stdout.decode("utf-8")
    document = out.read_text("utf-8")
    assert pasted == clipboard_html(document)
    assert pasted.startswith('<meta charset="utf-8"><section style=') and "電子商務動態" in pasted
    assert editor_findings(f"<html><body>{pasted.split('>', 1)[1]}</body></html>") == []
