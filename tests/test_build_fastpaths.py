"""The one-issue build's shortcuts answer what the long way answers (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ecdigest.export.jsonout import _C1, dumps

_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=("Cs",)))
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)


@given(_VALUES)
@settings(max_examples=300, deadline=None)
def test_json_output_is_the_translated_dump(value: object) -> None:
    """dumps skips translate() when no DEL/C1 character is there: the same text either way."""
    assert dumps(value) == json.dumps(value, ensure_ascii=False, indent=2).translate(_C1) + "\n"


def test_json_output_escapes_c1_among_chinese() -> None:
    value = {"name": "section/行业资讯.xml", "odd": "a\x9b31mb\x7f", "plain": ["电商"] * 3}
    text = dumps(value)
    assert "\\u009b" in text and "\\u007f" in text and "\x9b" not in text and "\x7f" not in text
    assert json.loads(text) == value


def test_the_sitemaps_rows_are_the_rows_get_loads(tmp_path: Path) -> None:
    """Files.sitemap keeps the rows it reads: get answers from them what a query by name
    answers, and a record changed in this build still wins."""
    from _site import many_issues

    from ecdigest.archive import Archive
    from ecdigest.build import build
    from ecdigest.site.manifest import Manifest, Record

    root = many_issues(tmp_path, 3)
    out = tmp_path / "site"
    build(Archive.open(root), out)
    primed, plain = Manifest.load(out), Manifest.load(out)
    try:
        changed = Record("k", "d", 1, 2, "page|-", "2030-01-01")
        primed.files["index.html"] = changed
        entries = primed.files.sitemap()
        assert len(entries) > 10 and ("index.html", "2030-01-01") in entries
        for name, lastmod in entries:
            assert name in primed.files._cache  # no query of its own
            record = primed.files.get(name)
            assert record is not None and record.sitemap == lastmod
            assert record == (changed if name == "index.html" else plain.files.get(name))
    finally:
        primed.close()
        plain.close()
