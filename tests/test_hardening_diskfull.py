"""Disk full, read-only file systems and folders without write permission: every writing
command fails with one clear line (exit 2) and leaves every file as it was.

Root ignores file permissions, so the conditions are made real for whoever runs the tests:
- a full disk and a read-only file system are small tmpfs mounts inside a private mount
  namespace (`unshare -m` as root, else `unshare -rm`, a user namespace), so nothing leaks
  to the host and nothing needs cleaning up; the scenario runs inside the namespace (this
  module's `scenario()`) and reports what it saw as JSON;
- a folder without write permission is plain `chmod` for a normal user, and for root the
  commands run as an unprivileged user (`setpriv --reuid 65534`).
A test is skipped only when none of these is available here, and says why.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

import pytest
from _hardening import SAMPLE, TESTS, cli_env, copy_shipped, ecdigest_argv, snapshot, temp_files

TMPFS_SIZE = "4m"


def _add(archive: Path, title: str, *body: str) -> list[str]:
    return ["--archive", str(archive), "add", "--force", "2023-06", "--title", title, "--section", "行业资讯",
            "--source", "《人民日报》", "--date", "2023-06-02", *body]  # fmt: skip


def _writing_commands(root: Path) -> dict[str, list[str]]:
    """Every command that writes, each with something to write."""
    archive = root / "archive"
    return {
        "add": _add(archive, "写不进去的稿件", "--body-file", str(root / "body.txt")),
        "new": ["--archive", str(archive), "new", "--id", "2023-08", "--date", "2023-07-01"],
        "import": ["--archive", str(archive), "import", str(root / "sample.txt"), "--id", "2023-05"],
        "validate-fix": ["--archive", str(archive), "validate", "--fix"],
        "publish": ["--archive", str(archive), "publish", "2023-07", "--force"],
        "export": ["--archive", str(archive), "export", "markdown", "2023-06", "-o", str(root / "out.md")],
        "build": ["--archive", str(archive), "build", "-o", str(root / "site")],
    }


def prepare(root: Path) -> None:
    """An archive, a site one article behind it, a stale export and a draft to publish."""
    env = cli_env()
    archive = copy_shipped(root / "archive")
    shutil.copy(SAMPLE, root / "sample.txt")

    def cli(*args: str) -> None:
        result = subprocess.run([*ecdigest_argv(), *args], env=env, capture_output=True, check=False)
        assert result.returncode == 0, (args, result.stderr.decode())

    cli("--archive", str(archive), "build", "-o", str(root / "site"))
    cli(*_add(archive, "站点还没有的稿件", "--body", "正文。"))
    cli("--archive", str(archive), "new", "--id", "2023-07", "--date", "2023-07-05")
    (root / "out.md").write_text("旧的导出\n", "utf-8")
    (root / "body.txt").write_text("很长的正文。" * 20000, "utf-8")  # more than any free page


def attempt(root: Path, expect: str) -> dict[str, dict[str, object]]:
    """Run every writing command; what each did to the files, its exit code and stderr."""
    env = cli_env(ECDIGEST_LOCK_TIMEOUT="5")
    seen: dict[str, dict[str, object]] = {}
    for name, args in _writing_commands(root).items():
        before = snapshot(root)
        result = subprocess.run(
            [*ecdigest_argv(), *args], env=env, capture_output=True, check=False, timeout=120
        )
        after = snapshot(root)
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        seen[name] = {
            "code": result.returncode,
            "stderr": result.stderr.decode("utf-8", "replace"),
            "changed": [c for c in changed if c != "filler"],
            "temp": temp_files(root),
            "expect": expect,
        }
    return seen


def _fill(path: Path) -> None:
    """Write until the file system is full."""
    with open(path, "wb", buffering=0) as handle:
        for chunk in (b"\0" * 65536, b"\0" * 512, b"\0"):
            while True:
                try:
                    handle.write(chunk)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    break


def scenario(kind: str, root: str) -> None:
    """Runs inside the private mount namespace, with a fresh tmpfs mounted at `root`."""
    where = Path(root)
    prepare(where)
    if kind == "full":
        _fill(where / "filler")
        seen = attempt(where, "no space left on the device")
        (where / "filler").unlink()
    else:
        subprocess.run(["mount", "-o", "remount,ro", root], check=True)
        seen = attempt(where, "the file system is read-only")
        subprocess.run(["mount", "-o", "remount,rw", root], check=True)
    # Space or write access back: the archive works as before.
    again = subprocess.run(
        [*ecdigest_argv(), *_add(where / "archive", "恢复之后的稿件", "--body", "正文。")],
        env=cli_env(),
        capture_output=True,
        check=False,
    )
    seen["recovered"] = {"code": again.returncode, "stderr": again.stderr.decode("utf-8", "replace")}
    print(json.dumps(seen, ensure_ascii=False))


@cache
def namespace_prefix() -> tuple[list[str] | None, str]:
    """How to get a private mount namespace here (argv prefix), or why there is none."""
    if shutil.which("unshare") is None:
        return None, "no unshare(1) here"
    candidates = [["unshare", "-m"]] if os.geteuid() == 0 else []
    candidates.append(["unshare", "-rm"])
    reasons = []
    with tempfile.TemporaryDirectory() as probe:
        for prefix in candidates:
            result = subprocess.run(
                [*prefix, "sh", "-c", 'mount -t tmpfs -o size=64k tmpfs "$1" && umount "$1"', "sh", probe],
                capture_output=True,
                check=False,
            )
            if result.returncode == 0:
                return prefix, ""
            reasons.append(f"{' '.join(prefix)}: {result.stderr.decode().strip()}")
    return None, "; ".join(reasons)


def run_scenario(kind: str, tmp_path: Path) -> dict[str, dict[str, object]]:
    prefix, why = namespace_prefix()
    if prefix is None:
        pytest.skip(
            f"cannot mount a tmpfs in a private namespace here ({why}); needs root or user namespaces"
        )
    where = tmp_path / "mnt"
    where.mkdir()
    code = (
        f"import sys; sys.path[:0] = [{str(TESTS)!r}]\n"
        "import test_hardening_diskfull as t; t.scenario(sys.argv[1], sys.argv[2])"
    )
    result = subprocess.run(
        [*prefix, "sh", "-c", 'mount -t tmpfs -o "size=$2" tmpfs "$1" && shift 2 && exec "$@"', "sh",
         str(where), TMPFS_SIZE, sys.executable, "-c", code, kind, str(where)],
        capture_output=True, check=False, timeout=600, env=cli_env(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    assert list(where.iterdir()) == [], "the tmpfs leaked out of its namespace"
    seen: dict[str, dict[str, object]] = json.loads(result.stdout.decode().strip().splitlines()[-1])
    return seen


def _assert_clean_failures(seen: dict[str, dict[str, object]]) -> None:
    recovered = seen.pop("recovered")
    assert recovered["code"] == 0, recovered["stderr"]
    assert set(seen) == {"add", "new", "import", "validate-fix", "publish", "export", "build"}
    for name, what in seen.items():
        stderr = str(what["stderr"])
        assert what["code"] == 2, (name, what)
        assert stderr.count("\n") == 1 and stderr.startswith("ecdigest: error: "), (name, stderr)
        assert str(what["expect"]) in stderr, (name, stderr)
        assert "Traceback" not in stderr
        assert what["changed"] == [], (name, "changed files", what["changed"])
        assert what["temp"] == [], (name, "left temp files", what["temp"])


def test_disk_full_fails_cleanly_and_changes_nothing(tmp_path: Path) -> None:
    seen = run_scenario("full", tmp_path)
    _assert_clean_failures(seen)
    for name, what in seen.items():  # the line says what became of the file
        outcome = "nothing was written" if name in ("new", "import") else "the previous file is unchanged"
        assert outcome in str(what["stderr"]), (name, what["stderr"])


def test_read_only_file_system_fails_cleanly_and_changes_nothing(tmp_path: Path) -> None:
    _assert_clean_failures(run_scenario("readonly", tmp_path))


# --------------------------------------------------------------------------- permissions


@cache
def unprivileged_prefix() -> tuple[list[str] | None, str]:
    """How to run the CLI so that file permissions apply: as we are, or dropped to nobody."""
    if os.geteuid() != 0:
        return [], ""
    if shutil.which("setpriv") is None:
        return None, "running as root and setpriv(1) is missing"
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run(
        [*prefix, *ecdigest_argv(), "--version"], capture_output=True, check=False, env=cli_env()
    )
    if probe.returncode != 0:
        return None, f"the CLI does not run as uid 65534: {probe.stderr.decode().strip()}"
    return prefix, ""


def test_folders_without_write_permission_fail_cleanly(tmp_path: Path) -> None:
    prefix, why = unprivileged_prefix()
    if prefix is None:
        pytest.skip(f"cannot make permissions apply here ({why})")
    # A world-readable place: pytest's own tmp folders are private to their owner.
    root = Path(tempfile.mkdtemp(prefix="ecdigest-perm-"))
    try:
        prepare(root)
        for folder, dirs, files in os.walk(root):
            for name in files:
                os.chmod(Path(folder) / name, 0o444)
            for name in dirs:
                os.chmod(Path(folder) / name, 0o555)
        os.chmod(root, 0o555)
        env = cli_env(ECDIGEST_LOCK_TIMEOUT="5")
        for name, args in _writing_commands(root).items():
            before = snapshot(root)
            result = subprocess.run(
                [*prefix, *ecdigest_argv(), *args], env=env, capture_output=True, check=False, timeout=120
            )
            stderr = result.stderr.decode("utf-8", "replace")
            assert result.returncode == 2, (name, result.returncode, stderr)
            assert stderr.count("\n") == 1 and stderr.startswith("ecdigest: error: "), (name, stderr)
            assert "permission denied" in stderr, (name, stderr)
            assert snapshot(root) == before, name
            assert temp_files(root) == [], name
    finally:
        for folder, dirs, _files in os.walk(root):
            for name in dirs:
                os.chmod(Path(folder) / name, stat.S_IRWXU)
        os.chmod(root, stat.S_IRWXU)
        shutil.rmtree(root)
