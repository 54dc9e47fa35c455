"""`ecdigest import` of many files and folders, and the import items of issue 10: article
ids taken elsewhere, codecs that are no text encoding, and what reaches the terminal."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import replace
from pathlib import Path

import _documents as docs
import pytest
from conftest import SAMPLE, Invoke

from ecdigest.model import Issue

SHIPPED = docs.shipped_issue()
TERMINAL_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def month(issue: Issue, number: int, count: int) -> Issue:
    """`count` articles of the shipped issue, dated in 2023-`number`: an issue of its own."""
    articles = tuple(
        replace(a, date=dt.date(2023, number, 1 + i)) for i, a in enumerate(issue.articles[:count])
    )
    return replace(issue, articles=articles)


@pytest.fixture(scope="module")
def back_issues(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder as an editor has one: PDFs, a Word file, a text file, a broken PDF,
    and files that are not back issues (hidden, other types)."""
    root = tmp_path_factory.mktemp("back")
    (root / "2023" / "spring").mkdir(parents=True)
    (root / "2023" / "spring" / "ecd-2023-03.pdf").write_bytes(
        docs.weasyprint_pdf(month(SHIPPED, 3, 5), "single")
    )
    (root / "2023" / "ecd-2023-04.docx").write_bytes(docs.issue_docx(month(SHIPPED, 4, 4)))
    (root / "2023" / "ecd-2023-06.txt").write_bytes(SAMPLE.read_bytes())
    (root / "2023" / "ecd-2023-05.PDF").write_bytes(
        docs.weasyprint_pdf(month(SHIPPED, 5, 3), "columns")[:5000]
    )
    (root / "2023" / ".ecd-2023-07.pdf").write_bytes(b"hidden: never read")
    (root / "2023" / "notes.md").write_text("# not an issue\n", "utf-8")
    (root / ".git").mkdir()
    (root / ".git" / "x.txt").write_text("not read either", "utf-8")
    return root


def test_a_folder_imports_every_file_and_goes_on_past_a_bad_one(
    invoke: Invoke, back_issues: Path, archive_dir: Path
) -> None:
    result = invoke("import", str(back_issues), "--status", "published")
    assert result.exit_code == 1, result.output
    bad = back_issues / "2023" / "ecd-2023-05.PDF"
    assert result.stderr.splitlines() == [
        f"ecdigest: error: {bad}: not a readable PDF (damaged or truncated: PSEOF: Unexpected EOF) "
        "(export it again from the original)",
        "ecdigest: error: 1 of 4 files could not be imported (see the error lines above; the other files were imported)",
    ]
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows == [
        ["file", "issue", "articles", "行业资讯", "政策法规", "数据观察", "专家视点", "left", "out"],
        [str(back_issues / "2023" / "ecd-2023-04.docx"), "2023-04", "4", "4", "0", "0", "0", "0"],
        [str(bad), "failed"],
        [str(back_issues / "2023" / "ecd-2023-06.txt"), "2023-06", "53", "23", "2", "24", "4", "0"],
        [str(back_issues / "2023" / "spring" / "ecd-2023-03.pdf"), "2023-03", "5", "5", "0", "0", "0", "0"],
        ["imported", "3", "of", "4", "files;", "1", "failed"],
    ]
    listed = json.loads(invoke("list", "--format", "json").stdout)
    assert [(i["id"], i["articles"]) for i in listed] == [("2023-03", 5), ("2023-04", 4), ("2023-06", 53)]
    again = invoke(
        "import", str(back_issues / "2023" / "ecd-2023-06.txt"), str(back_issues / "2023" / "spring")
    )
    assert again.exit_code == 1
    assert again.stderr.splitlines()[0] == (
        f"ecdigest: error: {back_issues / '2023' / 'ecd-2023-06.txt'}: {archive_dir / '2023' / '2023-06.toml'}: "
        "issue '2023-06' already exists; import never merges into an issue (import under another id with --id)"
    )
    assert again.stderr.count("already exists; import never merges") == 2


def test_a_dry_run_of_a_folder_writes_nothing_and_json_names_each_failure(
    invoke: Invoke, back_issues: Path, archive_dir: Path
) -> None:
    before = sorted(p.relative_to(archive_dir) for p in archive_dir.rglob("*") if ".ecdigest" not in p.parts)
    result = invoke("import", str(back_issues), "--dry-run")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-2:] == [
        "would import 3 of 4 files; 1 failed",
        "dry run: nothing was written",
    ]
    summary = json.loads(invoke("import", str(back_issues), "--dry-run", "--format", "json").stdout)
    assert [item.get("id") or "error" for item in summary] == ["2023-04", "error", "2023-06", "2023-03"]
    assert summary[1]["error"].endswith(
        "not a readable PDF (damaged or truncated: PSEOF: Unexpected EOF) (export it again from the original)"
    )
    assert summary[0]["encoding"] == "docx" and summary[3]["encoding"] == "pdf"
    assert summary[3]["path"].endswith("2023/2023-03.toml") and summary[3]["written"] is False
    assert (
        sorted(p.relative_to(archive_dir) for p in archive_dir.rglob("*") if ".ecdigest" not in p.parts)
        == before
    )


