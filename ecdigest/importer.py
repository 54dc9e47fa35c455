"""The newsletter's own text -> articles: back issues (PDF, Word, text) and pasted articles.

One pipeline, one named step each:

    decode        bytes -> `Decoded` text: PDF and Word files go to their readers (`readers/`:
                  lines in reading order, blank lines between paragraphs, links); text: BOM,
                  else strict UTF-8, else charset-normalizer; `encoding` overrides
    read_lines    str -> raw lines (CRLF and CR line endings normalised)
    clean_layout  raw lines -> `Layout`: text lines and real blank lines, page furniture removed,
                  and what the text tells about itself (wrap measure, paragraph marks, spacing)
    segment       Layout -> section headers, article blocks (text + attribution line), unplaced text
    build         blocks -> title, paragraphs and the attribution's source, compiled_by and date

The layout rules, learnt from PDF-to-text output such as tests/data/ecd-2023-06.txt:

- Double spacing: when (nearly) every line is followed by an empty line, and the text shows
  what single spacing cannot (a whitespace-only line followed by an empty one, or hard-wrapped
  lines that stop mid-sentence followed by one), empty lines are an artefact and only
  whitespace-only lines (or runs of empty lines) are real blank lines.
- A page break is a line that follows the previous one with no empty line between; the tool
  puts one space in front of it, which is removed. Page numbers (`- 20 -`, `第 20 页`) belong to
  no article and are removed with the blank lines around them (they may fall inside a paragraph).
- Paragraphs. A blank line always ends one; when an article separates its paragraphs by blank
  lines, those are the only boundaries. Otherwise, when the text marks paragraph ends with a
  trailing space (PDF text does: such marks outnumber sentence ends without one), a line ends
  its paragraph iff it has a trailing space after
  sentence-final punctuation, or a trailing space and is clearly shorter than the measure
  (`一是 `, `2022 `, `Inside ` are word spaces inside a paragraph). Without such marks, a line
  ends its paragraph when it is clearly shorter than the measure, or ends a sentence and the
  next line is indented or the text is not hard-wrapped at all (one paragraph per line).
- The measure is estimated from the text: the display width (CJK = 2 columns) that the
  longest lines reach, so it fits whatever page the text came from.
- Joining wrapped lines: no space between two wide (Chinese) characters; a space between Latin
  words or numbers, where the line had a trailing space, and between Chinese and Latin or
  digits when the text itself spaces them (the newsletter writes `2023 年`, `AI 博主`).
- An article is the text between two boundaries (a section header `【行业资讯】`, the previous
  attribution line) and ends with its attribution line. Its title is its first blank-separated
  group of lines (titles wrap onto a second line), or its first paragraph if there is no blank.

Nothing is silently dropped: text that cannot be placed in an article comes back in
`unplaced` with its line numbers (a PDF's page, a Word file's paragraph). The issue's
article ids are numbered by `model.next_article_id`, under the lock, clear of ids taken
anywhere in the archive: the rule `add` follows. This module never prints; the CLI reports.

One module of ~950 lines on purpose: the stages share `Line` and `Layout` and read top to
bottom as the one pipeline; what differs per file type lives in `readers/`.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from .archive import Archive, IssueFile, check_issue_id
from .attribution import Attribution, looks_like_attribution, try_parse
from .attribution import parse as parse_attribution
from .errors import ConflictError, EcdigestError, InputError, UsageError
from .model import DEFAULT_SECTIONS, STATUSES, Article, Issue, join_paragraphs, next_article_id
from .readers import Decoded, expected_kind, kind_of
from .textwrap_cjk import char_width, display_width

# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Unplaced:
    """Text that belongs to no article, with where it is and why it was left out."""

    first_line: int
    last_line: int
    reason: str
    text: str

    @property
    def lines(self) -> str:
        if self.first_line == self.last_line:
            return str(self.first_line)
        return f"{self.first_line}-{self.last_line}"

    @property
    def excerpt(self) -> str:
        return self.text if len(self.text) <= 40 else self.text[:39] + "…"


@dataclass(frozen=True)
class ParsedArticle:
    """One article as read from the text; `section` is "" where no header preceded it."""

    section: str
    title: str
    paragraphs: tuple[str, ...]
    attribution: Attribution | None
    first_line: int
    last_line: int
    url: str | None = None  # a link on the title or the attribution line (Word files)

    @property
    def body(self) -> str:
        return join_paragraphs(self.paragraphs)


@dataclass(frozen=True)
class ImportResult:
    """What `parse_issue` made of a file: the issue, counts per section, what was left out."""

    issue: Issue
    encoding: str
    counts: dict[str, int]
    unplaced: tuple[Unplaced, ...]
    articles: tuple[ParsedArticle, ...]
    layout: Layout
    decoded: Decoded | None = None

    def location(self, item: Unplaced) -> str:
        """Where left-out text is: `12-15` (text lines), `page 3` (PDF), `paragraph 7` (Word)."""
        if self.decoded is None or self.decoded.unit == "line":
            return item.lines
        first, last = self.decoded.where(item.first_line), self.decoded.where(item.last_line)
        return first if first == last else f"{first}-{last.split()[-1]}"


# --------------------------------------------------------------------------- 1. decode


_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Detectors name the GB family by the subset they saw; GB18030 reads all of it.
_GB_FAMILY = {"gb2312", "gbk", "cp936", "ms936", "gb18030", "hz"}
# Codecs that decode bytes to text but are no character set: Python's own escapes and
# domain-name transforms. Byte and text transforms (base64, zlib, rot13…) are refused by
# their `_is_text_encoding` flag.
_NOT_CHARSETS = {"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape"}
_KINDS = {
    "pdf": "PDF file",
    "docx": "Word (.docx) file",
    "zip": "a ZIP archive",
    "ole": "a Word 97-2003 or encrypted Office file",
    "text": "text (no PDF or Word signature)",
}


def decode(
    data: bytes,
    *,
    encoding: str | None = None,
    path: str = "<stdin>",
    sections: Sequence[str] = DEFAULT_SECTIONS,
) -> Decoded:
    """Bytes -> text. PDF and Word files go to their readers (`readers/`), whatever their
    name; text: a BOM decides, else strict UTF-8, else the detector; `encoding` overrides."""
    kind = kind_of(data)
    named = expected_kind(path)
    if named in ("pdf", "docx") and kind != named:
        raise InputError(
            f"named like a {_KINDS[named]} but it is {_KINDS[kind]}",
            path=path,
            hint="damaged, or another kind of file renamed: export it again from the original",
        )
    if kind == "pdf":
        from .readers.pdf import read_pdf

        return read_pdf(data, path=path)
    if kind == "docx":
        from .readers.docx import read_docx

        return read_docx(data, path=path, sections=sections)
    if kind == "zip":
        raise InputError(
            "a ZIP archive, not a text, PDF or Word file",
            path=path,
            hint="unpack it, or save the document as .docx",
        )
    if kind == "ole":
        raise InputError(
            "a Word 97-2003 .doc file, or a password-protected .docx",
            path=path,
            hint="save it from Word as .docx, without a password",
        )
    if encoding:
        name = _codec_name(encoding)
        if name == "utf-8" and data.startswith(codecs.BOM_UTF8):
            name = "utf-8-sig"
        return Decoded(_strict(data, name, path), name)
    for bom, name in _BOMS:
        if data.startswith(bom):
            return Decoded(_strict(data, name, path), name)
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    detected = _detect(data)
    if detected is None:
        raise InputError(
            "cannot tell the text encoding (not UTF-8, GB18030 or UTF-16)",
            path=path,
            hint="name it with --encoding, e.g. --encoding gb18030",
        )
    return Decoded(_strict(data, detected, path), detected)


def _codec_name(encoding: str) -> str:
    hint = "e.g. utf-8, gb18030, gbk, utf-16, big5"
    try:
        info = codecs.lookup(encoding)
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        raise UsageError(f"unknown encoding {encoding!r}", hint=hint) from None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        raise UsageError(f"{encoding!r} is not a text encoding (a character set)", hint=hint)
    return "gb18030" if info.name in _GB_FAMILY else info.name


def _detect(data: bytes) -> str | None:
    import charset_normalizer

    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        return None
    return _codec_name(best.encoding)


def _strict(data: bytes, name: str, path: str) -> str:
    try:
        text = data.decode(name)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].decode(name, errors="replace").count("\n") + 1
        raise InputError(
            f"not valid {name} (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            path=path,
            line=line,
            hint="name the right encoding with --encoding",
        ) from None
    except UnicodeError as exc:  # a codec that fails without a position
        raise InputError(
            f"not valid {name} ({exc})", path=path, hint="name the right encoding with --encoding"
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError(
            f"contains NUL characters: binary data, or not {name}",
            path=path,
            line=line,
            hint="give the text file, or name its encoding with --encoding",
        )
    return text


# --------------------------------------------------------------------------- 2. lines


def read_lines(text: str) -> list[str]:
    """Text -> lines; CRLF, CR and a leading BOM are not content."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


