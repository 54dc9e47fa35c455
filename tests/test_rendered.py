"""rendered.py: a kept `show` or `list` output is exactly what rendering it again prints.

The property test edits, breaks, duplicates, deletes and restores issue files and the
settings at random, and after each change asks `show` (several targets, widths, formats)
and `list` through the kept outputs and without them: the same text every time. The other
tests take each part of the key away in turn (the file's bytes, ecdigest.toml, the width,
the options, the code, the archive's folder), and check through the installed console
script that a kept answer is byte for byte what the Typer app prints.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from _hardening import SHIPPED_ARCHIVE, cli_env, ecdigest_argv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecdigest import rendered
from ecdigest.archive import Archive
from ecdigest.catalog import open_catalog
from ecdigest.contents import show as render_show
from ecdigest.errors import EcdigestError
from ecdigest.launcher import cached_list, list_output

SHIPPED = (SHIPPED_ARCHIVE / "2023" / "2023-06.toml").read_text("utf-8")
SETTINGS = (SHIPPED_ARCHIVE / "ecdigest.toml").read_text("utf-8")
OLD = 1_600_000_000  # seconds: every file is written "long ago" (no racy recheck), each time anew


class Clock:
    def __init__(self) -> None:
        self.tick = 0

    def age(self, path: Path) -> None:
        """A new mtime, older than RACY_NS: the catalog sees the change by its stat alone."""
        self.tick += 1
        os.utime(path, ns=(OLD * 10**9 + self.tick * 1000, OLD * 10**9 + self.tick * 1000))


def make_archive(root: Path, clock: Clock) -> None:
    (root / "2023").mkdir(parents=True)
    (root / "ecdigest.toml").write_text(SETTINGS, "utf-8")
    (root / "2023" / "2023-06.toml").write_text(SHIPPED, "utf-8")
    may = SHIPPED.replace("2023-06", "2023-05").replace("date = 2023-06-05", "date = 2023-05-08")
    (root / "2023" / "2023-05.toml").write_text(may, "utf-8")
    small = SHIPPED.split("\n[[articles]]", 4)
    april = "\n[[articles]]".join(small[:4]).replace("2023-06", "2023-04").replace("2023-04-05", "2023-04-03")
    (root / "2023" / "2023-04.toml").write_text(
        april.replace("last_article_number = 53", "last_article_number = 3")
    )
    for path in root.rglob("*.toml"):
        clock.age(path)


FILES = ["2023/2023-06.toml", "2023/2023-05.toml", "2023/2023-04.toml"]


def apply(root: Path, clock: Clock, op: tuple[str, int]) -> None:
    kind, which = op
    path = root / FILES[which % len(FILES)]
    if kind == "settings":
        text = (root / "ecdigest.toml").read_text("utf-8")
        swapped = text.replace('"行业资讯",\n    "政策法规"', '"政策法规",\n    "行业资讯"')
        if swapped == text:
            swapped = text.replace('"政策法规",\n    "行业资讯"', '"行业资讯",\n    "政策法规"')
        (root / "ecdigest.toml").write_text(swapped, "utf-8")
        clock.age(root / "ecdigest.toml")
        return
    if kind == "duplicate":
        copy = root / "2023" / f"copy-{which % len(FILES)}.toml"
        if copy.exists():
            copy.unlink()
        elif path.exists():
            shutil.copyfile(path, copy)
            clock.age(copy)
        return
    if kind == "delete":
        if path.exists():
            os.replace(path, root / f".{path.name}.gone")  # hidden: not an issue file
        elif (root / f".{path.name}.gone").exists():
            os.replace(root / f".{path.name}.gone", path)
            clock.age(path)
        return
    if not path.exists():
        return
    text = path.read_text("utf-8")
    if kind == "title":
        text = text.replace('title = "电子', 'title = "新电子', 1)
    elif kind == "body":
        text = text.replace("跨境电商", "跨境电子商务", 1)
    elif kind == "section":
        text = text.replace('section = "行业资讯"', 'section = "数据观察"', 1)
    elif kind == "status":
        text = text.replace('status = "published"', 'status = "draft"', 1)
    elif kind == "break":
        text = (
            text.replace('id = "', "id = ", 1)
            if 'id = "' in text[:20]
            else text.replace("id = ", 'id = "', 1)
        )
    elif kind == "same-size":  # one character for another of the same width in bytes
        text = text.replace("商务部", "商务处", 1)
    path.write_text(text, "utf-8")
    clock.age(path)


def uncached_show(root: Path, target: str | None, **options: object) -> str | None:
    try:
        return render_show(Archive.open(root), target, **options)  # type: ignore[arg-type]
    except EcdigestError:
        return None


def uncached_list(root: Path, fmt: str) -> rendered.Entry:
    with open_catalog(str(root)) as catalog:
        return list_output(str(root), fmt, catalog)


OPS = st.tuples(
    st.sampled_from(
        ["title", "body", "section", "status", "break", "same-size", "duplicate", "delete", "settings"]
    ),
    st.integers(0, 2),
)
QUERIES = st.tuples(
    st.sampled_from([None, "2023-06", "2023-05", "2023-04"]),
    st.booleans(),
    st.sampled_from([None, "行业资讯"]),
    st.booleans(),
    st.sampled_from([20, 33, 80]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(OPS, st.lists(QUERIES, min_size=1, max_size=3)), min_size=1, max_size=6))
def test_kept_output_is_what_a_full_render_prints(
    tmp_path_factory: pytest.TempPathFactory, steps: list
) -> None:  # type: ignore[type-arg]
    root = tmp_path_factory.mktemp("rendered") / "archive"
    clock = Clock()
    make_archive(root, clock)
    hits = 0
    for op, queries in [(("none", 0), []), *steps]:
        apply(root, clock, op)
        for target, toc, section, json, width in queries:
            options = {"toc": toc, "section": section, "json": json, "width": width}
            for _ in range(2):  # the second asks the entry the first kept
                try:
                    kept = rendered.show(str(root), target, **options)  # type: ignore[arg-type]
                except EcdigestError:
                    kept = None
                if kept is not None:
                    assert kept == uncached_show(root, target, **options)
            hits += kept is not None
        for fmt in ("text", "json"):
            for _ in range(2):
                got = cached_list(str(root), fmt)
                want = uncached_list(root, fmt)
                assert (got.out, got.err, got.code) == (want.out, want.err, want.code)
    assert (root / ".ecdigest" / "rendered").is_dir()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    clock = Clock()
    make_archive(tmp_path / "archive", clock)
    return tmp_path / "archive"


def entries(root: Path) -> dict[str, bytes]:
    folder = root / ".ecdigest" / "rendered"
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {}


def test_a_second_show_is_answered_from_the_kept_entry(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = rendered.show(str(root), "2023-06", toc=False, section=None, json=False, width=80)
    assert first is not None and len(entries(root)) == 1
    import ecdigest.contents

    def no_render(*args: object, **kwargs: object) -> str:
        raise AssertionError("rendered again")

    monkeypatch.setattr(ecdigest.contents, "show", no_render)
    assert rendered.show(str(root), "2023-06", toc=False, section=None, json=False, width=80) == first


@pytest.mark.parametrize(
    "change",
    ["file", "settings", "width", "toc", "section", "json", "target", "code", "root"],
)
def test_every_part_of_the_key_renders_again(
    root: Path, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Change one input: the kept entry is not the answer, and the answer is a full render's."""
    target: str | None = "2023-06"
    options: dict[str, object] = {"toc": False, "section": None, "json": False, "width": 80}
    where = str(root)
    first = rendered.show(where, target, **options)  # type: ignore[arg-type]
    assert first is not None
    clock = Clock()
    clock.tick = 10_000
    if change == "file":
        apply(root, clock, ("title", 0))
    elif change == "settings":
        apply(root, clock, ("settings", 0))
    elif change == "target":
        target = None  # the newest issue is 2023-06 too: same file, same text, another slot
    elif change == "code":
        monkeypatch.setattr(rendered, "_STAMP", ["another version"])
    elif change == "root":
        where = str(root) + "/."
    else:
        options[change] = {"width": 33, "toc": True, "section": "行业资讯", "json": True}[change]
    calls: list[object] = []
    import ecdigest.contents

    real = ecdigest.contents.show

    def counting(*args: object, **kwargs: object) -> str:
        calls.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ecdigest.contents, "show", counting)
    again = rendered.show(where, target, **options)  # type: ignore[arg-type]
    assert calls, "answered from an entry kept for other inputs"
    assert again == uncached_show(Path(where), target, **options)
    if change in ("file", "settings", "width", "toc", "section", "json"):
        assert again != first


