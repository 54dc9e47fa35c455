"""The shipped issue as the files editors actually have: PDFs in several layouts and a .docx.

We have no original PDF of 《电子商务动态》, so the tests make them from `issues/2023/2023-06.toml`
with real producers, each with its own layout and its own way of writing a PDF:

- `single`: WeasyPrint, A4, one column, serif, first-line indents, a running header and
  ` - N - ` page numbers (the newsletter's own layout);
- `columns`: WeasyPrint, A4, two columns with full-width section headers (`column-span`),
  sans-serif, no indents but space between paragraphs, header left and right, `第 N 页`;
- `chromium`: our own simple HTML page printed by headless Chromium (`--print-to-pdf`),
  with Chromium's own header and footer (date, title, file URL, `1/12`);
- `docx`: python-docx, section headers in Heading 1, titles in Heading 2 linked to the
  article's URL, attribution lines as plain paragraphs.

Generation is deterministic for WeasyPrint and python-docx (fixed metadata); Chromium's
header carries today's date, which the importer must drop like any running header.
Fonts: Debian's fonts-noto-cjk (`.ci/run` installs it and chromium).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ecdigest.archive import Archive
from ecdigest.attribution import format_line
from ecdigest.model import DEFAULT_SECTIONS, Article, Issue

TESTS = Path(__file__).parent
SHIPPED = TESTS.parent / "issues"
PDF_LAYOUTS = ("single", "columns", "chromium")
OLE_HEADER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a Word 97-2003 file starts so


def shipped_issue() -> Issue:
    return Archive.open(SHIPPED).get("2023-06").issue


def with_urls(issue: Issue) -> Issue:
    """The issue with an original URL on every third article (the .docx links its title)."""
    articles = tuple(
        replace(a, url=f"https://news.example.com/{a.id}.html?from=ecd&n={i}") if i % 3 == 0 else a
        for i, a in enumerate(issue.articles)
    )
    return replace(issue, articles=articles)


# --------------------------------------------------------------------------- HTML

_CSS = {
    "single": """