# --------------------------------------------------------------------------- 3. layout

# Whitespace a PDF-to-text tool leaves at line edges: spaces, tabs, NBSP, ideographic space,
# form feed (pdftotext's page break) and the like.
_EDGE_SPACE = " \t\u00a0\u3000\f\v\u2002\u2003\u2009\u200b\ufeff"
_INNER_SPACES = re.compile(r"[ \t\u00a0\f\v\u2002\u2003\u2009]+")
_PAGE_NUMBER = re.compile(
    r"^[-–—－―~～·]\s*\d{1,4}\s*[-–—－―~～·]$"  # - 20 -, — 20 —
    r"|^第\s*\d{1,4}\s*页(?:\s*[/，,]?\s*共\s*\d{1,4}\s*页)?$"  # 第 20 页, 第 2 页 共 30 页
    r"|^(?:page|p\.)\s*\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?$",  # Page 20, page 2 of 30
    re.IGNORECASE,
)
_SECTION_HEADER = re.compile(r"^【\s*(?P<name>[^【】]{1,20}?)\s*】$")
# Sentence-final punctuation, seen through closing quotes and brackets: `……两倍。”`.
_SENTENCE_END = frozenset("。！？；：…!?;:.")
_CLOSERS = frozenset("”’」』）》】〕)]\"'")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_HAN_LATIN = re.compile(
    r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])( ?)[A-Za-z0-9]"
    r"|[A-Za-z0-9]( ?)[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
)


