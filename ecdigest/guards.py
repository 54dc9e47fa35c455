"""Guard rails around the editor's changes: warnings said at once, not only at `validate`.

- `article_warnings`: after `add`, `edit` or `mv`, what validate says about those articles
  that an editor wants to hear right away: a story the archive already has (the same or
  nearly the same title, W601/W602; the same text, W603), a date in the future or after
  the issue's (E302, E303), mixed marks in the source (E401). These are validate's own
  rules, asked through `validate_report` for the one issue (its cross-issue checks come
  from the catalog), never copies of them.
- `placeholders`: settings still holding the `example.org` values `init` writes; `build`
  and `publish` warn while they do, because the feed's GUID authority can never change
  once readers have the feed.
- `reach`: where a published issue already went (a site built from it, the list it was
  emailed to): what `unpublish` and `rm --force` must tell the editor.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .model import Issue, Newsletter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dataclasses import dataclass as record

    from .archive import Archive
    from .validate import Problem
else:  # `dataclasses` costs ~7 ms of start-up: records.py makes the same classes without it
    from .records import record

# The codes `add`/`edit`/`mv` repeat at once, for the articles they wrote.
GUARD_CODES = frozenset({"W601", "W602", "W603", "E302", "E303", "E401"})
# RFC 2606's example domains: what `init` writes until told the real ones.
PLACEHOLDER_DOMAINS = ("example.org", "example.com", "example.net")
# Where `build` writes by default, relative to the current folder (`build -o`, `unpublish --site`).
DEFAULT_SITE = "site"


def article_warnings(archive: Archive, issue_id: str, article_ids: Iterable[str]) -> list[Problem]:
    """Validate's findings about these articles of one issue, limited to GUARD_CODES."""
    from .validate import validate_report

    wanted = set(article_ids)
    report = validate_report(archive, [issue_id], articles=wanted, codes=GUARD_CODES)
    return [p for p in report.problems if p.article in wanted and p.code in GUARD_CODES]


def problem_line(problem: Problem) -> str:
    """`PATH:LINE: CODE severity: [ARTICLE FIELD] message`, as validate prints a finding."""
    where = f"{problem.path}:{problem.line}" if problem.line else f"{problem.path}"
    subject = " ".join(x for x in (problem.article, problem.field) if x)
    subject = f"[{subject}] " if subject else ""
    return f"{where}: {problem.code} {problem.severity}: {subject}{problem.message}"


def warning_line(problem: Problem) -> str:
    """A guard rail's finding as `add`, `edit` and `mv` print it on stderr (no line end)."""
    from .terminal import printable

    return printable(f"ecdigest: {problem_line(problem)}", one_line=True)


def warning_lines(
    archive: Archive, issue_id: str, article_ids: Iterable[str], *, known: Iterable[Problem] = ()
) -> list[str]:
    """What to say at once about articles just written (`article_warnings`), but for what
    was said already before the change (`known`): the Typer commands and the launcher's
    `add` print these lines."""
    said = {(p.code, p.field, p.message) for p in known}
    return [
        warning_line(p)
        for p in article_warnings(archive, issue_id, article_ids)
        if (p.code, p.field, p.message) not in said
    ]


# --------------------------------------------------------------------------- placeholders


def _placeholder_host(host: str) -> bool:
    host = host.strip().lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in PLACEHOLDER_DOMAINS)