@page { size: A4; margin: 28mm 24mm 26mm 24mm;
  @top-center { content: "电子商务动态  2023 年第 6 期"; font: 9pt "Noto Serif CJK SC";
                border-bottom: 0.5pt solid #444; padding-bottom: 2mm; width: 100%; }
  @bottom-center { content: "- " counter(page) " -"; font: 9pt "Noto Serif CJK SC"; } }
body { font: 10.5pt/1.75 "Noto Serif CJK SC"; text-align: justify; }
h2 { font-size: 14pt; text-align: center; margin: 1.2em 0 0.8em; }
h3 { font-size: 13pt; text-align: center; margin: 1.4em 3em 0.9em; line-height: 1.4; }
p { text-indent: 2em; margin: 0; orphans: 1; widows: 1; }
p.attribution { text-align: right; margin-top: 0.5em; }
""",
    "columns": """
@page { size: A4; margin: 18mm 15mm 20mm 15mm;
  @top-left { content: "《电子商务动态》"; font: 8pt "Noto Sans CJK SC"; }
  @top-right { content: "2023 年 6 月"; font: 8pt "Noto Sans CJK SC"; }
  @bottom-right { content: "第 " counter(page) " 页"; font: 8pt "Noto Sans CJK SC"; } }
body { font: 9pt/1.5 "Noto Sans CJK SC"; column-count: 2; column-gap: 9mm; text-align: justify; }
h2 { column-span: all; font-size: 12pt; text-align: left; margin: 1em 0 0.6em;
     border-bottom: 1pt solid black; }
h3 { font-size: 10.5pt; margin: 1.1em 0 0.5em; line-height: 1.35; }
p { margin: 0 0 0.55em; }
p.attribution { color: #333; }
""",
    "chromium": """
body { font: 12pt/1.6 "Noto Sans CJK SC"; margin: 0 4em; }
h2 { font-size: 15pt; margin: 1.5em 0 1em; }
h3 { font-size: 17pt; margin: 1.5em 0 0.8em; line-height: 1.3; }
p { text-indent: 2em; margin: 0; text-align: justify; }
p.attribution { margin-top: 0.4em; }
""",
}


def issue_html(issue: Issue, layout: str, sections: Sequence[str] = DEFAULT_SECTIONS) -> str:
    """One page of HTML: section headers, titles, paragraphs, attribution lines."""
    parts = [
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{html.escape(issue.title)}</title><style>{_CSS[layout]}</style></head><body>",
    ]
    for name, articles in issue.by_section(sections):
        parts.append(f"<h2>【{html.escape(name)}】</h2>")
        for article in articles:
            parts.append(f"<h3>{html.escape(article.title)}</h3>")
            parts += [f"<p>{html.escape(p)}</p>" for p in article.paragraphs]
            parts.append(f'<p class="attribution">{html.escape(_attribution(article))}</p>')
    parts.append("</body></html>")
    return "\n".join(parts)


def _attribution(article: Article) -> str:
    assert article.date is not None
    return format_line(article.source, article.date, article.compiled_by)


# --------------------------------------------------------------------------- PDF


def weasyprint_pdf(issue: Issue, layout: str) -> bytes:
    import weasyprint

    document = weasyprint.HTML(string=issue_html(issue, layout)).render()
    # Fixed metadata: the same issue gives the same bytes.
    document.metadata.created = document.metadata.modified = "2023-06-05T00:00:00+08:00"
    data = document.write_pdf()
    assert isinstance(data, bytes)
    return data


def chromium_pdf(issue: Issue, layout: str = "chromium") -> bytes:
    """Headless Chromium prints our HTML with its own header and footer."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        raise RuntimeError("chromium is not installed (.ci/run installs it)")
    with tempfile.TemporaryDirectory(prefix="ecd-chromium-") as folder:
        page = Path(folder) / "issue.html"
        out = Path(folder) / "issue.pdf"
        page.write_text(issue_html(issue, layout), "utf-8")
        argv = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                f"--user-data-dir={folder}/profile", f"--print-to-pdf={out}", page.as_uri()]  # fmt: skip
        subprocess.run(argv, capture_output=True, timeout=120, check=True, env={**os.environ, "HOME": folder})
        return out.read_bytes()


def issue_pdf(issue: Issue, layout: str) -> bytes:
    return chromium_pdf(issue) if layout == "chromium" else weasyprint_pdf(issue, layout)


def repeated_issue(issue: Issue, copies: int) -> Issue:
    """The issue's articles `copies` times over (for a long PDF)."""
    articles = tuple(replace(a, id=f"{a.id}-{n}") for n in range(copies) for a in issue.articles)
    return replace(issue, articles=articles)


# --------------------------------------------------------------------------- .docx


def issue_docx(issue: Issue, sections: Sequence[str] = DEFAULT_SECTIONS) -> bytes:
    """A Word file as an editor writes one: headings, linked titles, plain paragraphs."""
    import io

    import docx
    from docx.shared import Pt

    document = docx.Document()
    document.core_properties.created = dt.datetime(2023, 6, 5, 8, 0, 0)
    document.core_properties.modified = dt.datetime(2023, 6, 5, 8, 0, 0)
    document.core_properties.author = "《电子商务动态》编辑部"
    document.core_properties.last_modified_by = "《电子商务动态》编辑部"
    document.core_properties.revision = 1
    for name, articles in issue.by_section(sections):
        document.add_heading(f"【{name}】", level=1)
        for article in articles:
            heading = document.add_heading(level=2)
            if article.url:
                _add_hyperlink(heading, article.title, article.url)
            else:
                heading.add_run(article.title)
            for text in article.paragraphs:
                paragraph = document.add_paragraph()
                paragraph.paragraph_format.first_line_indent = Pt(21)
                # Word splits a paragraph into runs wherever formatting or editing history
                # changes; a reader must join them.
                middle = len(text) // 2
                paragraph.add_run(text[:middle])
                paragraph.add_run(text[middle:])
            document.add_paragraph(_attribution(article))
    buffer = io.BytesIO()
    document.save(buffer)
    return _deterministic_zip(buffer.getvalue())


def _add_hyperlink(paragraph: object, text: str, url: str) -> None:
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    part = paragraph.part  # type: ignore[attr-defined]
    rel_id = part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel_id)
    run = OxmlElement("w:r")
    style = OxmlElement("w:rPr")
    rstyle = OxmlElement("w:rStyle")
    rstyle.set(qn("w:val"), "Hyperlink")
    style.append(rstyle)
    run.append(style)
    node = OxmlElement("w:t")
    node.text = text
    run.append(node)
    link.append(run)
    paragraph._p.append(link)  # type: ignore[attr-defined]