@dataclass(frozen=True)
class Line:
    """One visual line after cleanup; `text == ""` is a real blank line."""

    number: int  # 1-based line number in the decoded text
    text: str  # without edge whitespace; inner runs of spaces are one space
    indent: int = 0  # display columns of leading whitespace (artefacts removed)
    trailing_space: bool = False

    @property
    def is_blank(self) -> bool:
        return not self.text

    @property
    def width(self) -> int:
        return self.indent + display_width(self.text)


@dataclass(frozen=True)
class Layout:
    """The cleaned lines and what the text says about its own layout."""

    lines: tuple[Line, ...]
    double_spaced: bool = False
    furniture: tuple[int, ...] = ()  # line numbers of page numbers removed
    measure: int = 0  # display width of a full line (0: no lines to tell)
    tolerance: int = 4  # how much shorter than the measure a full line may be
    trailing_marks: bool = False  # paragraph ends are marked by a trailing space
    wrapped: bool = True  # lines are hard-wrapped (False: one paragraph per line)
    spaced_scripts: bool = True  # the text puts a space between Chinese and Latin/digits

    def is_short(self, line: Line) -> bool:
        return line.width < self.measure - self.tolerance


def clean_layout(raw: Sequence[str], *, structured: bool = False) -> Layout:
    """Raw lines -> text lines and real blanks, page furniture removed, layout measured.

    `structured`: the reader knew the layout (PDF, Word), so empty lines are real blanks.
    """
    double = not structured and _is_double_spaced(raw)
    lines: list[Line] = []
    furniture: list[int] = []
    empty_run = 0
    previous_content = False
    after_furniture = False  # blank lines around a page number are part of the page furniture
    for number, text in enumerate(raw, start=1):
        if text == "":
            empty_run += 1
            if (not double or empty_run == 2) and not after_furniture:
                lines.append(Line(number, ""))  # in double spacing, a second empty line is real
            previous_content = False
            continue
        after_content = previous_content
        empty_run = 0
        previous_content = True
        stripped = text.strip(_EDGE_SPACE)
        if not stripped:
            if not after_furniture:
                lines.append(Line(number, ""))
            continue
        if _PAGE_NUMBER.match(stripped):
            furniture.append(number)
            while lines and lines[-1].is_blank:
                lines.pop()
            after_furniture = True
            continue
        after_furniture = False
        page_break = text.startswith("\f") or (double and after_content)
        lead = text[: len(text) - len(text.lstrip(_EDGE_SPACE))].replace("\f", "")
        if page_break and double and lead.startswith(" "):
            lead = lead[1:]  # the space the PDF-to-text tool puts before a page's first line
        lines.append(
            Line(
                number,
                _INNER_SPACES.sub(" ", stripped),
                indent=display_width(lead.replace("\t", "    ")),
                trailing_space=text != text.rstrip(_EDGE_SPACE),
            )
        )
    return _measure(_tidy_blanks(lines), double, tuple(furniture))