def test_a_damaged_entry_is_a_miss_and_is_replaced(root: Path) -> None:
    first = rendered.show(str(root), "2023-06", toc=False, section=None, json=False, width=80)
    assert first is not None
    ((name, data),) = entries(root).items()
    place = root / ".ecdigest" / "rendered" / name
    for damaged in (
        data[:-1],
        data[:-5] + b"XXXXX",
        data.replace(b"ecdigest-rendered 1", b"ecdigest-rendered 9"),
        b"",
    ):
        place.write_bytes(damaged)
        assert rendered.show(str(root), "2023-06", toc=False, section=None, json=False, width=80) == first
        assert place.read_bytes() == data


def test_nothing_is_kept_for_a_duplicate_id_an_article_or_a_file_just_written(root: Path) -> None:
    shutil.copyfile(root / "2023" / "2023-06.toml", root / "2023" / "again.toml")
    Clock().age(root / "2023" / "again.toml")
    assert rendered.show(str(root), "2023-06", toc=False, section=None, json=False, width=80) is None
    assert rendered.show(str(root), "2023-06-001", toc=False, section=None, json=False, width=80) is None
    (root / "2023" / "again.toml").unlink()
    os.utime(root / "2023" / "2023-05.toml")  # now: within RACY_NS
    text = rendered.show(str(root), "2023-05", toc=False, section=None, json=False, width=80)
    assert text == uncached_show(root, "2023-05", toc=False, section=None, json=False, width=80)
    assert entries(root) == {}


