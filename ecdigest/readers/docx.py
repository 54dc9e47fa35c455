"""Word .docx -> the text lines the import pipeline reads: one paragraph a line, a blank after.

python-docx opens the package (relationships, styles, the body in order); the text of each
paragraph is read from its XML here, because python-docx's `Paragraph.text` leaves out
text inside fields (`HYPERLINK` fields that older Word versions write), content controls
and tracked insertions. Deleted text (tracked deletions), field codes and text boxes are
not part of the paragraph's text.

- Headings: a heading (style `Heading N` or `Title`) that names a section of the archive
  becomes its header `【行业资讯】`, bracketed or not.
- Hyperlinks: the first http(s) link of a paragraph is kept for its lines; the pipeline
  makes it the article's `url` when it is on the title or the attribution line.
- Tables: each row is one line, its cells separated by spaces.

The package is a ZIP archive: its members are counted and their declared sizes added up
before anything is unpacked (Python's zipfile never inflates a member beyond its declared
size), so a ZIP bomb is refused without being opened.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from typing import Any

from ..errors import InputError
from . import Decoded

MAX_MEMBERS = 10_000
MAX_UNPACKED = 256 * 1024 * 1024  # bytes, all members together

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_SKIP = {
    f"{_W}del",
    f"{_W}instrText",
    f"{_W}delText",
    f"{_W}txbxContent",
    f"{_W}footnoteReference",
    f"{_MC}Fallback",
}
_HYPERLINK_FIELD = re.compile(r'HYPERLINK\s+"([^"]+)"')
_WEB_URL = re.compile(r"^https?://[^\s\x00-\x1f\x7f]+$", re.IGNORECASE)


def _check_package(data: bytes, path: str) -> None:
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            members = package.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise InputError(
            f"not a readable Word file (damaged or truncated: {exc})",
            path=path,
            hint="save it again from Word as .docx",
        ) from None
    if len(members) > MAX_MEMBERS:
        raise InputError(f"the Word file has {len(members)} parts; refusing to unpack it", path=path)
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED:
        raise InputError(
            f"the Word file unpacks to {unpacked // (1024 * 1024)} MB (more than "
            f"{MAX_UNPACKED // (1024 * 1024)} MB); refusing to unpack it",
            path=path,
            hint="a ZIP bomb, or a document full of pictures: save the text alone as .docx",
        )
    names = {member.filename for member in members}
    if any(member.flag_bits & 0x1 for member in members):
        raise InputError("the Word file is encrypted", path=path, hint="save it again without a password")
    if "word/document.xml" not in names:
        raise InputError(
            "a ZIP archive, but not a Word document (no word/document.xml)",
            path=path,
            hint="give a .docx file; save .odt or .pages files as .docx first",
        )


def read_docx(data: bytes, *, path: str = "<stdin>", sections: Sequence[str] = ()) -> Decoded:
    """A .docx file's paragraphs as lines, with the URLs they link to."""
    _check_package(data, path)
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(_blocks(document, set(sections)))
    except InputError:
        raise
    except Exception as exc:  # any failure of the library on these bytes: a damaged file
        raise InputError(
            f"not a readable Word document ({type(exc).__name__}: {str(exc)[:200]})",
            path=path,
            hint="save it again from Word as .docx",
        ) from None
    lines: list[str] = []
    links: dict[int, str] = {}
    starts: list[int] = []
    for texts, url in blocks:
        starts.append(len(lines) + 1)
        for text in texts:
            lines.append(text)
            if url:
                links[len(lines)] = url
        lines.append("")
    return Decoded(
        "\n".join(lines), "docx", links=links, unit="paragraph", starts=tuple(starts), structured=True
    )


def _blocks(document: Any, sections: set[str]) -> Iterator[tuple[list[str], str | None]]:
    """(lines, url) per paragraph or table row, in the body's order."""
    from docx.table import Table

    rels = document.part.rels
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for row in item._tbl.tr_lst:
                cells = [" ".join(_paragraph(p, rels)[0]) for tc in row.tc_lst for p in tc.p_lst]
                line = "  ".join(cell for cell in cells if cell.strip())
                if line.strip():
                    yield [line], None
            continue
        texts, url = _paragraph(item._p, rels)
        texts = [t for t in texts if t.strip()]
        if not texts:
            continue
        if _is_heading(item) and len(texts) == 1:
            name = texts[0].strip().strip("【】[] ").strip()
            if name in sections:
                texts = [f"【{name}】"]
        yield texts, url


def _is_heading(paragraph: Any) -> bool:
    try:
        name = paragraph.style.name or ""
    except (KeyError, AttributeError, ValueError):
        return False
    return name.startswith("Heading") or name == "Title"


def _paragraph(p: Any, rels: Any) -> tuple[list[str], str | None]:
    """A paragraph's text, split at its line breaks, and the first web link in it."""
    parts: list[str] = []
    urls: list[str] = []

    def walk(element: Any) -> None:
        for child in element:
            tag = child.tag
            if not isinstance(tag, str) or tag in _SKIP:
                continue
            if tag == f"{_W}t":
                parts.append(child.text or "")
            elif tag in (f"{_W}tab", f"{_W}ptab"):
                parts.append("\t")
            elif tag in (f"{_W}br", f"{_W}cr"):
                parts.append("\n")
            elif tag == f"{_W}noBreakHyphen":
                parts.append("-")
            else:
                if tag == f"{_W}hyperlink":
                    rel = rels.get(child.get(f"{_R}id") or "")
                    if rel is not None and rel.is_external:
                        urls.append(str(rel.target_ref))
                elif tag == f"{_W}fldSimple":
                    urls.extend(_HYPERLINK_FIELD.findall(child.get(f"{_W}instr") or ""))
                walk(child)
            if tag == f"{_W}r":
                for code in child.iter(f"{_W}instrText"):
                    urls.extend(_HYPERLINK_FIELD.findall(code.text or ""))

    walk(p)
    text = "".join(parts).replace("\t", " ")
    url = next((u.strip() for u in urls if _WEB_URL.match(u.strip())), None)
    return text.split("\n"), url
