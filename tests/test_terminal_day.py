"""What an editor meets at the terminal: the pager, the archive found from where they stand,
init's questions, and the warning about placeholder settings. Terminals are real here
(a pty), and so are the processes."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from _hardening import cli_env, ecdigest_argv
from conftest import Invoke

from ecdigest.archive import Archive


def on_a_terminal(
    args: list[str], env: dict[str, str], *, stdin_text: bytes | None = None, cwd: Path | None = None
) -> tuple[int, bytes, bytes]:
    """Run `ecdigest ARGS` with stdout (and, with `stdin_text`, stdin) on a pty: (code,
    what the terminal showed, stderr)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*ecdigest_argv(), *args],
        stdout=terminal,
        stdin=terminal if stdin_text is not None else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
    )
    os.close(terminal)
    shown = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                return
            if not chunk:
                return
            shown.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    if stdin_text is not None:
        os.write(controller, stdin_text)
    assert process.stderr is not None
    err = process.stderr.read()
    code = process.wait(timeout=120)
    reader.join(timeout=10)
    os.close(controller)
    return code, bytes(shown), err


@pytest.fixture
def pager(tmp_path: Path) -> tuple[str, Path]:
    """A pager that keeps what it was given, its arguments and $LESS."""
    seen = tmp_path / "paged"
    script = tmp_path / "pager.py"
    script.write_text(
        "import os, sys, pathlib\n"
        f"pathlib.Path({str(seen)!r}).write_bytes(sys.stdin.buffer.read())\n"
        f"pathlib.Path({str(seen)!r} + '.args').write_text(' '.join(sys.argv[1:]) + '|' + os.environ.get('LESS', ''))\n",
        "utf-8",
    )
    return f"{sys.executable} {script}", seen


# =========================================================================== the pager


def test_show_pages_on_a_terminal_and_never_off_one(shipped: Path, pager: tuple[str, Path]) -> None:
    command, seen = pager
    args = ["--archive", str(shipped), "show", "2023-06", "--width", "60"]
    plain = subprocess.run(
        [*ecdigest_argv(), *args], capture_output=True, env=cli_env(PAGER=command), check=True
    )
    assert not seen.exists() and plain.stdout.startswith(
        "电子商务动态 2023 年 6 月\n".encode()
    )  # a pipe: no pager
    code, shown, _ = on_a_terminal(args, cli_env(PAGER=command))
    assert code == 0 and shown == b""
    assert seen.read_bytes() == plain.stdout  # the pager got exactly what a pipe gets
    assert Path(f"{seen}.args").read_text() == "|FRX"  # LESS=FRX unless set, as git does
    seen.unlink()
    code, shown, _ = on_a_terminal([*args, "--no-pager"], cli_env(PAGER=command))
    assert code == 0 and not seen.exists() and shown.replace(b"\r\n", b"\n") == plain.stdout
    code, shown, _ = on_a_terminal(args, cli_env(PAGER="cat"))
    assert code == 0 and not seen.exists() and shown.replace(b"\r\n", b"\n") == plain.stdout
    code, _, _ = on_a_terminal(args, cli_env(PAGER="cat", ECDIGEST_PAGER=command, LESS="-S"))
    assert code == 0 and seen.exists() and Path(f"{seen}.args").read_text() == "|-S"


