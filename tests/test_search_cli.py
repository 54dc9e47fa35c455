"""`ecdigest search` from the console script: the Typer-free fast path, and that it agrees
with the Typer command in everything (one definition of the options, one way to fail)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, Invoke
from test_search import write_issue
from typer.main import get_command

from ecdigest import launcher
from ecdigest.cli import app
from ecdigest.launcher import parse_argv, search_options


@pytest.fixture
def archive(archive_dir: Path) -> Path:
    write_issue(
        archive_dir,
        "2023-01",
        [
            {
                "title": "直播电商新规",
                "body": "网络直播营销，５Ｇ。",
                "section": "政策法规",
                "source": "“央广网”",
            },
            {"title": "跨境数据", "body": "跨境电商 ChatGPT 直播", "section": "数据观察"},
            {"title": "无关", "body": "别的", "section": "行业资讯"},
        ],
        date=dt.date(2023, 1, 5),
    )
    write_issue(archive_dir, "2023-02", [{"title": "OR 与 or", "body": "-5G"}], date=dt.date(2023, 2, 6))
    return archive_dir


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECDIGEST_")}
    env["ECDIGEST_NOW"] = "2023-07-10T09:00:00+08:00"
    return env


def run_module(args: list[str], *, importtime: bool = False) -> subprocess.CompletedProcess[bytes]:
    """`python -m ecdigest ARGS`, which enters through the launcher like the console script."""
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run(
        [sys.executable, *flags, "-m", "ecdigest", *args],
        capture_output=True,
        env=_env(),
        cwd=REPO,
        timeout=120,
        check=False,
    )


def imported(stderr: bytes) -> set[str]:
    """Modules the command imported (after `site`, whose .pth hooks are the environment's)."""
    names: set[str] = set()
    for line in stderr.decode().splitlines():
        if line.startswith("import time:"):
            name = line.rsplit("|", 1)[-1].strip()
            if name == "site":
                names.clear()
            else:
                names.add(name)
    return names


COMMAND_LINES = [
    ["直播"],
    ["直播", "--format", "json"],
    ["直播", "--format=JSON", "--limit", "1"],
    ["跨境", "电商", "--section", "数据观察"],
    ["直播", "-跨境"],
    ["直播", "OR", "chatgpt", "--sort", "date"],
    ["５Ｇ", "--in", "body"],
    ["--", "-5G"],
    ['"OR"'],
    ["直播", "--source", "央广网", "--since", "2023-01-01", "--until", "2023 年 1 月 31 日"],
    ["直播", "--issue", "2023-01", "--issue", "2023-02"],
    ["区块链"],
    # errors: reported by the Typer path, whichever way the command line came in
    ["直播", "--section", "体育"],
    ["直播", "--issue", "nope"],
    ["直播", "--limit", "-3"],
    ["直播", "--limit"],
    ["直播", "--sort", "newest"],
    ["直播", "--bogus"],
    ["-直播"],
    ['"直播'],
    ["直播", "OR"],
]


@pytest.mark.parametrize("args", COMMAND_LINES, ids=[" ".join(a) for a in COMMAND_LINES])
def test_fast_path_and_typer_agree(invoke: Invoke, archive: Path, args: list[str]) -> None:
    typer_result = invoke("search", *args, archive=archive)
    process = run_module(["--archive", str(archive), "search", *args])
    assert process.returncode == typer_result.exit_code, process.stderr.decode()
    assert process.stdout.decode() == typer_result.stdout
    assert process.stderr.decode() == typer_result.stderr
    assert "Traceback" not in process.stderr.decode()


def test_plain_search_does_not_load_typer_or_rich(archive: Path) -> None:
    old = dt.datetime.now().timestamp() - 60
    for path in archive.rglob("*.toml"):
        os.utime(path, (old, old))
    assert run_module(["-a", str(archive), "search", "直播"]).returncode == 0  # builds the index
    process = run_module(["-a", str(archive), "search", "直播", "--since", "2023-01-01"], importtime=True)
    assert process.returncode == 0
    names = imported(process.stderr)
    # SQLite's C module (derived.sqlite_driver; not the sqlite3 package): the search ran.
    assert "_sqlite3" in names
    assert not {
        n for n in names if n.split(".")[0] in {"typer", "click", "rich", "pathlib", "typing", "tomllib"}
    }


def test_help_does_not_load_sqlite_or_the_index() -> None:
    process = run_module(["--help"], importtime=True)
    assert process.returncode == 0
    names = imported(process.stderr)
    assert not {n for n in names if n.split(".")[0] in {"sqlite3", "_sqlite3", "rich"}}
    assert "ecdigest.search_index" not in names


def test_search_help_goes_to_typer() -> None:
    process = run_module(["search", "--help"])
    assert process.returncode == 0
    assert "Example: ecdigest search" in process.stdout.decode()
    for opt in search_options():
        assert opt.flag in process.stdout.decode()


def test_broken_pipe_is_quiet(archive: Path) -> None:
    for n in range(3, 30):
        write_issue(
            archive,
            f"2023-{n:02d}",
            [{"title": "直播", "body": "直播 " * 50}],
            date=dt.date(2024, 1, 1),
            name=f"{n}.toml",
        )
    proc = subprocess.Popen(
        [sys.executable, "-m", "ecdigest", "-a", str(archive), "search", "直播", "--limit", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0
    assert b"Traceback" not in err


def test_highlighting_on_a_terminal_only(archive: Path) -> None:
    import pty

    def on_terminal(extra_env: dict[str, str]) -> str:
        main, secondary = pty.openpty()
        env = {**_env(), "TERM": "xterm-256color", **extra_env}
        proc = subprocess.Popen(
            [sys.executable, "-m", "ecdigest", "-a", str(archive), "search", "直播"],
            stdout=secondary,
            stderr=subprocess.PIPE,
            env=env,
        )
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=60)
        os.close(main)
        return b"".join(chunks).decode()

    coloured = on_terminal({})
    assert "\x1b[" in coloured and "直播" in coloured
    plain = on_terminal({"NO_COLOR": "1"})
    assert "\x1b[" not in plain and "直播电商新规" in plain
    piped = run_module(["-a", str(archive), "search", "直播"]).stdout.decode()
    assert "\x1b[" not in piped


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["search", "直播"], (None, ["直播"], {})),
        (["-a", "x", "search", "直播", "-跨境"], ("x", ["直播", "-跨境"], {})),
        (["-ax", "search", "a"], ("x", ["a"], {})),
        (["--archive", "x", "search", "a"], ("x", ["a"], {})),
        (["--archive=x", "search", "a"], ("x", ["a"], {})),
        (["search", "a", "--limit=0", "b"], (None, ["a", "b"], {"limit": 0})),
        (["search", "a", "--section", "S1", "--section=S2"], (None, ["a"], {"section": ["S1", "S2"]})),
        (
            ["search", "a", "--in", "TITLE", "--format", "Json"],
            (None, ["a"], {"within": "title", "format": "json"}),
        ),
        (["search", "a", "--", "--limit", "-x"], (None, ["a", "--limit", "-x"], {})),
        (["search", "a", "--source", "--x"], (None, ["a"], {"source": ["--x"]})),
    ],
)
def test_parse_search_argv(argv: list[str], expected: tuple[object, list[str], dict[str, object]]) -> None:
    parsed = parse_argv(argv)
    assert parsed is not None
    command, archive, words, values = parsed
    assert command == "search"
    defaults = {o.name: ([] if o.multiple else o.default) for o in search_options()}
    assert (archive, words, values) == (expected[0], expected[1], {**defaults, **expected[2]})


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["list"],
        ["--help"],
        ["--version"],
        ["--debug", "search", "a"],
        ["search"],
        ["search", "--help"],
        ["search", "a", "--help"],
        ["search", "a", "--limit"],
        ["search", "a", "--limit", "x"],
        ["search", "a", "--limit", "-1"],
        ["search", "a", "--sort", "best"],
        ["search", "a", "--unknown", "v"],
        ["-a"],
        ["export", "search", "a"],
    ],
)
def test_anything_else_goes_to_typer(argv: list[str]) -> None:
    parsed = parse_argv(argv)
    assert parsed is None or parsed[0] != "search"


