"""Exactly once: a real `ecdigest send` process, SIGKILLed at random points of a send to a
real SMTP server on 127.0.0.1, never makes the list get the issue twice, and its record
never lies.

Kill points: after a random delay (seeded, spread over the whole run: start-up, reading,
rendering, connecting, the envelope, DATA, the answer, the record), the moment the
`attempt` line is on disk, and from inside the server (tests/_smtp.py hooks): while
answering RCPT, when the whole message is in, and just after the server kept it (the
client then dies before or after it reads the 250, before or after it records it).

After each kill:
- the server kept the message at most once;
- the record tells the truth: `sent` only if the server kept it; if the server kept it
  and the record does not say `sent`, the record has an attempt without a known outcome
  (so nobody may send again without looking); no record line is torn; no lock is held,
  no temp file of a live writer is left;
- `ecdigest send --if-unsent` (what cron runs next) sends only if nothing was attempted,
  says "already sent" (exit 0) after a recorded send, refuses (exit 1) after an unknown
  outcome, and never makes a second copy;
- the editor's way out (`--mark-sent` if the server has it, `--resend` if not) ends with
  exactly one copy and a record that says sent.

`ECDIGEST_SEND_KILL_TRIALS` overrides the number of trials of the slow test (default 120).
"""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _hardening import SHIPPED_ARCHIVE, cli_env, copy_shipped, ecdigest_argv, run, temp_files
from _smtp import Behaviour, SmtpServer, configure_smtp, smtp_server

from ecdigest.archive import Archive
from ecdigest.sendlog import read as read_records
from ecdigest.sendlog import state as record_state

pytestmark = pytest.mark.skipif(
    not (SHIPPED_ARCHIVE / "ecdigest.toml").exists(), reason="shipped archive not there"
)
MODES = ["delay", "attempt-on-disk", "server:rcpt", "server:data", "server:kept", "server:after-250"]
RECORD = "sent/2023-06.jsonl"


@pytest.fixture(scope="module")
def server() -> Iterator[SmtpServer]:
    with smtp_server() as running:
        yield running


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, server: SmtpServer) -> tuple[Path, float]:
    """The shipped archive set up to send to the test server, and how long a send takes."""
    root = tmp_path_factory.mktemp("send-kill-base")
    archive = copy_shipped(root / "archive")
    configure_smtp(archive, host="127.0.0.1", port=server.port, security="none", timeout=20)
    probe = tmp_path_factory.mktemp("send-kill-probe") / "archive"
    shutil.copytree(archive, probe)
    server.deliveries.clear()
    started = time.monotonic()
    result = run(["--archive", str(probe), "send"])
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr.decode()
    assert len(server.deliveries) == 1
    server.wait_idle()
    server.deliveries.clear()
    return archive, seconds


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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)