def test_the_folder_keeps_at_most_limit_entries(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rendered, "LIMIT", 5)
    monkeypatch.setattr(rendered, "KEEP", 3)
    for width in range(20, 30):
        assert rendered.show(str(root), "2023-04", toc=False, section=None, json=False, width=width)
        assert len(entries(root)) <= 5


def test_a_read_only_folder_keeps_nothing_and_answers(root: Path) -> None:
    rendered.show(str(root), "2023-06", toc=True, section=None, json=False, width=80)
    folder = root / ".ecdigest" / "rendered"
    shutil.rmtree(folder)
    folder.write_text("not a folder")
    text = rendered.show(str(root), "2023-06", toc=True, section=None, json=False, width=80)
    assert text == uncached_show(root, "2023-06", toc=True, section=None, json=False, width=80)


def _cli(args: list[str], **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*ecdigest_argv(), *args], capture_output=True, check=False, env=cli_env(**env), timeout=60
    )


@pytest.mark.parametrize(
    "args",
    [
        ["list"],
        ["list", "-f", "json"],
        ["show"],
        ["show", "2023-05"],
        ["show", "2023-05", "--toc"],
        ["show", "2023-05", "-f", "json"],
        ["show", "--width", "40", "2023-06", "--section", "数据观察"],
    ],
)
def test_a_kept_answer_is_what_the_typer_app_prints(root: Path, args: list[str]) -> None:
    """The console script twice (the second answers from the kept entry), then the Typer
    app (ECDIGEST_DEBUG=1): the same bytes, the same exit code."""
    full = ["--archive", str(root), *args]
    first = _cli(full)
    before = entries(root)
    assert before, "nothing was kept"
    kept = _cli(full)
    assert entries(root) == before  # answered, not written again
    slow = _cli(full, ECDIGEST_DEBUG="1")
    assert kept.returncode == first.returncode == slow.returncode == 0, slow.stderr
    assert kept.stdout == first.stdout == slow.stdout
    assert kept.stderr == first.stderr == slow.stderr


def test_list_keeps_its_warnings_and_exit_code(root: Path) -> None:
    (root / "2023" / "broken.toml").write_text('id = "2023-03\n', "utf-8")
    Clock().age(root / "2023" / "broken.toml")
    full = ["--archive", str(root), "list"]
    first, kept, slow = _cli(full), _cli(full), _cli(full, ECDIGEST_DEBUG="1")
    assert first.returncode == kept.returncode == slow.returncode == 1
    assert kept.stdout == slow.stdout and kept.stderr == slow.stderr and b"broken.toml" in kept.stderr


