"""Start-up: each command loads only what it uses.

--help and --version load nothing outside the standard library but typer and its own small
dependencies (an allow-list, so a new import anywhere is caught), and the everyday commands
load none of the heavy libraries they do not need. Timings are in
bench/bench_startup.py, not here: the machine is shared and noisy.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path

import pytest
from _hardening import SHIPPED_ARCHIVE, cli_env

HEAVY = {
    "rich",
    "feedgen",
    "lxml",
    "dateutil",
    "tomli_w",
    "sqlite3",
    "_sqlite3",
    "charset_normalizer",
    "pydantic",
    "opencc",
}

PROBE = (
    "import sys, runpy\n"
    "sys.argv = ['ecdigest', *sys.argv[1:]]\n"
    "try:\n    runpy.run_module('ecdigest', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    "import json\n"
    "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)\n"
)


def loaded_by(*args: str) -> set[str]:
    """Top-level modules loaded when `ecdigest ARGS` runs to its end (stdout not a terminal)."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=False, env=cli_env()
    )
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


def _typer_own_dependencies() -> set[str]:
    """typer's declared dependencies as module names, less rich (typer imports it lazily)."""
    names = set()
    for line in requires("typer") or []:
        if "extra ==" in line:
            continue
        name = line.split(";")[0].split("[")[0].strip()
        for sep in "<>=!~ ":
            name = name.split(sep)[0]
        names.add(name.lower().replace("-", "_"))
    return names - {"rich"}


def _site_hooks(name: str) -> bool:
    """Modules the interpreter's site setup loads before our code (editable installs, pip)."""
    return name in {"__main__", "_distutils_hack"} or name.startswith(("__editable__", "_sysconfigdata"))


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["list", "--help"], ["export", "--help"]])
def test_help_and_version_load_only_the_stdlib_and_typer(args: list[str]) -> None:
    allowed = {"ecdigest", "typer", *_typer_own_dependencies()}
    extra = {
        m
        for m in loaded_by(*args)
        if m not in sys.stdlib_module_names and m not in allowed and not _site_hooks(m)
    }
    assert not extra, f"ecdigest {' '.join(args)} loads {sorted(extra)}"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shipped archive with a warm search index (search writes ARCHIVE/.ecdigest)."""
    root = tmp_path_factory.mktemp("startup") / "archive"
    shutil.copytree(SHIPPED_ARCHIVE, root, ignore=shutil.ignore_patterns(".ecdigest"))
    loaded_by("--archive", str(root), "search", "跨境")
    return root


# The catalog (catalog.py) and the search index are SQLite: commands that find an issue by
# its id, or list them all, ask the catalog instead of parsing every issue file.
SQLITE = {"sqlite3", "_sqlite3"}


@pytest.mark.parametrize(
    ("args", "forbidden"),
    [
        (["list"], HEAVY - SQLITE),
        (["list", "--format", "json"], HEAVY - SQLITE),
        (["show", "2023-06"], HEAVY - SQLITE),
        (["export", "json", "2023-06"], HEAVY - SQLITE),
        # The whole archive's validate reads the kept per-file results (validate_cache.py).
        (["validate"], HEAVY - SQLITE),
        (["search", "跨境"], HEAVY - SQLITE),
        (["search", "跨境", "--format", "json"], HEAVY - SQLITE),
        (["export", "markdown", "2023-06"], HEAVY - SQLITE),
    ],
)
def test_commands_load_only_what_they_use(archive: Path, args: list[str], forbidden: set[str]) -> None:
    loaded = loaded_by("--archive", str(archive), *args)
    assert "ecdigest" in loaded
    assert not loaded & forbidden, f"ecdigest {' '.join(args)} loads {sorted(loaded & forbidden)}"


def _cli(args: list[str], **env: str) -> subprocess.CompletedProcess[bytes]:
    from _hardening import ecdigest_argv

    return subprocess.run(
        [*ecdigest_argv(), *args], capture_output=True, check=False, env=cli_env(**env), timeout=60
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["list"],
        ["list", "--format", "json"],
        ["list", "-f", "JSON"],
        ["list", "--format=json"],
        ["list", "--format", "text"],
        ["show"],
        ["show", "2023-06"],
        ["show", "2023-06", "-f", "json"],
        ["show", "--width", "40", "2023-06"],
    ],
)
def test_the_fast_paths_print_what_the_typer_app_prints(archive: Path, args: list[str]) -> None:
    """`--version`, `list` off a terminal and `show` skip Typer (ecdigest/launcher.py); the
    bytes must be the app's own (ECDIGEST_DEBUG=1 turns the fast paths off)."""
    full = args if args == ["--version"] else ["--archive", str(archive), *args]
    fast, slow = _cli(full), _cli(full, ECDIGEST_DEBUG="1")
    assert fast.returncode == slow.returncode == 0, (fast.stderr, slow.stderr)
    assert fast.stdout == slow.stdout and fast.stderr == slow.stderr
    if (
        args == ["--version"]
        or args[-1] == "text"
        or args == ["list"]
        or (args[0] == "show" and "nope" not in args)
    ):
        assert "typer" not in loaded_by(*full)


