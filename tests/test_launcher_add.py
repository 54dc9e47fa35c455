"""`ecdigest add` without Typer (launcher.run_add): the same options, the same errors, the
same bytes in the same files as the Typer command, for many command lines.

Each command line runs twice in real processes on the same archive path, restored between
the two: once through the console script (the launcher's fast path) and once through the
Typer app alone (`ecdigest.cli.main`, which never looks at the fast path). Standard
output, standard error, the exit code and every file of the archive must be the same.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _hardening import SHIPPED_ARCHIVE, cli_env, ecdigest_argv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecdigest.launcher import add_options, parse_argv

TYPER_ONLY = "import sys; sys.argv[0] = 'ecdigest'; from ecdigest.cli import main; main()"
PROBE = (
    "import sys, runpy\n"
    "sys.argv = ['ecdigest', *sys.argv[1:]]\n"
    "try:\n    runpy.run_module('ecdigest', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    "print('typer' in sys.modules, 'subprocess' in sys.modules, file=sys.stderr)\n"
)


DATED = ["--date", "2023-07-01", "--body", "七月的正文。"]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped archive (2023-06, published) and a draft 2023-07 with one article."""
    root = tmp_path_factory.mktemp("add") / "pristine"
    shutil.copytree(SHIPPED_ARCHIVE, root, ignore=shutil.ignore_patterns(".ecdigest"))
    for args in (
        ["new", "--id", "2023-07", "--date", "2023-07-05"],
        ["add", "--title", "七月第一篇", "--section", "行业资讯", "--source", "《人民日报》", *DATED],
    ):
        done = subprocess.run(
            [sys.executable, "-c", TYPER_ONLY, "--archive", str(root), *args],
            capture_output=True,
            env=cli_env(),
            check=False,
        )
        assert done.returncode == 0, done.stderr
    (root.parent / "body.txt").write_text("文件里的第一段。\n\n文件里的第二段。\n", "utf-8")
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".ecdigest" not in p.relative_to(root).parts
    }


def _run(pristine: Path, argv: list[str], args: list[str], stdin: bytes) -> tuple[object, ...]:
    """(exit code, stdout, stderr, files) of one run on a fresh copy at one fixed path."""
    work = pristine.parent / "work"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(pristine, work)
    done = subprocess.run(
        [*argv, "--archive", str(work), "add", *args],
        input=stdin,
        capture_output=True,
        env=cli_env(),
        cwd=pristine.parent,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr, _files(work)


def both_ways(pristine: Path, args: list[str], stdin: bytes = b"") -> tuple[object, ...]:
    fast = _run(pristine, ecdigest_argv(), args, stdin)
    typer = _run(pristine, [sys.executable, "-c", TYPER_ONLY], args, stdin)
    assert fast[:3] == typer[:3], (args, fast[:3], typer[:3])
    assert fast[3] == typer[3], args
    return fast


FULL = ["--title", "测试", "--section", "行业资讯", "--source", "《人民日报》", "--date", "2023-07-02"]


@pytest.mark.parametrize(
    ("args", "stdin", "code"),
    [
        ([*FULL, "--body", "第一段。\n\n第二段。"], b"", 0),  # the newest draft
        (["2023-07", *FULL, "--body-file", "body.txt"], b"", 0),
        (["2023-07", *FULL, "--body-file", "-"], "标准输入的正文。\n".encode(), 0),
        (
            [*FULL, "--body", "x", "--tag", "直播", "--tag", "电商", "--url", "https://example.org/a?b=1"],
            b"",
            0,
        ),
        (
            ["--title=等号", "--section=行业资讯", "--source=央广网", "--date=2023-07-03", "--body=正文"],
            b"",
            0,
        ),
        ([*FULL, "--body", "x", "--compiled-by", ""], b"", 0),
        ([*FULL, "--body", "七月的正文。"], b"", 0),  # W603: the same text as an article there
        (["--title", "七月第一篇", *FULL[2:], "--body", "别的"], b"", 0),  # W602: the same title
        ([*FULL[:-1], "2099-01-01", "--body", "未来"], b"", 0),  # dated in the future: a warning
        (["2023-06", *FULL, "--body", "x"], b"", 1),  # published: --force needed
        (["2023-06", "--force", *FULL, "--body", "x"], b"", 0),
        (["nope", *FULL, "--body", "x"], b"", 2),
        ([*FULL[:-2], "--body", "x"], b"", 2),  # no date, no terminal: an error naming it
        ([*FULL[:2], "--section", "不存在", *FULL[4:], "--body", "x"], b"", 2),
        ([*FULL[:-1], "明天的明天", "--body", "x"], b"", 2),
        ([*FULL, "--body", "x", "--url", "ftp://example.org"], b"", 2),
        ([*FULL, "--body-file", "missing.txt"], b"", 2),
        ([*FULL, "--body", "x", "--body-file", "body.txt"], b"", 2),  # declined: the app says it
        (["-x", *FULL, "--body", "x"], b"", 2),  # declined: no such option
        ([*FULL, "--body"], b"", 2),  # declined: the value is missing
        ([*FULL, "--body", "x", "--force=yes"], b"", 2),
        ([*FULL, "--title", "a\nb", "--body", "x"], b"", 2),  # the last --title wins, as click's
        (["a", "b", *FULL, "--body", "x"], b"", 2),
        ([*FULL, "--body", "x", "--", "2023-07"], b"", 0),
        (["--", "2023-07", *FULL, "--body", "x"], b"", 2),  # all words after `--`
    ],
)
def test_add_prints_and_writes_what_the_typer_command_does(
    pristine: Path, args: list[str], stdin: bytes, code: int
) -> None:
    result = both_ways(pristine, args, stdin)
    assert result[0] == code, result[:3]
    if code == 2:
        assert result[2].count(b"\n") == 1 and result[2].startswith(b"ecdigest: error: "), result[2]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("args", "typer"),
    [
        ([*FULL, "--body", "x"], False),
        (["2023-06", *FULL, "--body", "x"], False),  # its error too
        ([*FULL, "--body", "x", "--body-file", "body.txt"], True),
        ([*FULL, "--from-text", "body.txt"], True),
    ],
)
def test_add_from_the_command_line_does_not_load_typer(pristine: Path, args: list[str], typer: bool) -> None:
    work = pristine.parent / "probe"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(pristine, work)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "--archive", str(work), "add", *args],
        capture_output=True,
        env=cli_env(),
        cwd=pristine.parent,
        check=False,
    )
    loaded_typer, loaded_subprocess = done.stderr.decode().strip().splitlines()[-1].split()
    assert loaded_typer == str(typer), done.stderr
    if not typer:  # nor git's runner: history.py imports subprocess only to run git
        assert loaded_subprocess == "False", done.stderr


