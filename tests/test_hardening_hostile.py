"""Hostile input: every file in tests/data/hostile/ through every command that reads files.

Each corpus file goes two ways, whatever its name or content:
1. as an issue file in an archive (`ARCHIVE/2023/NAME.toml`), then list, show, export
   json/markdown/rss/atom/email, validate (and --fix), search, build and add;
2. as pasted or legacy text: `import` (then the same exports of what was imported) and
   `add --from-text`.
Every command must end with exit 0, or 2 with exactly one `ecdigest: error:` line (1 where a
command reports problems: validate, build); never a traceback, never a hang (a timer per
command), never a write outside the archive and the output folder (the whole tmp tree is
listed before and after), never markup reaching a feed's HTML or an email header unescaped
(the outputs are parsed as a feed reader, a Markdown renderer and a mail client would),
and never a terminal control sequence on the terminal (`show`, `list`, validate's report).

Drop more files into tests/data/hostile/ and they are run the same way. The huge cases
(a 50 MB body, 100,000 articles, a dotted key 100,000 levels deep) are generated here:
scaled down in the default run, full size in the slow test, as real processes with a timeout.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import os
import re
import signal
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import pytest
from _hardening import cli_env, ecdigest_argv, tree_listing
from _mail import alternatives, header_problems, html_problems
from typer.main import get_command
from typer.testing import CliRunner, Result

from ecdigest.cli import app

HOSTILE = Path(__file__).parent / "data" / "hostile"
CASES = sorted(p for p in HOSTILE.rglob("*") if p.is_file() and p.name != "README.md")
ESCAPE_MARKER = Path("/tmp/ecdigest-hostile-escape")
COMMAND_SECONDS = 60
HAS_SEARCH = "search" in get_command(app).commands  # type: ignore[attr-defined]

# C0 and C1 controls other than TAB and LF, which a terminal would act on.
TERMINAL_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
RSS_HTML_TAGS = {"p", "h2", "h3", "a"}
EMAIL_HEADERS = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    # what a list needs (RFC 2919, 2369, 8058); the unsubscribe ones when configured
    "list-id",
    "list-archive",
    "list-unsubscribe",
    "list-unsubscribe-post",
}
ANCHOR = re.compile(r'^(<a id="[A-Za-z0-9._-]+">|</a>)$')


@pytest.fixture(autouse=True)
def _build_the_cli_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """CliRunner rebuilds the click command tree from the Typer app on every call (~25 ms);
    thousands of calls here reuse one tree: the same commands, callbacks and error mapping."""
    import typer.testing

    command = get_command(app)
    monkeypatch.setattr(typer.testing, "_get_command", lambda typer_app: command)


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 40


# --------------------------------------------------------------------------- running


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: float, what: str) -> Iterator[None]:
    def alarm(signum: int, frame: object) -> None:
        raise Hang(f"{what} ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def invoke(archive: Path, *args: str, codes: tuple[int, ...] = (0, 2), input: bytes = b"") -> Result:
    """Run one command in-process; fail on anything but a clean exit."""
    what = "ecdigest " + " ".join(a if len(a) < 60 else a[:57] + "..." for a in args)
    with time_limit(COMMAND_SECONDS, what):
        result = CliRunner().invoke(app, ["--archive", str(archive), *args], input=input)
    error = result.exception
    if error is not None and not isinstance(error, SystemExit):
        raise AssertionError(f"{what}: {type(error).__name__}: {error}") from error
    stderr = result.stderr
    assert result.exit_code in codes, f"{what}: exit {result.exit_code}: {stderr[-500:]}"
    assert "Traceback" not in stderr and "internal error" not in stderr, f"{what}: {stderr}"
    if result.exit_code == 2:
        assert stderr.startswith("ecdigest: error: ") and stderr.count("\n") == 1, f"{what}: {stderr!r}"
    machine = "json" in args  # JSON escapes C0 itself; its strings are data, kept exact
    for stream in (stderr, "" if machine else result.stdout):
        found = TERMINAL_CONTROL.search(stream)
        assert found is None, f"{what}: control character {found.group()!r} reaches the terminal"
    return result


# --------------------------------------------------------------------------- output checks


class _Html(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def check_html_fragment(text: str, where: str) -> None:
    """The HTML an RSS reader would render: only our own tags, only web links."""
    for tag, attrs in _Html(text).tags:
        assert tag in RSS_HTML_TAGS, f"{where}: <{tag}> in the feed's HTML"
        for name, value in attrs:
            assert tag == "a" and name == "href", f"{where}: attribute {name}= on <{tag}>"
            assert re.match(r"^https?://", value or ""), f"{where}: link to {value!r}"


def check_feed(data: bytes, where: str) -> None:
    root = ET.fromstring(data)
    content = "{http://purl.org/rss/1.0/modules/content/}encoded"
    atom = "{http://www.w3.org/2005/Atom}"
    if root.tag == "rss":
        for item in root.iter("item"):
            for field in ("description", content):
                check_html_fragment(item.findtext(field) or "", f"{where} <{field}>")
            for link in (item.findtext("link") or "",):
                assert re.match(r"^https?://", link), f"{where}: item link {link!r}"
    else:
        assert root.tag == f"{atom}feed", root.tag
        for entry in root.iter(f"{atom}entry"):
            for element in (entry.find(f"{atom}content"), entry.find(f"{atom}summary")):
                if element is None:
                    continue
                if element.get("type") == "html":
                    check_html_fragment(element.text or "", f"{where} atom {element.tag}")
                else:
                    assert element.get("type") in (None, "text"), element.get("type")
            for link in entry.iter(f"{atom}link"):
                assert re.match(r"^https?://", link.get("href", "")), f"{where}: link {link.get('href')!r}"


def check_eml(data: bytes, where: str) -> None:
    head = data.split(b"\n\n", 1)[0]
    assert b"\r" not in head, f"{where}: CR in the header block"
    for line in head.split(b"\n"):
        assert re.match(rb"^([A-Za-z-]+: |[ \t])", line), f"{where}: header line {line!r}"
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(data)
    names = {name.lower() for name in message}
    assert names <= EMAIL_HEADERS, f"{where}: unexpected headers {names - EMAIL_HEADERS}"
    for name in message:
        value = str(message[name])
        assert "\n" not in value and "\r" not in value, f"{where}: {name} spans lines: {value!r}"
    assert header_problems(data) == [], where
    _text, markup = alternatives(message)  # both decode
    assert html_problems(markup.get_content()) == [], where  # no markup from article text


def check_markdown(text: str, where: str) -> None:
    from markdown_it import MarkdownIt

    def walk(tokens: list) -> Iterator[object]:  # type: ignore[type-arg]
        for token in tokens:
            yield token
            yield from walk(token.children or [])

    for token in walk(MarkdownIt("commonmark").parse(text)):
        kind = token.type  # type: ignore[attr-defined]
        if kind in ("html_inline", "html_block"):
            assert ANCHOR.match(token.content.strip()), f"{where}: raw HTML {token.content!r}"  # type: ignore[attr-defined]
        if kind == "link_open":
            href = token.attrGet("href") or ""  # type: ignore[attr-defined]
            assert href.startswith("#"), f"{where}: link to {href!r}"
        assert kind != "image", f"{where}: an image"


def check_wechat(document: str, where: str) -> None:
    """Nothing the WeChat editor would strip (its allow-list lives in export/wechat.py)."""
    from ecdigest.export.wechat import editor_findings

    assert editor_findings(document) == [], where


def check_site(out: Path, where: str) -> None:
    for name in ("feed.xml", "atom.xml"):
        if (out / name).exists():
            check_feed((out / name).read_bytes(), f"{where} {name}")
    for md in out.glob("*.md"):
        check_markdown(md.read_text("utf-8"), f"{where} {md.name}")
    for eml in out.glob("email/*.eml"):
        check_eml(eml.read_bytes(), f"{where} {eml.name}")
    for page in out.rglob("*.html"):  # the web archive: article text never becomes markup
        check_page(page.read_bytes(), f"{where} {page.relative_to(out)}")


def check_page(data: bytes, where: str) -> None:
    """A site page parses without an error, and its only elements that run or load
    anything are the ones the templates put there (the search page's two scripts)."""
    import html5lib

    parser = html5lib.HTMLParser(strict=False, namespaceHTMLElements=False)
    tree = parser.parse(data)
    assert parser.errors == [], (where, parser.errors[:3])
    scripts = [e.get("src", "") for e in tree.iter("script")]
    assert all(re.fullmatch(r"(\.\./)*(assets/search\.js|search/meta-[0-9a-f]+\.js)", s) for s in scripts), (
        where,
        scripts,
    )
    for element in tree.iter():
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (where, element.tag, name)
            if name in ("href", "src"):
                assert not value.strip().lower().startswith(("javascript:", "data:", "vbscript:")), (
                    where,
                    value,
                )
    for tag in ("iframe", "object", "embed", "form"):
        forms = list(tree.iter(tag))
        assert (tag == "form" and len(forms) <= 1) or not forms, (where, tag)


def check_outputs(archive: Path, issue_id: str, out: Path, where: str) -> None:
    """Every exporter on one issue; what they print must be safe."""
    for args, check in (
        (["export", "markdown", issue_id], lambda r: check_markdown(r.stdout, where)),
        (["export", "rss"], lambda r: check_feed(r.stdout_bytes, where)),
        (["export", "rss", "--format", "atom"], lambda r: check_feed(r.stdout_bytes, where)),
        (["export", "rss", "--per", "issue"], lambda r: check_feed(r.stdout_bytes, where)),
        (["export", "email", issue_id, "--eml"], lambda r: check_eml(r.stdout_bytes, where)),
        (["export", "json", issue_id], lambda r: json.loads(r.stdout)),
        (["export", "json", "--all"], lambda r: json.loads(r.stdout)),
        (["export", "email", issue_id], lambda r: None),
        (["export", "wechat", issue_id], lambda r: check_wechat(r.stdout, where)),
        (
            ["export", "markdown", issue_id, "--script", "zh-Hant-TW"],
            lambda r: check_markdown(r.stdout, where),
        ),
        (["show", issue_id], lambda r: None),
        (["show", issue_id, "--format", "json"], lambda r: json.loads(r.stdout)),
    ):
        result = invoke(archive, *args)
        if result.exit_code == 0:
            check(result)
    if invoke(archive, "build", "-o", str(out), codes=(0, 1, 2)).exit_code == 0:
        check_site(out, where)


# --------------------------------------------------------------------------- the corpus


def _ids_in(data: bytes) -> list[str]:
    try:
        value = tomllib.loads(data.decode("utf-8")).get("id")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return []
    return [value] if isinstance(value, str) else []


@pytest.fixture
def place(tmp_path: Path) -> Iterator[tuple[Path, Path, Path]]:
    """(watched tree, archive, output folder); the archive sits deep enough that `../..`
    from it still lands inside the watched tree, where a stray write would be seen."""
    from ecdigest.operations import init_archive

    watch = tmp_path / "watch"
    root = watch / "l1" / "l2" / "l3"
    archive, out = root / "archive", root / "out"
    init_archive(archive)
    before_marker = ESCAPE_MARKER.exists()
    yield watch, archive, out
    assert before_marker or not ESCAPE_MARKER.exists(), f"something was written to {ESCAPE_MARKER}"


def _writes_stay_inside(before: dict[str, str], watch: Path, *allowed: Path) -> None:
    after = tree_listing(watch)
    prefixes = tuple(p.relative_to(watch).as_posix() for p in allowed)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    outside = sorted(k for k in changed if not any(k == p or k.startswith(p + "/") for p in prefixes))
    assert not outside, f"written outside the archive and the output folder: {outside}"


@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
def test_hostile_file_in_the_archive(case: Path, place: tuple[Path, Path, Path]) -> None:
    watch, archive, out = place
    data = case.read_bytes()
    (archive / "2023").mkdir()
    (archive / "2023" / f"{case.stem}.toml").write_bytes(data)
    before = tree_listing(watch)
    where = case.name
    ids = list(dict.fromkeys([*_ids_in(data), case.stem]))

    # An overview reports a broken file on stderr and lists the rest (exit 1).
    for args in (["list"], ["list", "--format", "json"]):
        listed = invoke(archive, *args, codes=(0, 1))
        assert all(line.startswith("ecdigest: warning: ") for line in listed.stderr.splitlines()), (
            listed.stderr
        )
        assert (listed.exit_code == 1) == bool(listed.stderr), listed.stderr
    json.loads(invoke(archive, "list", "--format", "json", codes=(0, 1)).stdout or "[]")
    invoke(archive, "show")
    invoke(archive, "validate", codes=(0, 1, 2))
    invoke(archive, "validate", "--format", "json", codes=(0, 1, 2))
    invoke(archive, "validate", "--fix", "--dry-run", codes=(0, 1, 2))
    if HAS_SEARCH:
        invoke(archive, "search", "标题", codes=(0, 1, 2))
        invoke(archive, "search", "<script>", codes=(0, 1, 2))
    for issue_id in ids:
        invoke(archive, "validate", issue_id, codes=(0, 1, 2))
        check_outputs(archive, issue_id, out, where)
        invoke(archive, "add", "--force", issue_id, "--title", "追加", "--section", "行业资讯",
               "--source", "《人民日报》", "--date", "2023-06-01", "--body", "正文。")  # fmt: skip
    invoke(archive, "validate", "--fix", codes=(0, 1, 2))
    _writes_stay_inside(before, watch, archive, out)
    for path in archive.rglob("*.toml"):
        if path.name != "ecdigest.toml" and path.read_bytes() != data:
            tomllib.loads(path.read_text("utf-8"))  # what ecdigest wrote is whole TOML


@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
def test_hostile_file_as_text_to_import_and_paste(case: Path, place: tuple[Path, Path, Path]) -> None:
    watch, archive, out = place
    source = watch / "input" / case.name
    source.parent.mkdir(parents=True)
    source.write_bytes(case.read_bytes())
    before = tree_listing(watch)
    where = case.name

    invoke(archive, "import", str(source), "--id", "imported-dry", "--dry-run")
    if invoke(archive, "import", str(source), "--id", "imported", "--status", "published").exit_code == 0:
        check_outputs(archive, "imported", out, where + " (imported)")
    invoke(archive, "import", str(source), "--strict", "--id", "imported-strict", codes=(0, 1, 2))

    invoke(archive, "new", "--id", "pasted", "--date", "2023-06-05")
    added = [
        invoke(archive, "add", "pasted", "--from-text", str(source), "--section", "行业资讯").exit_code,
        invoke(archive, "add", "pasted", "--from-text", str(source), "--section", "行业资讯",
               "--source", "《人民日报》", "--date", "2023-06-01").exit_code,
    ]  # fmt: skip
    added.append(invoke(archive, "add", "pasted", "--from-text", "-", input=source.read_bytes()).exit_code)
    if 0 in added:
        invoke(archive, "publish", "pasted", "--force", codes=(0, 1, 2))
        check_outputs(archive, "pasted", out, where + " (pasted)")
    invoke(archive, "validate", codes=(0, 1))
    _writes_stay_inside(before, watch, archive, out)


# --------------------------------------------------------------------------- paths and links


def test_issue_ids_that_are_paths_are_refused(place: tuple[Path, Path, Path]) -> None:
    watch, archive, _out = place
    before = tree_listing(watch)
    sample = Path(__file__).parent / "data" / "ecd-2023-06.txt"
    for bad in ("../../etc/x", "/tmp/ecdigest-hostile-escape/x", "..", ".", "a/b", "x\ny", ""):
        for args in (
            ["new", "--id", bad, "--date", "2023-06-05"],
            ["import", str(sample), "--id", bad],
            ["show", bad],
            ["add", bad, "--title", "t", "--section", "行业资讯", "--source", "s", "--date", "2023-06-01",
             "--body", "b"],
            ["export", "markdown", bad],
            ["validate", bad],
            ["publish", bad],
        ):  # fmt: skip
            result = invoke(archive, *args, codes=(0, 2))
            if bad and args[0] != "show":
                assert result.exit_code == 2, (args, result.stdout)
    _writes_stay_inside(before, watch, archive)


def test_symlinks_out_of_the_archive_and_the_output_folder(
    tmp_path: Path, place: tuple[Path, Path, Path]
) -> None:
    watch, archive, out = place
    secret = watch / "secret"
    secret.mkdir()
    (secret / "passwd.toml").write_text('id = "stolen"\ntitle = "秘密"\nstatus = "published"\n', "utf-8")
    (secret / "mail").mkdir()
    (secret / "feed.xml").write_text("不能被覆盖", "utf-8")
    sample = Path(__file__).parent / "data" / "ecd-2023-06.txt"
    invoke(archive, "import", str(sample), "--status", "published")
    (archive / "2023" / "stolen.toml").symlink_to(secret / "passwd.toml")
    (archive / "etc.toml").symlink_to("/etc/passwd")
    (archive / "2024").symlink_to(secret, target_is_directory=True)  # a folder link: not walked
    (archive / "loop.toml").symlink_to(archive / "loop.toml")
    before = tree_listing(watch)

    for args in (["export", "rss"], ["export", "json", "--all"]):
        result = invoke(archive, *args)
        assert result.exit_code == 2 and "symlink" in result.stderr, (args, result.stderr)
    listed = invoke(archive, "list", codes=(1,))
    assert listed.stderr.count("outside the archive") == 2 and "秘密" not in listed.stdout, listed.stderr
    assert "2023-06" in listed.stdout
    report = invoke(archive, "validate", codes=(1,))
    assert "outside the archive" in report.stdout
    invoke(archive, "validate", "--fix", codes=(1,))
    invoke(archive, "build", "-o", str(out), codes=(1, 2))
    assert "秘密" not in "".join(p.read_text("utf-8", "replace") for p in out.rglob("*") if p.is_file())
    for link in ("2023/stolen.toml", "etc.toml", "loop.toml"):
        (archive / link).unlink()

    # The output folder: a symlinked email/ or feed.xml pointing elsewhere is refused, and
    # `-o` on a symlink writes through it: the link stays, its target gets the new bytes
    # (never a silently replaced link beside a stale target).
    out.mkdir(exist_ok=True)
    (out / "email").symlink_to(secret / "mail", target_is_directory=True)
    (out / "feed.xml").symlink_to(secret / "feed.xml")
    result = invoke(archive, "build", "-o", str(out))
    assert result.exit_code == 2 and "outside" in result.stderr, result.stderr
    (out / "email").unlink()
    result = invoke(archive, "build", "-o", str(out))
    assert result.exit_code == 2 and "outside" in result.stderr, result.stderr
    assert (out / "feed.xml").is_symlink()
    (out / "feed.xml").unlink()
    invoke(archive, "build", "-o", str(out), codes=(0,))
    assert (secret / "feed.xml").read_text("utf-8") == "不能被覆盖"
    assert list((secret / "mail").iterdir()) == []
    (out / "page.md").symlink_to(secret / "page.md")
    (secret / "page.md").write_text("旧的", "utf-8")
    invoke(archive, "export", "markdown", "2023-06", "-o", str(out / "page.md"), codes=(0,))
    assert (out / "page.md").is_symlink()
    assert (secret / "page.md").read_text("utf-8").startswith("# 电子商务动态")
    (secret / "page.md").unlink()
    _writes_stay_inside(before, watch, archive, out)


# --------------------------------------------------------------------------- huge inputs


def _big_body_issue(megabytes: int) -> str:
    paragraph = "电子商务数据平台发展市场企业服务跨境网络消费直播，AI 与 5G 推动规模增长。" * 20
    count = megabytes * 1024 * 1024 // len((paragraph + "\n\n").encode())
    body = "\n\n".join([paragraph] * count)
    return (
        'id = "big"\ntitle = "巨大的正文"\ndate = 2023-06-05\nstatus = "published"\n'
        'last_article_number = 1\n\n[[articles]]\nid = "big-001"\nsection = "行业资讯"\n'
        f'title = "很长的文章"\nsource = "《人民日报》"\ndate = 2023-06-01\nbody = """\n{body}"""\n'
    )


def _many_articles_issue(count: int) -> str:
    lines = ['id = "many"', 'title = "很多文章"', "date = 2023-06-05", 'status = "published"',
             f"last_article_number = {count}", ""]  # fmt: skip
    for n in range(1, count + 1):
        lines += ["[[articles]]", f'id = "many-{n:06d}"', 'section = "行业资讯"',
                  f'title = "第 {n} 篇：跨境电商平台第 {n * 7919 % 100003} 号报告"', 'source = "《人民日报》"',
                  "date = 2023-06-01", f'body = "第 {n} 篇的正文，数字 {n * 31 % 997}。"', ""]  # fmt: skip
    return "\n".join(lines)


def _run_everything(archive: Path, out: Path, issue_id: str, seconds: float) -> dict[str, float]:
    """Every reading command as a real process with a timeout: a hang fails the test."""
    import time

    timings: dict[str, float] = {}
    commands = [
        ["list"], ["show", issue_id], ["export", "json", issue_id], ["export", "markdown", issue_id],
        ["export", "rss"], ["export", "email", issue_id, "--eml"], ["validate"], ["build", "-o", str(out)],
        ["export", "wechat", issue_id], ["export", "wechat", issue_id, "--script", "zh-Hant-TW"],
        ["add", "--force", issue_id, "--title", "再加一篇", "--section", "行业资讯", "--source", "《人民日报》",
         "--date", "2023-06-01", "--body", "正文。"],
    ]  # fmt: skip
    if HAS_SEARCH:
        commands.append(["search", "跨境"])
    for args in commands:
        started = time.monotonic()
        try:
            result = subprocess.run(
                [*ecdigest_argv(), "--archive", str(archive), *args],
                capture_output=True, env=cli_env(), timeout=seconds, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            pytest.fail(f"ecdigest {args[0]} did not finish within {seconds} s (a hang)")
        timings[" ".join(args[:2])] = round(time.monotonic() - started, 1)
        stderr = result.stderr.decode("utf-8", "replace")
        assert result.returncode in (0, 1), (args, stderr[-500:])
        assert "Traceback" not in stderr and "internal error" not in stderr, (args, stderr[-500:])
    return timings


@pytest.mark.parametrize(("kind", "size"), [("body", 1), ("articles", 2000)])
def test_big_inputs_finish(kind: str, size: int, place: tuple[Path, Path, Path]) -> None:
    """The huge cases scaled down (1 MB body, 2,000 articles); full size in the slow test."""
    _watch, archive, out = place
    text = _big_body_issue(size) if kind == "body" else _many_articles_issue(size)
    (archive / "2023").mkdir()
    issue_id = "big" if kind == "body" else "many"
    (archive / "2023" / f"{issue_id}.toml").write_text(text, "utf-8")
    _run_everything(archive, out, issue_id, seconds=120)
    check_site(out, kind)


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "size"), [("body", 50), ("articles", 100_000)])
def test_huge_inputs_finish(kind: str, size: int, place: tuple[Path, Path, Path]) -> None:
    """A 50 MB body and an issue of 100,000 articles: slow, but no command hangs or fails."""
    _watch, archive, out = place
    text = _big_body_issue(size) if kind == "body" else _many_articles_issue(size)
    (archive / "2023").mkdir()
    issue_id = "big" if kind == "body" else "many"
    (archive / "2023" / f"{issue_id}.toml").write_text(text, "utf-8")
    print(_run_everything(archive, out, issue_id, seconds=600))