def test_less_is_the_default_pager(shipped: Path, pager: tuple[str, Path], tmp_path: Path) -> None:
    command, seen = pager
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    less = bin_dir / "less"
    less.write_text(f'#!/bin/sh\nexec {command} "$@"\n', "utf-8")
    less.chmod(0o755)
    env = cli_env(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    env.pop("PAGER", None)
    code, _, _ = on_a_terminal(["--archive", str(shipped), "show", "2023-06-002"], env)
    assert code == 0 and Path(f"{seen}.args").read_text() == "-R|FRX"
    assert seen.read_bytes().startswith("2023-06 · 行业资讯 · 2 of 53".encode())


def test_a_pager_that_quits_early_or_cannot_start_loses_nothing(shipped: Path) -> None:
    args = ["--archive", str(shipped), "show", "2023-06"]
    code, _, err = on_a_terminal(args, cli_env(PAGER=f"{sys.executable} -c pass"))  # quits at once
    assert code == 0 and err == b""
    code, shown, err = on_a_terminal(args, cli_env(PAGER="/nonexistent/pager"))
    assert code == 0 and err == b"" and "电子商务动态 2023 年 6 月".encode() in shown


def test_log_pages_too(invoke: Invoke, shipped: Path, pager: tuple[str, Path], tmp_path: Path) -> None:
    command, seen = pager
    env = cli_env(PAGER=command, GIT_CONFIG_GLOBAL=str(tmp_path / "none"), GIT_CONFIG_NOSYSTEM="1")
    for args in (
        ["init", "-b", "main", "--quiet"],
        ["-c", "user.name=a", "-c", "user.email=a@b", "commit", "--quiet", "--allow-empty", "-m", "x"],
    ):
        subprocess.run(["git", *args], cwd=shipped, env=env, check=True)
    subprocess.run(["git", "add", "."], cwd=shipped, env=env, check=True)
    subprocess.run(
        ["git", "-c", "user.name=a", "-c", "user.email=a@b", "commit", "--quiet", "-m", "issues"],
        cwd=shipped,
        env=env,
        check=True,
    )
    code, _, err = on_a_terminal(["--archive", str(shipped), "log"], env)
    assert code == 0, err
    assert seen.read_text("utf-8").endswith("  a  issues (by hand)\n")


# =========================================================================== finding the archive


def test_the_archive_is_found_upward_like_git_finds_its_repository(shipped: Path, tmp_path: Path) -> None:
    def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*ecdigest_argv(), *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=cli_env(**env),
            check=False,
        )

    inside = shipped / "2023"
    listed = run("list", cwd=inside)  # the launcher's fast path
    assert listed.returncode == 0 and listed.stdout.splitlines()[1].startswith(
        "2023-06  2023-06-05  published"
    )
    assert run("show", "2023-06-001", "--no-pager", cwd=inside).stdout.startswith(
        "2023-06 · 行业资讯"
    )  # Typer
    assert run("search", "直播", "--limit", "1", cwd=inside).stdout.startswith("2023-06")  # fast path
    # Paths in messages read from where the editor stands.
    assert "../2023/2023-06.toml:" in run("validate", cwd=inside).stdout
    assert run("validate", cwd=shipped).stdout.splitlines()[1].lstrip().startswith("2023/2023-06.toml:")
    # $ECDIGEST_ARCHIVE, then --archive, win over the folder.
    other = tmp_path / "other"
    assert run("init", str(other), cwd=tmp_path).returncode == 0
    assert run("list", cwd=inside, ECDIGEST_ARCHIVE=str(other)).stderr.startswith(f"no issues in {other}")
    chosen = run("--archive", str(shipped), "list", cwd=other, ECDIGEST_ARCHIVE=str(other))
    assert chosen.stdout.splitlines()[1].startswith("2023-06 ")
    # No archive upward: ./issues, as before.
    nowhere = tmp_path / "empty"
    nowhere.mkdir()
    missing = run("list", cwd=nowhere)
    assert missing.returncode == 2 and "issues" in missing.stderr
    shutil.copytree(shipped, nowhere / "issues")
    assert run("list", cwd=nowhere).returncode == 0


# =========================================================================== init asks


