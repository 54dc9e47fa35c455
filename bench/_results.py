"""What the benchmarks share: the machine line their results start with, the installed
`ecdigest` command and a clean environment to run it in, and the one writer of
bench/RESULTS.md (each benchmark's `--write` replaces its own section).

A section is a `## Heading` line and everything up to the next `## ` line; `text` starts
with its heading. Every other section stays byte for byte as it was; a section not there
yet is appended at the end.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine() -> str:
    """CPU model, cores, system and Python: the line every result is measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def ecdigest_exe() -> list[str]:
    """The installed console script of this environment (as users run it)."""
    exe = shutil.which("ecdigest", path=os.path.dirname(sys.executable)) or shutil.which("ecdigest")
    if exe is None:
        sys.exit(f"{Path(sys.argv[0]).stem}: the ecdigest script is not installed in this environment")
    return [exe]


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the ECDIGEST_* settings of the person running it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECDIGEST_")}
    env.update(extra)
    return env


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
