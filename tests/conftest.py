"""Shared fixtures: a fresh archive on disk, the CLI through CliRunner, and the real sample."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ecdigest.cli import app

TESTS = Path(__file__).parent
REPO = TESTS.parent
DATA = TESTS / "data"
SAMPLE = DATA / "ecd-2023-06.txt"
SHIPPED_ARCHIVE = REPO / "issues"

Invoke = Callable[..., Result]

# tests/_browser.py's `browser` fixture (headless Chromium), for the web archive's and the
# email's browser tests.
pytest_plugins = ["_browser"]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's archive, editor or debug settings; the clock is fixed."""
    for name in ("ECDIGEST_ARCHIVE", "ECDIGEST_DEBUG", "EDITOR", "VISUAL", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ECDIGEST_NOW", "2023-07-10T09:00:00+08:00")


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    """A private copy of the shipped archive (one published issue, 2023-06, 53 articles),
    without its derived state."""
    root = tmp_path / "shipped"
    shutil.copytree(SHIPPED_ARCHIVE, root, ignore=shutil.ignore_patterns(".ecdigest"))
    return root


@pytest.fixture
def archive_dir(tmp_path: Path) -> Path:
    """An empty, initialised archive."""
    from ecdigest.operations import init_archive

    root = tmp_path / "archive"
    init_archive(root)
    return root


@pytest.fixture
def invoke(archive_dir: Path) -> Invoke:
    """Run the CLI in-process against `archive_dir`: invoke("add", "2023-07", input=...)."""
    runner = CliRunner()

    def run(*args: str, input: str | bytes | None = None, archive: Path | None = None) -> Result:
        root = archive if archive is not None else archive_dir
        return runner.invoke(app, ["--archive", str(root), *args], input=input)

    return run


def run_cli(
    args: Sequence[str],
    *,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run the installed `ecdigest` script as a real subprocess (falls back to -m)."""
    exe = shutil.which("ecdigest", path=os.path.dirname(sys.executable)) or shutil.which("ecdigest")
    argv = [exe] if exe else [sys.executable, "-m", "ecdigest"]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ECDIGEST_")}
    full_env.update(env or {})
    return subprocess.run(
        [*argv, *args], input=input, capture_output=True, env=full_env, cwd=cwd, timeout=120, check=False
    )


# In CI (`CI=true`, which .ci/run sets) no test may skip: every test that needs a real part
# (Chromium, Xvfb and xclip, git, zsh and fish, an SMTP server, patch(1), a private mount
# namespace, the shipped archive) must run, and .ci/run installs what they need. One rule
# here rather than a check in each test: a skip in CI is reported as a failure.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = (
            f"skipped in CI, where every test must run: {reason} (.ci/run must install what it needs)"
        )
    return None