def test_the_fast_list_path_leaves_errors_and_odd_command_lines_to_the_app(tmp_path: Path) -> None:
    missing = _cli(["--archive", str(tmp_path / "none"), "list"])
    assert missing.returncode == 2
    assert missing.stderr.decode().startswith("ecdigest: error: ") and missing.stderr.count(b"\n") == 1
    empty = tmp_path / "empty"
    assert _cli(["init", str(empty)]).returncode == 0
    quiet = _cli(["--archive", str(empty), "list"])
    assert quiet.returncode == 0 and quiet.stdout == b"" and b"no issues in" in quiet.stderr
    bad = _cli(["--archive", str(empty), "list", "--format", "yaml"])
    assert bad.returncode == 2 and b"yaml" in bad.stderr
    for args in (["show", "nope"], ["show"]):
        failed = _cli(["--archive", str(empty), *args])
        assert failed.returncode == 2 and failed.stderr.count(b"\n") == 1, (args, failed.stderr)
        assert failed.stderr.startswith(b"ecdigest: error: "), failed.stderr
    for args in (["show", "--width", "5"], ["show", "a", "b"]):  # click's usage errors
        failed = _cli(["--archive", str(empty), *args])
        assert failed.returncode == 2 and b"Traceback" not in failed.stderr, (args, failed.stderr)


def test_list_loads_no_typing(archive: Path) -> None:
    """`list` answers from the catalog without a TOML parser (tomllib imports typing), so
    nothing it imports needs typing (~2 ms of its start-up): ecdigest's own modules import
    it for type checking only."""
    assert "typing" not in loaded_by("--archive", str(archive), "list")


def test_show_loads_no_dataclasses_toml_parser_or_typing(archive: Path) -> None:
    """`show ISSUE` makes the model's classes without the dataclasses module (records.py:
    it imports inspect, ~7 ms), reads a plain ecdigest.toml without tomllib (fasttoml.py;
    tomllib imports typing) and asks the catalog through `_sqlite3`, not the package."""
    loaded = loaded_by("--archive", str(archive), "show", "2023-06")
    assert "ecdigest" in loaded
    assert not loaded & {"dataclasses", "inspect", "tomllib", "typing", "sqlite3"}, sorted(loaded)


def test_add_loads_no_dataclasses_hashlib_or_typing(tmp_path: Path) -> None:
    """`add` (the launcher's, with its guard rails: validate's rules) makes its classes with
    records.py, hashes with `_blake2` (hashlib loads OpenSSL) and imports typing for type
    checking only."""
    root = tmp_path / "archive"
    shutil.copytree(SHIPPED_ARCHIVE, root, ignore=shutil.ignore_patterns(".ecdigest"))
    assert _cli(["--archive", str(root), "new", "--id", "2023-07", "--date", "2023-07-01"]).returncode == 0
    args = ["--title", "标题", "--section", "行业资讯", "--source", "《人民日报》", "--date", "2023-06-30"]
    loaded = loaded_by("--archive", str(root), "add", *args, "--body", "正文。")
    assert "ecdigest" in loaded and "_sqlite3" in loaded
    assert not loaded & {"dataclasses", "inspect", "hashlib", "typing", "sqlite3", "tomllib", "typer"}, (
        sorted(loaded)
    )
    assert "2023-07-001" in (root / "2023" / "2023-07.toml").read_text("utf-8")