def test_the_option_table_is_the_typer_commands() -> None:
    """Every option of the Typer `add`, with its flag and kind, and nothing else."""
    from typer.main import get_command

    from ecdigest.cli import app

    command = get_command(app).commands["add"]  # type: ignore[attr-defined]
    typer_options = {
        (tuple(p.opts), bool(p.is_flag), bool(p.multiple))
        for p in command.params
        if p.param_type_name == "option" and "--help" not in p.opts
    }
    ours = {((o.flag, *o.aliases), o.kind == "flag", o.multiple) for o in add_options()}
    assert ours == typer_options
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    assert len(arguments) == 1 and arguments[0].nargs == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["add", "--edit"],
        ["add", "--title"],
        ["add", "--nope", "x"],
        ["add", "a", "b"],
        ["add", "-h"],
        ["add", "--force=1"],
    ],
)
def test_add_command_lines_the_launcher_leaves_to_the_app(argv: list[str]) -> None:
    from ecdigest.launcher import FAST_COMMANDS

    parsed = parse_argv(argv)
    assert parsed is None or not FAST_COMMANDS["add"].accepts(parsed[3])


_VALUES = {
    "--title": st.sampled_from(["测试", "", " ", "Title with spaces", "a\nb"]),
    "--section": st.sampled_from(["行业资讯", "政策法规", "不存在", ""]),
    "--source": st.sampled_from(["《人民日报》", "央广网", "“新华社”", "《x“y》"]),
    "--compiled-by": st.sampled_from(["", "某某", "编辑部"]),
    "--date": st.sampled_from(["2023-07-01", "2023 年 7 月 1 日", "bad", "2099-01-01", "2023-08-01"]),
    "--url": st.sampled_from(["", "https://example.org/a", "ftp://x", "https://例子.中国/页"]),
    "--tag": st.sampled_from(["直播", "电商", ""]),
    "--body": st.sampled_from(["第一段。\n\n第二段。", "", "七月的正文。", "一段\n二段"]),
    "--body-file": st.sampled_from(["body.txt", "missing.txt"]),
}


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    names = draw(st.lists(st.sampled_from(sorted(_VALUES)), max_size=12))
    args: list[str] = []
    for name in names:
        value = draw(_VALUES[name])
        args += [f"{name}={value}"] if draw(st.booleans()) else [name, value]
    if draw(st.booleans()):
        args.append("--force")
    issue = draw(st.sampled_from([None, "2023-07", "2023-06", "nope", ""]))
    if issue is not None:
        args.insert(draw(st.sampled_from([0, len(args)])), issue)  # before or after the options
    return args


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command_lines())
def test_random_add_command_lines_print_and_write_what_the_typer_command_does(
    pristine: Path, args: list[str]
) -> None:
    both_ways(pristine, args)
