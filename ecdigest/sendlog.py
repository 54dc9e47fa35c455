"""The send record: which issue went to whom, when, and what the server answered.

One file per issue, `ARCHIVE/sent/ISSUE.jsonl`, one JSON object per line, in the archive
(not in the git-ignored `.ecdigest/`): editors share it through git like the issues, so
whoever sends next sees what was sent. Not TOML on purpose: every `*.toml` below the
archive is read as an issue file, a `.jsonl` never is. Lines are only ever added, each
time by rewriting the file atomically under the archive lock, so a kill leaves the old
file or the new one; a merge of two editors' additions is two added lines (a conflict
only when both sent the same issue, which is worth a conflict).

A send writes two lines (`send.py` says when): an `attempt` just before the message
goes out (after the server accepted sender and recipients, before DATA), and then its
outcome, `sent` (the server's 250), `failed` (a definite refusal) or `uncertain` (the
connection broke or timed out after the message was handed over). An attempt without
an outcome (the process was killed) or an uncertain one means nobody knows whether the
list got the message: the next send refuses until an editor has looked (`--mark-sent`
or `--resend`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError
from .fileio import atomic_write, decode_utf8, read_bytes

if TYPE_CHECKING:
    from .archive import Archive

RECORD_DIR = "sent"
RECORD_SUFFIX = ".jsonl"
EVENTS = ("attempt", "sent", "failed", "uncertain")
OUTCOMES = ("sent", "failed", "uncertain")
# kind: "list" for the send to `[email] to` (the one that must happen once), "test" for a
# test send or a proof with --to (any number of times).
KINDS = ("list", "test")
_REQUIRED = ("issue", "event", "attempt", "at", "kind")


def path_for(archive: Archive, issue_id: str) -> Path:
    """`ARCHIVE/sent/ISSUE.jsonl` (issue ids are safe file names: model.is_valid_id); a
    `sent` folder or file that is a link out of the archive is refused."""
    from .archive import check_issue_id

    path = archive.root / RECORD_DIR / f"{check_issue_id(issue_id)}{RECORD_SUFFIX}"
    try:
        inside = path.resolve().is_relative_to(archive.root.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        inside = False
    if not inside:
        raise InputError(
            "the send record is a link out of the archive; refusing to read or write it",
            path=path,
            hint=f"make {RECORD_DIR}/ a plain folder inside the archive",
        )
    return path


def read(archive: Archive, issue_id: str) -> list[dict[str, Any]]:
    """The issue's records, oldest first; [] when it was never sent. A line that is not a
    record (a git merge conflict, a hand edit) is an InputError naming the line."""
    path = path_for(archive, issue_id)
    if not path.exists():
        return []
    text = decode_utf8(read_bytes(path), path)
    records = []
    # JSON lines end at \n only: a server's answer may hold U+0085 or U+2028, which
    # str.splitlines() would take for line ends.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict) or any(not isinstance(record.get(k), str) for k in _REQUIRED):
            raise InputError(
                "not a send record (a git merge conflict?)",
                path=path,
                line=number,
                hint="each line is one JSON object; keep every record line, drop the conflict markers",
            )
        records.append(record)
    return records


def append(archive: Archive, issue_id: str, record: dict[str, Any]) -> None:
    """Add one record line, atomically, under the archive lock."""
    line = json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n"
    path = path_for(archive, issue_id)
    with archive.locked():
        old = read_bytes(path) if path.exists() else b""
        if old and not old.endswith(b"\n"):
            old += b"\n"
        atomic_write(path, old + line.encode("utf-8"))


@dataclass(frozen=True)
class State:
    """What the records say about the list send of one issue."""

    sent: dict[str, Any] | None  # the latest `sent` record of the list send
    open_attempt: dict[str, Any] | None  # the latest list attempt with no or an uncertain outcome
    last_failure: dict[str, Any] | None


def state(records: list[dict[str, Any]]) -> State:
    """The list send's state: sent, unknown (an attempt nobody knows the outcome of), or not
    yet (never tried, or every try definitely failed). Test sends never count."""
    sent: dict[str, Any] | None = None
    failure: dict[str, Any] | None = None
    attempts: dict[str, dict[str, Any]] = {}
    open_ids: list[str] = []
    for record in records:
        if record.get("kind") != "list":
            continue
        event, attempt = record["event"], record["attempt"]
        if event == "attempt":
            attempts[attempt] = record
            open_ids.append(attempt)
            continue
        if attempt in open_ids:
            open_ids.remove(attempt)
        if event == "sent":
            sent = record
            open_ids.clear()  # an earlier unknown outcome is settled by a later send
        elif event == "uncertain":
            open_ids.append(attempt)
            attempts[attempt] = record
        elif event == "failed":
            failure = record
    open_attempt = attempts[open_ids[-1]] if open_ids else None
    return State(sent, open_attempt, failure)