def kill_trial(
    base: tuple[Path, float], server: SmtpServer, work: Path, number: int, mode: str, rnd: random.Random
) -> str:
    archive_base, seconds = base
    trial = work / f"t{number}"
    shutil.copytree(archive_base, trial)
    server.wait_idle()
    server.deliveries.clear()
    delay = rnd.uniform(0, seconds * 1.2)
    where = f"trial {number} ({mode}{f', {delay * 1000:.0f} ms' if mode == 'delay' else ''})"

    proc = subprocess.Popen(
        [*ecdigest_argv(), "--archive", str(trial), "send"],
        env=cli_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if mode.startswith("server:"):
        point = mode.split(":", 1)[1]
        after = rnd.choice([0.0, 0.001, 0.005, 0.02])

        def hook(at: str) -> None:
            if point == "after-250" and at == "kept":
                # after the answer is on its way: the client may or may not record it first
                threading.Timer(after, _kill, [proc]).start()
            elif at == point:
                _kill(proc)

        server.behaviour = Behaviour(hook=hook)
    try:
        if mode == "delay":
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                _kill(proc)
        elif mode == "attempt-on-disk":
            deadline = time.monotonic() + 60
            record = trial / RECORD
            while proc.poll() is None and time.monotonic() < deadline:
                if record.exists() and b'"attempt"' in record.read_bytes():
                    _kill(proc)
                    break
                time.sleep(0.0005)
        code = proc.wait(timeout=60)
    finally:
        _kill(proc)
        server.behaviour = Behaviour()
    killed = code == -signal.SIGKILL
    if not killed:
        assert code == 0, f"{where}: exited {code}"
    server.wait_idle()
    kept = len(server.deliveries)

    # the record tells the truth, and nothing is torn or held
    assert kept <= 1, f"{where}: the server kept {kept} copies"
    state = record_state(read_records(Archive.open(trial), "2023-06"))
    if state.sent is not None:
        assert kept == 1, f"{where}: the record says sent, the server has nothing"
    elif kept == 1:
        assert state.open_attempt is not None, f"{where}: the server has it, the record shows no attempt"
    for lock in (".ecdigest/lock", ".ecdigest/send.lock"):
        assert _lock_is_free(trial / lock), f"{where}: {lock} still held"
    for name in temp_files(trial):
        pid = int(name.rsplit(".", 3)[-3])
        assert pid == proc.pid and not _alive(pid), f"{where}: temp file {name} of a live writer"

    # what cron runs next
    cron = run(["--archive", str(trial), "send", "--if-unsent"], env=cli_env(ECDIGEST_LOCK_TIMEOUT="5"))
    server.wait_idle()
    output = cron.stdout.decode() + cron.stderr.decode()
    if state.sent is not None:
        assert cron.returncode == 0 and "already sent" in output, f"{where}: {output}"
        assert len(server.deliveries) == 1
        outcome = "recorded-sent"
    elif state.open_attempt is not None:
        assert cron.returncode == 1 and "may or may not" in output, f"{where}: {output}"
        assert len(server.deliveries) == kept, f"{where}: cron sent again after an unknown outcome"
        # the editor looks at the list's archive, and settles it
        settle = ["--mark-sent"] if kept else ["--resend"]
        fixed = run(["--archive", str(trial), "send", *settle])
        assert fixed.returncode == 0, f"{where}: {settle}: {fixed.stderr.decode()}"
        server.wait_idle()
        outcome = f"unknown-{'kept' if kept else 'lost'}"
    else:
        assert cron.returncode == 0 and output.startswith("sent 2023-06"), f"{where}: {output}"
        outcome = "not-sent"
    assert len(server.deliveries) == 1, f"{where}: {len(server.deliveries)} copies in the end"
    final = record_state(read_records(Archive.open(trial), "2023-06"))
    assert final.sent is not None and final.open_attempt is None, f"{where}: the record does not end sent"
    assert temp_files(trial) == [], f"{where}: temp files survive the next command"
    shutil.rmtree(trial)
    return f"{mode}/{outcome}" if killed else f"{mode}/finished"


def _trials(
    base: tuple[Path, float], server: SmtpServer, work: Path, modes: list[str], seed: int
) -> dict[str, int]:
    rnd = random.Random(seed)
    tally: dict[str, int] = {}
    for number, mode in enumerate(modes):
        outcome = kill_trial(base, server, work, number, mode, rnd)
        tally[outcome] = tally.get(outcome, 0) + 1
    return tally


def test_a_few_kills_never_send_twice(base: tuple[Path, float], server: SmtpServer, tmp_path: Path) -> None:
    tally = _trials(base, server, tmp_path, [m for m in MODES if m != "delay"], seed=14)
    print(tally)
    # killed with the message on the server but no outcome recorded: the case that matters
    assert tally.get("server:data/unknown-kept", 0) + tally.get("server:kept/unknown-kept", 0) == 2, tally
    assert tally.get("server:rcpt/not-sent") == 1, tally


@pytest.mark.slow
def test_many_kills_never_send_twice(base: tuple[Path, float], server: SmtpServer, tmp_path: Path) -> None:
    count = int(os.environ.get("ECDIGEST_SEND_KILL_TRIALS", "120"))
    rnd = random.Random(20230605)
    modes = [rnd.choice(MODES + ["delay"] * 3) for _ in range(count)]  # delays spread over the run
    tally = _trials(base, server, tmp_path, modes, seed=20230605)
    print(tally)
    outcomes = {key.split("/")[1] for key in tally}
    assert {"not-sent", "recorded-sent", "unknown-kept"} <= outcomes, tally


def test_two_cron_runs_at_once_send_once(
    base: tuple[Path, float], server: SmtpServer, tmp_path: Path
) -> None:
    """Overlapping cron jobs: the send lock makes the second wait, read the record, stand down."""
    archive = tmp_path / "archive"
    shutil.copytree(base[0], archive)
    server.wait_idle()
    server.deliveries.clear()
    server.behaviour = Behaviour(delay_data=1.0)  # a slow answer keeps the first send in flight
    try:
        argv = [*ecdigest_argv(), "--archive", str(archive), "send", "--if-unsent"]
        procs = [
            subprocess.Popen(argv, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        results = [(p.wait(timeout=60), p.stdout.read().decode(), p.stderr.read().decode()) for p in procs]  # type: ignore[union-attr]
    finally:
        server.behaviour = Behaviour()
    server.wait_idle()
    assert [code for code, _, _ in results] == [0, 0], results
    outputs = sorted(out for _, out, _ in results)
    assert outputs[0].startswith("2023-06 was already sent on") and outputs[1].startswith("sent 2023-06"), (
        results
    )
    assert len(server.deliveries) == 1