def test_debug_environment_goes_to_typer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECDIGEST_DEBUG", "1")
    assert launcher.fast_path(["search", "a"]) is None


def test_typer_command_is_built_from_the_one_table() -> None:
    command = get_command(app).commands["search"]  # type: ignore[attr-defined]
    options = {p.name: p for p in command.params if p.param_type_name == "option"}
    assert list(options)[: len(search_options())] == [o.name for o in search_options()]
    for opt in search_options():
        param = options[opt.name]
        assert param.opts == [opt.flag, *opt.aliases]
        assert bool(param.multiple) == opt.multiple
        assert param.help == opt.help
        if opt.kind == "choice":
            assert list(param.type.choices) == list(opt.choices)
            assert param.default.value == opt.default
        elif not opt.multiple:
            assert param.default == opt.default
    assert command.context_settings["ignore_unknown_options"] is True


def test_search_across_scripts_from_the_command_line(archive_dir: Path) -> None:
    """A query in either script finds articles in either (the Taiwan and Hong Kong editions'
    conversions of a Simplified text), 1- and 2-character terms too; the hits show each
    article's own text."""
    from ecdigest import zhconv

    simplified = "跨境电商平台的网购与直播带货，台湾地区发展显著。"
    tw = zhconv.converter("zh-Hant-TW").convert(simplified)
    hk = zhconv.converter("zh-Hant-HK").convert(simplified)
    assert tw != hk and "電商" in tw and "電商" in hk
    write_issue(
        archive_dir,
        "2023-01",
        [
            {"title": "简体稿", "body": simplified},
            {"title": "繁體稿", "body": tw},
            {"title": "港版稿", "body": hk},
            {"title": "无关", "body": "别的内容"},
        ],
        date=dt.date(2023, 1, 5),
    )
    every = ["2023-01-001", "2023-01-002", "2023-01-003"]
    cases = {
        "跨境電商": every,
        "跨境电商": every,
        "電": every,
        "电": every,
        "網購": every,
        "网购": every,
        "臺灣": every,
        "台湾": every,
        "帶": every,
        "稿": every,  # the titles: 稿 is the same in both scripts
        "繁體": ["2023-01-002"],
        "繁体": ["2023-01-002"],
        "别": ["2023-01-004"],
        "別": ["2023-01-004"],
    }
    import json

    for term, expected in cases.items():
        process = run_module(["--archive", str(archive_dir), "search", term, "-f", "json", "-n", "0"])
        assert process.returncode == 0, (term, process.stderr.decode())
        hits = json.loads(process.stdout.decode())
        assert sorted(h["article"] for h in hits) == expected, term
    process = run_module(["--archive", str(archive_dir), "search", "网购", "-f", "json", "-n", "0"])
    shown = {h["article"]: (h["title"], h["snippet"]) for h in json.loads(process.stdout.decode())}
    assert shown["2023-01-002"] == ("繁體稿", tw)
    assert shown["2023-01-003"] == ("港版稿", hk)
    assert shown["2023-01-001"] == ("简体稿", simplified)
    # Text output: each article's own characters.
    process = run_module(["--archive", str(archive_dir), "search", "台湾地区"])
    assert process.returncode == 0
    out = process.stdout.decode()
    assert "繁體稿" in out and "臺灣地區" in out and "台灣地區" in out and "台湾地区" in out
