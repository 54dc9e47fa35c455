"""`ecdigest import` of PDF and Word files: the shipped issue, rendered by real producers in
several layouts (tests/_documents.py), comes back as the same 53 articles.

Expected values come from `issues/2023/2023-06.toml` (what the newsletter printed), not from
the importer. The PDFs' own features (a title on two lines, an article across a page break,
a paragraph cut by a page number) are checked with pdfminer's plain text, page by page.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import _documents as docs
import pytest
from conftest import SAMPLE, Invoke

from ecdigest.errors import InputError
from ecdigest.importer import parse_issue
from ecdigest.model import Issue
from ecdigest.readers import pdf as pdf_reader
from ecdigest.readers.pdf import PdfLine, drop_furniture, fix_glyphs, reading_order

SHIPPED = docs.shipped_issue()


def fields(issue: Issue, *, url: bool = False) -> list[tuple[object, ...]]:
    return [
        (a.section, a.title, a.source, a.compiled_by, a.date, a.paragraphs, *((a.url,) if url else ()))
        for a in issue.articles
    ]


@pytest.fixture(scope="module")
def pdfs() -> dict[str, bytes]:
    return {layout: docs.issue_pdf(SHIPPED, layout) for layout in docs.PDF_LAYOUTS}


@pytest.fixture(scope="module")
def docx_bytes() -> bytes:
    return docs.issue_docx(docs.with_urls(SHIPPED))


def page_texts(data: bytes) -> list[list[str]]:
    """Each page's lines as pdfminer's own layout analysis reads them, spaces removed."""
    from pdfminer.high_level import extract_text
    from pdfminer.pdfpage import PDFPage

    count = sum(1 for _ in PDFPage.get_pages(io.BytesIO(data)))
    pages = [extract_text(io.BytesIO(data), page_numbers=[n]) for n in range(count)]
    return [[_squash(fix_glyphs(text)) for text in page.splitlines() if text.strip()] for page in pages]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("layout", docs.PDF_LAYOUTS)
def test_every_pdf_layout_gives_back_the_53_articles(layout: str, pdfs: dict[str, bytes]) -> None:
    result = parse_issue(pdfs[layout], path=f"issue-{layout}.pdf", status="published")
    assert result.encoding == "pdf"
    assert result.unplaced == ()
    assert result.counts == {"行业资讯": 23, "政策法规": 2, "数据观察": 24, "专家视点": 4}
    assert fields(result.issue) == fields(SHIPPED)
    assert [a.id for a in result.issue.articles] == [a.id for a in SHIPPED.articles]


def test_the_word_file_gives_back_the_53_articles_and_their_links(docx_bytes: bytes) -> None:
    result = parse_issue(docx_bytes, path="issue.docx", status="published")
    assert result.encoding == "docx" and result.unplaced == ()
    expected = docs.with_urls(SHIPPED)
    assert fields(result.issue, url=True) == fields(expected, url=True)
    assert sum(a.url is not None for a in result.issue.articles) == 18


def test_the_pdfs_have_the_hard_cases(pdfs: dict[str, bytes]) -> None:
    """Each layout has two-line titles, articles across a page break and paragraphs that a
    page break (with its footer and page number) cuts in two: read off the PDF with
    pdfminer's own text extraction, not with the importer."""
    for layout, data in pdfs.items():
        pages = page_texts(data)
        flat = ["".join(lines) for lines in pages]

        def page_of(text: str, flat: list[str] = flat) -> int | None:
            return next((n for n, page in enumerate(flat) if _squash(text) in page), None)

        two_line_titles = [
            a.title
            for a in SHIPPED.articles
            if not any(_squash(a.title) in line for page in pages for line in page)
        ]
        assert len(two_line_titles) >= 2, f"{layout}: {two_line_titles}"
        crossing = [
            a.title
            for a in SHIPPED.articles
            if None is not page_of(a.title[:8]) != page_of(a.paragraphs[-1][-4:]) is not None
        ]
        assert len(crossing) >= 5, f"{layout}: {crossing}"
        cut = [
            p for a in SHIPPED.articles for p in a.paragraphs if not any(_squash(p) in page for page in flat)
        ]
        assert len(cut) >= 5, f"{layout}: {len(cut)} paragraphs cross a page break"