def _is_double_spaced(raw: Sequence[str]) -> bool:
    """Are empty lines an artefact (a blank line after every visual line)?

    They are when (nearly) every line is followed by one and the text shows what single
    spacing cannot: a whitespace-only line (a real blank) followed by an empty line, or
    full-width lines that stop mid-sentence followed by an empty line (a blank line
    cannot break a paragraph in the middle of a sentence). Text with a blank line between
    one-line paragraphs has an empty line after every line too, but those follow whole
    sentences and titles, and there they are real.
    """
    prose = [text.strip(_EDGE_SPACE) for text in raw]
    widths = [display_width(t) for t in prose if t and not _is_structure(t)]
    if not widths:
        return False
    widest = max(widths)
    followed = total = blank_pairs = wrapped = 0
    for index, text in enumerate(raw[:-1]):
        if text == "":
            continue
        total += 1
        if raw[index + 1] != "":
            continue
        followed += 1
        stripped = prose[index]
        if not stripped:
            blank_pairs += 1
        elif (
            not _is_structure(stripped)
            and not ends_sentence(stripped)
            and display_width(stripped) >= 0.9 * widest
        ):
            wrapped += 1
    return total >= 2 and followed >= 0.75 * total and (blank_pairs > 0 or wrapped >= 2)


def _is_structure(text: str) -> bool:
    """Section headers and attribution lines: neither prose nor layout."""
    return looks_like_attribution(text) or _SECTION_HEADER.match(text) is not None


def _tidy_blanks(lines: list[Line]) -> list[Line]:
    """No blank at either end, never two in a row."""
    tidy: list[Line] = []
    for line in lines:
        if line.is_blank and (not tidy or tidy[-1].is_blank):
            continue
        tidy.append(line)
    while tidy and tidy[-1].is_blank:
        tidy.pop()
    return tidy


