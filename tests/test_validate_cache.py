"""validate_cache.py: the whole archive's report from kept per-file results is the report
that checking every file gives, whatever changed since: a file, the settings, the day."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from ecdigest import validate_cache
from ecdigest.archive import open_archive
from ecdigest.validate import Problem, validate_report

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))


def _both(root: Path) -> tuple[list[Problem], list[Problem]]:
    """(from the cache, checking every file) for the archive at `root`."""
    cached = validate_report(open_archive(root), keep=False, cache=True)
    plain = validate_report(open_archive(root), keep=False)
    assert cached.checked == plain.checked
    assert cached.issues == [] and len(plain.issues) == len(plain.checked)
    return cached.problems, plain.problems


def _state(root: Path) -> Path:
    return root / ".ecdigest" / "validation.sqlite3"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A realistic archive (bench/gen_archive.py): near-duplicate titles (W601), the
    copy-editing warnings, more than the cold build's parallel threshold of files."""
    from gen_archive import generate

    root = tmp_path_factory.mktemp("gen") / "a"
    generate(root, issues=60, per_issue=12)
    return root


@pytest.fixture
def archive(generated: Path, tmp_path: Path) -> Path:
    root = tmp_path / "a"
    shutil.copytree(generated, root, ignore=shutil.ignore_patterns(".ecdigest"))
    return root


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.toml") if p.name != "ecdigest.toml")


def test_cached_report_is_the_checked_report(archive: Path) -> None:
    cached, plain = _both(archive)
    codes = {p.code for p in plain}
    assert {"W601", "W802"} <= codes, codes  # the generated archive has both kinds
    assert cached == plain
    assert _state(archive).is_file()
    assert (archive / ".ecdigest" / "validation-w601.sqlite3").is_file()
    # Warm: the same again (the W601 answer kept, every file's result used).
    assert _both(archive)[0] == plain


def test_edits_are_seen(archive: Path) -> None:
    before = _both(archive)[1]
    files = _files(archive)
    # A title copied from an earlier published issue (W601), a duplicate article id
    # (E203), a future article date (E302), a copy-editing slip (W803), a broken file (E003).
    first, second, third = files[3], files[20], files[30]
    title = next(
        line
        for line in first.read_text("utf-8").splitlines()
        if line.startswith("title = ") and "期" not in line
    )
    text = second.read_text("utf-8")
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("title = ") and i > 5)
    lines[at] = title
    first_id = next(
        line for line in first.read_text("utf-8").splitlines() if line.startswith('id = "') and "-0" in line
    )
    at_id = next(i for i, line in enumerate(lines) if line.startswith('id = "') and i > 5)
    lines[at_id] = first_id
    second.write_text("\n".join(lines) + "\n", "utf-8")
    third.write_text(third.read_text("utf-8").replace("。", "。两个  空格", 1), "utf-8")
    files[40].write_text("id = [", "utf-8")
    cached, plain = _both(archive)
    codes = [p.code for p in plain]
    assert {"W601", "E203", "E003"} <= set(codes)
    mine = [p for p in plain if p.path == str(third)]
    assert "W803" in {p.code for p in mine} and mine != [p for p in before if p.path == str(third)]
    assert cached == plain
    # A file removed and one added.
    files[10].unlink()
    shutil.copy(files[11], files[11].with_name("copy.toml"))
    cached, plain = _both(archive)
    assert "E103" in {p.code for p in plain}
    assert cached == plain


def test_settings_and_rules_rebuild(archive: Path) -> None:
    _both(archive)
    settings = archive / "ecdigest.toml"
    text = settings.read_text("utf-8")
    import re

    settings.write_text(re.sub(r"max_article_age_days = \d+", "max_article_age_days = 1", text), "utf-8")
    assert "max_article_age_days = 1\n" in settings.read_text("utf-8")
    cached, plain = _both(archive)
    assert "W301" in {p.code for p in plain}
    assert cached == plain


