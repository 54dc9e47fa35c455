"""Golden files: every publishing format, byte for byte, on the fixed tricky archive.

The expected outputs live in tests/golden/ and are reviewed in diffs. After an intended
change, regenerate them explicitly and read the diff:

    UPDATE_GOLDEN=1 pytest tests/test_export_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _publishing import FIXTURE_ARCHIVE, GOLDEN
from conftest import Invoke

UPDATE = os.environ.get("UPDATE_GOLDEN", "") not in ("", "0")
SITE = GOLDEN / "built"  # what `ecdigest build` writes ("site/" is git-ignored)

# (golden file, command line)
EXPORTS = [
    ("feed-per-issue.xml", ["export", "rss", "--per", "issue"]),
    ("2023-05.md", ["export", "markdown", "2023-05"]),
    ("2023-06-width40.txt", ["export", "email", "2023-06", "--width", "40"]),
    ("2023-06-wechat.html", ["export", "wechat", "2023-06"]),
    ("2023-05-zh-Hant-TW.md", ["export", "markdown", "2023-05", "--script", "zh-Hant-TW"]),
]


def check(path: Path, actual: bytes) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
        return
    assert path.exists(), f"{path} is missing: run UPDATE_GOLDEN=1 pytest {__file__}"
    expected = path.read_bytes()
    if actual != expected:
        # a readable first difference instead of two walls of bytes
        old, new = expected.decode("utf-8").splitlines(), actual.decode("utf-8").splitlines()
        for number, (a, b) in enumerate(zip(old, new, strict=False), start=1):
            if a != b:
                pytest.fail(f"{path.name}:{number} differs:\n  golden: {a!r}\n  actual: {b!r}")
        pytest.fail(f"{path.name}: {len(old)} golden lines, {len(new)} actual")


def test_build_output_matches_golden(invoke: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = invoke("build", "-o", str(out), archive=FIXTURE_ARCHIVE)
    assert result.exit_code == 0, result.output
    built = ["2023-05.md", "2023-06.md", "atom.xml", "email/2023-06.eml", "email/2023-06.txt", "feed.xml"]
    for name in built:  # today's outputs; the site's pages are tested in tests/test_site.py
        check(SITE / name, (out / name).read_bytes())


@pytest.mark.parametrize(("name", "args"), EXPORTS, ids=[name for name, _ in EXPORTS])
def test_export_matches_golden(invoke: Invoke, name: str, args: list[str]) -> None:
    result = invoke(*args, archive=FIXTURE_ARCHIVE)
    assert result.exit_code == 0, result.output
    check(GOLDEN / name, result.stdout_bytes)


# The email's HTML part, decoded (the .eml holds it in base64, unreadable in a diff):
# the issue; an edition cut after two articles; a draft's proof.
EMAIL_HTML = [
    ("2023-06-email.html", ["export", "email", "2023-06", "--eml"]),
    (
        "2023-06-email-zh-Hant-TW-2.html",
        ["export", "email", "2023-06", "--eml", "--script", "zh-Hant-TW", "--max-articles", "2"],
    ),
    ("2023-07-email-proof.html", ["export", "email", "2023-07", "--eml"]),
]


@pytest.mark.parametrize(("name", "args"), EMAIL_HTML, ids=[name for name, _ in EMAIL_HTML])
def test_email_html_part_matches_golden(invoke: Invoke, name: str, args: list[str]) -> None:
    from _mail import parse

    result = invoke(*args, archive=FIXTURE_ARCHIVE)
    assert result.exit_code == 0, result.output
    html = parse(result.stdout_bytes).get_body(("html",))
    assert html is not None
    check(GOLDEN / name, html.get_content().encode("utf-8"))


def test_golden_outputs_agree_with_each_other() -> None:
    """The per-format goldens are the same renderers: build's page equals export's page."""
    if UPDATE:
        pytest.skip("regenerating")
    assert (SITE / "2023-05.md").read_bytes() == (GOLDEN / "2023-05.md").read_bytes()
    from _mail import parse

    built = parse((SITE / "email" / "2023-06.eml").read_bytes()).get_body(("html",))
    assert (
        built is not None
        and built.get_content().encode("utf-8") == (GOLDEN / "2023-06-email.html").read_bytes()
    )