def test_init_asks_on_a_terminal_for_what_it_was_not_given(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ecdigest.cli.archive_cmds as commands

    monkeypatch.setattr(commands, "stdin_is_terminal", lambda: True)
    root = tmp_path / "news"
    answers = "商务简报\nftp://nope\nhttps://news.example.com/brief\n编辑部 <ed@news.example.com>\nnot an address\nlist@news.example.com\n"
    result = invoke("init", str(root), input=answers)
    assert result.exit_code == 0, result.output
    assert "not an http(s) URL" in result.stderr and "not an email address" in result.stderr
    settings = Archive.open(root).settings
    assert (settings.title, settings.link, settings.feed_url, settings.tag_authority) == (
        "商务简报", "https://news.example.com/brief/", "https://news.example.com/brief/feed.xml", "news.example.com",
    )  # fmt: skip
    assert (settings.email_from, settings.email_to) == (
        "编辑部 <ed@news.example.com>",
        "list@news.example.com",
    )
    given = invoke("init", str(tmp_path / "given"), "--title", "T", "--from", "a@b.org", input="\n\n")
    assert (
        given.exit_code == 0 and "Newsletter title" not in given.stderr and "From address" not in given.stderr
    )
    assert Archive.open(tmp_path / "given").settings.email_from == "a@b.org"


def test_init_asks_on_a_real_terminal_and_never_off_one(tmp_path: Path) -> None:
    code, _, err = on_a_terminal(["init", str(tmp_path / "a")], cli_env(), stdin_text=b"\n\n\n\n")
    assert code == 0, err
    assert b"Newsletter title" in err and b"From address" in err
    piped = subprocess.run(
        [*ecdigest_argv(), "init", str(tmp_path / "b")],
        capture_output=True,
        env=cli_env(),
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert piped.returncode == 0 and b"Newsletter title" not in piped.stderr
    assert (
        Archive.open(tmp_path / "a").settings == Archive.open(tmp_path / "b").settings
    )  # Enter keeps the defaults
    bad = subprocess.run(
        [*ecdigest_argv(), "init", str(tmp_path / "c"), "--to", "nobody"],
        capture_output=True,
        env=cli_env(),
        check=False,
    )
    assert bad.returncode == 2 and b"not an email address" in bad.stderr and not (tmp_path / "c").exists()


# =========================================================================== placeholders


def test_build_and_publish_warn_while_the_settings_hold_placeholders(invoke: Invoke, tmp_path: Path) -> None:
    def day(root: Path) -> tuple[str, str]:
        assert invoke("new", "--id", "2023-07", "--date", "2023-07-05", archive=root).exit_code == 0
        assert invoke(
            "add", "2023-07", "--title", "标题", "--section", "行业资讯", "--source", "《人民日报》",
            "--date", "2023-07-01", "--body", "正文。", archive=root,
        ).exit_code == 0  # fmt: skip
        published = invoke("publish", "2023-07", archive=root)
        built = invoke("build", "-o", str(root.parent / f"{root.name}-site"), archive=root)
        assert published.exit_code == built.exit_code == 0, (published.output, built.output)
        assert built.stdout.startswith(str(root.parent))
        return published.stderr, built.stderr

    placeholder = tmp_path / "placeholder"
    assert invoke("init", str(placeholder)).exit_code == 0
    for stderr in day(placeholder):
        (line,) = stderr.splitlines()
        assert line.startswith(
            "ecdigest: warning: ecdigest.toml still holds the example.org placeholders in link, feed_url, tag_authority, [email] from, [email] to"
        )
        assert "can never change" in line
    real = tmp_path / "real"
    assert (
        invoke(
            "init",
            str(real),
            "--link",
            "https://news.example.cn/",
            "--from",
            "编辑部 <ed@news.example.cn>",
            "--to",
            "list@news.example.cn",
        ).exit_code
        == 0
    )
    assert day(real) == ("", "")
    partly = tmp_path / "partly"
    assert invoke("init", str(partly), "--link", "https://news.example.cn/").exit_code == 0
    _, built = day(partly)
    assert "in [email] from, [email] to:" in built and "can never change" not in built
    assert json.loads(invoke("list", "-f", "json", archive=real).stdout)[0]["status"] == "published"
