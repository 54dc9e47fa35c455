"""CSS inliners on the email's own markup: correctness, speed, output size.

The email's HTML part (export/mailhtml.py) is the template's output with its stylesheet
inlined. This renders that document (before inlining) for the shipped issue and the fixed
tricky issue (hostile titles, long words, markup in article text), runs every inliner that
is installed on it, and checks what our markup needs:

- text: the document's text, node for node, is the same after inlining (nothing decoded,
  re-encoded as entities, dropped or added; markup in article text stays text);
- cascade: the declaration a browser would apply wins on the elements we style by class
  and by tag (`.attribution` over `p`, `.article-title` over `h3`, the child combinator
  `.toc-sections > li`, the hidden preheader);
- no `<style>` left, Outlook's conditional comments kept, no network.

Speed: median of `--runs` inlinings of the shipped issue, each inliner in turn, in one
process. The inliners other than css-inline are not dependencies; install them beside it
in a throwaway environment to compare:

    python -m venv /tmp/inl && /tmp/inl/bin/pip install -e . css-inline premailer pynliner toronado inlinestyler html5lib
    /tmp/inl/bin/python bench/bench_inliners.py [--runs 20] [--write]

`--write` replaces the `## CSS inliners` section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from _results import write_section

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "RESULTS.md"
SECTION = "## CSS inliners"
sys.path.insert(0, str(REPO))


def documents() -> dict[str, str]:
    """The email's document before inlining, for the shipped issue and the tricky one."""
    from ecdigest.archive import Archive
    from ecdigest.export import email, mailhtml

    found = {}
    for name, root, issue_id in (
        ("shipped 2023-06", REPO / "issues", None),
        ("tricky 2023-06", REPO / "tests" / "golden" / "archive", "2023-06"),
    ):
        archive = Archive.open(root)
        item = archive.resolve(issue_id, default_status="published")
        issue, settings = item.issue, archive.settings
        frame = email.frame(issue, settings, issue)
        found[name] = mailhtml.document(issue, issue, settings, frame)
    return found


# --------------------------------------------------------------------------- the inliners


def _css_inline() -> Callable[[str], str]:
    import css_inline

    inliner = css_inline.CSSInliner(load_remote_stylesheets=False, minify_css=True)
    return inliner.inline


def _premailer() -> Callable[[str], str]:
    import premailer

    def run(html: str) -> str:
        return str(
            premailer.Premailer(
                html,
                keep_style_tags=False,
                allow_network=False,
                disable_validation=True,
                cssutils_logging_level=logging.CRITICAL,
            ).transform()
        )

    return run


def _pynliner() -> Callable[[str], str]:
    import pynliner

    return lambda html: str(pynliner.fromString(html))


def _toronado() -> Callable[[str], str]:
    import toronado

    def run(html: str) -> str:
        out = toronado.from_string(html)
        return out.decode("utf-8") if isinstance(out, bytes) else str(out)

    return run


def _inlinestyler() -> Callable[[str], str]:
    from inlinestyler.utils import inline_css

    return lambda html: str(inline_css(html))


INLINERS: dict[str, tuple[str, Callable[[], Callable[[str], str]]]] = {
    "css-inline": ("css-inline", _css_inline),
    "premailer": ("premailer", _premailer),
    "pynliner": ("pynliner", _pynliner),
    "toronado": ("toronado", _toronado),
    "inlinestyler": ("inlinestyler", _inlinestyler),
}


# --------------------------------------------------------------------------- checks


def _tree(html: str) -> Any:
    import html5lib

    return html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)


def _texts(html: str) -> list[str]:
    """Every text node of the body, whitespace-only ones left out."""
    body = _tree(html).find("body")
    found: list[str] = []

    def walk(element: Any) -> None:
        if element.tag in ("style", "script"):
            return
        if isinstance(element.tag, str) and element.text and element.text.strip():
            found.append(element.text.strip())
        for child in element:
            walk(child)
            if child.tail and child.tail.strip():
                found.append(child.tail.strip())

    walk(body)
    return found


def _declarations(style: str) -> dict[str, str]:
    """What a browser applies from a style attribute: the last of each property."""
    found: dict[str, str] = {}
    for item in style.split(";"):
        name, sep, value = item.partition(":")
        if sep:
            found[name.strip().lower()] = " ".join(value.replace("!important", "").split()).lower()
    return found


