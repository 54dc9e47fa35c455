"""Shared by the web archive's tests: archives to build, and the checks every built site must
pass (HTML that parses without an error, links that resolve, feeds readers accept)."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from _publishing import FIXTURE_ARCHIVE

SITE_LINK = "https://example.org/ecd/"


def many_issues(tmp_path: Path, count: int, *, editions: tuple[str, ...] = ()) -> Path:
    """A copy of the fixed tricky archive with `count` more published issues (weekly, from
    2019), made from its 2023-06 issue with their own ids; `editions` configured."""
    root = tmp_path / "many"
    shutil.copytree(FIXTURE_ARCHIVE, root, ignore=shutil.ignore_patterns(".ecdigest"))
    template = (root / "2023" / "2023-06.toml").read_text("utf-8")
    import datetime as dt

    day = dt.date(2019, 1, 7)
    for number in range(count):
        when = day + dt.timedelta(weeks=number)
        issue_id = f"{when.isoformat()}w"
        text = template.replace('id = "2023-06-', f'id = "{issue_id}-').replace(
            'id = "2023-06"', f'id = "{issue_id}"'
        )
        text = re.sub(r"(?m)^date = 2023-0[56]-\d\d$", f"date = {when.isoformat()}", text)
        text = text.replace(
            'title = "电子商务动态 2023 年 6 月"', f'title = "电子商务动态 {when.isoformat()}"'
        )
        folder = root / str(when.year)
        folder.mkdir(exist_ok=True)
        (folder / f"{issue_id}.toml").write_text(text, "utf-8")
    if editions:
        set_editions(root, editions)
    return root


def set_editions(root: Path, editions: tuple[str, ...]) -> None:
    settings = root / "ecdigest.toml"
    listed = ", ".join(f'"{e}"' for e in editions)
    settings.write_text(
        settings.read_text("utf-8").replace("[newsletter]\n", f"[newsletter]\neditions = [{listed}]\n", 1),
        "utf-8",
    )


def files(out: Path) -> list[str]:
    return sorted(
        p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")
    )


def html_errors(data: bytes) -> list[str]:
    """html5lib's parse errors (the WHATWG parsing algorithm's), none expected."""
    import html5lib

    parser = html5lib.HTMLParser(strict=False, namespaceHTMLElements=False)
    parser.parse(data)
    return [f"{pos}: {code} {info}" for pos, code, info in parser.errors]


class Links(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.scripts: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        for name in ("href", "src"):
            value = values.get(name)
            if value is not None and not (
                tag == "link" and values.get("rel") in ("canonical", "alternate") and value.startswith("http")
            ):
                self.links.append(value)
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "refresh":
            content = values.get("content") or ""
            if "url=" in content:
                self.links.append(content.split("url=", 1)[1])


def link_problems(out: Path, *, outside: set[str]) -> list[str]:
    """Every href/src of every page resolves to a file of the site (and an anchor to an id
    on it), or is one of `outside` (articles' own URLs)."""
    problems: list[str] = []
    ids: dict[Path, set[str]] = {}

    def ids_of(path: Path) -> set[str]:
        if path not in ids:
            ids[path] = Links(path.read_text("utf-8")).ids if path.suffix == ".html" else set()
        return ids[path]

    for page in sorted(out.rglob("*.html")):
        found = Links(page.read_text("utf-8"))
        for link in found.links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https"):
                if link not in outside:
                    problems.append(f"{page.relative_to(out)}: outside link {link}")
                continue
            if parts.scheme or parts.netloc:
                problems.append(f"{page.relative_to(out)}: {link}")
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not target.is_relative_to(out.resolve()) or not target.is_file():
                problems.append(f"{page.relative_to(out)}: {link} -> no such file")
                continue
            if parts.fragment and unquote(parts.fragment) not in ids_of(target):
                problems.append(f"{page.relative_to(out)}: {link} -> no such anchor")
    return problems


def resolve_site_url(out: Path, url: str, link: str = SITE_LINK) -> Path | None:
    """The file a site URL is served from (None if it is not on the site)."""
    if not url.startswith(link):
        return None
    rest = urlsplit(url[len(link) :])
    path = out / unquote(rest.path)
    return path if path.is_file() else None