def test_shown_file_is_the_file_show_reads(root: Path) -> None:
    archive = Archive.open(root)
    for target in (None, "2023-06", "2023-05", "2023-04"):
        item = archive.latest() if target is None else archive.get(target)
        with open_catalog(str(root)) as catalog:
            shown = catalog.shown_file(target)
        assert shown is not None
        relative, digest, size, mtime = shown
        assert root / relative == item.path
        data = item.path.read_bytes()
        info = item.path.stat()
        from ecdigest.derived import digest_bytes

        assert (digest, size, mtime) == (digest_bytes(data), info.st_size, info.st_mtime_ns)
    with open_catalog(str(root)) as catalog:
        assert catalog.shown_file("2023-01") is None


PART = st.one_of(st.none(), st.text(max_size=6), st.binary(max_size=6))


@given(st.lists(PART, max_size=5), st.lists(PART, max_size=5))
def test_key_parts_are_told_apart(one: list[str | bytes | None], two: list[str | bytes | None]) -> None:
    """Two different lists of key parts never make the same bytes to digest."""
    same = len(one) == len(two) and all(type(a) is type(b) and a == b for a, b in zip(one, two, strict=True))
    assert (rendered.joined(tuple(one)) == rendered.joined(tuple(two))) == same


def test_a_killed_writers_temporary_file_is_swept(root: Path) -> None:
    rendered.show(str(root), "2023-06", toc=False, section=None, json=False, width=80)
    folder = root / ".ecdigest" / "rendered"
    proc = subprocess.Popen(["true"])  # a pid that has ended
    proc.wait()
    left = folder / f".show-x.{proc.pid}.0123abcd.tmp"
    left.write_bytes(b"half")
    live = folder / f".show-y.{os.getpid()}.0123abcd.tmp"
    live.write_bytes(b"mine")
    rendered.show(str(root), "2023-06", toc=False, section=None, json=False, width=81)  # a store
    assert not left.exists() and live.exists()


def test_nothing_is_written_through_a_symlinked_folder(root: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / ".ecdigest").mkdir(exist_ok=True)
    (root / ".ecdigest" / "rendered").symlink_to(elsewhere, target_is_directory=True)
    for _ in range(2):
        text = rendered.show(str(root), "2023-06", toc=False, section=None, json=False, width=80)
        assert text == uncached_show(root, "2023-06", toc=False, section=None, json=False, width=80)
    assert list(elsewhere.iterdir()) == []


@given(
    st.text(max_size=300)
    | st.text(alphabet=st.sampled_from("行业 a5:/。，\u3000\xa0\r\n\t\x00\ud800"), max_size=300)
    | st.sampled_from([" 行业\r\n资讯 ", "a\u2028b", "x" * 257, "\ud800 y", " 行业  资讯 ", "《人民日报》 "])
)
@settings(max_examples=300, deadline=None)
def test_shows_one_line_is_the_exports(text: str) -> None:
    """`show`'s attribution lines take a printable field without importing export/common:
    the same answer as common.one_line for every text."""
    from ecdigest.export import common
    from ecdigest.export import text as plain

    assert plain.one_line(text) == common.one_line(text)


_COLLECTOR = """
import gc, sys
from ecdigest.launcher import fast_path
code = fast_path(["--archive", sys.argv[1], *sys.argv[2:]])
print(code, gc.isenabled(), gc.get_freeze_count() > 0, file=sys.stderr)
"""


@pytest.mark.parametrize(
    ("argv", "answered"),
    [
        (["show", "2023-06"], True),
        (["list"], True),
        (["show", "2099-99"], False),
        (["list", "-f", "nope"], False),
    ],
)
def test_show_and_list_run_without_the_cyclic_collector(
    shipped: Path, argv: list[str], answered: bool
) -> None:
    """The launcher's show and list run with the cyclic collector off and freeze what is
    left when done (the process ends); a command line handed to the Typer app (an error,
    an option it must judge) gets the collector back, nothing frozen."""
    import sys

    run = subprocess.run(
        [sys.executable, "-c", _COLLECTOR, str(shipped), *argv], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    last = run.stderr.splitlines()[-1]
    assert last == ("0 True True" if answered else "None True False"), run.stderr