def _style_of(tree: Any, predicate: Callable[[Any], bool]) -> dict[str, str]:
    for element in tree.iter():
        if isinstance(element.tag, str) and predicate(element):
            return _declarations(element.get("style") or "")
    return {}


def _has_class(name: str) -> Callable[[Any], bool]:
    return lambda e: name in (e.get("class") or "").split()


# (what, element, property, expected value)
CASCADE = [
    ("class over tag (.attribution over p)", _has_class("attribution"), "margin", "0 0 2px"),
    ("class over tag (.article-title over h3)", _has_class("article-title"), "text-indent", "0"),
    ("tag rule (h3)", _has_class("article-title"), "font-size", "18px"),
    ("inherited rule set once (.article)", _has_class("article"), "text-indent", "2em"),
    (
        "child combinator (.toc-sections > li)",
        lambda e: e.tag == "li" and e.get("class") is None and e.find("ol") is not None,
        "margin-bottom",
        "8px",
    ),
    ("hidden preheader", _has_class("preheader"), "display", "none"),
    ("unknown property kept (mso-hide)", _has_class("preheader"), "mso-hide", "all"),
]


def check(source: str, output: str) -> list[str]:
    problems = []
    if _texts(output) != _texts(source):
        before, after = _texts(source), _texts(output)
        first = next(
            (f"{a!r} -> {b!r}" for a, b in zip(before, after, strict=False) if a != b),
            f"{len(before)} -> {len(after)} text nodes",
        )
        problems.append(f"text changed: {first[:120]}")
    tree = _tree(output)
    for what, predicate, name, expected in CASCADE:
        got = _style_of(tree, predicate).get(name)
        if got != expected:
            problems.append(f"{what}: {name} is {got!r}, not {expected!r}")
    if "<style" in output.lower():
        problems.append("a <style> element is left")
    if "[if mso]" not in output:
        problems.append("Outlook's conditional comments are gone")
    if "&#" in output and "&#" not in source:
        problems.append("characters turned into numeric entities")
    return problems


# --------------------------------------------------------------------------- the run


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args()

    docs = documents()
    shipped = docs["shipped 2023-06"]
    rows = []
    for name, (dist, factory) in INLINERS.items():
        try:
            run = factory()
        except ImportError:
            print(f"{name}: not installed", file=sys.stderr)
            continue
        problems: list[str] = []
        size = 0
        for doc_name, source in docs.items():
            try:
                output = run(source)
            except Exception as exc:  # a third-party inliner failing is a finding
                problems.append(f"{doc_name}: {type(exc).__name__}: {exc}"[:160])
                continue
            problems += [f"{doc_name}: {p}" for p in check(source, output)]
            if doc_name == "shipped 2023-06":
                size = len(output.encode("utf-8"))
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            try:
                run(shipped)
            except Exception:
                break
            times.append(time.perf_counter() - start)
        median = statistics.median(times) * 1000 if times else float("nan")
        rows.append((name, version(dist), median, size, problems))
        print(
            f"{name} {version(dist)}: {median:.1f} ms, {size:,} bytes, {len(problems)} problems",
            file=sys.stderr,
        )
        for problem in problems:
            print(f"    {problem}", file=sys.stderr)

    load = os.getloadavg()
    lines = [
        SECTION,
        "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by `python bench/bench_inliners.py "
        f"--runs {args.runs}` on {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; load average {load[0]:.2f}. The shipped issue's email "
        f"document ({len(shipped.encode('utf-8')):,} bytes before inlining) and the tricky fixture issue; "
        "median of the runs on the shipped one. Checks: bench/bench_inliners.py's docstring. Output "
        "sizes are before export/mailhtml.py's mail-safe pass, which drops the classes and ids.",
        "",
        "| inliner | version | median | output (shipped) | problems on our markup |",
        "|---|---|---:|---:|---|",
    ]
    for name, ver, median, size, problems in rows:
        shown = "; ".join(problems) if problems else "none"
        lines.append(f"| {name} | {ver} | {median:.1f} ms | {size:,} bytes | {shown} |")
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()
