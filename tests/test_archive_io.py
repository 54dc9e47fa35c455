"""Atomic, locked, change-only writes; concurrent adds lose nothing; start-up stays light."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import run_cli

from ecdigest.archive import Archive
from ecdigest.errors import EcdigestError, InputError
from ecdigest.fileio import FileLock, atomic_write, sweep_temp_files, temp_path, write_if_changed


def test_atomic_write_replaces_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "a.toml"
    target.write_bytes(b"old")
    target.chmod(0o640)
    atomic_write(target, "新内容".encode())
    assert target.read_bytes() == "新内容".encode()
    assert target.stat().st_mode & 0o777 == 0o640  # permissions survive the rename
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.toml"]


def test_write_if_changed_leaves_identical_files_alone(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    assert write_if_changed(target, b"x") is True
    os.utime(target, ns=(1, 1))
    assert write_if_changed(target, b"x") is False
    assert target.stat().st_mtime_ns == 1
    assert write_if_changed(target, b"xy") is True


def test_temp_files_of_dead_writers_are_swept(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = tmp_path / f".a.toml.{dead.stdout.strip()}.0123abcd.tmp"
    stale.write_bytes(b"half")
    mine = temp_path(tmp_path / "b.toml")
    mine.write_bytes(b"in progress")
    sweep_temp_files(tmp_path)
    assert not stale.exists()
    assert mine.exists()  # a live writer's file is left alone


def test_lock_times_out_with_a_clear_message(tmp_path: Path) -> None:
    holder = FileLock(tmp_path / "lock")
    holder.acquire()
    try:
        other = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from ecdigest.fileio import FileLock\n"
                "try:\n    FileLock(Path(sys.argv[1]), timeout=0.2).acquire()\n"
                "except Exception as e:\n    print(e)",
                str(tmp_path / "lock"),
            ],
            capture_output=True,
            text=True,
        )
        assert "held the lock" in other.stdout
    finally:
        holder.release()


def test_lock_is_released_when_its_holder_is_killed(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from ecdigest.fileio import FileLock\n"
            "FileLock(Path(sys.argv[1])).acquire(); print('held', flush=True); time.sleep(60)",
            str(tmp_path / "lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    proc.kill()
    proc.wait()
    lock = FileLock(tmp_path / "lock", timeout=2)
    lock.acquire()
    lock.release()


def test_concurrent_adds_lose_nothing(tmp_path: Path) -> None:
    root = tmp_path / "a"
    assert run_cli(["init", str(root)]).returncode == 0
    env = {"ECDIGEST_ARCHIVE": str(root)}
    assert run_cli(["new", "--id", "2023-07", "--date", "2023-07-05"], env=env).returncode == 0

    def worker(n: int) -> list[str]:
        ids = []
        for k in range(5):
            result = run_cli(
                ["add", "2023-07", "--title", f"稿件 {n}-{k}", "--section", "行业资讯", "--source", "《人民日报》",
                 "--date", "2023-07-01", "--body", f"正文 {n}-{k}"],
                env=env,
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
            ids.append(result.stdout.decode().strip())
        return ids

    with ThreadPoolExecutor(4) as pool:
        ids = [i for batch in pool.map(worker, range(4)) for i in batch]
    assert len(set(ids)) == 20
    data = tomllib.loads((root / "2023" / "2023-07.toml").read_text("utf-8"))
    assert sorted(a["id"] for a in data["articles"]) == sorted(ids)
    assert {a["title"] for a in data["articles"]} == {f"稿件 {n}-{k}" for n in range(4) for k in range(5)}


def test_symlinked_issue_pointing_outside_is_refused(tmp_path: Path, archive_dir: Path) -> None:
    outside = tmp_path / "outside.toml"
    outside.write_text('id = "x"\n', "utf-8")
    (archive_dir / "x.toml").symlink_to(outside)
    archive = Archive.open(archive_dir)
    with pytest.raises(InputError, match="outside the archive"):
        archive.issues()


def test_archive_discovery_skips_hidden_and_temp_files(archive_dir: Path) -> None:
    (archive_dir / ".ecdigest").mkdir(exist_ok=True)
    (archive_dir / ".ecdigest" / "junk.toml").write_text("not = [toml", "utf-8")
    (archive_dir / "2023").mkdir()
    (archive_dir / "2023" / ".2023-07.toml.123.0123abcd.tmp").write_text("half", "utf-8")
    (archive_dir / "2023" / "2023-07.toml").write_text('id = "2023-07"\n', "utf-8")
    archive = Archive.open(archive_dir)
    assert [p.name for p in archive.issue_paths()] == ["2023-07.toml"]


def test_duplicate_issue_ids_in_two_files_are_an_error(archive_dir: Path) -> None:
    (archive_dir / "a.toml").write_text('id = "2023-07"\n', "utf-8")
    (archive_dir / "b.toml").write_text('id = "2023-07"\n', "utf-8")
    with pytest.raises(EcdigestError, match="also used by"):
        Archive.open(archive_dir).issues()
