"""An RFC 3676 (format=flowed) decoder written from the RFC, independent of ecdigest, and
the checks every flowed text part must pass.

RFC 3676, section 4.5 ("Interpreting Format=Flowed"), in the order the RFC gives:
1. count and remove the quote marks (`>`) at the start of the line: its quote depth;
2. if the line then starts with a space, it was space-stuffed: remove that one space;
3. a line consisting of `-- ` is the signature separator: neither fixed nor flowed
   (section 4.3);
4. a line ending in a space is flowed, otherwise fixed; with DelSp=yes the one trailing
   space before the line break is deleted (section 4.2), other trailing spaces are content;
5. one or more flowed lines followed by a fixed line are one paragraph; a flowed line
   followed by a line of another quote depth, or the end of the text, ends it as if fixed.
"""

from __future__ import annotations

import email.message
import re
from dataclasses import dataclass

from ecdigest.export.common import paragraph_text


@dataclass(frozen=True)
class Logical:
    depth: int
    text: str


def unflow(body: str, *, delsp: bool) -> list[Logical]:
    """The logical lines (paragraphs) of a format=flowed body."""
    lines = body.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the break after the last line
    out: list[Logical] = []
    open_depth: int | None = None
    open_text = ""
    for raw in lines:
        depth = len(raw) - len(raw.lstrip(">"))
        content = raw[depth:]
        if content.startswith(" "):
            content = content[1:]
        if open_depth is not None and open_depth != depth:
            out.append(Logical(open_depth, open_text))
            open_depth, open_text = None, ""
        if content == "-- ":
            if open_depth is not None:
                out.append(Logical(open_depth, open_text))
                open_depth, open_text = None, ""
            out.append(Logical(depth, content))
            continue
        flowed = content.endswith(" ")
        if flowed and delsp:
            content = content[:-1]
        if flowed:
            open_depth, open_text = depth, open_text + content
        else:
            out.append(Logical(depth, open_text + content))
            open_depth, open_text = None, ""
    if open_depth is not None:
        out.append(Logical(open_depth, open_text))
    return out


def unflow_part(message: email.message.EmailMessage) -> list[str]:
    """The text/plain part's logical lines (of a message: its plain body, the text
    alternative of a multipart one), honouring its format and delsp parameters."""
    part = message.get_body(("plain",))
    assert isinstance(part, email.message.EmailMessage), "no text/plain part"
    assert part.get_content_type() == "text/plain"
    body = part.get_content()
    assert isinstance(body, str)
    if (part.get_param("format") or "").lower() != "flowed":
        return body.replace("\r\n", "\n").removesuffix("\n").split("\n")
    delsp = (part.get_param("delsp") or "").lower() == "yes"
    logical = unflow(body, delsp=delsp)
    assert all(line.depth == 0 for line in logical), "nothing in a newsletter is quoted"
    return [line.text for line in logical]


def as_wrapped(paragraph: str) -> str:
    """A paragraph as the wrapper lays it out on one line: its text (`paragraph_text`),
    each run of blanks it breaks at (space, tab, U+3000) one space."""
    return " ".join(part for part in re.split(r"[ \t\u3000]+", paragraph_text(paragraph)) if part)


def wire_problems(body: str, fixed: str) -> list[str]:
    """How the flowed `body` departs from RFC 3676's generation rules, or from the fixed
    text a client without format=flowed shows (line for line, less the soft-break
    spaces and the stuffing added to lines starting with `>` or `From `)."""
    problems = []
    wire = body.replace("\r\n", "\n").removesuffix("\n").split("\n")
    plain = fixed.removesuffix("\n").split("\n")
    if len(wire) != len(plain):
        return [f"{len(wire)} lines flowed, {len(plain)} fixed"]
    for number, (line, seen) in enumerate(zip(wire, plain, strict=True), start=1):
        if line.startswith((">", "From ")):
            problems.append(f"line {number} is not space-stuffed: {line!r}")
        unstuffed = line[1:] if line.startswith((" >", " From ")) else line
        if unstuffed.rstrip(" ") != seen.rstrip(" ") and line != "-- ":
            problems.append(f"line {number} differs from the fixed text: {line!r} vs {seen!r}")
        if line == "-- " and seen != "-- ":
            problems.append(f"line {number} reads as a signature separator: {seen!r}")
    return problems
