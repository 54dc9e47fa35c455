"""Generated command lines against the whole CLI: the contract holds for any argv.

Hypothesis builds argv from every command, every option spelling, and values that are
right, wrong, hostile (control sequences, bytes that were not UTF-8, huge numbers, paths
to the archive's own files, FIFOs, devices) or missing. Whatever the argv:

- the exit code is 0, 1 or 2 (never 70, never a traceback);
- exit 2 comes with exactly one `ecdigest: error:` line, the last on stderr (search may
  print `ecdigest: warning:` lines before it);
- nothing on stdout or stderr is a control character a terminal would act on;
- the archive still opens and every issue file in it reads strictly afterwards: nothing
  was written that the tool cannot read back, and no output landed on its own files.

A few hundred examples run by default; `-m slow` runs thousands.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.main import get_command
from typer.testing import CliRunner

from ecdigest.archive import Archive
from ecdigest.cli import app

EXAMPLE_SECONDS = 60  # a hang (a FIFO read, a lock) fails the example instead of the run
TERMINAL_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

ISSUE_2023_06 = """\
id = "2023-06"
title = "电子商务动态 2023 年 6 月"
date = 2023-06-05
status = "published"
last_article_number = 2

[[articles]]
id = "2023-06-001"
section = "行业资讯"
title = "商务部：把握跨境电商发展机遇"
source = "《人民日报》"
compiled_by = "《电子商务动态》编辑部"
date = 2023-05-31
tags = ["跨境电商"]
body = \"\"\"
第一段，直播电商。

第二段（完）。\"\"\"

[[articles]]
id = "2023-06-002"
section = "数据观察"
title = "618 期间淘宝直播"
source = "“央广网”"
date = 2023-05-29
body = "5 月 26 日，淘宝直播宣布。"
"""

ISSUE_2023_07 = """\
# 编者按：下期草稿
id = "2023-07"
title = "电子商务动态 2023 年 7 月"
date = 2023-07-05
status = "draft"  # 待审

