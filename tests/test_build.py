"""`ecdigest build`: validate, then write only what changed, atomically, inside DIR."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from _publishing import FIXTURE_ARCHIVE, copy_fixture, email_problems, w3c_rss_problems
from conftest import REPO, SHIPPED_ARCHIVE, Invoke, run_cli

from ecdigest.build import SiteFile, target, write_site
from ecdigest.errors import WriteError

# Today's outputs (the site's pages come on top: tests/test_site.py).
EXPECTED = ["2023-05.md", "2023-06.md", "atom.xml", "email/2023-06.eml", "email/2023-06.txt", "feed.xml"]
PAGES = [
    "2023-05.html",
    "2023-06.html",
    "index.html",
    "search.html",
    "stats.html",
    "sitemap.xml",
    "feed.json",
]


def snapshot(out: Path) -> dict[str, tuple[bytes, int]]:
    """Every output file's bytes and modification time (ns), the lock file and manifest aside."""
    return {
        p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(out.rglob("*"))
        if p.is_file() and not p.name.startswith(".ecdigest-")
    }


def test_build_writes_everything_then_nothing(invoke: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "site"
    first = invoke("build", "-o", str(out), archive=FIXTURE_ARCHIVE)
    assert first.exit_code == 0, first.output
    before = snapshot(out)
    assert set(EXPECTED + PAGES) <= set(before)
    assert first.stdout == f"{out}: {len(before)} written, 0 unchanged (2 published issues)\n"
    second = invoke("build", "-o", str(out), archive=FIXTURE_ARCHIVE)
    assert second.exit_code == 0, second.output
    assert second.stdout == f"{out}: 0 written, {len(before)} unchanged (2 published issues)\n"
    assert snapshot(out) == before  # same bytes, mtimes untouched
    # No progress bar off a terminal; only the warning that the fixture's settings still
    # hold the example.org placeholders (guards.placeholder_warning).
    (line,) = second.stderr.splitlines()
    assert line.startswith("ecdigest: warning: ecdigest.toml still holds the example.org placeholders")


def test_build_rewrites_only_what_changed(invoke: Invoke, tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    out = tmp_path / "site"
    assert invoke("build", "-o", str(out), archive=root).exit_code == 0
    before = snapshot(out)
    path = root / "2023" / "2023-05.toml"
    path.write_text(path.read_text("utf-8").replace("占社会消费品零售总额", "占社零总额"), "utf-8")
    result = invoke("build", "-o", str(out), "--format", "json", archive=root)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    written = set(report["written"])
    # The issue's page and Markdown, the feeds that carry it, the search index's new delta.
    assert {"2023-05.html", "2023-05.md", "feed.xml", "atom.xml", "feed.json"} <= written
    assert any(name.startswith("search/delta-") for name in written)
    # Its neighbour's page, the latest email, the index (titles unchanged) are not rendered.
    for name in ("2023-06.html", "2023-06.md", "email/2023-06.txt", "email/2023-06.eml", "index.html"):
        assert name in report["unchanged"], name
    after = snapshot(out)
    for name in report["unchanged"]:
        assert after[name] == before[name]
    for name in written:
        assert name not in before or after[name][0] != before[name][0]


def test_build_outputs_are_valid(invoke: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert invoke("build", "-o", str(out), archive=FIXTURE_ARCHIVE).exit_code == 0
    problems = w3c_rss_problems((out / "feed.xml").read_bytes(), "https://example.org/ecd/feed.xml")
    assert [p for p in problems if "title contains HTML" not in p] == []
    assert email_problems((out / "email" / "2023-06.txt").read_text("utf-8"), 72) == []


def test_validation_errors_write_nothing(invoke: Invoke, tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    path = root / "2023" / "2023-06.toml"
    path.write_text(
        path.read_text("utf-8").replace('source = "《经济日报》"', 'source = "《经济日报"'), "utf-8"
    )
    out = tmp_path / "site"
    result = invoke("build", "-o", str(out), archive=root)
    assert result.exit_code == 1
    assert "E401" in result.stderr  # unbalanced marks, from validate
    assert "nothing was written" in result.stderr
    assert not out.exists()


def test_a_cold_build_validates_in_a_child_with_the_same_answer(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold build of a large archive validates every issue in a forked child (what
    validation leaves behind stays out of the build's process and of its workers): the
    same errors, the same refusal, and the same build when there are none; when the child
    cannot answer, the build validates by itself."""
    import ecdigest.build as build_module
    import ecdigest.validate as validate_module

    root = copy_fixture(tmp_path)
    path = root / "2023" / "2023-06.toml"
    path.write_text(
        path.read_text("utf-8").replace('source = "《经济日报》"', 'source = "《经济日报"'), "utf-8"
    )
    where = tmp_path / "validated-in"
    real = validate_module.validate_report

    def validate_report(*args: object, **kwargs: object) -> object:
        with where.open("a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module, "validate_report", validate_report)
    results = {}
    for apart_from in (10**6, 1):
        monkeypatch.setattr(build_module, "_APART_FROM", apart_from)
        where.unlink(missing_ok=True)
        result = invoke("build", "-o", str(tmp_path / "site"), archive=root)
        results[apart_from] = (result.exit_code, result.stdout, result.stderr)
        pids = where.read_text("utf-8").split()
        assert (pids == [str(os.getpid())]) is (apart_from > 1), pids
    assert results[1] == results[10**6] and results[1][0] == 1 and "E401" in results[1][2]
    assert not (tmp_path / "site").exists()
    # The child cannot answer (here: what it found does not pickle): validated here.
    import pickle

    real_dumps = pickle.dumps
    monkeypatch.setattr(pickle, "dumps", lambda *a, **k: real_dumps(lambda: None))
    where.unlink()
    result = invoke("build", "-o", str(tmp_path / "site"), archive=root)
    monkeypatch.setattr(pickle, "dumps", real_dumps)
    assert (result.exit_code, result.stdout, result.stderr) == results[1]
    assert where.read_text("utf-8").split()[-1] == str(os.getpid())
    path.write_text(
        path.read_text("utf-8").replace('source = "《经济日报"', 'source = "《经济日报》"'), "utf-8"
    )
    result = invoke("build", "-o", str(tmp_path / "site"), archive=root)
    assert result.exit_code == 0, result.output


def test_a_cold_build_plans_while_its_child_validates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child validating a cold build runs while the parent plans (the child waits to
    see the plan started), and a refusal still comes before anything is shown or written:
    no progress, no output folder; validation's errors come before the plan's own."""
    import time

    import ecdigest.build as build_module
    import ecdigest.validate as validate_module
    from ecdigest.archive import Archive
    from ecdigest.build import BuildRefused, build
    from ecdigest.site.builder import Plan

    root = copy_fixture(tmp_path)
    planning = tmp_path / "planning"
    seen = tmp_path / "seen"
    real_validate = validate_module.validate_report
    real_prepare = Plan.prepare

    def validate_report(*args: object, **kwargs: object) -> object:
        deadline = time.monotonic() + 30
        while not planning.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.write_text(str(planning.exists()), "utf-8")
        return real_validate(*args, **kwargs)  # type: ignore[arg-type]

    def prepare(self: Plan) -> None:
        planning.write_text("", "utf-8")
        real_prepare(self)

    monkeypatch.setattr(build_module, "validate_report", validate_report)
    monkeypatch.setattr(Plan, "prepare", prepare)
    monkeypatch.setattr(build_module, "_APART_FROM", 1)
    out = tmp_path / "site"
    shown: list[tuple[int, int, str]] = []
    build(Archive.open(root), out, progress=lambda *a: shown.append(a))
    assert seen.read_text("utf-8") == "True" and shown and (out / "feed.xml").exists()

    # Refused: an error in a published issue.
    path = root / "2023" / "2023-06.toml"
    path.write_text(
        path.read_text("utf-8").replace('source = "《经济日报》"', 'source = "《经济日报"'), "utf-8"
    )
    for case in ("plain", "plan fails too"):
        for name in ("planning", "seen"):
            (tmp_path / name).unlink(missing_ok=True)
        out = tmp_path / f"refused-{case.replace(' ', '-')}"
        if case == "plan fails too":  # the email folder a link out of the output folder
            out.mkdir()
            (tmp_path / "elsewhere").mkdir()
            (out / "email").symlink_to(tmp_path / "elsewhere")
        shown.clear()
        with pytest.raises(BuildRefused) as refused:
            build(Archive.open(root), out, progress=lambda *a: shown.append(a))
        assert any(p.code == "E401" for p in refused.value.problems)
        assert seen.read_text("utf-8") == "True" and shown == []
        if case == "plain":
            assert not out.exists()
        else:
            assert sorted(p.name for p in out.iterdir()) == ["email"]
            assert list((tmp_path / "elsewhere").iterdir()) == []
    # Valid again: the plan's own error is raised as it is.
    path.write_text(
        path.read_text("utf-8").replace('source = "《经济日报"', 'source = "《经济日报》"'), "utf-8"
    )
    with pytest.raises(WriteError, match="outside"):
        build(Archive.open(root), out)


def test_a_no_change_build_imports_no_planner_nor_renderer(tmp_path: Path) -> None:
    """A build with nothing changed needs the settings' digest (site/base.py) and the
    manifest's check, not the planner, the renderers or the search index's builder."""
    root = copy_fixture(tmp_path)
    out = tmp_path / "site"
    heavy = ["ecdigest.site.builder", "ecdigest.site.render", "ecdigest.site.searchindex", "jinja2"]
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from ecdigest.archive import Archive\n"
        "from ecdigest.build import build\n"
        f"result = build(Archive.open(Path({str(root)!r})), Path({str(out)!r}))\n"
        f"print(len(result.written), [m for m in {heavy!r} if m in sys.modules])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECDIGEST_")}
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, check=True, timeout=120)
        for _ in range(2)
    ]
    cold, again = (run.stdout.decode().split(" ", 1) for run in runs)
    assert int(cold[0]) > 0 and cold[1].strip() == str(heavy)  # a real build: all of them
    assert again == ["0", "[]\n"], runs[1].stderr.decode()


def test_errors_in_a_draft_do_not_block_the_build(invoke: Invoke, tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    draft = root / "2023" / "2023-07.toml"
    draft.write_text(draft.read_text("utf-8").replace('title = "草稿不会出现在输出中"', "title = 5"), "utf-8")
    assert invoke("validate", archive=root).exit_code == 1
    result = invoke("build", "-o", str(tmp_path / "site"), archive=root)
    assert result.exit_code == 0, result.output


def test_unreadable_file_blocks_the_build(invoke: Invoke, tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    (root / "2023" / "broken.toml").write_text('id = "2023-09"\ntitle = \n', "utf-8")
    result = invoke("build", "-o", str(tmp_path / "site"), archive=root)
    assert result.exit_code == 1
    assert "E003" in result.stderr
    assert not (tmp_path / "site").exists()


def test_no_published_issue_builds_nothing(invoke: Invoke, tmp_path: Path) -> None:
    assert invoke("new", "--id", "2023-07", "--date", "2023-07-05").exit_code == 0
    out = tmp_path / "site"
    result = invoke("build", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "0 written" in result.stdout
    assert not out.exists()


def test_quiet_prints_nothing_when_nothing_changed(invoke: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert invoke("build", "-o", str(out), "-q", archive=FIXTURE_ARCHIVE).stdout != ""
    assert invoke("build", "-o", str(out), "-q", archive=FIXTURE_ARCHIVE).stdout == ""


# --------------------------------------------------------------------------- where files go


def test_target_stays_inside_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    assert target(out, "email/2023-06.txt") == out / "email" / "2023-06.txt"
    for name in ("../evil.md", "/etc/passwd", "email/../../x", ""):
        with pytest.raises(WriteError):
            target(out, name)


def test_symlinked_subfolder_pointing_outside_is_refused(invoke: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "email").symlink_to(elsewhere)
    result = invoke("build", "-o", str(out), archive=FIXTURE_ARCHIVE)
    assert result.exit_code == 2
    assert "outside" in result.stderr
    assert list(elsewhere.iterdir()) == []
    assert not (out / "feed.xml").exists()  # every path is checked before the first write


def test_output_that_is_a_file_is_refused(invoke: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.write_text("not a folder")
    result = invoke("build", "-o", str(out), archive=FIXTURE_ARCHIVE)
    assert result.exit_code == 2
    assert "not a folder" in result.stderr


def test_write_site_is_atomic_per_file(tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = write_site(out, [SiteFile("a.txt", b"one"), SiteFile("sub/b.txt", b"two")], 1)
    assert result.written == ["a.txt", "sub/b.txt"]
    leftovers = [p.name for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


# --------------------------------------------------------------------------- real processes


def test_concurrent_builds_do_not_corrupt_each_other(tmp_path: Path) -> None:
    out = tmp_path / "site"
    env = {"ECDIGEST_NOW": "2023-07-10T09:00:00+08:00"}
    exe = [
        sys.executable,
        "-m",
        "ecdigest",
        "--archive",
        str(FIXTURE_ARCHIVE),
        "build",
        "-o",
        str(out),
        "-f",
        "json",
    ]
    full_env = {**{k: v for k, v in os.environ.items() if not k.startswith("ECDIGEST_")}, **env}
    procs = [
        subprocess.Popen(exe, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env) for _ in range(4)
    ]
    reports = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr.decode()
        reports.append(json.loads(stdout))
    # each file was written by exactly one of them, the others found it unchanged
    for name in EXPECTED + PAGES:
        assert sum(name in r["written"] for r in reports) == 1, (name, reports)
    golden = FIXTURE_ARCHIVE.parent / "built"
    for name in EXPECTED:
        assert (out / name).read_bytes() == (golden / name).read_bytes()


@pytest.mark.skipif(not (SHIPPED_ARCHIVE / "ecdigest.toml").exists(), reason="shipped archive not there")
def test_readme_main_job_from_the_repo_root(tmp_path: Path) -> None:
    """`ecdigest build` from the repository root: ./issues in, ./site out (here: -o tmp)."""
    out = tmp_path / "site"
    first = run_cli(["build", "-o", str(out)], cwd=REPO, env={"ECDIGEST_NOW": "2023-07-10T09:00:00+08:00"})
    assert first.returncode == 0, first.stderr.decode()
    before = snapshot(out)
    assert {"2023-06.html", "index.html", "search.html", "feed.xml", "email/2023-06.eml"} <= set(before)
    assert first.stdout.decode() == f"{out}: {len(before)} written, 0 unchanged (1 published issue)\n"
    second = run_cli(["build", "-o", str(out)], cwd=REPO)  # the real clock: changes nothing
    assert second.returncode == 0, second.stderr.decode()
    assert second.stdout.decode() == f"{out}: 0 written, {len(before)} unchanged (1 published issue)\n"
    assert snapshot(out) == before
    assert w3c_rss_problems((out / "feed.xml").read_bytes(), "https://example.org/ecd/feed.xml") == []


def test_default_output_folder_is_site_in_the_working_directory(tmp_path: Path) -> None:
    result = run_cli(
        ["--archive", str(FIXTURE_ARCHIVE), "build"], cwd=tmp_path, env={"ECDIGEST_NOW": "2023-07-10"}
    )
    assert result.returncode == 0, result.stderr.decode()
    assert set(EXPECTED + PAGES) <= set(snapshot(tmp_path / "site"))


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    import pty

    controller, terminal = pty.openpty()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ECDIGEST_")}, "TERM": "xterm"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ecdigest",
            "--archive",
            str(FIXTURE_ARCHIVE),
            "build",
            "-o",
            str(tmp_path / "s"),
        ],
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=env,
        timeout=120,
        check=False,
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert proc.returncode == 0
    assert re.match(
        rf"{re.escape(str(tmp_path / 's'))}: \d+ written, 0 unchanged", proc.stdout.decode()
    )  # plain
    assert b"building" in shown and b"\x1b[" in shown  # rich drew on the terminal