def _url_host(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _address_hosts(text: str) -> list[str]:
    import re

    return re.findall(r"@([A-Za-z0-9.-]+)", text)


def placeholders(settings: Newsletter) -> list[str]:
    """The settings (as ecdigest.toml names them) that still hold an example domain."""
    found = []
    for key, value in (
        ("link", settings.link),
        ("feed_url", settings.feed_url),
        ("atom_url", settings.atom_url),
    ):
        if value and _placeholder_host(_url_host(value)):
            found.append(key)
    authority = settings.tag_authority.rpartition("@")[2]
    if _placeholder_host(authority):
        found.append("tag_authority")
    for key, value in (("[email] from", settings.email_from), ("[email] to", settings.email_to)):
        if any(_placeholder_host(host) for host in _address_hosts(value)):
            found.append(key)
    return found


def placeholder_warning(settings: Newsletter) -> str | None:
    """One line for `build` and `publish` while settings still hold placeholders."""
    keys = placeholders(settings)
    if not keys:
        return None
    urgent = "; tag_authority can never change once readers have the feed" if "tag_authority" in keys else ""
    return (
        f"ecdigest.toml still holds the example.org placeholders in {', '.join(keys)}: set them before "
        f"the feed goes public{urgent}"
    )


# --------------------------------------------------------------------------- where an issue went


def built_outputs(issue: Issue, settings: Newsletter, site: Path) -> list[str]:
    """The files of a site built in `site` that carry `issue`: its page, its Markdown, its
    email, and the feeds with one of its items (found by the item's GUID). Empty when
    `site` holds no build.

    What the build wrote is what its manifest lists (site/manifest.py,
    `.ecdigest-manifest.sqlite3`); a folder built before this manifest (an older manifest,
    its lock file, feed.xml) is read as such a build wrote it. Only files that are still
    there count.
    """
    from .errors import EcdigestError
    from .export.common import article_guid, issue_guid
    from .site.manifest import LOCK_NAME, MANIFEST, OLD_MANIFEST, Manifest
    from .site.names import issue_path

    feeds = ("feed.xml", "atom.xml", "feed.json")
    manifest = Manifest.load(site) if (site / MANIFEST).is_file() else None
    try:
        if manifest is not None and manifest.usable:
            listed = set(manifest.names())
        elif manifest is not None or any(
            (site / name).exists() for name in (OLD_MANIFEST, LOCK_NAME, "feed.xml")
        ):
            listed = {issue_path(settings, issue.id), f"{issue.id}.md", f"email/{issue.id}.txt",
                      f"email/{issue.id}.eml", *feeds}  # fmt: skip
        else:
            return []
    finally:
        if manifest is not None:
            manifest.close()
    pages = [
        issue_path(settings, issue.id),
        f"{issue.id}.md",
        f"email/{issue.id}.txt",
        f"email/{issue.id}.eml",
    ]
    found = [name for name in dict.fromkeys(pages) if name in listed and (site / name).is_file()]
    try:  # a GUID ends where its element or string does: 2023-06-001 is not 2023-06-0011
        guids = [issue_guid(settings, issue.id)] + [article_guid(settings, a.id) for a in issue.articles]
    except EcdigestError:  # settings the exporters refuse: no feed could carry the issue either
        return found
    ends = [(guid + end).encode("utf-8") for guid in guids for end in ("<", '"')]
    for name in feeds:
        if name not in listed:
            continue
        try:
            data = (site / name).read_bytes()
        except OSError:
            continue
        if any(end in data for end in ends):
            found.append(name)
    return found


@record(frozen=True)
class Reach:
    """Where a published issue has gone: a built site's files, and the list's inbox."""

    site: Path
    built: tuple[str, ...]
    sent_at: str | None  # when the list send was recorded (sent/ISSUE.jsonl)

    @property
    def reached(self) -> bool:
        return bool(self.built or self.sent_at)

    def describe(self) -> str:
        parts = []
        if self.built:
            parts.append(f"it is built in {self.site} ({', '.join(self.built)})")
        if self.sent_at:
            parts.append(f"it was emailed to the list on {self.sent_at}")
        return "; ".join(parts)


def reach(archive: Archive, issue: Issue, site: Path) -> Reach:
    """Where `issue` went: `built_outputs` in `site`, and the send record."""
    from . import sendlog
    from .errors import EcdigestError

    sent_at = None
    try:
        sent = sendlog.state(sendlog.read(archive, issue.id)).sent
    except EcdigestError:
        sent = None
    if sent is not None:
        sent_at = str(sent.get("at", "?"))
    return Reach(site, tuple(built_outputs(issue, archive.settings, site)), sent_at)