[[articles]]
id = "2023-07-001"
section = "政策法规"
title = "标题"
source = "《经济日报》"
date = 2023-07-01
body = "正文。"
"""


def _leaf_commands() -> list[tuple[list[str], object]]:
    """Every command path of the click tree (`export rss`, `add`, …) and its command."""
    found: list[tuple[list[str], object]] = []

    def walk(path: list[str], command: object) -> None:
        children = getattr(command, "commands", None)
        if children:
            for name, child in children.items():
                walk([*path, name], child)
        else:
            found.append((path, command))

    walk([], get_command(app))
    return found


# `serve` runs until it is interrupted (a preview server): its contract is tested where it
# is driven, tests/test_site_cli.py; every other command line must end.
LEAVES = [leaf for leaf in _leaf_commands() if leaf[0] != ["serve"]]
# Option spellings no command has, and ones that belong to other commands: noise.
NOISE = ["--nope", "-x", "--", "-", "--format=", "--limit=", "-h", "--version", "-n", "--edit"]


def _values(sandbox: Path) -> list[str]:
    archive = sandbox / "archive"
    return [
        "",
        "2023-06",
        "2023-07",
        "2023-06-001",
        "2023-08",
        "行业资讯",
        "数据观察",
        "《人民日报》",
        "《人民日报”",
        "today",
        "yesterday",
        "2023-07-01",
        "2023 年 07 月 01 日",
        "05 06 2023",
        "230529",
        "0001-01-01",
        "9999-12-31",
        "-1",
        "0",
        "3",
        "99999999999999999999999",
        "json",
        "text",
        "atom",
        "issue",
        "title",
        "nan",
        "utf-8",
        "rot13",
        "\x1b[2J\x1b]0;t\x07",
        "\x9b31m",
        "a\nb",
        "\udcff",  # a byte that was not UTF-8, as Python hands it over
        "\ud800",
        "长" * 300,
        "（" * 200,
        "-",
        "../x",
        "/dev/null",
        "https://example.org/a",
        "javascript:alert(1)",
        "#话题#",
        "跨\u200b境",
        "-直播",
        "a OR b",
        '"短 语"',
        str(archive / "ecdigest.toml"),
        str(archive / "2023" / "2023-06.toml"),
        str(archive / ".ecdigest"),
        str(archive),
        str(sandbox / "fifo"),
        str(sandbox / "out" / "feed.xml"),
        str(sandbox / "out"),
        str(sandbox / "body.txt"),
        str(sandbox / "nested"),
    ]


VALUE_INDEX = st.integers(min_value=0, max_value=len(_values(Path("/x"))) - 1)
VALUE = st.one_of(VALUE_INDEX.map(lambda i: ("val", i)), st.text(max_size=12).map(lambda t: ("raw", t)))


GOOD = {
    "title": ["标题", "a" * 20],
    "section": ["行业资讯", "数据观察"],
    "source": ["《人民日报》", "“央广网”", "《电子商务动态》编辑部"],
    "compiled_by": ["", "某人"],
    "date": ["2023-07-01", "today", "2023 年 07 月 02 日"],
    "body": ["第一段。\n\n第二段。", "#话题# 正文"],
    "issue": ["2023-06", "2023-07"],
    "issues": ["2023-06", "2023-07"],
    "issue_id": ["2023-08", "2023-09"],
    "words": ["直播", "电商", "-直播", "a OR b"],
    "query": ["直播", "电商"],
}


def _good(param: object) -> list[str]:
    """Values this parameter accepts, so that many examples get past parsing."""
    choices = getattr(getattr(param, "type", None), "choices", None)
    if choices:
        return [str(c) for c in choices]
    kind = getattr(getattr(param, "type", None), "name", "")
    if "integer" in kind:
        return ["0", "1", "40", "72"]
    return GOOD.get(getattr(param, "name", "") or "", [])


@st.composite
def command_lines(draw: st.DrawFn) -> list[tuple[str, object]]:
    """A command and a mix of its own options (mostly with values they accept), its
    arguments, and now and then a hostile value or a stray option."""
    path, command = draw(st.sampled_from(LEAVES))
    words: list[tuple[str, object]] = [("raw", part) for part in path]
    params = list(getattr(command, "params", []))
    options = [p for p in params if getattr(p, "param_type_name", "") == "option"]
    arguments = [p for p in params if getattr(p, "param_type_name", "") == "argument"]

    def value(param: object) -> tuple[str, object]:
        good = _good(param)
        if good and draw(st.integers(0, 9)) < 7:
            return ("raw", draw(st.sampled_from(good)))
        return draw(VALUE)

    for argument in arguments:
        if draw(st.booleans()):
            words.append(value(argument))
    for _ in range(draw(st.integers(min_value=0, max_value=5))):
        choice = draw(st.integers(min_value=0, max_value=19))
        if choice < 17 and options:
            option = draw(st.sampled_from(options))
            words.append(("raw", draw(st.sampled_from(option.opts))))
            if not getattr(option, "is_flag", False):
                words.append(value(option))
        elif choice < 19:
            words.append(draw(VALUE))
        else:
            words.append(("raw", draw(st.sampled_from(NOISE))))
    return words


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template")
    archive = root / "archive"
    (archive / "2023").mkdir(parents=True)
    from ecdigest.codec import encode_settings
    from ecdigest.model import Newsletter

    (archive / "ecdigest.toml").write_text(encode_settings(Newsletter()), "utf-8")
    (archive / ".gitignore").write_text(".ecdigest/\n", "utf-8")
    (archive / "2023" / "2023-06.toml").write_text(ISSUE_2023_06, "utf-8")
    (archive / "2023" / "2023-07.toml").write_text(ISSUE_2023_07, "utf-8")
    (root / "body.txt").write_text("正文第一段。\n\n第二段。\n", "utf-8")
    Archive.open(archive).issues()
    return root


@contextmanager
def sandbox_from(template: Path) -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="ecd-fuzz-"))
    sandbox = base / "sandbox"
    shutil.copytree(template, sandbox)
    os.mkfifo(sandbox / "fifo")
    previous = os.getcwd()
    os.chdir(sandbox)
    try:
        yield sandbox
    finally:
        os.chdir(previous)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module", autouse=True)
def _build_the_cli_once() -> Iterator[None]:
    """CliRunner rebuilds the click tree from the Typer app on every call (~25 ms): the
    examples share one tree (the same commands, callbacks and error handling)."""
    import typer.testing

    command = get_command(app)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", lambda typer_app: command)
        yield


def check_contract(template: Path, words: list[tuple[str, object]]) -> None:
    with sandbox_from(template) as sandbox:
        values = _values(sandbox)
        argv: list[str] = []
        for kind, word in words:
            argv.append(values[word] if kind == "val" else str(word))  # type: ignore[index]
        runner = CliRunner()

        def hung(signum: int, frame: object) -> None:
            raise TimeoutError(f"no answer in {EXAMPLE_SECONDS} s: argv={argv!r}")

        previous = signal.signal(signal.SIGALRM, hung)
        signal.alarm(EXAMPLE_SECONDS)
        try:
            result = runner.invoke(
                app,
                ["--archive", str(sandbox / "archive"), *argv],
                input="",
                env={"EDITOR": "true", "VISUAL": "", "ECDIGEST_LOCK_TIMEOUT": "5"},
                catch_exceptions=True,
            )
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
        event(f"exit {result.exit_code}")
        event(" ".join(argv[:2]) if argv[:1] == ["export"] else argv[0])
        where = f"argv={argv!r}\nexit={result.exit_code}\nstderr={result.stderr!r}"
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            where,
            repr(result.exception),
        )
        assert result.exit_code in (0, 1, 2), where
        assert "Traceback" not in result.output and "internal error" not in result.stderr, where
        # A command group given no command (`ecdigest export`) shows its help instead.
        if result.exit_code == 2 and not result.stderr.startswith("Usage:"):
            lines = result.stderr.splitlines()
            errors = [line for line in lines if line.startswith("ecdigest: error:")]
            others = [
                line for line in lines if not line.startswith(("ecdigest: error:", "ecdigest: warning:"))
            ]
            assert len(errors) == 1 and lines[-1] == errors[0] and not others, where
        for stream in (result.stdout, result.stderr):
            assert not TERMINAL_CONTROL.search(stream), where
        Archive.open(sandbox / "archive").issues()  # still opens, every file reads strictly
        assert stat_is_fifo(sandbox / "fifo"), where


def stat_is_fifo(path: Path) -> bool:
    import stat

    return stat.S_ISFIFO(os.lstat(path).st_mode)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command_lines())
def test_generated_command_lines_keep_the_contract(template: Path, words: list[tuple[str, object]]) -> None:
    check_contract(template, words)


@pytest.mark.slow
@settings(max_examples=4000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command_lines())
def test_generated_command_lines_keep_the_contract_at_length(
    template: Path, words: list[tuple[str, object]]
) -> None:
    check_contract(template, words)
