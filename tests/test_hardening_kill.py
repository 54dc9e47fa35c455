"""Kill safety: SIGKILL at a random moment never leaves a torn file, a confusing temp file or
a held lock. Commands: add, import, validate --fix, build, search and list (which update
the SQLite search index and catalog: checked by what the next search or list answers, and
by what files remain).

Each trial copies one base state (the shipped archive plus an article the built site does
not have yet), starts one command as a real process of the installed script, and kills it
with SIGKILL either after a random delay (seeded, spread over the command's whole run time,
so start-up, reading, rendering and writing are all hit) or the moment it is seen holding
its lock. Then:

- every file is byte for byte either what it was before or what an uninterrupted run
  writes (computed once per command from the same base state);
- every issue file parses; temp files left behind belong to the dead process only;
- no lock is held (the kernel drops a dead process's flock);
- a follow-up command (the same command again, or another `add`) succeeds, sweeps the dead
  writer's temp files, and ends in the state an uninterrupted run gives.

`ECDIGEST_KILL_TRIALS` overrides the number of trials of the slow test (default 240).
"""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from _hardening import (
    SAMPLE,
    check_issue_file,
    check_site,
    cli_env,
    copy_shipped,
    ecdigest_argv,
    issue_files,
    run,
    snapshot,
    temp_files,
)

from ecdigest import derived
from ecdigest.fileio import is_temp_file
from ecdigest.site.manifest import VERSION as MANIFEST_VERSION

# build's record of what it wrote (site/manifest.py): SQLite's business (its journal), checked
# by what it answers: whole, old or new (every row of one state or the other)
MANIFEST = "site/.ecdigest-manifest.sqlite3"
LOCKS = {
    "archive/.ecdigest/lock",
    "archive/.ecdigest/search.sqlite3.lock",
    "archive/.ecdigest/catalog.sqlite3.lock",
    "site/.ecdigest-build.lock",
}
# The search index and the catalog are SQLite's business (their own transactions, journals
# and temp files): they are checked by what the next search or list answers, not byte for byte.
# Derived caches (their bytes name the folder they were made in): search index, catalog,
# the kept outputs of show and list (rendered.py).
INDEX = ("archive/.ecdigest/search", "archive/.ecdigest/catalog", "archive/.ecdigest/rendered")
SEARCH = ["search", "稿件", "--format", "json", "--limit", "0"]
LIST = ["list", "--format", "json"]


@dataclass(frozen=True)
class Command:
    name: str
    args: Callable[[Path], list[str]]  # trial folder -> argv after `ecdigest`
    lock: str  # which lock it takes (relative to the trial folder)


def _add_args(title: str) -> Callable[[Path], list[str]]:
    def args(root: Path) -> list[str]:
        return ["--archive", str(root / "archive"), "add", "--force", "2023-06", "--title", title,
                "--section", "行业资讯", "--source", "《人民日报》", "--date", "2023-06-02",
                "--body", f"{title}的正文。\n\n第二段。"]  # fmt: skip

    return args


COMMANDS = {
    c.name: c
    for c in (
        Command("add", _add_args("中断测试稿件"), "archive/.ecdigest/lock"),
        Command(
            "import",
            lambda root: [
                "--archive",
                str(root / "archive"),
                "import",
                str(root / "sample.txt"),
                "--id",
                "2023-05",
                "--status",
                "published",
            ],
            "archive/.ecdigest/lock",
        ),
        Command(
            "validate-fix",
            lambda root: ["--archive", str(root / "archive"), "validate", "--fix"],
            "archive/.ecdigest/lock",
        ),
        Command(
            "search",
            lambda root: ["--archive", str(root / "archive"), *SEARCH],
            "archive/.ecdigest/search.sqlite3.lock",
        ),
        Command(
            "list",
            lambda root: ["--archive", str(root / "archive"), *LIST],
            "archive/.ecdigest/catalog.sqlite3.lock",
        ),
        Command(
            "build",
            lambda root: ["--archive", str(root / "archive"), "build", "-o", str(root / "site")],
            "site/.ecdigest-build.lock",
        ),
    )
}


