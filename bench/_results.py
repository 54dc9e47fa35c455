"""The one writer of bench/RESULTS.md: each benchmark's `--write` replaces its own section.

A section is a `## Heading` line and everything up to the next `## ` line; `text` starts
with its heading. Every other section stays byte for byte as it was; a section not there
yet is appended at the end.
"""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(text: str, results: Path = RESULTS) -> None:
    heading = text.splitlines()[0].rstrip()
    if not heading.startswith("## "):
        raise ValueError(f"a RESULTS.md section starts with its '## ' heading, not {heading!r}")
    old = results.read_text("utf-8") if results.exists() else "# Benchmark results\n"
    lines = old.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    body = text.rstrip("\n") + "\n"
    if start is None:
        new = old.rstrip("\n") + "\n\n" + body
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        new = "".join(lines[:start]) + body + ("\n" + "".join(lines[end:]) if end < len(lines) else "")
    results.write_text(new, "utf-8")
