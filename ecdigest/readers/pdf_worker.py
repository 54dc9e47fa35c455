"""The PDF text extractor, run as its own process: `python -m ecdigest.readers.pdf_worker`.

A PDF is a program of sorts (compressed streams, fonts, cross references) and pdfminer.six
reads it in pure Python: a hostile file can ask for gigabytes (a deflate bomb) or minutes
(a corrupt stream read byte by byte, a page of a million glyphs). Running the extraction in
a child process bounds all of it at once: an address-space limit set here, a CPU-time
limit, and the parent's wall-clock timeout, whatever part of the library a file exercises.

Protocol: the PDF's bytes on stdin, the page limit as argv[1]; on stdout one JSON object,
either {"pages": [...]} or {"error": KIND, "detail": TEXT}. Each page is
{"width", "height", "images", "runs": [[x0, x1, baseline, size, text], ...]}: runs of glyphs
on one baseline in drawing order, coordinates in points from the page's top-left corner.
"""

from __future__ import annotations

import itertools
import json
import sys
from typing import Any

MEMORY_LIMIT = 1024 * 1024 * 1024  # bytes of address space
CPU_SECONDS = 300  # the parent's wall-clock timeout normally strikes first


def _limit_resources() -> None:
    import resource

    for which, value in ((resource.RLIMIT_AS, MEMORY_LIMIT), (resource.RLIMIT_CPU, CPU_SECONDS)):
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, hard))


def extract(data: bytes, max_pages: int) -> dict[str, Any]:
    import io
    import logging

    from pdfminer.converter import PDFPageAggregator
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    logging.disable(logging.WARNING)  # pdfminer logs every odd font; the parent reports
    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)), password="")
    except PDFPasswordIncorrect:
        return {"error": "password", "detail": "needs a password to open"}
    except PDFEncryptionError as exc:
        return {"error": "encrypted", "detail": str(exc) or type(exc).__name__}
    manager = PDFResourceManager(caching=True)
    device = PDFPageAggregator(manager, laparams=None)
    interpreter = PDFPageInterpreter(manager, device)
    pages: list[dict[str, Any]] = []
    for number, page in enumerate(PDFPage.create_pages(document), start=1):
        if number > max_pages:
            return {"error": "pages", "detail": f"more than {max_pages} pages"}
        interpreter.process_page(page)
        pages.append(_page(device.get_result()))
    return {"pages": pages}


def _page(layout: Any) -> dict[str, Any]:
    """One page: its size, how many images it shows, and its glyphs as runs."""
    from pdfminer.layout import LTChar, LTContainer, LTImage

    left, bottom, right, top = layout.bbox
    runs: list[list[Any]] = []
    images = 0
    stack = [iter(layout)]
    while stack:  # depth-first through figures (form XObjects), without recursion
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
        elif isinstance(item, LTChar):
            _add(runs, item, left, top)
        elif isinstance(item, LTImage):
            images += 1
        elif isinstance(item, LTContainer):
            stack.append(iter(item))
    return {
        "width": round(right - left, 2),
        "height": round(top - bottom, 2),
        "images": images,
        "runs": [[x0, x1, baseline, size, _text(glyphs, size)] for x0, x1, baseline, size, glyphs in runs],
    }


def _add(runs: list[list[Any]], char: Any, left: float, top: float) -> None:
    """Append a glyph to the last run when it continues it (same baseline and size, next to
    it, less than a character's width away), else start a run."""
    _a, b, c, _d, _e, f = char.matrix
    if not char.upright or b or c:
        return  # rotated or vertical text: not part of a horizontal page
    size = round(char.size, 2)
    baseline = round(top - f, 2)
    x0, x1 = round(char.x0 - left, 2), round(char.x1 - left, 2)
    glyph = (x0, x1, char.get_text())
    run = runs[-1] if runs else None
    if (
        run is not None
        and abs(run[2] - baseline) < 0.2 * size
        and abs(run[3] - size) < 0.05 * size
        and -0.1 * size <= x0 - run[1] < 1.0 * size
    ):
        run[4].append(glyph)
        run[1] = max(run[1], x1)
        return
    runs.append([x0, x1, baseline, size, [glyph]])


def _text(glyphs: list[tuple[float, float, str]], size: float) -> str:
    """A run's text. Where a producer draws a gap instead of a space character, the gap
    stands for a space; justification widens every gap of a line, so a gap counts only
    when it is wider than the run's usual gap by a fifth of the font size."""
    gaps = sorted(max(0.0, after[0] - before[1]) for before, after in itertools.pairwise(glyphs))
    usual = gaps[len(gaps) // 2] if gaps else 0.0
    parts = [glyphs[0][2]]
    for before, after in itertools.pairwise(glyphs):
        gap = after[0] - before[1]
        if gap > usual + 0.2 * size and not before[2].endswith(" ") and not after[2].startswith(" "):
            parts.append(" ")
        parts.append(after[2])
    return "".join(parts)


def main() -> None:
    _limit_resources()
    max_pages = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    data = sys.stdin.buffer.read()
    try:
        result = extract(data, max_pages)
    except MemoryError:
        result = {"error": "memory", "detail": "needs more memory than allowed"}
    except RecursionError:
        result = {"error": "damaged", "detail": "objects nested too deeply"}
    except Exception as exc:  # any failure of the library on this file is a damaged PDF
        result = {"error": "damaged", "detail": f"{type(exc).__name__}: {exc}"[:300]}
    sys.stdout.write(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
