"""Are two built sites the same, byte for byte? For checking a speed change of `build`
against the code before it on the same archive:

    python bench/same_site.py OUT_BEFORE OUT_AFTER

The search index's segment and entry-point names carry a digest of ecdigest's own code
(site/base.py `_code_digest`), so any code change renames them: each name is mapped to
its counterpart (same kind, same place) and the files are compared with the names
replaced. The manifest (mtimes, keys over the code's digest) is not compared. Exit 0 when
the sites are the same, 1 with the differences listed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

SKIP = {".ecdigest-manifest.sqlite3", ".ecdigest-build.lock"}
NAMED = re.compile(r"\b(main|delta|meta)-[0-9a-f]{12}\b")


def files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file() and p.name not in SKIP}


def canonical(text: str) -> str:
    return NAMED.sub(lambda m: f"{m.group(1)}-NAME", text)


def main(argv: list[str]) -> int:
    before, after = Path(argv[0]), Path(argv[1])
    a = {canonical(n): p for n, p in files(before).items()}
    b = {canonical(n): p for n, p in files(after).items()}
    problems = [f"only in {before}: {n}" for n in sorted(a.keys() - b.keys())]
    problems += [f"only in {after}: {n}" for n in sorted(b.keys() - a.keys())]
    for name in sorted(a.keys() & b.keys()):
        x, y = a[name].read_bytes(), b[name].read_bytes()
        if x == y:
            continue
        renamed = "-NAME" in name or name.endswith("search.html")
        if renamed and canonical(x.decode("utf-8", "surrogatepass")) == canonical(
            y.decode("utf-8", "surrogatepass")
        ):
            continue
        problems.append(f"differs: {name}")
    for line in problems[:50]:
        print(line)
    print(f"{len(a)} files compared, {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
