"""Hardening, round two (issue 10): each class of hostile or careless input, several members each.

The contract is README's and SECURITY.md's: exit 0/1/2, an error is ONE `ecdigest: error:`
line on stderr, never exit 70, never a traceback, nothing lost, nothing written where it
should not be. Every class is closed at one root, named in the section's comment; the
tests try several members of the class against it, in-process (CliRunner, the same click
tree as the console script) and, where the class lives in the process itself (argv bytes,
closed or full streams, the launcher's fast path), as real subprocesses.

The generated-argv property test is in test_hardening_round2_fuzz.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from _hardening import cli_env, ecdigest_argv, snapshot, tree_listing
from conftest import Invoke
from typer.main import get_command

from ecdigest.archive import Archive
from ecdigest.cli import app
from ecdigest.codec import decode_issue, encode_issue, encode_issue_keeping
from ecdigest.dates import DateError, parse_date
from ecdigest.editor import ERROR_PREFIX, Editor, edit_until_valid
from ecdigest.errors import UsageError, WriteError
from ecdigest.model import MAX_ISSUE_ID_LENGTH, Article, Issue, is_valid_id, is_valid_issue_id
from ecdigest.operations import ArticleDraft, check_template, edit_template
from ecdigest.terminal import printable

ADD = ("--title", "测试标题", "--section", "行业资讯", "--source", "《人民日报》", "--date", "2023-07-01")


def one_error_line(stderr: str | bytes, prefix: str = "ecdigest: error: ") -> str:
    """The single `ecdigest: error:` (or `prefix`) line stderr must consist of."""
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    assert "Traceback" not in text, text
    lines = text.splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix), text
    return lines[0]


@pytest.fixture
def draft(invoke: Invoke, archive_dir: Path) -> Path:
    """An archive with one draft issue, 2023-07, and one article in it."""
    assert invoke("new", "--id", "2023-07", "--date", "2023-07-05").exit_code == 0
    assert invoke("add", "2023-07", *ADD, "--body", "第一段。").exit_code == 0
    return archive_dir / "2023" / "2023-07.toml"


def files(root: Path) -> dict[str, bytes]:
    """The archive's files, without its derived state (the search index in .ecdigest/)."""
    return {k: v for k, v in snapshot(root).items() if not k.startswith(".ecdigest/")}


def without_stores(root: Path) -> dict[str, bytes]:
    """Every file but the derived stores (`.ecdigest/NAME.sqlite3*`: the catalog and the
    search index, which any read may bring up to date); other files in .ecdigest/ count."""
    return {k: v for k, v in snapshot(root).items() if not (k.startswith(".ecdigest/") and ".sqlite3" in k)}


def readable(root: Path) -> None:
    """The archive opens and every issue file reads strictly (what list/show/build need)."""
    Archive.open(root).issues()


def sh(script: str, *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, str]:
    """Run a shell line where `ECD` is the installed command; (exit code, stderr)."""
    import shlex

    full = cli_env(**(env or {}))
    wrapper = cwd / "ecd"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.join(ecdigest_argv())} "$@"\n', "utf-8")
    wrapper.chmod(0o755)
    full["ECD"] = str(wrapper)
    result = subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=full, capture_output=True, timeout=timeout, check=False
    )
    return result.returncode, result.stderr.decode("utf-8", "replace")


# =========================================================================== outputs
# Root: outputs.output_file / output_folder, the one check behind every -o; fileio.write_target,
# the one rule for where any write lands (links written through, special files refused).


@pytest.mark.parametrize(
    "target",
    [
        "ecdigest.toml",
        "2023/2023-06.toml",
        "new-issue.toml",
        "2023/notes.toml",
        ".ecdigest/x.xml",
        ".gitignore",
    ],
)
def test_outputs_never_overwrite_the_archives_own_files(invoke: Invoke, shipped: Path, target: str) -> None:
    before = without_stores(shipped)
    for command in (["export", "rss"], ["export", "json", "2023-06"], ["export", "markdown", "2023-06"]):
        result = invoke(*command, "-o", str(shipped / target), archive=shipped)
        assert result.exit_code == 2, result.output
        assert "refusing" in one_error_line(result.stderr)
    assert without_stores(shipped) == before
    readable(shipped)


def test_an_output_link_into_the_archive_is_refused_too(
    invoke: Invoke, shipped: Path, tmp_path: Path
) -> None:
    for name, target in (("feed.xml", "ecdigest.toml"), ("page.md", "2023/2023-06.toml")):
        (tmp_path / name).symlink_to(shipped / target)
        before = (shipped / target).read_bytes()
        result = invoke("export", "rss", "-o", str(tmp_path / name), archive=shipped)
        assert result.exit_code == 2 and "a link to" in one_error_line(result.stderr)
        assert (shipped / target).read_bytes() == before
    readable(shipped)


def test_build_never_writes_into_the_archive_folder_or_its_state(invoke: Invoke, shipped: Path) -> None:
    before = without_stores(shipped)
    for out in (shipped, shipped / ".ecdigest", shipped / ".ecdigest" / "site"):
        result = invoke("build", "-o", str(out), archive=shipped)
        assert result.exit_code == 2 and "refusing" in one_error_line(result.stderr)
    assert without_stores(shipped) == before
    assert invoke("build", "-o", str(shipped / "site"), archive=shipped).exit_code == 0  # a folder of its own
    readable(shipped)


def test_every_export_with_an_output_option_goes_through_the_check(invoke: Invoke, shipped: Path) -> None:
    """New exporters (email, WeChat, …) get the check by using emit(): tried on all of them."""
    export = get_command(app).commands["export"]  # type: ignore[attr-defined]
    with_output = [
        name
        for name, command in export.commands.items()
        if any("--output" in getattr(p, "opts", ()) for p in command.params)
    ]
    assert {"json", "markdown", "rss", "email"} <= set(with_output)
    for name in with_output:
        result = invoke("export", name, "-o", str(shipped / "ecdigest.toml"), archive=shipped)
        assert result.exit_code == 2, (name, result.output)
        assert "settings file" in one_error_line(result.stderr), name