def test_a_dotted_key_bomb_is_refused_at_once(place: tuple[Path, Path, Path]) -> None:
    """tomllib takes minutes over one key 100,000 parts deep (quadratic); we refuse it first."""
    _watch, archive, _out = place
    (archive / "bomb.toml").write_text('id = "bomb"\n' + "a" + ".a" * 100_000 + " = 1\n", "utf-8")
    for args in (["list"], ["validate"], ["show", "bomb"]):
        result = subprocess.run(
            [*ecdigest_argv(), "--archive", str(archive), *args],
            capture_output=True, env=cli_env(), timeout=30, check=False,
        )  # fmt: skip
        assert result.returncode in (1, 2), result.stderr
        assert b"nested 64 or more levels deep" in result.stdout + result.stderr


def test_an_import_larger_than_the_read_limit_is_refused(place: tuple[Path, Path, Path]) -> None:
    _watch, archive, _out = place
    big = archive.parent / "big.txt"
    with open(big, "wb") as handle:
        handle.truncate(65 * 1024 * 1024)  # sparse: costs no disk
    for args in (
        ["import", str(big)],
        ["add", "x", "--from-text", str(big)],
        ["add", "x", "--body-file", str(big)],
    ):
        result = invoke(archive, *args)
        assert result.exit_code == 2 and "refusing to read" in result.stderr, result.stderr
    os.unlink(big)
