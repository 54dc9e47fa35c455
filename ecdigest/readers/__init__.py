"""The files editors have, read into text lines for the import pipeline (`importer.py`).

`kind_of` tells a file by its first bytes (its name only has to agree): a PDF, a Word
.docx, or text. Each reader returns a `Decoded`: the text, what it was read as, and what
the text alone cannot carry (the URL linked on a line, where each PDF page starts).
The readers import their libraries (pdfminer.six, python-docx) only when called.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field

PDF_MAGIC = b"%PDF-"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word 97-2003 .doc, and password-protected .docx
SUFFIXES = {".pdf": "pdf", ".docx": "docx", ".txt": "text", ".text": "text"}


@dataclass(frozen=True)
class Decoded:
    """A file's text for the pipeline.

    `encoding` is the text encoding, or "pdf" / "docx". `links` maps a line number to the
    http(s) URL linked on that line (Word hyperlinks). `unit` is what a person finds in
    the original: a text file's lines, a PDF's pages, a Word file's paragraphs; `starts`
    holds the line number where each page or paragraph starts. `structured`: the reader
    knows the layout (blank lines are real), so the pipeline need not guess it.
    """

    text: str
    encoding: str
    links: Mapping[int, str] = field(default_factory=dict)
    unit: str = "line"
    starts: tuple[int, ...] = ()
    structured: bool = False

    def where(self, line: int) -> str:
        """`page 3` or `paragraph 12` for a line of the text; `line 120` for text files."""
        if self.unit == "line" or not self.starts:
            return f"line {line}"
        return f"{self.unit} {max(1, bisect.bisect_right(self.starts, line))}"


def kind_of(data: bytes) -> str:
    """pdf, docx, zip (another ZIP archive), ole (a .doc or an encrypted .docx) or text."""
    if PDF_MAGIC in data[:1024]:  # the header may follow some junk (PDF 1.7, 7.5.2)
        return "pdf"
    if data.startswith(ZIP_MAGIC):
        return "docx" if b"word/" in data[:65536] or b"word/" in data[-65536:] else "zip"
    if data.startswith(OLE_MAGIC):
        return "ole"
    return "text"


def expected_kind(name: str) -> str | None:
    """What a file's name says it is (None: the name does not say)."""
    lower = name.lower()
    for suffix, kind in SUFFIXES.items():
        if lower.endswith(suffix):
            return kind
    return None
