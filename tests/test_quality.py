"""The repository's own standards, checked where CI runs: lint, format, types, docs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from conftest import REPO

from ecdigest.cli import app


def _tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    "args",
    [("ruff", "check", "."), ("ruff", "format", "--check", "."), ("mypy",)],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_lint_format_and_types_are_clean(args: tuple[str, ...]) -> None:
    result = _tool(*args)  # "No module named ...": install the test extra
    assert result.returncode == 0, result.stdout + result.stderr


def _commands() -> list[str]:
    group = typer.main.get_command(app)
    names = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        names += [f"{name} {s}" for s in sub] if sub else [name]
    return names


def test_every_command_is_in_the_readme_reference() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    reference = readme[readme.index("## Command reference") :]
    missing = [name for name in _commands() if f"`ecdigest {name}" not in reference]
    assert not missing, f"README's command reference lacks: {missing}"


def test_every_module_is_in_the_readme_architecture_table() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    architecture = readme[readme.index("## Architecture") :]
    modules = [
        p.relative_to(REPO / "ecdigest").as_posix()
        for p in (REPO / "ecdigest").rglob("*.py")
        if p.name not in ("__init__.py", "__main__.py") or p.parent.name == "export"
    ]
    missing = [m for m in modules if m not in architecture and m.split("/")[-1] not in architecture]
    assert not missing, f"README's architecture table lacks: {missing}"


def test_readme_opens_with_the_commands_ci_runs() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    ci = (REPO / ".ci" / "run").read_text("utf-8")
    test_command = next(line for line in ci.splitlines() if "pytest" in line)
    blocks = readme.split("```sh\n")
    first, second = blocks[1].split("\n```")[0], blocks[2].split("\n```")[0]
    assert "ecdigest build" in first and "pip install" in first
    assert second == test_command


def test_in_ci_a_skipped_test_fails(tmp_path: Path) -> None:
    """tests/conftest.py: with CI=true (which .ci/run sets) a skip is a failure, so a test
    whose real part is missing cannot pass CI by skipping; elsewhere it stays a skip."""
    (tmp_path / "test_part.py").write_text(
        'import pytest\n\n\ndef test_needs_a_part() -> None:\n    pytest.skip("no part here")\n', "utf-8"
    )
    outcomes = {}
    for ci in ("", "true"):
        env = {**os.environ, "CI": ci, "PYTHONPATH": str(Path(__file__).parent)}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest",
             "--rootdir", str(tmp_path), str(tmp_path / "test_part.py")],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        outcomes[ci] = (result.returncode, result.stdout)
    assert outcomes[""][0] == 0 and "1 skipped" in outcomes[""][1]
    assert (
        outcomes["true"][0] == 1
        and "skipped in CI, where every test must run: Skipped: no part here" in outcomes["true"][1]
    )
    assert "export CI=" in (REPO / ".ci" / "run").read_text("utf-8")