def test_rules_version_rebuilds(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _both(archive)
    import sqlite3

    conn = sqlite3.connect(_state(archive))
    conn.execute("UPDATE results SET problems = '[]'")  # as if other rules had found nothing
    conn.commit()
    conn.close()
    cached = validate_report(open_archive(archive), keep=False, cache=True).problems
    assert len(cached) < len(_both(archive)[1])  # the stored results are used...
    monkeypatch.setattr(validate_cache, "RULES_VERSION", "test")
    cached, plain = _both(archive)  # ...until the rules change
    assert cached == plain


def test_the_day_matters_only_to_dates_ahead(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _files(archive)
    published = next(f for f in files if 'status = "published"' in f.read_text("utf-8"))
    text = published.read_text("utf-8")
    dated = next(line for line in text.splitlines() if line.startswith("date = "))
    published.write_text(text.replace(dated, "date = 2030-01-10", 1), "utf-8")
    monkeypatch.setenv("ECDIGEST_NOW", "2030-01-05T09:00:00+08:00")
    cached, plain = _both(archive)
    assert "E106" in {p.code for p in plain} and cached == plain
    for day in ("2030-01-06", "2030-01-12", "2030-01-05", "2031-05-01", "2024-01-01"):
        monkeypatch.setenv("ECDIGEST_NOW", f"{day}T09:00:00+08:00")
        cached, plain = _both(archive)
        assert cached == plain, day
        assert ("E106" in {p.code for p in plain}) == (day < "2030-01-10"), day
        messages = [p.message for p in plain if p.code == "E106"]
        assert all(f"today is {day}" in m for m in messages), messages


def test_non_utf8_file_names(archive: Path) -> None:
    import os

    weird = _files(archive)[5].parent / os.fsdecode(b"bad-\xff.toml")
    try:
        shutil.copy(_files(archive)[5], weird)
    except (OSError, UnicodeEncodeError):
        pytest.skip("the file system refuses names that are not UTF-8")
    cached, plain = _both(archive)
    assert any(p.path == str(weird) for p in plain)
    assert cached == plain
    assert _both(archive)[0] == plain  # the kept W601 answer, read back


def _kept(root: Path) -> dict[bytes, list[list[object]]]:
    import sqlite3

    conn = sqlite3.connect(root / ".ecdigest" / "validation-w601.sqlite3")
    try:
        return {bytes(p): json.loads(v) for p, v in conn.execute("SELECT path, problems FROM answers")}
    finally:
        conn.close()


def _set_kept(root: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    import sqlite3

    conn = sqlite3.connect(root / ".ecdigest" / "validation-w601.sqlite3")
    conn.execute(sql, params)
    conn.commit()
    conn.close()


def test_the_kept_answers_are_the_archives(archive: Path) -> None:
    _both(archive)
    kept = _kept(archive)
    assert len(kept) == len(_files(archive))
    assert any(kept.values()) and all(p[0] == "W601" for v in kept.values() for p in v)
    # A damaged file is started afresh, not trusted.
    place = archive / ".ecdigest" / "validation-w601.sqlite3"
    place.write_bytes(b"not a database" * 100)
    cached, plain = _both(archive)
    assert cached == plain
    assert _kept(archive) == kept
    # A kept answer is used while its file and the titles near its own stay as they are
    # (emptied here, it stays empty: the run did not compute it again)...
    victim = next(p for p, v in kept.items() if v)
    _set_kept(archive, "UPDATE answers SET problems = '[]' WHERE path = ?", (victim,))
    cached = validate_report(open_archive(archive), keep=False, cache=True).problems
    assert len(cached) < len(_both(archive)[1])
    # ...and computed again once its file changes.
    edited = archive / os.fsdecode(victim)
    edited.write_text(edited.read_text("utf-8") + "\n", "utf-8")
    cached, plain = _both(archive)
    assert cached == plain
    assert _kept(archive) == kept
    # Another version of the rule: everything is computed again.
    _set_kept(archive, "UPDATE answers SET problems = '[]'")
    _set_kept(archive, "UPDATE meta SET value = 'old' WHERE key = 'version'")
    cached, plain = _both(archive)
    assert cached == plain


def _published_titles(path: Path) -> list[str]:
    return [
        line
        for line in path.read_text("utf-8").splitlines()
        if line.startswith("title = ") and "期" not in line
    ]


def test_an_edit_asks_again_only_about_the_titles_it_touches(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After one file changes, W601 is asked again for that file and the files holding a
    title the same as or near the titles it added or removed; the answer equals a full
    computation every time."""
    from ecdigest import validate

    _both(archive)
    asked: list[str] = []
    original = validate._published_elsewhere_from

    def spy(catalog: object, selected: list[object], only: object = None) -> object:
        asked.extend(str(item.path) for item in selected)  # type: ignore[attr-defined]
        return original(catalog, selected, only)  # type: ignore[arg-type]

    monkeypatch.setattr(validate, "_published_elsewhere_from", spy)
    files = _files(archive)
    # A comment: the file's titles stay; only it is asked about again.
    files[5].write_text(files[5].read_text("utf-8") + "# note\n", "utf-8")
    cached, plain = _both(archive)
    assert cached == plain
    assert asked == [str(files[5])]
    # A title of an early issue copied into a later one: the later one now has W601, and
    # only files with that title (or one near it) are asked about again.
    asked.clear()
    published = [
        f for f in files if 'status = "published"' in f.read_text("utf-8") and len(_published_titles(f)) > 4
    ]
    source, target = published[2], published[-10]
    title = _published_titles(source)[3]
    text = target.read_text("utf-8")
    target.write_text(text.replace(_published_titles(target)[4], title, 1), "utf-8")
    cached, plain = _both(archive)
    assert cached == plain
    assert str(target) in asked and len(asked) < len(files) // 4, asked
    value = title.split('"')[1]
    assert any(p.code == "W601" and p.path == str(target) and f"“{value}”" in p.message for p in plain)
    # The earlier title rewritten: the later issue's warning about it goes (only the
    # titles the edit removed lead there).
    source.write_text(
        source.read_text("utf-8").replace(title, 'title = "一个独一无二的新标题用于测试"', 1), "utf-8"
    )
    cached, plain = _both(archive)
    assert cached == plain
    assert not any(p.code == "W601" and p.path == str(target) and f"“{value}”" in p.message for p in plain)
    # The early issue deleted, a file renamed: still the full answer.
    source.unlink()
    files[7].rename(files[7].with_name("renamed.toml"))
    cached, plain = _both(archive)
    assert cached == plain
    # Many files changed at once: every title compared in one pass, the same answer.
    asked.clear()
    for path in _files(archive)[:40]:
        path.write_text(path.read_text("utf-8") + "# many\n", "utf-8")
    cached, plain = _both(archive)
    assert cached == plain and asked == []


def test_asking_for_some_codes_skips_only_the_text_rules(archive: Path) -> None:
    """`codes` (add's guard rails): the same problems of those codes as a full check, and
    the text rules, which can find none of them, are not run."""
    from ecdigest.guards import GUARD_CODES, article_warnings
    from ecdigest.validate import TEXT_CODES

    opened = open_archive(archive)
    whole = validate_report(opened).problems
    assert TEXT_CODES & {p.code for p in whole} and GUARD_CODES & {p.code for p in whole}
    for path in _files(archive)[::7]:
        issue = opened.read(path).issue
        wanted = {a.id for a in issue.articles}
        full = validate_report(opened, [issue.id], articles=wanted).problems
        asked = validate_report(opened, [issue.id], articles=wanted, codes=GUARD_CODES).problems
        assert not TEXT_CODES & {p.code for p in asked}
        assert [p for p in asked if p.code in GUARD_CODES] == [p for p in full if p.code in GUARD_CODES]
        assert article_warnings(opened, issue.id, wanted) == [
            p for p in full if p.code in GUARD_CODES and p.article in wanted
        ]
    # Asking for a text code runs the text rules.
    path = next(p for p in _files(archive) if any(q.code == "W802" and q.path == str(p) for q in whole))
    issue = opened.read(path).issue
    asked = validate_report(opened, [issue.id], codes={"W802"}).problems
    assert "W802" in {p.code for p in asked}