def _deterministic_zip(data: bytes) -> bytes:
    """The same members with fixed timestamps, so the same issue gives the same bytes."""
    import io
    import zipfile

    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2023, 6, 5, 8, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


# --------------------------------------------------------------------------- hostile PDFs


def minimal_pdf(content: bytes, *, filters: str = "", pages: int = 1) -> bytes:
    """A PDF written by hand: `pages` pages sharing one content stream (already encoded
    with `filters`, e.g. "/FlateDecode"), a standard font; a correct xref table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
        + b"] /Count %d >>" % pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d %s >>\nstream\n" % (len(content), filters.encode()) + content + b"\nendstream",
    ]
    objects += [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    ] * pages
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def deflate_bomb(megabytes: int) -> bytes:
    """A content stream that inflates to `megabytes` MB of spaces (about 1,000 : 1)."""
    import zlib

    packer = zlib.compressobj(1)
    chunk = b" " * (1024 * 1024)
    parts = [packer.compress(chunk) for _ in range(megabytes)]
    parts.append(packer.flush())
    return b"".join(parts)


def hostile_documents() -> dict[str, bytes]:
    """The PDF and Word members of tests/data/hostile/ (written there once, committed).

    Encryption salts are random, so the encrypted file differs from run to run; the others
    are the same bytes every time. A hostile article as PDF is not among them: WeasyPrint
    embeds the whole CJK font (290 KB); the .docx carries the same article, and PDF text
    goes through the same pipeline after extraction."""
    import io
    import zipfile

    from PIL import Image

    hello = minimal_pdf(b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET")
    hostile_article = Article(
        id="h-001",
        section="行业资讯",
        title="<script>alert(1)</script>标题 & “引号”",
        source="《人民日报》",
        date=dt.date(2023, 6, 1),
        url="javascript:alert(1)",
        body="第一段 <img src=x onerror=alert(1)>。\n\n]]> 第二段 *强调* [链接](javascript:x)。",
    )
    small = Issue(id="h", title="h", articles=(hostile_article,))
    files: dict[str, bytes] = {}
    files["pdf-truncated.pdf"] = hello[: len(hello) * 3 // 5]
    files["pdf-text-named.pdf"] = (
        "【行业资讯】\n\n标题\n\n正文。\n\n来源：《人民日报》 2023 年 06 月 01 日\n".encode()
    )
    files["pdf-html-named.pdf"] = b"<!DOCTYPE html><html><body><h1>Not a PDF</h1></body></html>\n"
    files["pdf-pages-loop.pdf"] = hello.replace(b"/Kids [5 0 R]", b"/Kids [2 0 R]")
    image = io.BytesIO()
    Image.new("L", (120, 160), 255).save(image, "PDF", resolution=72)
    files["pdf-scan.pdf"] = image.getvalue()
    try:
        import pypdf
    except ImportError:  # only needed to write the encrypted member once
        pass
    else:
        writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(hello)))
        writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-256")
        out = io.BytesIO()
        writer.write(out)
        files["pdf-encrypted.pdf"] = out.getvalue()
    word = issue_docx(small)
    files["docx-hostile-article.docx"] = word
    files["docx-truncated.docx"] = word[: len(word) // 3]
    files["docx-text-named.docx"] = files["pdf-text-named.pdf"]
    files["docx-legacy-word.doc"] = OLE_HEADER + bytes(504)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as package:
        package.writestr(zipfile.ZipInfo("[Content_Types].xml", (2023, 6, 5, 8, 0, 0)), b"<Types/>")
        package.writestr(
            zipfile.ZipInfo("word/document.xml", (2023, 6, 5, 8, 0, 0)), b"<w:document><unclosed"
        )
    files["docx-broken-xml.docx"] = packed.getvalue()
    return files
