"""Shared by the hardening tests: the installed command, its environment, and checks that
every file of an archive and every build output is whole and valid."""

from __future__ import annotations

import email
import email.policy
import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from ecdigest.codec import decode_issue
from ecdigest.fileio import is_temp_file

TESTS = Path(__file__).parent
REPO = TESTS.parent
SAMPLE = TESTS / "data" / "ecd-2023-06.txt"
SHIPPED_ARCHIVE = REPO / "issues"
NOW = "2023-07-10T09:00:00+08:00"


def ecdigest_argv() -> list[str]:
    """The installed console script (what cron runs), else `python -m ecdigest`."""
    exe = shutil.which("ecdigest", path=os.path.dirname(sys.executable)) or shutil.which("ecdigest")
    return [exe] if exe else [sys.executable, "-m", "ecdigest"]


def cli_env(**extra: str) -> dict[str, str]:
    """The caller's environment without ECDIGEST_* settings, with a fixed clock."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECDIGEST_")}
    env["ECDIGEST_NOW"] = NOW
    env.update(extra)
    return env


def run(
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    input: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*ecdigest_argv(), *args],
        env=env or cli_env(),
        capture_output=True,
        timeout=timeout,
        check=False,
        input=input if input is not None else b"",
    )


def copy_shipped(target: Path) -> Path:
    """A private copy of the shipped archive (one published issue, 53 articles)."""
    shutil.copytree(SHIPPED_ARCHIVE, target, ignore=shutil.ignore_patterns(".ecdigest"))
    return target


def snapshot(root: Path) -> dict[str, bytes]:
    """Every regular file below `root` (relative path -> bytes), symlinks not followed."""
    found: dict[str, bytes] = {}
    if not root.exists():
        return found
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def tree_listing(root: Path) -> dict[str, str]:
    """Every entry below `root` (relative path -> kind and content hash), for spotting writes."""
    listing: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                listing[rel] = "link:" + os.readlink(path)
            elif path.is_dir():
                listing[rel] = "dir"
            else:
                try:
                    listing[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
                except OSError as exc:
                    listing[rel] = f"unreadable:{exc.errno}"
    return listing


def temp_files(root: Path) -> list[str]:
    return sorted(
        (Path(folder) / name).relative_to(root).as_posix()
        for folder, _dirs, files in os.walk(root)
        for name in files
        if is_temp_file(name)
    )


def issue_files(archive: Path) -> list[Path]:
    return sorted(
        p
        for p in archive.rglob("*.toml")
        if p.name != "ecdigest.toml"
        and not any(part.startswith(".") for part in p.relative_to(archive).parts)
    )


def check_issue_file(path: Path) -> tuple[str, list[str]]:
    """Parse one issue file as the archive does; (issue id, article ids). Fails loudly."""
    text = path.read_bytes().decode("utf-8")
    issue, problems = decode_issue(tomllib.loads(text), text)
    assert not problems, (path, problems)
    return issue.id, [a.id for a in issue.articles]


def check_site(site: Path) -> dict[str, int]:
    """Every build output parses as what it claims to be; returns item counts."""
    counts: dict[str, int] = {}
    feed = ET.fromstring((site / "feed.xml").read_bytes())
    items = feed.findall("./channel/item")
    guids = [item.findtext("guid") for item in items]
    assert len(guids) == len(set(guids)), "duplicate guids in feed.xml"
    counts["rss"] = len(items)
    atom = ET.fromstring((site / "atom.xml").read_bytes())
    entries = atom.findall("{http://www.w3.org/2005/Atom}entry")
    counts["atom"] = len(entries)
    for md in site.glob("*.md"):
        text = md.read_bytes().decode("utf-8")
        assert text.startswith("# ") and text.endswith("\n"), md
    emls = sorted((site / "email").glob("*.eml"))
    assert emls, "no email written"
    for eml in emls:
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        assert message["Subject"] and message["From"] and message["Message-ID"], eml
        assert message.get_content_type() == "multipart/alternative", eml
        html = message.get_body(("html",))
        assert html is not None and html.get_content().strip(), f"{eml.name}: no HTML part"
        plain = message.get_body(("plain",))
        assert plain is not None, f"{eml.name}: no text part"
        body = plain.get_content()
        assert isinstance(body, str) and body.strip(), eml
        text = (eml.with_suffix(".txt")).read_bytes().decode("utf-8")
        if plain.get_param("format") == "flowed":  # the .txt's lines, with soft breaks
            from _flowed import wire_problems

            assert wire_problems(body, text) == [], f"{eml.name} is not its .txt flowed"
        else:
            assert body == text, f"{eml.name} and its .txt differ"
    return counts