def test_special_files_at_an_output_path_are_refused_without_hanging(shipped: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "feed.fifo"
    os.mkfifo(fifo)
    site = tmp_path / "site"
    site.mkdir()
    os.mkfifo(site / "feed.xml")
    lock_site = tmp_path / "lock-site"
    lock_site.mkdir()
    os.mkfifo(lock_site / ".ecdigest-build.lock")
    cases: list[tuple[list[str], str]] = [
        (["export", "rss", "-o", str(fifo)], "FIFO"),
        (["export", "json", "--all", "-o", str(fifo)], "FIFO"),
        (["export", "email", "2023-06", "-o", str(fifo)], "FIFO"),
        (["build", "-o", str(site)], "FIFO"),
        (["build", "-o", str(lock_site)], "FIFO"),
        (["build", "-o", str(fifo)], "not a folder"),
        (["export", "rss", "-o", "/dev/null"], "device"),
        (["export", "markdown", "2023-06", "-o", "/dev/zero"], "device"),
        (["export", "rss", "-o", str(tmp_path)], "folder"),
    ]
    for args, word in cases:
        started = time.monotonic()
        result = subprocess.run(
            [*ecdigest_argv(), "-a", str(shipped), *args],
            env=cli_env(),
            capture_output=True,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 2, (args, result.stderr)
        assert word in one_error_line(result.stderr), args
        assert time.monotonic() - started < 30
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and stat.S_ISFIFO(os.lstat(site / "feed.xml").st_mode)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert sorted(p.name for p in site.iterdir()) == ["feed.xml"]  # checked all before writing any


def test_a_fifo_given_as_an_input_never_hangs_and_a_pipe_is_read(shipped: Path, tmp_path: Path) -> None:
    """Root: fileio.read_bytes opens without blocking, then reads blocking: a FIFO nobody
    writes to reads as empty; a pipe with a writer (`<(cmd)`) is read to its end."""
    fifo = tmp_path / "input.fifo"
    os.mkfifo(fifo)
    add = "$ECD -a A add 2023-06 --force --title t --section 行业资讯 --source 《x》 --date 2023-06-01"
    for command in (
        f"{add} --body-file F",
        "$ECD -a A add 2023-06 --section 行业资讯 --from-text F",
        "$ECD -a A add 2023-06 --from-draft F",
        "$ECD -a A import F",
        "$ECD -a A import F --dry-run",
    ):
        started = time.monotonic()
        code, stderr = sh(command.replace(" A ", f" '{shipped}' ").replace(" F", f" '{fifo}'"), cwd=tmp_path)
        assert code == 2, (command, stderr)
        one_error_line(stderr)
        assert time.monotonic() - started < 30
    code, stderr = sh(
        f"{add.replace(' A ', f' {shipped!s} ')} --body-file <(printf '管道里的正文。')", cwd=tmp_path
    )
    assert code == 0, stderr
    assert "管道里的正文。" in (shipped / "2023" / "2023-06.toml").read_text("utf-8")


def test_a_device_node_is_never_replaced_by_a_regular_file(
    invoke: Invoke, shipped: Path, tmp_path: Path
) -> None:
    node = tmp_path / "null-device"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # /dev/null's numbers
    except PermissionError:
        node.symlink_to("/dev/null")  # not root: the same device, reached through a link
    result = invoke("export", "rss", "-o", str(node), archive=shipped)
    assert result.exit_code == 2 and "device" in one_error_line(result.stderr)
    assert stat.S_ISCHR(os.stat(node).st_mode)


def test_output_links_are_written_through_and_never_left_stale(
    invoke: Invoke, shipped: Path, tmp_path: Path
) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "feed.xml").write_text("旧的", "utf-8")
    link = tmp_path / "feed.xml"
    link.symlink_to(tmp_path / "real" / "feed.xml")
    assert invoke("export", "rss", "-o", str(link), archive=shipped).exit_code == 0
    assert link.is_symlink() and (tmp_path / "real" / "feed.xml").read_text("utf-8").startswith("<?xml")
    # A chain of links, and a dangling link whose folder exists: the final target is written.
    chain = tmp_path / "chain.xml"
    chain.symlink_to(link)
    assert invoke("export", "rss", "--format", "atom", "-o", str(chain), archive=shipped).exit_code == 0
    assert (
        chain.is_symlink() and link.is_symlink() and "<feed" in (tmp_path / "real" / "feed.xml").read_text()
    )
    dangling = tmp_path / "new.json"
    dangling.symlink_to(tmp_path / "real" / "new.json")
    assert invoke("export", "json", "2023-06", "-o", str(dangling), archive=shipped).exit_code == 0
    assert (
        dangling.is_symlink() and json.loads((tmp_path / "real" / "new.json").read_text())["id"] == "2023-06"
    )
    # Links that lead nowhere writable: refused, nothing replaced.
    nowhere = tmp_path / "nowhere.xml"
    nowhere.symlink_to(tmp_path / "missing-folder" / "feed.xml")
    loop = tmp_path / "loop.xml"
    loop.symlink_to(loop)
    for bad in (nowhere, loop):
        result = invoke("export", "rss", "-o", str(bad), archive=shipped)
        assert result.exit_code == 2 and "symlink" in one_error_line(result.stderr)
        assert bad.is_symlink()
    assert not (tmp_path / "missing-folder").exists()


def test_an_empty_output_name_is_a_usage_error(
    invoke: Invoke, shipped: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(tmp_path))
    for args in (["export", "rss", "-o", ""], ["export", "json", "--all", "--output="], ["build", "-o", ""]):
        result = invoke(*args, archive=shipped)
        assert result.exit_code == 2 and "needs a" in one_error_line(result.stderr), args
    assert sorted(os.listdir(tmp_path)) == before


# =========================================================================== identifiers and paths
# Root: model.ID_PATTERN with fullmatch and the id lengths, shared by writers and readers;
# archive.check_round_trip (the reader checks the bytes before every rename);
# Archive.writable_path (every parent folder checked); Archive._refuse_nesting.


@pytest.mark.parametrize(
    "value", ["2023-08\n", "2023-08\r\n", "\n2023-08", "2023 08", "2023/08", "../x", "-x", "x" * 65, "é"]
)
def test_ids_the_reader_rejects_are_refused_by_every_writer(
    invoke: Invoke, archive_dir: Path, value: str
) -> None:
    assert not is_valid_issue_id(value)
    result = invoke("new", "--id", value, "--date", "2023-08-01")
    assert result.exit_code == 2, result.output
    one_error_line(result.stderr)
    assert [p.name for p in archive_dir.rglob("*.toml")] == ["ecdigest.toml"]


def test_the_longest_issue_id_still_gives_article_ids_the_reader_accepts(
    invoke: Invoke, archive_dir: Path
) -> None:
    long_id = "a" * MAX_ISSUE_ID_LENGTH
    assert invoke("new", "--id", long_id, "--date", "2023-07-05").exit_code == 0
    for _ in range(3):
        result = invoke("add", long_id, *ADD, "--body", "正文。")
        assert result.exit_code == 0, result.output
        assert is_valid_id(result.stdout.strip())
    readable(archive_dir)


def test_a_file_whose_next_article_id_would_be_invalid_is_left_alone(
    invoke: Invoke, archive_dir: Path
) -> None:
    path = archive_dir / "2023" / "long.toml"
    path.parent.mkdir()
    issue_id = "b" * MAX_ISSUE_ID_LENGTH
    article = f"{issue_id}-{'9' * 35}"  # a valid id (100 characters) with a 35-digit number
    assert is_valid_id(article)
    path.write_text(
        f'id = "{issue_id}"\ntitle = "t"\ndate = 2023-07-05\nstatus = "draft"\n\n[[articles]]\n'
        f'id = "{article}"\nsection = "行业资讯"\ntitle = "t"\nsource = "《x》"\ndate = 2023-07-01\nbody = "b"\n',
        "utf-8",
    )
    before = path.read_bytes()
    result = invoke("add", issue_id, *ADD, "--body", "正文。")
    assert result.exit_code == 2 and "no article id left" in one_error_line(result.stderr)
    assert path.read_bytes() == before


def test_ids_with_a_trailing_newline_in_a_file_are_errors(invoke: Invoke, archive_dir: Path) -> None:
    path = archive_dir / "2023-09.toml"
    path.write_text(
        'id = "2023-09\\n"\ntitle = "t"\ndate = 2023-07-05\n\n[[articles]]\nid = "2023-09-001\\n"\n'
        'section = "行业资讯"\ntitle = "t"\nsource = "《x》"\ndate = 2023-07-01\nbody = "b"\n',
        "utf-8",
    )
    result = invoke("validate", "--format", "json")
    assert result.exit_code == 1
    assert {p["code"] for p in json.loads(result.stdout)} == {"E102", "E202"}
    for args in (["export", "rss"], ["show", "2023-09"]):
        assert invoke(*args).exit_code == 2, args
    # list, an overview, names the broken file in a warning and goes on (exit 1)
    listing = invoke("list")
    assert listing.exit_code == 1 and "2023-09.toml" in one_error_line(
        listing.stderr, prefix="ecdigest: warning:"
    )


def test_the_writer_refuses_bytes_its_reader_would_reject(archive_dir: Path) -> None:
    archive = Archive.open(archive_dir)
    good = Issue(id="2023-07", title="t", date=parse_date("2023-07-05"))
    path = archive.path_for(good)
    with archive.locked():
        archive.write(path, good)
    before = path.read_bytes()
    bad_issues = [
        Issue(id="2023-07", title="t", articles=(Article(id="x" * 101, section="s", body="b"),)),
        Issue(id="2023-07", title="t", articles=(Article(id="2023-07-001\n", section="s", body="b"),)),
        Issue(id="2023-07", title="t", status="archived"),
        Issue(id="x" * 65, title="t"),
    ]
    for bad in bad_issues:
        with archive.locked(), pytest.raises(WriteError, match="could not read back"):
            archive.write(path, bad)
        assert path.read_bytes() == before


def test_symlinked_folders_never_send_writes_outside_or_out_of_sight(
    invoke: Invoke, archive_dir: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    watch = tree_listing(elsewhere)
    (archive_dir / "2024").symlink_to(elsewhere, target_is_directory=True)  # a year folder out of the archive
    (archive_dir / "real-2025").mkdir()
    (archive_dir / "2025").symlink_to(archive_dir / "real-2025", target_is_directory=True)  # inside, unwalked
    for date in ("2024-01-05", "2025-01-05"):
        result = invoke("new", "--date", date)
        assert result.exit_code == 2 and "symlinked folder" in one_error_line(result.stderr), date
    assert tree_listing(elsewhere) == watch
    assert list((archive_dir / "real-2025").iterdir()) == []
    # The state folder: a link to elsewhere would take the lock (and the index) with it.
    assert invoke("new", "--id", "2023-07", "--date", "2023-07-05").exit_code == 0
    shutil.rmtree(archive_dir / ".ecdigest")
    (archive_dir / ".ecdigest").symlink_to(elsewhere, target_is_directory=True)
    for args in (
        ["add", "2023-07", *ADD, "--body", "b"],
        ["publish", "2023-07", "--force"],
        ["new", "--id", "x", "--date", "2023-07-05"],
    ):
        result = invoke(*args)
        assert result.exit_code == 2 and ".ecdigest" in one_error_line(result.stderr), args
    assert tree_listing(elsewhere) == watch


def test_a_link_to_an_issue_file_of_the_archive_is_the_same_issue_twice(
    invoke: Invoke, archive_dir: Path
) -> None:
    # Every folder the archive walks holds issues, hidden ones are refused for writes and
    # symlinked folders are not walked: a link to an issue file of the archive therefore
    # always shows the same issue twice. Refused with one line naming both files.
    assert invoke("new", "--id", "2023-07", "--date", "2023-07-05").exit_code == 0
    real = archive_dir / "2023" / "2023-07.toml"
    (archive_dir / "current.toml").symlink_to(real)
    before = real.read_bytes()
    result = invoke("add", "2023-07", *ADD, "--body", "b")
    assert result.exit_code == 2
    line = one_error_line(result.stderr)
    assert "also used by" in line and "current.toml" in line and "2023-07.toml" in line
    assert real.read_bytes() == before and (archive_dir / "current.toml").is_symlink()


def test_init_never_nests_archives(invoke: Invoke, shipped: Path, tmp_path: Path) -> None:
    before = without_stores(shipped)
    for inner in (shipped / "sub", shipped / "2023" / "deeper", shipped / "2023"):
        result = invoke("init", str(inner), archive=shipped)
        assert result.exit_code == 2 and "already an archive" in one_error_line(result.stderr), inner
    outer = tmp_path  # holds the shipped copy in tmp_path/archive
    result = invoke("init", str(outer), archive=shipped)
    assert result.exit_code == 2 and "cannot hold another" in one_error_line(result.stderr)
    assert not (outer / "ecdigest.toml").exists()
    (tmp_path / "a-file").write_text("x", "utf-8")
    for not_a_folder in (tmp_path / "a-file", tmp_path / "a-file" / "below"):
        result = invoke("init", str(not_a_folder), archive=shipped)
        assert result.exit_code == 2, result.output
        one_error_line(result.stderr)
    assert without_stores(shipped) == before
    readable(shipped)


# =========================================================================== values that do not convert
# Roots: the argv check in EcdigestGroup.main (and launcher.main); terminal.printable and
# write_stdout (surrogates shown, never an encoding error); archive.parse_toml (long
# integers); fileio.lock_timeout; dates.now (the clock's range).


@pytest.mark.parametrize(
    "args",
    [
        [b"search", b"\xff"],
        [b"search", b"\xe4\xb8"],  # half a Chinese character
        [b"add", b"2023-06", b"--title", b"\xff\xfe", b"--section", "行业资讯".encode(), b"--body", b"x"],
        [b"validate", b"\xc3"],
        [b"show", b"2023-\xff"],
        [b"export", b"rss", b"-o", b"\xff.xml"],
        [b"-a", b"\xff", b"list"],
        [b"list", b"--format", b"\xff"],
    ],
)
def test_argv_that_is_not_utf8_is_one_error_line(shipped: Path, tmp_path: Path, args: list[bytes]) -> None:
    before = without_stores(shipped)
    argv = [os.fsencode(a) for a in ecdigest_argv()]
    full = [*argv, b"-a", os.fsencode(shipped), *args] if args[0] != b"-a" else [*argv, *args]
    result = subprocess.run(full, env=cli_env(), capture_output=True, timeout=60, check=False, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "not UTF-8" in one_error_line(result.stderr)
    assert without_stores(shipped) == before
    assert sorted(os.listdir(tmp_path)) == ["shipped"]


def test_file_names_that_are_not_utf8_never_stop_a_command(invoke: Invoke, shipped: Path) -> None:
    name = os.fsdecode(b"\xff\x1b[2J\x9b.toml")
    text = (shipped / "2023" / "2023-06.toml").read_text("utf-8").replace("2023-06", "2023-05")
    (shipped / "2023" / name).write_text(text.replace("，", " ,", 3), "utf-8")  # fixable problems
    other = shipped / "2023" / "2023-06.toml"
    before = other.read_bytes()
    results = {
        "validate": invoke("validate", archive=shipped),
        "json": invoke("validate", "--format", "json", archive=shipped),
        "dry-run": invoke("validate", "--fix", "--dry-run", archive=shipped),
        "fix": invoke("validate", "--fix", archive=shipped),
        "list": invoke("list", archive=shipped),
        "show": invoke("show", "2023-05", archive=shipped),
    }
    for what, result in results.items():
        assert result.exit_code in (0, 1), (what, result.output)
        assert "Traceback" not in result.output and "internal error" not in result.stderr
        assert "\x1b" not in result.stdout and "\x9b" not in result.stdout, what
    assert "\\xff\\x1b[2J\\x9b.toml" in results["validate"].stdout
    assert json.loads(results["json"].stdout) is not None  # valid JSON, the name escaped
    # --fix wrote the fixes of both files and reported them all, to the end.
    assert other.read_bytes() != before
    assert "fixed" in results["fix"].stdout and results["fix"].stdout.rstrip().endswith("issues")
    readable(shipped)


@pytest.mark.parametrize(
    "where", ["last_article_number = " + "7" * 5000, "title = " + "1" * 4301, "note = [" + "9" * 10_000 + "]"]
)
def test_integers_longer_than_pythons_limit_are_input_errors(
    invoke: Invoke, archive_dir: Path, where: str
) -> None:
    path = archive_dir / "2023-07.toml"
    path.write_text(f'id = "2023-07"\ntitle = "t"\ndate = 2023-07-05\nstatus = "draft"\n{where}\n', "utf-8")
    result = invoke("validate", "--format", "json")
    assert result.exit_code == 1
    (problem,) = json.loads(result.stdout)
    assert problem["code"] == "E003" and "4,300 digits" in problem["message"]
    assert problem["line"] == 5
    result = invoke("show", "2023-07")
    assert result.exit_code == 2 and "4,300 digits" in one_error_line(result.stderr)
    listing = invoke("list")  # an overview: the broken file in a warning, the rest listed
    assert listing.exit_code == 1 and "4,300 digits" in one_error_line(
        listing.stderr, prefix="ecdigest: warning:"
    )


def test_huge_hex_numbers_and_settings_are_errors_too(invoke: Invoke, archive_dir: Path) -> None:
    path = archive_dir / "2023-07.toml"
    path.write_text(
        f'id = "2023-07"\ntitle = "t"\ndate = 2023-07-05\nlast_article_number = 0x{"f" * 5000}\n', "utf-8"
    )
    result = invoke("validate", "--format", "json")
    assert [p["code"] for p in json.loads(result.stdout)] == ["E004"]
    path.unlink()
    settings = archive_dir / "ecdigest.toml"
    settings.write_text(settings.read_text("utf-8").replace("= 31", "= " + "3" * 5000), "utf-8")
    result = invoke("list")
    assert result.exit_code == 2 and "4,300 digits" in one_error_line(result.stderr)


@pytest.mark.parametrize("value", ["abc", "nan", "NaN", "inf", "-inf", "-1", "1e400", "86401", "0x10", " "])
def test_bad_lock_timeouts_are_one_line_for_commands_that_lock(
    invoke: Invoke, draft: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    before = draft.read_bytes()
    monkeypatch.setenv("ECDIGEST_LOCK_TIMEOUT", value)
    result = invoke("add", "2023-07", *ADD, "--body", "b")
    if value.strip():
        assert result.exit_code == 2 and "ECDIGEST_LOCK_TIMEOUT" in one_error_line(result.stderr)
        assert draft.read_bytes() == before
    else:  # blank means unset: the default
        assert result.exit_code == 0, result.output
    # list brings the catalog up to date under its lock: the same one line, or the default.
    # A change the catalog has not seen (a new mtime): within RACY_NS of the draft's last
    # write, a file with the same stat and bytes is checked without the lock.
    info = draft.stat()
    os.utime(draft, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
    listing = invoke("list")
    if value.strip():
        assert listing.exit_code == 2 and "ECDIGEST_LOCK_TIMEOUT" in one_error_line(listing.stderr)
    else:
        assert listing.exit_code == 0, listing.output


def test_lock_timeouts_that_are_numbers_are_honoured(
    invoke: Invoke, draft: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ecdigest.fileio import FileLock

    holder = FileLock(draft.parent.parent / ".ecdigest" / "lock", timeout=1)
    holder.acquire()
    try:
        for value in ("0", "0.2", "1e-1"):
            monkeypatch.setenv("ECDIGEST_LOCK_TIMEOUT", value)
            started = time.monotonic()
            result = invoke("add", "2023-07", *ADD, "--body", "b")
            assert result.exit_code == 2 and "held the lock" in one_error_line(result.stderr)
            assert time.monotonic() - started < 10
    finally:
        holder.release()


@pytest.mark.parametrize(
    ("now", "yesterday_ok"),
    [
        ("0001-01-01", False),
        ("0001-01-01T00:00:00+14:00", False),
        ("9999-12-31T23:59:59-12:00", False),
        ("9999-12-31", False),
        ("1899-12-31", False),
        ("1900-01-01T00:00:00+08:00", False),  # the clock is fine, its yesterday is 1899
        ("1900-01-02T00:00:00+08:00", True),
        ("9998-12-31T12:00:00+08:00", True),
        ("nan", False),
        ("2023-02-30", False),
    ],
)
def test_the_clock_at_the_calendars_edges(
    invoke: Invoke, draft: Path, monkeypatch: pytest.MonkeyPatch, now: str, yesterday_ok: bool
) -> None:
    monkeypatch.setenv("ECDIGEST_NOW", now)
    result = invoke("add", "2023-07", *ADD[:-2], "--date", "yesterday", "--body", "b")
    assert result.exit_code == (0 if yesterday_ok else 2), result.output
    for args in (
        ["new", "--date", "today", "--id", "x1"],
        ["validate"],
        ["publish", "2023-07", "--date", "today"],
        ["list"],
    ):
        result = invoke(*args)
        assert result.exit_code in (0, 1, 2), (args, result.output)
        assert "Traceback" not in result.output and "internal error" not in result.stderr
        if result.exit_code == 2:
            one_error_line(result.stderr)
    readable(draft.parent.parent)


def test_integers_past_every_limit_on_the_command_line(invoke: Invoke, shipped: Path) -> None:
    huge = "9" * 30
    assert invoke("search", "直播", "--limit", huge, archive=shipped).exit_code == 0
    assert invoke("export", "rss", "--limit", huge, archive=shipped).exit_code == 0
    for args in (
        ["show", "--width", huge],
        ["export", "email", "--width", huge],
        ["search", "x", "--limit", "-" + huge],
    ):
        result = invoke(*args, archive=shipped)
        assert result.exit_code == 2, (args, result.output)
        one_error_line(result.stderr)


def test_paths_the_system_refuses_are_one_line(invoke: Invoke, shipped: Path, tmp_path: Path) -> None:
    """Root: EcdigestGroup.invoke turns an OSError the core did not foresee into one line."""
    long = str(tmp_path / ("长" * 300))
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    for args in (
        ["init", long],
        ["add", "2023-06", *ADD, "--body-file", long],
        ["export", "rss", "-o", long + "/feed.xml"],
        ["build", "-o", long],
        ["import", long],
        ["build", "-o", str(loop / "site")],
    ):
        result = invoke(*args, archive=shipped)
        assert result.exit_code == 2, (args, result.output)
        one_error_line(result.stderr)
    result = invoke("list", archive=Path(long))
    assert result.exit_code == 2
    one_error_line(result.stderr)
    readable(shipped)


# =========================================================================== streams
# Root: terminal.write_stdout (a closed or full stdout is a WriteError, fd 1 then silenced),
# fileio.read_bytes (a closed stdin), cli.main and launcher.main (a reader that went away).


@pytest.mark.parametrize(
    "command",
    [
        "$ECD -a A list >&-",  # the launcher's fast path
        "$ECD -a A list --format json >&-",
        "$ECD --version >&-",
        "$ECD -a A show 2023-06 >&-",
        "$ECD -a A search 直播 >&-",
        "$ECD -a A export json --all >&-",
        "$ECD -a A list >/dev/full",
        "$ECD -a A show 2023-06 >/dev/full",
        "$ECD -a A export rss >/dev/full",
        "$ECD -a A search 直播 >/dev/full",
        "$ECD -a A validate >/dev/full",
        "$ECD --help >/dev/full",
        "$ECD -a A add 2023-06 --title t --section 行业资讯 --source 《x》 --date 2023-06-01 --body-file - <&-",
        "$ECD -a A add 2023-06 --section 行业资讯 --from-text - <&-",
        "$ECD -a A import - <&-",
    ],
)
def test_closed_and_full_streams_are_one_line_and_exit_2(shipped: Path, tmp_path: Path, command: str) -> None:
    before = files(shipped)
    code, stderr = sh(command.replace(" A ", f" '{shipped}' "), cwd=tmp_path)
    (tmp_path / "ecd").unlink()
    assert code == 2, (command, stderr)
    assert "std" in one_error_line(stderr) or "space" in stderr, stderr
    assert files(shipped) == before


@pytest.mark.parametrize(
    "command",
    [
        "$ECD -a A show 2023-06 | head -c 10",
        "$ECD -a A export json --all | head -c 10",
        "$ECD -a A list | head -c 1",
        "$ECD -a A search 的 --limit 0 | head -c 1",
        "$ECD -a A validate --fix --dry-run | head -c 1",
    ],
)
def test_a_reader_that_goes_away_ends_the_command_quietly(
    shipped: Path, tmp_path: Path, command: str
) -> None:
    # Enough output to outlast the pipe's buffer: the shipped issue ten times over.
    text = (shipped / "2023" / "2023-06.toml").read_text("utf-8")
    for n in range(10):
        (shipped / "2023" / f"copy{n}.toml").write_text(text.replace("2023-06", f"2022-{n + 1:02d}"), "utf-8")
    code, stderr = sh(f"set -o pipefail; {command.replace(' A ', f' {shipped!s} ')} >/dev/null", cwd=tmp_path)
    # The command's own exit code (validate: 1, the copies repeat article titles and ids),
    # and not a word on stderr.
    assert code == (1 if "validate" in command else 0) and stderr == "", (command, code, stderr)


# =========================================================================== what reaches the terminal
# Root: terminal.printable, for every string from outside (contents, names, argv, environment).


@pytest.mark.parametrize(
    "text",
    ["\x1b[2J", "\x1b]0;title\x07", "\x9b31m", "a\rb", "\x7f", "\x00", "\x85", "\udcff", "\ud800", "\x1bP"],
)
def test_printable_leaves_nothing_a_terminal_acts_on(text: str) -> None:
    shown = printable(f"前{text}后")
    shown.encode("utf-8")  # never an encoding error
    assert shown.isprintable() and shown.startswith("前") and shown.endswith("后")


def test_the_fix_diff_and_report_escape_file_contents(invoke: Invoke, archive_dir: Path) -> None:
    path = archive_dir / "2023-07.toml"
    path.write_text(
        'id = "2023-07"\ntitle = "t"\ndate = 2023-07-05\n\n[[articles]]\nid = "2023-07-001"\n'
        'section = "行业资讯"\ntitle = "标题\\u001b]0;pwned\\u0007,标题"\nsource = "《x》"\ndate = 2023-07-01\n'
        'body = "第一段\\u009b31m,第二句\\u001b[2J。"\n',
        "utf-8",
    )
    for args in (
        ["validate", "--fix", "--dry-run"],
        ["validate"],
        ["validate", "--fix"],
        ["show", "2023-07"],
    ):
        result = invoke(*args)
        assert result.exit_code in (0, 1), result.output
        for stream in (result.stdout, result.stderr):
            assert not any(c in stream for c in "\x1b\x07\x9b"), (args, stream)
    assert "\\x1b" in invoke("show", "2023-07").stdout


def test_json_on_a_terminal_carries_no_raw_controls_yet_parses_to_the_same_text(
    invoke: Invoke, draft: Path
) -> None:
    title = "标题\x9b31m\x7f\x85尾"
    assert invoke("add", "2023-07", *ADD[2:], "--title", title, "--body", "正文\x9b").exit_code == 0
    for args in (
        ["export", "json", "2023-07"],
        ["show", "2023-07", "--format", "json"],
        ["list", "--format", "json"],
    ):
        result = invoke(*args)
        assert result.exit_code == 0 and not any(c in result.stdout for c in "\x7f\x85\x9b"), args
    article = json.loads(invoke("export", "json", "2023-07").stdout)["articles"][-1]
    assert article["title"] == title and article["paragraphs"] == ["正文\x9b"]


# =========================================================================== dates
# Root: dates.parse_date (only unambiguous forms, one range) and validate's E106/E107.


@pytest.mark.parametrize(
    "text",
    [
        "05 06 2023",
        "230529",
        "1 2 3",
        "05/06/2023",
        "5.6.23",
        "May 5 23",
        "2023",
        "12 2023",
        "0001-01-01",
        "9999-12-31",
    ],
)
def test_dates_that_are_not_unambiguous_are_refused_on_the_command_line(
    invoke: Invoke, draft: Path, text: str
) -> None:
    with pytest.raises(DateError):
        parse_date(text)
    before = draft.read_bytes()
    commands = [
        ["add", "2023-07", *ADD[:-2], "--date", text, "--body", "b"],
        ["new", "--date", text],
        ["publish", "2023-07", "--date", text],
    ]
    if not text[:4].isdigit():  # search reads YYYY-MM-DD itself: a filter from year 1 is harmless
        commands.append(["search", "x", "--since", text])
    for args in commands:
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        one_error_line(result.stderr)
    assert draft.read_bytes() == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20230529", "2023-05-29"),
        ("2023-05-29 10:00", "2023-05-29"),
        ("2023-05-29T23:00:00-05:00", "2023-05-29"),
        ("May 29, 2023", "2023-05-29"),
        ("29 May 2023", "2023-05-29"),
    ],
)
def test_unambiguous_forms_are_read(text: str, expected: str) -> None:
    assert parse_date(text).isoformat() == expected


@pytest.mark.parametrize(
    ("issue_date", "article_date", "code"),
    [
        ('"05 06 2023"', "2023-06-01", "E105"),
        ("2023-07-05", '"230529"', "E301"),
        ("2023-07-05", '"1 2 3"', "E301"),
    ],
)
def test_ambiguous_dates_in_a_file_are_errors(
    invoke: Invoke, archive_dir: Path, issue_date: str, article_date: str, code: str
) -> None:
    (archive_dir / "x.toml").write_text(
        f'id = "x"\ntitle = "t"\ndate = {issue_date}\n\n[[articles]]\nid = "x-001"\nsection = "行业资讯"\n'
        f'title = "t"\nsource = "《x》"\ndate = {article_date}\nbody = "b"\n',
        "utf-8",
    )
    result = invoke("validate", "--format", "json")
    problems = json.loads(result.stdout)
    assert result.exit_code == 1 and [(p["code"], p["severity"]) for p in problems] == [(code, "error")]


def _published(archive_dir: Path, issue_date: str, status: str = "published") -> Path:
    path = archive_dir / "2023" / "future.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        f'id = "future"\ntitle = "t"\ndate = {issue_date}\nstatus = "{status}"\n\n[[articles]]\nid = "future-001"\n'
        'section = "行业资讯"\ntitle = "t"\nsource = "《x》"\ndate = 2023-07-01\nbody = "b"\n',
        "utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("issue_date", "code"),
    [("2023-08-05", "E106"), ("9999-12-31", "E107"), ("0001-01-01", "E107"), ("1899-12-31", "E107")],
)
def test_future_and_out_of_range_issue_dates_never_reach_the_feed(
    invoke: Invoke, archive_dir: Path, tmp_path: Path, issue_date: str, code: str
) -> None:
    _published(archive_dir, issue_date)
    result = invoke("validate", "--format", "json")
    assert result.exit_code == 1
    assert code in {p["code"] for p in json.loads(result.stdout)}
    site = tmp_path / "site"
    result = invoke("build", "-o", str(site))
    assert result.exit_code == 1 and code in result.stderr and "Traceback" not in result.output
    assert not site.exists()
    result = invoke("export", "rss")
    assert result.exit_code in (0, 2) and "Traceback" not in result.output


def test_a_draft_may_be_dated_ahead_but_is_not_published_early(invoke: Invoke, archive_dir: Path) -> None:
    path = _published(archive_dir, "2023-08-05", status="draft")
    assert invoke("validate").exit_code == 0  # planning the next issue is fine
    before = path.read_bytes()
    result = invoke("publish", "future")
    assert result.exit_code == 1 and "E106" in result.stderr
    assert path.read_bytes() == before
    result = invoke("publish", "future", "--date", "2023-07-08")  # on a real day: fine
    assert result.exit_code == 0, result.output
    assert 'date = 2023-07-08\nstatus = "published"' in path.read_text("utf-8")


# =========================================================================== cost
# Root: textwrap_cjk builds atoms as lists of parts (the quadratic string gluing is gone).


def _cpu(function: object, *args: object, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        function(*args)  # type: ignore[operator]
        best = min(best, time.process_time() - started)
    return best


@pytest.mark.parametrize("unit", ["（", "“", "（ ", "《（", "a（"])
def test_wrapping_is_linear_in_runs_of_unbreakable_marks(unit: str) -> None:
    """Sixteen times the text must cost about sixteen times as much, not 256 (quadratic).
    Two sizes measured in one run, best of five each: a ratio, not a timing. A 16x step
    keeps linear and quadratic far apart, so a loaded machine (an 8x step measured 24x
    once under load 10 on linear code) cannot push one across the bound to the other."""
    from ecdigest.textwrap_cjk import wrap

    small, large = unit * 10_000, unit * 160_000
    assert len(wrap(small, 72)) >= 1
    ratio = _cpu(wrap, large, 72, repeat=5) / max(_cpu(wrap, small, 72, repeat=5), 1e-6)
    assert ratio < 64, ratio


def test_show_of_a_huge_run_of_marks_finishes(invoke: Invoke, archive_dir: Path) -> None:
    body = "（" * 1_000_000
    (archive_dir / "big.toml").write_text(
        f'id = "big"\ntitle = "t"\ndate = 2023-07-05\n\n[[articles]]\nid = "big-001"\nsection = "行业资讯"\n'
        f'title = "t"\nsource = "《x》"\ndate = 2023-07-01\nbody = "{body}"\n',
        "utf-8",
    )
    started = time.process_time()
    result = invoke("show", "big", "--width", "72")
    assert result.exit_code == 0
    assert time.process_time() - started < 60  # minutes before the fix; a generous bound, not a target


# =========================================================================== usage errors
# Root: EcdigestGroup.main: click's usage errors become one line; --help stays whole.


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--nope"],
        ["list", "--format", "xml"],
        ["show", "--width", "abc"],
        ["show", "--width", "5"],
        ["export", "rss", "--limit", "0"],
        ["export", "rss", "--per", "page"],
        ["publish"],
        ["add", "--title"],
        ["no-such-command"],
        ["export", "nope"],
        ["search", "x", "--limit", "-1"],
        ["search", "x", "--in", "nowhere"],
        ["validate", "--strict=yes"],
        ["--archive"],
    ],
)
def test_usage_errors_are_one_line(invoke: Invoke, shipped: Path, args: list[str]) -> None:
    result = invoke(*args, archive=shipped)
    assert result.exit_code == 2, result.output
    line = one_error_line(result.stderr)
    assert "--help" in line
    # And the console script, with the launcher's fast path in front, says the same.
    process = subprocess.run(
        [*ecdigest_argv(), "-a", str(shipped), *args],
        env=cli_env(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert process.returncode == 2
    assert one_error_line(process.stderr) == line


@pytest.mark.parametrize(
    "args", [["--help"], ["add", "--help"], ["export", "rss", "-h"], ["search", "--help"]]
)
def test_help_keeps_the_full_usage(invoke: Invoke, args: list[str]) -> None:
    result = invoke(*args)
    assert (
        result.exit_code == 0
        and result.stdout.startswith("Usage: ecdigest")
        and len(result.stdout.splitlines()) > 5
    )


# =========================================================================== add --edit
# Root: editor.edit_until_valid (reusable, no typer) with operations.check_template.


def _editor_script(tmp_path: Path, body: str) -> str:
    script = tmp_path / "editor.py"
    script.write_text(body, "utf-8")
    return f"{sys.executable} {script}"


FILL = (
    "import sys, pathlib\n"
    "p = pathlib.Path(sys.argv[-1])\n"
    "t = p.read_text('utf-8')\n"
    "t = t.replace('title: \\n', 'title: 编辑器里的标题\\n').replace('source: \\n', 'source: “央广网”\\n')\n"
)


@pytest.mark.parametrize(
    ("line", "mistake", "message"),
    [
        ("section: ", "section: 不存在的栏目", "unknown section"),
        ("date: ", "date: 05 06 2023", "ambiguous"),
        ("url: ", "url: ftp://x", "not an http(s) URL"),
        ("tags: ", "tags: a\\nnonsense line", "expected 'field: value'"),
    ],
)
def test_a_mistake_in_the_editor_never_throws_the_article_away(
    invoke: Invoke,
    draft: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    line: str,
    mistake: str,
    message: str,
) -> None:
    monkeypatch.setenv(
        "EDITOR",
        _editor_script(
            tmp_path,
            FILL + f"t = t.replace('{line}\\n', '{mistake}\\n', 1)\n"
            "t = t.replace('section: \\n', 'section: 行业资讯\\n').replace('date: \\n', 'date: 2023-07-02\\n')\n"
            "p.write_text(t + '我认真写的第一段。\\n\\n第二段。\\n', 'utf-8')\n",
        ),
    )
    before = draft.read_bytes()
    result = invoke("add", "2023-07", "--edit")  # no terminal here: saved, not reopened
    assert result.exit_code == 2
    line = one_error_line(result.stderr)
    assert message in line and "saved in" in line
    saved = Path(line.split("saved in ", 1)[1].split(" (", 1)[0])
    text = saved.read_text("utf-8")
    assert "我认真写的第一段。" in text and text.startswith(ERROR_PREFIX)
    assert saved.is_relative_to(draft.parent.parent / ".ecdigest")
    assert draft.read_bytes() == before
    # Fixed in the file, it goes in with --from-draft (its # ERROR: lines ignored).
    fixed = (
        text.replace("不存在的栏目", "行业资讯")
        .replace("05 06 2023", "2023-07-03")
        .replace("ftp://x", "https://x.org/")
    )
    fixed = fixed.replace("nonsense line\n", "")
    assert "我认真写的第一段。" in fixed
    saved.write_text(fixed, "utf-8")
    result = invoke("add", "2023-07", "--from-draft", str(saved))
    assert result.exit_code == 0, result.output
    article = json.loads(invoke("export", "json", "2023-07").stdout)["articles"][-1]
    assert article["paragraphs"] == ["我认真写的第一段。", "第二段。"]
    assert article["compiled_by"] == "《电子商务动态》编辑部"  # the flags' default, not "none"


def test_the_editor_reopens_with_the_errors_on_top_until_it_is_right(
    archive_dir: Path, tmp_path: Path
) -> None:
    settings = Archive.open(archive_dir).settings
    seen = tmp_path / "seen"
    seen.mkdir()
    argv = _editor_script(
        tmp_path,
        "import sys, pathlib\n"
        f"seen = pathlib.Path({str(seen)!r})\n"
        "n = len(list(seen.iterdir()))\n"
        "p = pathlib.Path(sys.argv[-1])\n"
        "t = p.read_text('utf-8')\n"
        "(seen / str(n)).write_text(t, 'utf-8')\n"
        "if n == 0:\n"
        "    t = t.replace('title: \\n', 'title: 标题\\n').replace('source: \\n', 'source: 《x》\\n')\n"
        "    t = t.replace('section: \\n', 'section: 栏目\\n').replace('date: \\n', 'date: 1 2 3\\n') + '正文。\\n'\n"
        "else:\n"
        "    t = t.replace('section: 栏目', 'section: 数据观察').replace('date: 1 2 3', 'date: 2023-07-01')\n"
        "p.write_text(t, 'utf-8')\n",
    ).split()
    draft = edit_until_valid(
        Editor(tuple(argv), interactive=True),
        edit_template(ArticleDraft(), settings),
        lambda text: check_template(text, settings),
        drafts=tmp_path / "drafts",
        resume=lambda path: f"resume {path}",
    )
    assert (draft.section, draft.date, draft.body) == ("数据观察", "2023-07-01", "正文。")
    second = (seen / "1").read_text("utf-8").splitlines()
    assert second[0].startswith(ERROR_PREFIX + "unknown section") and second[1].startswith(
        ERROR_PREFIX + "--date"
    )
    assert not (tmp_path / "drafts").exists()  # nothing needed saving


def test_an_editor_that_fails_or_is_left_unchanged_saves_the_text(archive_dir: Path, tmp_path: Path) -> None:
    settings = Archive.open(archive_dir).settings
    typed = "title: 标题\nsection: 栏目\nsource: 《x》\ndate: 2023-07-01\n\n正文。\n"
    for script, interactive, reason in (
        (
            "import sys; open(sys.argv[-1], 'a').write('多打的一行。\\n'); sys.exit(3)",
            True,
            "exited with code 3",
        ),
        ("pass", True, "unknown section"),  # shown the error, the person changed nothing
    ):
        with pytest.raises(UsageError, match=reason) as caught:
            edit_until_valid(
                Editor(tuple(_editor_script(tmp_path, script).split()), interactive=interactive),
                typed,
                lambda text: check_template(text, settings),
                drafts=tmp_path / "drafts",
                resume=lambda path: "resume",
            )
        saved = Path(caught.value.message.split("saved in ", 1)[1])
        assert "正文。" in saved.read_text("utf-8")


def test_compiled_by_in_the_editor_means_what_the_flag_means(archive_dir: Path) -> None:
    settings = Archive.open(archive_dir).settings
    base = "title: t\nsection: 行业资讯\nsource: 《x》\ndate: 2023-07-01\n"
    assert check_template(base + "compiled_by:\n\nb\n", settings).compiled_by is None  # default
    assert check_template(base + "compiled_by: -\n\nb\n", settings).compiled_by == ""  # nobody
    assert check_template(base + "compiled_by: 某人\n\nb\n", settings).compiled_by == "某人"


# =========================================================================== comments in issue files
# Root: codec.encode_issue_keeping, used by Archive.write (add, publish, import, edit).

COMMENTED = [
    ("top", lambda t: "# 编者按：本期聚焦跨境电商。\n\n" + t),
    ("issue key", lambda t: t.replace('status = "draft"', '# 待主编审定\nstatus = "draft"')),
    ("trailing", lambda t: t.replace('title = "测试标题"', 'title = "测试标题"  # 标题待定', 1)),
    (
        "between articles",
        lambda t: t.replace("\n[[articles]]\n", "\n# 第一篇：来源已核实\n[[articles]]\n", 1),
    ),
    (
        "inside article",
        lambda t: t.replace('section = "行业资讯"', '# 栏目可能调整\nsection = "行业资讯"', 1),
    ),
    ("after body", lambda t: t.replace('body = "第一段。"', 'body = """\n第一段。"""  # 正文后的注释', 1)),
    ("end of file", lambda t: t + "\n# 文末备注：下期继续。\n"),
    ("hash in a string", lambda t: t.replace('body = "第一段。"', 'body = "#618# 第一段。"', 1)),
]


@pytest.mark.parametrize(("where", "edit"), COMMENTED, ids=[c[0] for c in COMMENTED])
def test_comments_survive_add_and_publish(invoke: Invoke, draft: Path, where: str, edit: object) -> None:
    text = edit(draft.read_text("utf-8"))  # type: ignore[operator]
    draft.write_text(text, "utf-8")
    comments = [found.group(0) for line in text.splitlines() if (found := re.search(r"# \S.*$", line))]
    assert comments or where == "hash in a string"
    assert invoke("add", "2023-07", *ADD, "--body", "第二篇。").exit_code == 0
    assert invoke("publish", "2023-07", "--date", "2023-07-08").exit_code == 0
    after = draft.read_text("utf-8")
    for comment in comments:
        assert comment in after, (where, comment, after)
    issue, problems = decode_issue(tomllib.loads(after), after)
    assert not problems and issue.status == "published" and len(issue.articles) == 2
    # A comment stays with what it was written next to.
    if where == "between articles":
        assert '# 第一篇：来源已核实\n[[articles]]\nid = "2023-07-001"' in after
    if where == "end of file":
        assert after.endswith("# 文末备注：下期继续。\n") and after.index("2023-07-002") < after.index("文末")
    if where == "trailing":
        assert 'title = "测试标题"  # 标题待定\n' in after


def test_an_unchanged_issue_keeps_a_commented_file_byte_for_byte(draft: Path) -> None:
    text = draft.read_text("utf-8")
    for _where, edit in COMMENTED[:-1]:
        text = edit(text)  # type: ignore[operator]
    issue, problems = decode_issue(tomllib.loads(text), text)
    assert not problems
    # Our own layout plus comments anywhere: the splice gives back exactly the same bytes.
    canonical = encode_issue_keeping(issue, text.replace('"""\n第一段。"""', '"第一段。"'))
    assert encode_issue_keeping(issue, canonical) == canonical
    assert encode_issue_keeping(issue, encode_issue(issue)) == encode_issue(issue)


def test_a_comment_that_cannot_be_kept_refuses_the_write(invoke: Invoke, draft: Path) -> None:
    text = draft.read_text("utf-8").replace(
        'source = "《人民日报》"', 'source = "《人民日报》"\ntags = [\n  "a", # 注释\n  "b",\n]', 1
    )
    draft.write_text(text, "utf-8")
    result = invoke("add", "2023-07", *ADD, "--body", "b")
    assert result.exit_code == 2 and "comment" in one_error_line(result.stderr)
    assert draft.read_text("utf-8") == text


def test_validate_fix_keeps_comments_too(invoke: Invoke, draft: Path) -> None:
    text = "# 顶部\n" + draft.read_text("utf-8").replace(
        'body = "第一段。"', 'body = "第一段,第二句。"  # 尾注'
    )
    draft.write_text(text, "utf-8")
    assert invoke("validate", "--fix").exit_code == 0
    after = draft.read_text("utf-8")
    assert after.startswith("# 顶部\n") and '"第一段，第二句。"  # 尾注' in after