def _measure(lines: list[Line], double: bool, furniture: tuple[int, ...]) -> Layout:
    """Learn the measure, paragraph marks and spacing style from the text lines themselves."""
    text_lines = [
        line
        for line in lines
        if not line.is_blank
        and not looks_like_attribution(line.text)
        and not _SECTION_HEADER.match(line.text)
    ]
    if not text_lines:
        return Layout(tuple(lines), double, furniture)
    widths = sorted((line.width for line in text_lines), reverse=True)
    # The longest lines of a hard-wrapped text reach the measure; the 90th percentile
    # ignores the odd line that Latin text or a missing kinsoku break pushed further.
    measure = widths[len(widths) // 10]
    tolerance = max(4, measure // 6)
    full = [line for line in text_lines if line.width >= measure - tolerance]
    mid_sentence = sum(not ends_sentence(line.text) for line in full)
    # Paragraph-end marks: a trailing space on lines that end a sentence or stop short.
    # They carry meaning only where lines that end a sentence without one are rarer.
    marked = unmarked = 0
    for line in text_lines:
        if line.trailing_space and (ends_sentence(line.text) or line.width < measure - tolerance):
            marked += 1
        elif not line.trailing_space and ends_sentence(line.text):
            unmarked += 1
    spaced = unspaced = 0
    for line in text_lines:
        for match in _HAN_LATIN.finditer(line.text):
            if match.group(2) or match.group(3):
                spaced += 1
            else:
                unspaced += 1
    return Layout(
        tuple(lines),
        double_spaced=double,
        furniture=furniture,
        measure=measure,
        tolerance=tolerance,
        trailing_marks=marked >= 2 and marked > unmarked,
        wrapped=mid_sentence * 2 >= len(full),
        spaced_scripts=spaced >= unspaced,
    )


def ends_sentence(text: str) -> bool:
    """Does the text end with sentence-final punctuation (looking through closing marks)?"""
    stripped = text.rstrip("".join(_CLOSERS) + " ")
    return bool(stripped) and stripped[-1] in _SENTENCE_END


def section_name(text: str) -> str | None:
    """`【行业资讯】` -> `行业资讯`; None for any other line."""
    match = _SECTION_HEADER.match(text)
    return match["name"] if match else None


# --------------------------------------------------------------------------- paragraphs and joins


def ends_paragraph(line: Line, following: Line, layout: Layout) -> bool:
    """Does `line` end its paragraph, `following` being the next line of the same group?"""
    if layout.trailing_marks:
        return line.trailing_space and (ends_sentence(line.text) or layout.is_short(line))
    if layout.is_short(line):
        return True
    return ends_sentence(line.text) and (following.indent >= 2 or not layout.wrapped)


def _is_wide(char: str) -> bool:
    return char_width(char) == 2


def _is_latin(char: str) -> bool:
    return char.isalnum() and not _is_wide(char)


def separator(before: Line, after: Line, layout: Layout) -> str:
    """What a line break between two lines of one paragraph stands for: a space or nothing."""
    left, right = before.text[-1], after.text[0]
    if _is_wide(left) and _is_wide(right):
        return ""
    if before.trailing_space or (_is_latin(left) and _is_latin(right)):
        return " "
    if layout.spaced_scripts and (
        (_HAN.match(left) and _is_latin(right)) or (_is_latin(left) and _HAN.match(right))
    ):
        return " "
    return ""


def join_lines(lines: Sequence[Line], layout: Layout) -> str:
    text = lines[0].text
    for before, after in itertools.pairwise(lines):
        text += separator(before, after, layout) + after.text
    return text


def paragraphs_of(group: Sequence[Line], layout: Layout, *, whole: bool = False) -> list[list[Line]]:
    """Split one blank-free group of lines into paragraphs (`whole`: it is one paragraph)."""
    if whole:
        return [list(group)]
    result: list[list[Line]] = [[group[0]]]
    for line, following in itertools.pairwise(group):
        if ends_paragraph(line, following, layout):
            result.append([following])
        else:
            result[-1].append(following)
    return result


def _groups(lines: Sequence[Line]) -> list[list[Line]]:
    groups: list[list[Line]] = [[]]
    for line in lines:
        if line.is_blank:
            if groups[-1]:
                groups.append([])
        else:
            groups[-1].append(line)
    return [g for g in groups if g]


# --------------------------------------------------------------------------- 4. segment


@dataclass
class _Block:
    """Text lines of one article in the making, with the section it falls under."""

    section: str
    lines: list[Line] = field(default_factory=list)

    def has_text(self) -> bool:
        return any(not line.is_blank for line in self.lines)


@dataclass(frozen=True)
class _Segment:
    section: str
    lines: tuple[Line, ...]
    attribution: Attribution
    attribution_lines: tuple[Line, ...]


def _unplaced(lines: Iterable[Line], reason: str, layout: Layout) -> Unplaced:
    text_lines = [line for line in lines if not line.is_blank]
    text = " / ".join(join_lines(g, layout) for g in _groups(text_lines))
    return Unplaced(text_lines[0].number, text_lines[-1].number, reason, text)


def segment(
    layout: Layout, sections: Sequence[str], *, path: str = "<stdin>"
) -> tuple[list[_Segment], list[Unplaced], list[tuple[int, str]]]:
    """Cut the text at section headers and attribution lines.

    Returns the article segments, the unplaced text, and the section headers seen
    (line number, name). A header that names no section of the archive is an InputError.
    """
    segments: list[_Segment] = []
    unplaced: list[Unplaced] = []
    headers: list[tuple[int, str]] = []
    block = _Block(section="")
    lines = layout.lines
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        name = section_name(line.text)
        if name is not None:
            if name not in sections:
                raise InputError(
                    f"section header {line.text} names no section of this archive",
                    path=path,
                    line=line.number,
                    hint=f"sections: {', '.join(sections)}; add it to `sections` in ecdigest.toml",
                )
            if block.has_text():
                unplaced.append(_unplaced(block.lines, "no attribution line follows it", layout))
            headers.append((line.number, name))
            block = _Block(section=name)
            continue
        if not looks_like_attribution(line.text):
            block.lines.append(line)
            continue
        attribution, used = _read_attribution(lines, index - 1, layout)
        if attribution is None:
            reason = "unreadable attribution line"
            try:
                parse_attribution(line.text)
            except EcdigestError as exc:
                reason = f"unreadable attribution line: {exc.message}"
            unplaced.append(_unplaced([*block.lines, line], reason, layout))
            block = _Block(section=block.section)
            continue
        segments.append(_Segment(block.section, tuple(block.lines), attribution, tuple(used)))
        index += len(used) - 1
        block = _Block(section=block.section)
    if block.has_text():
        reason = "after the last attribution line" if segments else "no attribution line follows it"
        unplaced.append(_unplaced(block.lines, reason, layout))
    return segments, unplaced, headers


def _read_attribution(
    lines: Sequence[Line], start: int, layout: Layout
) -> tuple[Attribution | None, list[Line]]:
    """The attribution line at `start`, also when it wrapped onto the next line or two."""
    used = [lines[start]]
    for _ in range(3):
        found = try_parse(join_lines(used, layout))
        if found is not None:
            return found, used
        following = start + len(used)
        if following >= len(lines):
            break
        nxt = lines[following]
        if nxt.is_blank or looks_like_attribution(nxt.text) or section_name(nxt.text) is not None:
            break
        used.append(nxt)
    return None, used[:1]


# --------------------------------------------------------------------------- 5. build


def _split_blank_paragraphs(segments: Sequence[_Segment]) -> bool:
    """Does the text separate paragraphs by blank lines (some body has two or more groups)?"""
    return any(len(_groups(s.lines)) >= 3 for s in segments)


def title_and_paragraphs(
    lines: Sequence[Line], layout: Layout, *, blank_paragraphs: bool
) -> tuple[list[Line], list[list[Line]]]:
    """An article's text lines -> its title lines and its paragraphs' lines.

    The title is the first blank-separated group (titles wrap), or the first paragraph
    when the article has no blank line at all.
    """
    groups = _groups(lines)
    if not groups:
        return [], []
    if len(groups) >= 2:
        body = [p for g in groups[1:] for p in paragraphs_of(g, layout, whole=blank_paragraphs)]
        return groups[0], body
    split = paragraphs_of(groups[0], layout)
    return split[0], split[1:]


def build(
    segment_: _Segment,
    layout: Layout,
    *,
    blank_paragraphs: bool,
    links: Mapping[int, str] | None = None,
) -> tuple[ParsedArticle | None, Unplaced | None]:
    """One segment -> title, paragraphs and attribution (or the reason it is no article)."""
    title_lines, paragraph_lines = title_and_paragraphs(
        segment_.lines, layout, blank_paragraphs=blank_paragraphs
    )
    first = segment_.attribution_lines[0].number
    last = segment_.attribution_lines[-1].number
    if not title_lines:
        text = join_lines(segment_.attribution_lines, layout)
        return None, Unplaced(first, last, "attribution line with no article before it", text)
    if not paragraph_lines:
        reason = "a title and an attribution line, no body"
        return None, _unplaced([*segment_.lines, *segment_.attribution_lines], reason, layout)
    links = links or {}
    urls = [
        links[line.number] for line in (*title_lines, *segment_.attribution_lines) if line.number in links
    ]
    article = ParsedArticle(
        section=segment_.section,
        title=join_lines(title_lines, layout),
        paragraphs=tuple(join_lines(p, layout) for p in paragraph_lines),
        attribution=segment_.attribution,
        first_line=title_lines[0].number,
        last_line=last,
        url=urls[0] if urls else None,
    )
    return article, None


def read_articles(
    text: str | Decoded, sections: Sequence[str], *, path: str = "<stdin>"
) -> tuple[list[ParsedArticle], list[Unplaced], Layout, list[tuple[int, str]]]:
    """Decoded text -> articles in order, unplaced text, the layout, and section headers."""
    decoded = text if isinstance(text, Decoded) else Decoded(text, "")
    layout = clean_layout(read_lines(decoded.text), structured=decoded.structured)
    with _located(decoded):
        segments, unplaced, headers = segment(layout, sections, path=path)
    blank_paragraphs = _split_blank_paragraphs(segments)
    articles: list[ParsedArticle] = []
    for item in segments:
        article, left_out = build(item, layout, blank_paragraphs=blank_paragraphs, links=decoded.links)
        if article is not None:
            articles.append(article)
        if left_out is not None:
            unplaced.append(left_out)
    return articles, sorted(unplaced, key=lambda u: u.first_line), layout, headers


@contextlib.contextmanager
def _located(decoded: Decoded) -> Iterator[None]:
    """Errors about a line of a PDF's or a Word file's text name its page or paragraph."""
    try:
        yield
    except InputError as exc:
        if exc.line is None or decoded.unit == "line":
            raise
        raise InputError(f"{decoded.where(exc.line)}: {exc.message}", path=exc.path, hint=exc.hint) from None


# --------------------------------------------------------------------------- whole issues


def parse_issue(
    data: bytes,
    *,
    sections: Sequence[str] = DEFAULT_SECTIONS,
    issue_id: str | None = None,
    date: dt.date | None = None,
    title: str | None = None,
    status: str = "draft",
    newsletter_title: str = "电子商务动态",
    encoding: str | None = None,
    path: str = "<stdin>",
) -> ImportResult:
    """A legacy issue's text -> an Issue with articles `{id}-001`…, plus what was left out.

    The date defaults to the latest attribution date, the id to `YYYY-MM` of that date.
    """
    if status not in STATUSES:
        raise UsageError(f"unknown status {status!r}", hint=f"choose one of: {', '.join(STATUSES)}")
    decoded = decode(data, encoding=encoding, path=path, sections=sections)
    parsed, unplaced, layout, headers = read_articles(decoded, sections, path=path)
    if not any(looks_like_attribution(line.text) for line in layout.lines):
        raise InputError(
            "no attribution lines found: every article must end with a line such as "
            "来源：《人民日报》 编选：《电子商务动态》编辑部 2023 年 05 月 31 日",
            path=path,
            hint="is this the text of an issue of the newsletter?",
        )
    if not headers:
        raise InputError(
            "no section header found: articles must follow a header such as 【行业资讯】",
            path=path,
            hint=f"sections: {', '.join(sections)}",
        )
    placed: list[ParsedArticle] = []
    for article in parsed:
        if article.section:
            placed.append(article)
        else:
            unplaced.append(
                Unplaced(
                    article.first_line, article.last_line, "before the first section header", article.title
                )
            )
    if not placed:
        first = min(unplaced, key=lambda u: u.first_line)
        with _located(decoded):
            raise InputError("no article could be read", path=path, line=first.first_line, hint=first.reason)
    when = date or max(a.attribution.date for a in placed if a.attribution is not None)
    issue_id = check_issue_id(issue_id or f"{when.year:04d}-{when.month:02d}")
    issue = Issue(
        id=issue_id,
        title=title or f"{newsletter_title} {when.year} 年 {when.month} 月",
        date=when,
        status=status,
    )
    for article in placed:
        article_id, number = next_article_id(issue)
        issue = issue.with_article(to_article(article, article_id), number)
    counts = issue.section_counts(sections)
    return ImportResult(
        issue=issue,
        encoding=decoded.encoding,
        counts=counts,
        unplaced=tuple(sorted(unplaced, key=lambda u: u.first_line)),
        articles=tuple(placed),
        layout=layout,
        decoded=decoded,
    )


def to_article(parsed: ParsedArticle, article_id: str) -> Article:
    attribution = parsed.attribution
    return Article(
        id=article_id,
        section=parsed.section,
        title=parsed.title,
        source=attribution.source if attribution else "",
        date=attribution.date if attribution else None,
        compiled_by=attribution.compiled_by if attribution else None,
        url=parsed.url,
        body=parsed.body,
    )


def number_articles(issue: Issue, taken: Iterable[str] = ()) -> Issue:
    """The issue with its articles numbered `{id}-001`… by the rule `add` follows
    (`model.next_article_id`): above every number the issue used and every id in `taken`."""
    taken = list(taken)
    numbered = replace(issue, articles=(), last_article_number=0)
    for article in issue.articles:
        article_id, number = next_article_id(numbered, taken)
        numbered = numbered.with_article(replace(article, id=article_id), number)
    return numbered


def import_issues(
    archive: Archive, issues: Sequence[Issue], *, dry_run: bool = False, keep_going: bool = False
) -> list[IssueFile | EcdigestError]:
    """Write new issues under one archive lock, their article ids clear of ids taken anywhere
    in the archive. An id or file that already exists refuses the issue: importing never
    merges into an existing issue, which would renumber or duplicate articles whose ids
    (and RSS guids) are already out in the world. Without `keep_going`, one refusal
    refuses them all (raised); with it, each refused issue comes back as its error in place.
    `dry_run` checks the same and writes nothing.
    """
    outcomes: list[IssueFile | EcdigestError] = []
    # Reads need no lock (writes are atomic renames): a dry run leaves no trace at all.
    with contextlib.nullcontext() if dry_run else archive.locked():
        # Ids in use, from the catalog (no other issue file is parsed); a file that cannot
        # be read stands in by its name, as `Archive.get` finds it.
        existing: dict[str, Path] = {}
        with archive.catalog() as catalog:
            for entry in catalog.issues():
                existing.setdefault(entry.id if entry.readable and entry.id else entry.path.stem, entry.path)
        for issue in issues:
            path = archive.path_for(issue)
            if issue.id in existing:
                outcomes.append(
                    ConflictError(
                        f"issue {issue.id!r} already exists; import never merges into an issue",
                        path=existing[issue.id],
                        hint="import under another id with --id",
                    )
                )
            elif path.exists():
                outcomes.append(
                    ConflictError("file already exists", path=path, hint="import under another id with --id")
                )
            else:
                numbered = number_articles(issue, archive.taken_article_ids(f"{issue.id}-"))
                outcomes.append(IssueFile(path, numbered))
                existing[issue.id] = path
        errors = [item for item in outcomes if isinstance(item, EcdigestError)]
        if errors and not keep_going:
            raise errors[0]
        if not dry_run:
            written = [item for item in outcomes if isinstance(item, IssueFile)]
            if written:
                count = sum(len(item.issue.articles) for item in written)
                archive.change().describe(
                    "import",
                    f"import {', '.join(item.issue.id for item in written)} ({count} articles)",
                    issues=[item.issue.id for item in written],
                )
            for item in written:
                archive.write(item.path, item.issue)
    return outcomes


# --------------------------------------------------------------------------- one pasted article


@dataclass(frozen=True)
class PastedArticle:
    """One article pasted in the newsletter's form; fields it did not contain are None."""

    section: str | None
    title: str | None
    paragraphs: tuple[str, ...]
    attribution: Attribution | None
    encoding: str

    @property
    def body(self) -> str:
        return join_paragraphs(self.paragraphs)


def parse_article(
    data: bytes,
    *,
    sections: Sequence[str] = DEFAULT_SECTIONS,
    encoding: str | None = None,
    path: str = "<stdin>",
) -> PastedArticle:
    """One article: an optional `【section】` line, title line(s), paragraphs, attribution line.

    The attribution line may be missing (flags then supply source and date); anything
    after it, or a second article, is an InputError: this reads exactly one article.
    """
    decoded = decode(data, encoding=encoding, path=path, sections=sections)
    with _located(decoded):
        return _parse_article(decoded, sections, path)


def _parse_article(decoded: Decoded, sections: Sequence[str], path: str) -> PastedArticle:
    layout = clean_layout(read_lines(decoded.text), structured=decoded.structured)
    segments, unplaced, headers = segment(layout, sections, path=path)
    if len(headers) > 1:
        raise InputError(
            "more than one section header: this reads one article",
            path=path,
            line=headers[1][0],
            hint="import a whole issue with `ecdigest import`",
        )
    section = headers[0][1] if headers else None
    if len(segments) > 1:
        raise InputError(
            f"{len(segments)} attribution lines: this reads one article",
            path=path,
            line=segments[1].attribution_lines[0].number,
            hint="import a whole issue with `ecdigest import`",
        )
    for item in unplaced:
        if item.reason.startswith("unreadable attribution line"):
            raise InputError(item.reason, path=path, line=item.last_line, hint="fix the date or the source")
        if segments:
            where = (
                "after the attribution line"
                if item.first_line > segments[0].attribution_lines[-1].number
                else "before the section header"
            )
            raise InputError(
                f"text {where}",
                path=path,
                line=item.first_line,
                hint="give one article: [【section】] title, paragraphs, attribution line",
            )
    if segments:
        lines: Sequence[Line] = segments[0].lines
        attribution: Attribution | None = segments[0].attribution
    else:
        lines = [line for line in layout.lines if section_name(line.text) is None]
        attribution = None
    title_lines, paragraph_lines = title_and_paragraphs(
        lines, layout, blank_paragraphs=len(_groups(lines)) >= 3
    )
    return PastedArticle(
        section,
        join_lines(title_lines, layout) if title_lines else None,
        tuple(join_lines(p, layout) for p in paragraph_lines),
        attribution,
        decoded.encoding,
    )