def test_strict_and_empty_folders_fail_per_file(invoke: Invoke, tmp_path: Path, archive_dir: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    tail = tmp_path / "tail.txt"
    tail.write_text(SAMPLE.read_text("utf-8") + "\n\n散落的一段文字。\n", "utf-8")
    other = tmp_path / "ecd-2023-04.docx"
    other.write_bytes(docs.issue_docx(month(SHIPPED, 4, 2)))
    result = invoke("import", str(empty), str(tail), str(other), "--strict")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("ecdigest: error:")]
    assert errors == [
        f"ecdigest: error: {empty}: no .txt, .text, .pdf, .docx files in this folder",
        f"ecdigest: error: {tail}: 1 passage of text fit in no article; the file was not imported "
        "(fix the text, or import without --strict)",
        "ecdigest: error: 2 of 3 files could not be imported (see the error lines above; the other files were imported)",
    ]
    assert [p.name for p in archive_dir.rglob("*.toml") if p.name != "ecdigest.toml"] == ["2023-04.toml"]


def test_options_that_name_one_issue_refuse_a_folder(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("import", str(tmp_path), "--id", "x")
    assert result.exit_code == 2
    assert result.stderr == (
        "ecdigest: error: --id, --date and --title name one issue (import those files one at a time)\n"
    )


# --------------------------------------------------------------------------- issue 10: taken ids


def _issue_file(archive: Path, name: str, article_ids: list[str]) -> None:
    lines = [f'id = "{name}"', f'title = "{name}"', "date = 2023-05-05", 'status = "draft"', ""]
    for article_id in article_ids:
        lines += ["[[articles]]", f'id = "{article_id}"', 'section = "行业资讯"', 'title = "旧文"',
                  'source = "《人民日报》"', "date = 2023-05-01", 'body = "正文。"', ""]  # fmt: skip
    (archive / "2023").mkdir(exist_ok=True)
    (archive / "2023" / f"{name}.toml").write_text("\n".join(lines), "utf-8")


@pytest.mark.parametrize(
    ("taken", "first"),
    [
        (["2023-06-001"], "2023-06-002"),  # an article elsewhere already uses ISSUE-001
        (["2023-06-001", "2023-06-040", "2023-06-007"], "2023-06-041"),  # above the highest
        (["2023-06-00a", "2023-06-x"], "2023-06-001"),  # not of the form ISSUE-NNN: no clash
        (["2023-060-001", "2023-6-001"], "2023-06-001"),  # another issue's space
    ],
)
def test_import_skips_article_ids_taken_in_the_archive(
    invoke: Invoke, archive_dir: Path, taken: list[str], first: str
) -> None:
    _issue_file(archive_dir, "old", taken)
    result = invoke("import", str(SAMPLE))
    assert result.exit_code == 0, result.output
    ids = [a["id"] for a in json.loads(invoke("export", "json", "2023-06").stdout)["articles"]]
    start = int(first.rsplit("-", 1)[1])
    assert ids == [f"2023-06-{n:03d}" for n in range(start, start + 53)]
    validate = invoke("validate", "--format", "json")
    assert "E203" not in validate.stdout, validate.stdout
    # `add` continues by the same rule.
    added = invoke("add", "2023-06", "--title", "再加一篇", "--section", "行业资讯", "--source", "《人民日报》",
                   "--date", "2023-06-01", "--body", "正文。")  # fmt: skip
    assert added.stdout.strip() == f"2023-06-{start + 53:03d}"


def test_import_and_add_give_the_same_first_id(invoke: Invoke, archive_dir: Path, tmp_path: Path) -> None:
    """One rule: a new issue's first article id is the same whether `add` or `import` makes it."""
    _issue_file(archive_dir, "old", ["2023-07-003", "2023-08-009"])
    assert invoke("new", "--id", "2023-07", "--date", "2023-07-05").exit_code == 0
    by_add = invoke("add", "2023-07", "--title", "t", "--section", "行业资讯", "--source", "《人民日报》",
                    "--date", "2023-07-01", "--body", "b").stdout.strip()  # fmt: skip
    path = tmp_path / "ecd-2023-08.docx"
    path.write_bytes(docs.issue_docx(month(SHIPPED, 8, 2)))
    assert invoke("import", str(path), "--dry-run", "--format", "json").exit_code == 0
    assert invoke("import", str(path)).exit_code == 0
    by_import = json.loads(invoke("export", "json", "2023-08").stdout)["articles"][0]["id"]
    assert (by_add, by_import) == ("2023-07-004", "2023-08-010")


# --------------------------------------------------------------------------- issue 10: --encoding


@pytest.mark.parametrize(
    "codec",
    [
        "rot13",
        "rot_13",
        "base64",
        "zlib",
        "bz2",
        "uu",
        "hex",
        "quopri",
        "idna",
        "punycode",
        "unicode_escape",
        "raw_unicode_escape",
        "undefined",
    ],
)
def test_codecs_that_are_not_text_encodings_are_one_usage_error(invoke: Invoke, codec: str) -> None:
    result = invoke("import", str(SAMPLE), "--encoding", codec)
    assert result.exit_code == 2
    assert result.stderr == (
        f"ecdigest: error: {codec!r} is not a text encoding (a character set) "
        "(e.g. utf-8, gb18030, gbk, utf-16, big5)\n"
    )


def test_real_encodings_still_work_and_unknown_ones_are_named(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "gbk.txt"
    path.write_bytes(SAMPLE.read_text("utf-8").encode("gb18030"))
    for codec in ("gb18030", "GBK", "cp936"):
        assert invoke("import", str(path), "--encoding", codec, "--dry-run").exit_code == 0
    for name in ("no-such-codec", "utf-8-but-not"):
        result = invoke("import", str(path), "--encoding", name)
        assert result.exit_code == 2 and "unknown encoding" in result.stderr, result.stderr
    # a NUL never reaches the codec lookup: no argument may hold one
    result = invoke("import", str(path), "--encoding", "utf-8\x00")
    assert result.exit_code == 2 and "NUL character" in result.stderr, result.stderr
    wrong = invoke("import", str(path), "--encoding", "utf-32")
    assert wrong.exit_code == 2 and wrong.stderr.startswith(
        f"ecdigest: error: {path}:1: not valid utf-32 (byte 0x20 at offset 0)"
    )


# --------------------------------------------------------------------------- issue 10: the terminal


@pytest.mark.parametrize(
    "name",
    [
        "\x1b]0;pwned\x07.txt",
        "\x1b[2J\x1b[31mred.txt",
        "c1-\x9b31m.txt",
        "bell\x07and\rcr.txt",
        "two\nlines.txt",
    ],
)
def test_file_names_and_contents_reach_the_terminal_escaped(
    invoke: Invoke, tmp_path: Path, name: str
) -> None:
    good = tmp_path / name
    good.write_text(SAMPLE.read_text("utf-8") + "\n\n\x1b]52;c;ZXZpbA==\x07散落的文字\x1b[0m\n", "utf-8")
    bad = tmp_path / ("bad-" + name)
    bad.write_bytes(b"\x00\x01binary")
    for args in (
        [str(good), "--dry-run"],  # one file: the summary line and the left-over warning
        [str(good), str(bad), "--dry-run"],  # a batch: the table and the failure line
        [str(bad)],  # one file that fails
    ):
        result = invoke("import", *args)
        assert result.exit_code in (0, 1, 2), result.output
        for stream in (result.stdout, result.stderr):
            found = TERMINAL_CONTROL.search(stream)
            assert found is None, f"{args}: {found.group()!r} reaches the terminal: {stream!r}"
        assert (
            "\\x1b" in result.stdout + result.stderr
            or "\\x9b" in result.stdout + result.stderr
            or ("\\x07" in result.stdout + result.stderr or "\\x0a" in result.stdout + result.stderr)
        )
    warning = invoke("import", str(good), "--dry-run").stderr
    assert "\\x1b]52;c;ZXZpbA==\\x07散落的文字\\x1b[0m" in warning


def test_import_knows_the_ids_in_use_from_the_catalog(invoke: Invoke, archive_dir: Path) -> None:
    """The ids already taken come from the catalog, not from parsing every file: an issue
    elsewhere with a bad field does not stop an import; its id, and the name of a file that
    is not TOML at all (it could hold any issue), are still refused."""
    _issue_file(archive_dir, "2023-06", ["2023-06-001"])
    path = archive_dir / "2023" / "2023-06.toml"
    path.rename(archive_dir / "2023" / "elsewhere.toml")  # id 2023-06 in another file
    refused = invoke("import", str(SAMPLE))
    assert refused.exit_code == 2 and "'2023-06' already exists" in refused.stderr, refused.output
    _issue_file(archive_dir, "2023-04", ["2023-04-001"])
    bad = archive_dir / "2023" / "2023-04.toml"
    bad.write_text(bad.read_text("utf-8").replace('source = "《人民日报》"', "source = 42"), "utf-8")
    (archive_dir / "2023" / "2023-05.toml").write_text('id = "2023-05"\n[[articles]\n', "utf-8")
    assert invoke("import", str(SAMPLE), "--id", "2023-05").exit_code == 2
    imported = invoke("import", str(SAMPLE), "--id", "2023-07")
    assert imported.exit_code == 0, imported.output
    assert len(json.loads(invoke("export", "json", "2023-07").stdout)["articles"]) == 53