def test_generated_files_are_deterministic(pdfs: dict[str, bytes], docx_bytes: bytes) -> None:
    assert docs.weasyprint_pdf(SHIPPED, "single") == pdfs["single"]
    assert docs.issue_docx(docs.with_urls(SHIPPED)) == docx_bytes


def test_import_command_reads_a_pdf_and_a_docx(
    invoke: Invoke, tmp_path: Path, pdfs: dict[str, bytes], docx_bytes: bytes
) -> None:
    pdf, word = tmp_path / "ecd-2023-06.pdf", tmp_path / "ecd-2023-06b.docx"
    pdf.write_bytes(pdfs["single"])
    word.write_bytes(docx_bytes)
    result = invoke("import", str(pdf), "--status", "published")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith(
        f"imported {pdf} (pdf) as 2023-06 (published, 2023-06-05)"
    )
    result = invoke("import", str(word), "--id", "2023-06b", "--format", "json")
    assert result.exit_code == 0, result.output
    (summary,) = json.loads(result.stdout)
    assert summary["encoding"] == "docx" and summary["articles"] == 53 and summary["unplaced"] == []
    shown = json.loads(invoke("export", "json", "2023-06b").stdout)
    assert [a["url"] for a in shown["articles"]] == [a.url for a in docs.with_urls(SHIPPED).articles]
    assert shown["articles"][0]["url"] == "https://news.example.com/2023-06-001.html?from=ecd&n=0"


def test_add_from_text_reads_one_article_from_a_word_file(invoke: Invoke, tmp_path: Path) -> None:
    one = Issue(id="x", articles=(SHIPPED.articles[1],))
    path = tmp_path / "article.docx"
    path.write_bytes(docs.issue_docx(one))
    assert invoke("new", "--id", "2023-07", "--date", "2023-07-05").exit_code == 0
    result = invoke("add", "2023-07", "--from-text", str(path))
    assert result.exit_code == 0, result.output
    added = json.loads(invoke("export", "json", "2023-07").stdout)["articles"][0]
    want = SHIPPED.articles[1]
    assert (added["title"], added["source"], added["paragraphs"]) == (
        want.title,
        want.source,
        list(want.paragraphs),
    )


# --------------------------------------------------------------------------- the layout rules


def line(x0: float, x1: float, baseline: float, text: str, size: float = 10.0, page: int = 0) -> PdfLine:
    return PdfLine(x0, x1, baseline, size, text, page)


def test_running_headers_footers_and_page_numbers_are_dropped() -> None:
    pages = []
    for n in range(1, 5):
        pages.append(
            [
                line(200, 400, 40, f"电子商务动态 2023 年第 {6 + n % 2} 期", 9),  # the digits change
                *(line(70, 520, 100 + 18 * k, f"正文第 {n} 页第 {k} 行，内容。") for k in range(10)),
                line(290, 305, 800, f"- {n} -", 9),
                line(70, 520, 760, "来源：《人民日报》 2023 年 05 月 31 日")
                if n == 2
                else line(70, 90, 300, "短行甲乙丙丁"[n]),  # a short last line, not the same twice
            ]
        )
    kept = drop_furniture(pages)
    texts = [[item.text for item in page] for page in kept]
    assert all(not any("电子商务动态" in t or re.match(r"^- \d -$", t) for t in page) for page in texts)
    assert "来源：《人民日报》 2023 年 05 月 31 日" in texts[1]  # near the edge, but on one page only
    assert sum(len(page) for page in texts) == 4 * 11


def test_two_columns_are_read_column_by_column_with_a_header_over_both() -> None:
    left = [line(50, 280, 100 + 15 * k, f"左{k}") for k in range(8)]
    right = [line(310, 540, 100 + 15 * k, f"右{k}") for k in range(8)]
    header = line(50, 120, 250, "【政策法规】", 12)
    below = [line(50, 280, 280 + 15 * k, f"下左{k}") for k in range(3)] + [
        line(310, 540, 280 + 15 * k, f"下右{k}") for k in range(3)
    ]
    blocks = reading_order([*right, *below, header, *left])
    assert [[item.text for item in block] for block in blocks] == [
        [f"左{k}" for k in range(8)],
        [f"右{k}" for k in range(8)],
        ["【政策法规】"],
        [f"下左{k}" for k in range(3)],
        [f"下右{k}" for k in range(3)],
    ]
    single = [line(50, 540, 100 + 15 * k, f"行{k}") for k in range(10)] + [line(50, 200, 260, "短行。")]
    assert len(reading_order(single)) == 1