@dataclass
class Expected:
    before: dict[str, bytes]
    after: dict[str, bytes]
    seconds: float
    stdout: bytes = b""  # with the trial's folder written ROOT (list names its files)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Expected]]:
    """The base state, and what each command makes of it when nobody kills it."""
    root = tmp_path_factory.mktemp("kill-base")
    archive = copy_shipped(root / "archive")
    shutil.copy(SAMPLE, root / "sample.txt")
    built = run(["--archive", str(archive), "build", "-o", str(root / "site")])
    assert built.returncode == 0, built.stderr.decode()
    indexed = run(["--archive", str(archive), *SEARCH])  # an index the next add makes stale
    assert indexed.returncode == 0, indexed.stderr.decode()
    # An article the site does not have yet, so a build in a trial has something to write.
    extra = run(_add_args("站点还没有的稿件")(root))
    assert extra.returncode == 0, extra.stderr.decode()
    # The add's guard rails took the file into the catalog moments after writing it; within
    # RACY_NS of its mtime a command checks its bytes without writing (derived.same_bytes),
    # after that the first one notes the check: what `list` writes in its trial.
    time.sleep(derived.RACY_NS / 1e9)
    before = snapshot(root)
    expected = {}
    for command in COMMANDS.values():
        copy = tmp_path_factory.mktemp(f"kill-expected-{command.name}")
        shutil.copytree(root, copy, dirs_exist_ok=True)
        started = time.monotonic()
        result = run(command.args(copy))
        seconds = time.monotonic() - started
        assert result.returncode == 0, (command.name, result.stderr.decode())
        after = _relocate(snapshot(copy), copy, root)
        assert after != before, f"{command.name} changes nothing: the trial would prove nothing"
        expected[command.name] = Expected(
            before, after, seconds, result.stdout.replace(str(copy).encode(), b"ROOT")
        )
    return root, expected


def _relocate(files: dict[str, bytes], src: Path, dst: Path) -> dict[str, bytes]:
    """Outputs that mention their own folder (build's summary does not; paths in files may)."""
    return {k: v.replace(str(src).encode(), str(dst).encode()) for k, v in files.items()}


def _lock_is_free(path: Path) -> bool:
    if not path.exists():
        return True
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _kill_when_locked(proc: subprocess.Popen[bytes], lock: Path, extra_delay: float) -> bool:
    """SIGKILL `proc` once it holds `lock` (True), or False if it finished first."""
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if lock.exists() and not _lock_is_free(lock):
            if extra_delay:
                time.sleep(extra_delay)
            proc.send_signal(signal.SIGKILL)
            return True
        time.sleep(0.0005)
    return False


def _check_files(now: dict[str, bytes], expected: Expected, where: str) -> None:
    names = set(now) | set(expected.before) | set(expected.after)
    for name in sorted(names):
        if is_temp_file(Path(name).name):
            continue
        if name in LOCKS:
            assert now.get(name, b"") == b"", f"{where}: {name} has content"
            continue
        if name.startswith(INDEX):
            continue
        if name.startswith(MANIFEST):  # the build's own state (times in it): checked below
            continue
        got = now.get(name)
        old, new = expected.before.get(name), expected.after.get(name)
        assert got in (old, new), (
            f"{where}: {name} is neither the old nor the new content "
            f"({'missing' if got is None else f'{len(got)} bytes'}; old "
            f"{'missing' if old is None else len(old)}, new {'missing' if new is None else len(new)})"
        )


def _check_manifest(path: Path, where: str) -> None:
    """The manifest opens (its journal, if a kill left one, rolled back) and holds a state:
    every file row complete."""
    import sqlite3

    if not path.exists():
        return
    copy = path.with_name("manifest-check.sqlite3")
    for suffix in ("", "-journal"):
        source = Path(str(path) + suffix)
        if source.exists():
            shutil.copyfile(source, str(copy) + suffix)
    try:
        with sqlite3.connect(copy) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",), where
            version = dict(db.execute("SELECT key, value FROM meta")).get("version")
            assert version == MANIFEST_VERSION, (where, version)
            rows = db.execute("SELECT name, key, digest, size, mtime_ns FROM files").fetchall()
            assert all(all(v is not None for v in row) for row in rows), where
        db.close()
    finally:
        for suffix in ("", "-journal"):
            Path(str(copy) + suffix).unlink(missing_ok=True)


