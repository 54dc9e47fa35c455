"""The launcher's one parser serves every fast command; what it cannot answer goes to Typer."""

from __future__ import annotations

import pytest

from ecdigest.launcher import parse_argv

SHOW = {"format": "text", "width": None, "toc": False, "section": None, "no_pager": False}


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["list"], ("list", None, [], {"format": "text"})),
        (["-a", "x", "list", "-f", "JSON"], ("list", "x", [], {"format": "json"})),
        (["--archive=x", "list", "--format=json"], ("list", "x", [], {"format": "json"})),
        (["-ax", "list", "--format", "text"], ("list", "x", [], {"format": "text"})),
        (["show"], ("show", None, [], {**SHOW, "format": "text"})),
        (["show", "2023-06", "-fjson"], ("show", None, ["2023-06"], {**SHOW, "format": "json"})),
        (["show", "--width", "40", "x"], ("show", None, ["x"], {**SHOW, "width": 40})),
        (
            ["show", "x", "--toc", "--no-pager"],
            ("show", None, ["x"], {**SHOW, "toc": True, "no_pager": True}),
        ),
        (["show", "--section=数据观察", "x"], ("show", None, ["x"], {**SHOW, "section": "数据观察"})),
    ],
)
def test_fast_command_lines(argv: list[str], expected: tuple[object, ...]) -> None:
    assert parse_argv(argv) == expected


@pytest.mark.parametrize(
    "argv",
    [
        ["list", "extra"],
        ["list", "--format", "yaml"],
        ["list", "-f"],
        ["list", "--help"],
        ["list", "-h"],
        ["--debug", "list"],
        ["show", "a", "b"],
        ["show", "--width", "19"],
        ["show", "--width", "1001"],
        ["show", "-h"],
        ["show", "--toc=yes"],
        ["show", "--section"],
        ["--archive"],
        [],
    ],
)
def test_other_command_lines_are_left_to_the_app(argv: list[str]) -> None:
    assert parse_argv(argv) is None


# --------------------------------------------------------------------------- `ecdigest --help`


def _help(args: list[str], env: dict[str, str]) -> bytes:
    import os
    import subprocess
    import sys

    full = {k: v for k, v in os.environ.items() if not k.startswith("ECDIGEST_") and k != "COLUMNS"}
    full.update(env)
    result = subprocess.run(
        [sys.executable, "-m", "ecdigest", *args], capture_output=True, env=full, timeout=60, check=False
    )
    assert result.returncode == 0 and result.stderr == b"", result.stderr
    return result.stdout


@pytest.mark.parametrize(
    "columns", [None, "40", "50", "52", "61", "79", "80", "81", "200", "0", "abc", " 70"]
)
def test_help_is_typers_own_text_at_every_width(tmp_path: object, columns: str | None) -> None:
    """The launcher answers `--help` from a kept copy of Typer's rendering: byte for byte
    what Typer prints, the first time (rendered and kept) and the next (read back)."""
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    if columns is not None:
        env["COLUMNS"] = columns
    typer_text = _help(["--help"], {**env, "ECDIGEST_DEBUG": "1"})
    assert typer_text.startswith(b"Usage: ecdigest [OPTIONS] COMMAND [ARGS]...")
    first, again, short = _help(["--help"], env), _help(["--help"], env), _help(["-h"], env)
    assert first == again == short == typer_text


def test_help_without_a_writable_cache_folder(tmp_path: object) -> None:
    from pathlib import Path

    blocked = Path(str(tmp_path)) / "file"
    blocked.write_text("not a folder")
    env = {"XDG_CACHE_HOME": str(blocked)}
    assert _help(["--help"], env) == _help(["--help"], {**env, "ECDIGEST_DEBUG": "1"})


def test_help_cache_key_follows_the_width_and_the_version(monkeypatch: pytest.MonkeyPatch) -> None:
    from ecdigest import __version__, launcher

    monkeypatch.setenv("COLUMNS", "60")
    narrow = launcher._help_cache()
    monkeypatch.setenv("COLUMNS", "100")
    wide = launcher._help_cache()
    assert narrow and wide and narrow != wide
    monkeypatch.setattr("ecdigest.__version__", __version__ + ".changed")
    assert launcher._help_cache() not in (None, wide)