def test_radicals_are_the_ideographs_the_font_draws_with_them() -> None:
    """The table in readers/pdf.py, derived again from Debian's Noto Sans CJK SC."""
    from fontTools.ttLib import TTCollection

    collection = TTCollection("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    (font,) = [f for f in collection.fonts if f["name"].getDebugName(4) == "Noto Sans CJK SC"]
    cmap = font.getBestCmap()
    by_glyph: dict[str, list[int]] = {}
    for code, glyph in cmap.items():
        by_glyph.setdefault(glyph, []).append(code)

    def ideograph(code: int) -> bool:
        return 0x3400 <= code <= 0x4DBF or 0x4E00 <= code <= 0x9FFF or 0x20000 <= code <= 0x3134F

    derived = {}
    for code in (*range(0x2E80, 0x2EF4), *range(0x2F00, 0x2FD6)):
        if code in cmap:
            same = sorted(c for c in by_glyph[cmap[code]] if ideograph(c))
            if same:
                derived[chr(code)] = chr(same[0])
    pairs = pdf_reader._RADICAL_PAIRS
    assert dict(zip(pairs[::2], pairs[1::2], strict=True)) == derived
    assert fix_glyphs("⽤⼾⼀⽉ 5―6 ⽇ ⻓⻔ ﬁle") == "用户一月 5—6 日 长门 file"


# --------------------------------------------------------------------------- refused PDFs and Word files


def _error(invoke: Invoke, path: Path) -> str:
    result = invoke("import", str(path))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("ecdigest: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    return result.stderr


def test_a_scan_without_text_is_refused(invoke: Invoke, tmp_path: Path) -> None:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 800), "white")
    ImageDraw.Draw(image).rectangle((50, 50, 550, 120), fill="black")
    path = tmp_path / "scan.pdf"
    image.save(path, "PDF", resolution=72)
    assert "no text layer (1 of 1 pages are images: a scan?)" in _error(invoke, path)
    assert "OCR" in _error(invoke, path)


def test_encrypted_pdfs(invoke: Invoke, tmp_path: Path, pdfs: dict[str, bytes]) -> None:
    """A user password is refused; owner-only protection (empty user password) is read."""
    import pypdf

    def encrypted(user: str, algorithm: str) -> bytes:
        writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdfs["single"])))
        writer.encrypt(user_password=user, owner_password="owner", algorithm=algorithm)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    path = tmp_path / "locked.pdf"
    for algorithm in ("AES-256", "RC4-128"):
        path.write_bytes(encrypted("secret", algorithm))
        assert "encrypted with a password" in _error(invoke, path)
        result = parse_issue(encrypted("", algorithm), path="owner-only.pdf")
        assert fields(result.issue) == fields(SHIPPED)


@pytest.mark.parametrize("fraction", [0.02, 0.5, 0.97])
def test_truncated_pdfs_are_damaged(
    invoke: Invoke, tmp_path: Path, pdfs: dict[str, bytes], fraction: float
) -> None:
    path = tmp_path / "cut.pdf"
    path.write_bytes(pdfs["columns"][: int(len(pdfs["columns"]) * fraction)])
    assert "not a readable PDF (damaged or truncated" in _error(invoke, path)