def _dead(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def kill_trial(base: tuple[Path, dict[str, Expected]], work: Path, number: int, rnd: random.Random) -> str:
    """One trial; returns a word on what it hit, for the tally."""
    root, expected = base
    command = COMMANDS[rnd.choice(sorted(COMMANDS))]
    plan = expected[command.name]
    trial = work / f"t{number}"
    shutil.copytree(root, trial)
    at_lock = rnd.random() < 0.3
    delay = rnd.uniform(0, plan.seconds * 1.1)
    where = f"trial {number} ({command.name}, {'at lock' if at_lock else f'after {delay * 1000:.0f} ms'})"

    proc = subprocess.Popen(
        [*ecdigest_argv(), *command.args(trial)],
        env=cli_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if at_lock:
        killed = _kill_when_locked(proc, trial / command.lock, rnd.choice([0, 0, 0.002, 0.01]))
    else:
        try:
            proc.wait(timeout=delay)
            killed = False
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            killed = True
    code = proc.wait(timeout=60)
    outcome = "killed" if killed and code == -signal.SIGKILL else "finished"
    if outcome == "finished":
        assert code == 0, f"{where}: exited {code}"

    now = _relocate(snapshot(trial), trial, root)
    _check_files(now, plan, where)
    _check_manifest(trial / MANIFEST, where)
    complete = now.get("archive/2023/2023-06.toml") == plan.after.get("archive/2023/2023-06.toml")
    for path in issue_files(trial / "archive"):
        check_issue_file(path)
    for name in temp_files(trial):
        if name.startswith(INDEX):
            continue  # the index's own leftovers: the next search must cope (checked below)
        pid = int(name.rsplit(".", 3)[-3])
        assert pid == proc.pid and _dead(pid), f"{where}: temp file {name} of a live or foreign writer"
    for lock in LOCKS:
        assert _lock_is_free(trial / lock), f"{where}: {lock} is still held after the kill"

    # A later command is not confused: it gets the lock at once, and ends where it should.
    follow_env = cli_env(ECDIGEST_LOCK_TIMEOUT="5")
    if command.name == "add":
        follow = run(_add_args("中断之后的稿件")(trial), env=follow_env)
        assert follow.returncode == 0, f"{where}: follow-up add: {follow.stderr.decode()}"
        _, ids = check_issue_file(trial / "archive/2023/2023-06.toml")
        assert len(ids) == len(set(ids))
        new_id = follow.stdout.decode().strip()
        assert ids[-1] == new_id and ids[-1] == max(ids), (where, ids[-3:])
        assert len(ids) == 55 + (1 if complete else 0), (where, len(ids))
    else:
        follow = run(command.args(trial), env=follow_env)
        if command.name == "import" and follow.returncode == 2:
            assert b"already exists" in follow.stderr, f"{where}: {follow.stderr.decode()}"
        else:
            assert follow.returncode == 0, f"{where}: follow-up: {follow.stderr.decode()}"
        final = _relocate(snapshot(trial), trial, root)
        for name, data in plan.after.items():
            if (
                name not in LOCKS
                and not is_temp_file(Path(name).name)
                and not name.startswith(INDEX)
                and not name.startswith(MANIFEST)
            ):
                assert final.get(name) == data, f"{where}: after the follow-up, {name} differs"
        if command.name in ("search", "list"):
            answer = follow.stdout.replace(str(trial).encode(), b"ROOT")
            assert answer == plan.stdout, f"{where}: the next {command.name} answers differently"
            assert sorted(final) == sorted(plan.after), (
                f"{where}: index leftovers {sorted(set(final) - set(plan.after))}"
            )
        if command.name == "build":
            check_site(trial / "site")
    leftover = temp_files(trial)
    assert leftover == [], f"{where}: temp files survive the next command: {leftover}"
    shutil.rmtree(trial)
    return f"{command.name}/{outcome}"


def _trials(base: tuple[Path, dict[str, Expected]], work: Path, count: int, seed: int) -> dict[str, int]:
    rnd = random.Random(seed)
    tally: dict[str, int] = {}
    for number in range(count):
        outcome = kill_trial(base, work, number, rnd)
        tally[outcome] = tally.get(outcome, 0) + 1
    return tally


def test_a_few_kills_lose_nothing(base: tuple[Path, dict[str, Expected]], tmp_path: Path) -> None:
    tally = _trials(base, tmp_path, 10, seed=7)
    assert sum(v for k, v in tally.items() if k.endswith("/killed")) >= 4, tally


@pytest.mark.slow
def test_hundreds_of_kills_lose_nothing(base: tuple[Path, dict[str, Expected]], tmp_path: Path) -> None:
    count = int(os.environ.get("ECDIGEST_KILL_TRIALS", "240"))
    tally = _trials(base, tmp_path, count, seed=20230605)
    print(tally)
    for name in COMMANDS:
        assert tally.get(f"{name}/killed", 0) >= count // 10, (name, tally)