def test_work_on_a_pdf_is_bounded(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pdfs: dict[str, bytes]
) -> None:
    """Pages, memory (a deflate bomb) and time each have a limit; none is a hang or a crash."""
    path = tmp_path / "bomb.pdf"
    path.write_bytes(docs.minimal_pdf(docs.deflate_bomb(1200), filters="/Filter /FlateDecode"))
    assert "needs more memory than allowed (1 GB)" in _error(invoke, path)
    path.write_bytes(docs.minimal_pdf(b"BT /F1 12 Tf 72 720 Td (x) Tj ET", pages=2001))
    assert "more than 2000 pages; refusing to read it" in _error(invoke, path)
    monkeypatch.setattr(pdf_reader, "MAX_PAGES", 5)
    path.write_bytes(pdfs["single"])
    assert "more than 5 pages" in _error(invoke, path)
    monkeypatch.setattr(pdf_reader, "TIMEOUT", 0.05)
    assert "took longer than 0 s; stopped" in _error(invoke, path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (SAMPLE.read_bytes(), "named like a PDF file but it is text (no PDF or Word signature)"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "named like a PDF file but it is text"),
        (b"PK\x03\x04" + b"\0" * 100, "named like a PDF file but it is a ZIP archive"),
    ],
)
def test_a_pdf_that_is_something_else(invoke: Invoke, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "issue.pdf"
    path.write_bytes(content)
    assert message in _error(invoke, path)


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in members.items():
            package.writestr(name, data)
    return out.getvalue()


def test_broken_word_files(invoke: Invoke, tmp_path: Path, docx_bytes: bytes) -> None:
    path = tmp_path / "issue.docx"
    cases = {
        docx_bytes[: len(docx_bytes) // 2]: "not a readable Word file (damaged or truncated",
        _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"}): (
            "named like a Word (.docx) file but it is a ZIP archive"
        ),
        _zip({"word/document.xml": b"<not really xml", "[Content_Types].xml": b"<Types/>"}): (
            "not a readable Word document"
        ),
        docs.OLE_HEADER
        + b"\0" * 600: "named like a Word (.docx) file but it is a Word 97-2003 or encrypted Office file",
    }
    for content, message in cases.items():
        path.write_bytes(content)
        assert message in _error(invoke, path), message
    doc = tmp_path / "issue.doc"
    doc.write_bytes(docs.OLE_HEADER + b"\0" * 600)
    assert "a Word 97-2003 .doc file, or a password-protected .docx (save it from Word as .docx" in _error(
        invoke, doc
    )


def test_a_zip_bomb_is_refused_before_it_is_unpacked(
    invoke: Invoke, tmp_path: Path, docx_bytes: bytes
) -> None:
    """300 MB of zeros in word/document.xml, 300 KB on disk: refused by its declared size."""
    import time

    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(docx_bytes)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for info in source.infolist():
            bomb.writestr(info, source.read(info))
        with bomb.open("word/media/zeros.bin", "w", force_zip64=True) as member:
            block = b"\0" * (1024 * 1024)
            for _ in range(300):
                member.write(block)
    path = tmp_path / "bomb.docx"
    path.write_bytes(out.getvalue())
    started = time.monotonic()
    assert "unpacks to 300 MB (more than 256 MB); refusing to unpack it" in _error(invoke, path)
    assert time.monotonic() - started < 5


def test_errors_in_a_pdf_name_the_page(invoke: Invoke, tmp_path: Path) -> None:
    issue = Issue(id="x", articles=SHIPPED.articles[:6])
    data = docs.weasyprint_pdf(issue, "single")
    result = parse_issue(data, path="six.pdf")
    assert len(result.issue.articles) == 6
    with pytest.raises(InputError, match=r"^six\.pdf: page 1: section header 【行业资讯】 names no section"):
        parse_issue(data, path="six.pdf", sections=("政策法规",))


def test_word_details_editors_use(tmp_path: Path) -> None:
    """A heading without brackets, a HYPERLINK field (older Word) on the attribution line,
    a tracked deletion, a soft line break inside a paragraph, a table row."""
    import docx
    from docx.oxml import parse_xml

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    document = docx.Document()
    document.add_heading("行业资讯", level=1)
    document.add_heading("数字化转型案例集发布", level=2)
    body = document.add_paragraph()
    body._p.append(
        parse_xml(f'<w:r {w}><w:t xml:space="preserve">第一行</w:t><w:br/><w:t>接着写。</w:t></w:r>')
    )
    body._p.append(parse_xml(f"<w:del {w}><w:r><w:delText>删掉的字</w:delText></w:r></w:del>"))
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "指标"
    table.rows[0].cells[1].text = "数值"
    attribution = document.add_paragraph()
    attribution._p.append(
        parse_xml(
            f"<w:fldSimple {w} w:instr=' HYPERLINK \"https://example.com/a?b=1\" '>"
            "<w:r><w:t>来源：《人民日报》 2023 年 05 月 31 日</w:t></w:r></w:fldSimple>"
        )
    )
    buffer = io.BytesIO()
    document.save(buffer)
    result = parse_issue(buffer.getvalue(), path="details.docx")
    (article,) = result.issue.articles
    assert (article.section, article.title, article.source) == (
        "行业资讯",
        "数字化转型案例集发布",
        "《人民日报》",
    )
    assert article.paragraphs == ("第一行接着写。", "指标 数值")  # cells: one space apart
    assert article.url == "https://example.com/a?b=1"
