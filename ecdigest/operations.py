"""The editor's everyday operations on an archive: init, new issue, add an article.

Pure logic over `Archive`: no prompts, no printing. The CLI gathers values (flags,
prompts, $EDITOR) into an `ArticleDraft` and hands it here. Changing what is already
there (edit, rm, mv, unpublish) is editing.py.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from .archive import Archive, IssueFile, check_issue_id
from .dates import DateError, parse_date, today
from .errors import ConflictError, Failure, UsageError
from .model import Article, Issue, Newsletter, join_paragraphs, next_article_id, split_paragraphs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dataclasses import dataclass as record
    from dataclasses import field

    from .catalog import Catalog
else:  # `dataclasses` costs ~7 ms of start-up: records.py makes the same classes without it
    from .records import field, record

REQUIRED_FIELDS = ("title", "section", "source", "date", "body")
_URL = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)  # used with fullmatch


# --------------------------------------------------------------------------- init / new


def init_archive(
    root: Path,
    *,
    title: str | None = None,
    editor: str | None = None,
    link: str | None = None,
    email_from: str | None = None,
    email_to: str | None = None,
    git: bool = False,
) -> Archive:
    """A new archive. With `--link`, feed URLs and the GUID authority derive from the site.

    `git`: the history setting on (`[history] git = true`), the folder made a git
    repository unless it is in one already, and the archive's creation its first commit.
    """
    from dataclasses import replace
    from urllib.parse import urlsplit

    defaults = Newsletter()
    _check_one_line("--title", title)
    _check_one_line("--editor", editor)
    settings = replace(
        defaults,
        title=title or defaults.title,
        editor=editor or defaults.editor,
        email_from=_address("--from", email_from) or defaults.email_from,
        email_to=_address("--to", email_to) or defaults.email_to,
        history_git=git,
    )
    if link:
        check_link(link)
        link = link if link.endswith("/") else link + "/"
        settings = replace(
            settings,
            link=link,
            feed_url=link + "feed.xml",
            # RFC 4151: a domain the publisher owns, and a date on which it owned it.
            tag_authority=(urlsplit(link).hostname or defaults.tag_authority).lower(),
            tag_date=str(today(settings.timezone).year),
        )
    if git:
        _git_init(root)
    return Archive.create(root, settings)


def check_link(link: str) -> str:
    """`link` if it is an http(s) URL on one line (the site `--link` names)."""
    _check_one_line("--link", link)
    if not _URL.fullmatch(link):
        raise UsageError(f"--link {link!r} is not an http(s) URL", hint="e.g. https://example.org/ecd/")
    return link


_ADDRESS = re.compile(r"(?:[^<>@]*<)?[^\s<>@,;]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+>?")


def check_address(value: str, option: str = "the address") -> str:
    """An email address as `[email] from/to` hold it: `Name <a@b.org>` or `a@b.org`."""
    _check_one_line(option, value)
    if not _ADDRESS.fullmatch(value.strip()):
        raise UsageError(
            f"{option} {value!r} is not an email address", hint="e.g. 编辑部 <editor@example.com>"
        )
    return value.strip()


def _address(option: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return check_address(value, option)


def _git_init(root: Path) -> None:
    """Make `root` a git repository unless it already is in one (before any file is written,
    so that a missing git changes nothing)."""
    import os

    from .archive import SETTINGS_FILE
    from .history import Repo, run_git

    if (root.exists() and not root.is_dir()) or (root / SETTINGS_FILE).exists():
        return  # Archive.create says what is wrong
    Archive(root, Newsletter())._refuse_nesting()
    existing = Path(os.path.abspath(root))
    while not existing.is_dir():
        existing = existing.parent
    Repo(existing).identity()  # no commit could be made: create nothing
    root.mkdir(parents=True, exist_ok=True)
    if run_git(root, "rev-parse", "--show-toplevel", check=False).returncode != 0:
        run_git(root, "init", "--quiet")


def default_issue_title(settings: Newsletter, date: dt.date) -> str:
    return f"{settings.title} {date.year} 年 {date.month} 月"


def new_issue(
    archive: Archive, *, issue_id: str | None = None, date: str | None = None, title: str | None = None
) -> IssueFile:
    """A draft issue in `ARCHIVE/YYYY/ID.toml`; the id defaults to `YYYY-MM` of its date."""
    tz = archive.settings.timezone
    when = parse_date(date, tz=tz) if date else today(tz)
    issue_id = check_issue_id(issue_id or f"{when.year:04d}-{when.month:02d}")
    _check_one_line("--title", title)
    issue = Issue(id=issue_id, title=title or default_issue_title(archive.settings, when), date=when)
    with archive.locked():
        with archive.catalog() as catalog:
            existing = catalog.issue_files(issue_id)
            # A file that does not read could hold this id, or any: say which file it is.
            broken = next((e.error for e in catalog.issues() if e.error is not None), None)
        if broken is not None:
            raise broken
        if existing:
            raise ConflictError(
                f"issue {issue_id!r} already exists",
                path=existing[0].path,
                hint="choose another id with --id",
            )
        path = archive.path_for(issue)
        if path.exists():
            raise ConflictError("file already exists", path=path, hint="choose another id with --id")
        archive.change().describe("new", f"new {issue_id} {issue.title}", issues=[issue_id])
        archive.write(path, issue)
    return IssueFile(path, issue)


# --------------------------------------------------------------------------- add


@record
class ArticleDraft:
    """Article fields as gathered from the command line (strings, unparsed)."""

    title: str | None = None
    section: str | None = None
    source: str | None = None
    compiled_by: str | None = None
    date: str | None = None
    url: str | None = None
    tags: list[str] = field(default_factory=list)
    body: str | None = None

    def missing(self) -> list[str]:
        return [name for name in REQUIRED_FIELDS if not (getattr(self, name) or "").strip()]

    def merged(self, other: ArticleDraft) -> ArticleDraft:
        """Fields of `other` fill the ones this draft leaves empty (flags beat parsed text)."""
        values = {}
        for name in ("title", "section", "source", "compiled_by", "date", "url", "body"):
            mine = getattr(self, name)
            values[name] = mine if mine is not None else getattr(other, name)
        return ArticleDraft(tags=self.tags or other.tags, **values)


def _check_one_line(name: str, value: str | None) -> None:
    if value is not None and ("\n" in value or "\r" in value):
        raise UsageError(f"{name} must be a single line")


def build_article(draft: ArticleDraft, settings: Newsletter, article_id: str) -> Article:
    """Check a complete draft and turn it into an Article; UsageError says what is wrong."""
    problems = draft_problems(draft, settings)
    if problems:
        raise problems[0]
    section = (draft.section or "").strip()
    url = (draft.url or "").strip() or None
    date = parse_date(draft.date or "", tz=settings.timezone)
    source = (draft.source or "").strip()
    compiled_by = draft.compiled_by
    if compiled_by is None:
        # Articles from other outlets are compiled by the editorial office; its own are not.
        compiled_by = settings.editor if source != settings.editor else None
    compiled_by = compiled_by.strip() or None if compiled_by is not None else None
    body = join_paragraphs(split_paragraphs(draft.body or ""))
    tags = tuple(dict.fromkeys(t.strip() for t in draft.tags if t.strip()))
    return Article(
        id=article_id,
        section=section,
        title=(draft.title or "").strip(),
        source=source,
        compiled_by=compiled_by,
        date=date,
        url=url,
        tags=tags,
        body=body,
    )


def draft_problems(draft: ArticleDraft, settings: Newsletter) -> list[UsageError]:
    """Everything wrong with a draft, each as the UsageError the command line reports
    (the first one), or the `$EDITOR` loop writes above the text (all of them)."""
    problems: list[UsageError] = []
    missing = draft.missing()
    if missing:
        wanted = [f"--{m}" for m in missing if m != "body"]
        if "body" in missing:
            wanted.append("the body (--body, --body-file or --edit)")
        problems.append(
            UsageError(
                f"missing required field{'s' if len(missing) > 1 else ''}: {', '.join(missing)}",
                hint=f"give {', '.join(wanted)}",
            )
        )
    for name in ("title", "section", "source", "compiled_by", "url"):
        try:
            _check_one_line(f"--{name.replace('_', '-')}", getattr(draft, name))
        except UsageError as exc:
            problems.append(exc)
    section = (draft.section or "").strip()
    if section and section not in settings.sections:
        problems.append(
            UsageError(f"unknown section {section!r}", hint=f"choose one of: {', '.join(settings.sections)}")
        )
    url = (draft.url or "").strip() or None
    if url is not None and not _URL.fullmatch(url):
        problems.append(UsageError(f"--url {url!r} is not an http(s) URL"))
    if (draft.date or "").strip():
        try:
            parse_date(draft.date or "", tz=settings.timezone)
        except DateError as exc:
            problems.append(UsageError(f"--date: {exc.message}", hint=exc.hint))
        except UsageError as exc:  # the clock itself ($ECDIGEST_NOW), not the date given
            problems.append(exc)
    if "body" not in missing and not join_paragraphs(split_paragraphs(draft.body or "")):
        problems.append(UsageError("the body is empty", hint="give it with --body, --body-file or --edit"))
    for tag in draft.tags:
        try:
            _check_one_line("--tag", tag.strip())
        except UsageError as exc:
            problems.append(exc)
            break
    return problems


def target_issue(archive: Archive, issue_id: str | None, *, catalog: Catalog | None = None) -> IssueFile:
    """The named issue, else the newest draft (`catalog`: one already open)."""
    if issue_id:
        return archive.get(issue_id, catalog=catalog)
    return archive.latest(status="draft", catalog=catalog)


class PublishedIssue(Failure):
    """A change to a published issue that needs --force (exit 1, nothing written)."""


def refuse_published(issue: Issue, what: str, consequence: str, *, force: bool) -> None:
    """PublishedIssue unless `force`: `what` would change published `issue`; `consequence`
    says what readers would see."""
    if issue.is_published and not force:
        raise PublishedIssue(
            f"{issue.id} is published; {what} changes what readers have: {consequence}",
            hint="give --force to do it anyway",
        )


def _target_and_taken(archive: Archive, issue_id: str | None) -> tuple[IssueFile, list[str]]:
    """The target issue (`target_issue`) and the article ids its prefix has in other files,
    from one catalog (closed before the caller writes: the guard rails' catalog then takes
    in the changed file); a file changed while it looked: both again, the usual way."""
    from .archive import StaleCatalog

    try:
        with archive.catalog() as catalog:
            found = target_issue(archive, issue_id, catalog=catalog)
            return found, archive.taken_article_ids(f"{found.issue.id}-", exclude=found.path, catalog=catalog)
    except StaleCatalog:
        found = target_issue(archive, issue_id)
        return found, archive.taken_article_ids(f"{found.issue.id}-", exclude=found.path)


def add_article(
    archive: Archive, issue_id: str | None, draft: ArticleDraft, *, force: bool = False
) -> tuple[IssueFile, Article]:
    """Append an article under the archive lock; its id is never one used before. A
    published issue takes it only with `force` (its readers get a new item)."""
    settings = archive.settings
    # Check everything that does not depend on the file before taking the lock.
    build_article(draft, settings, "check")
    with archive.locked():
        fresh, taken = _target_and_taken(archive, issue_id)  # read inside the lock
        refuse_published(
            fresh.issue,
            "adding to it",
            "the article appears in the feed as a new item at the next build",
            force=force,
        )
        article_id, number = next_article_id(fresh.issue, taken)
        article = build_article(draft, settings, article_id)
        issue = fresh.issue.with_article(article, number)
        archive.change().describe(
            "add", change_subject("add", article_id, article.title), issues=[issue.id], articles=[article_id]
        )
        archive.write(fresh.path, issue)
    return IssueFile(fresh.path, issue), article


def change_subject(kind: str, what: str, title: str = "") -> str:
    """A commit subject for the history (history.subject): `add 2023-07-002 商务部：…`."""
    from .history import subject

    return subject(kind, what, title)


# --------------------------------------------------------------------------- $EDITOR template

_TEMPLATE_FIELDS = ("title", "section", "source", "compiled_by", "date", "url", "tags")
# In the template, `compiled_by:` left empty means "the default", as when the flag is not
# given (the editorial office for outside sources); this value means "nobody".
NO_COMPILER = "-"


def edit_template(draft: ArticleDraft, settings: Newsletter) -> str:
    """The text `add --edit` opens in $EDITOR: `key: value` lines, a blank line, the body."""
    lines = [
        "# Fill in the fields, then write the body after the first blank line.",
        "# Paragraphs are separated by one blank line. These '#' lines above the fields are",
        "# ignored; in the body every line is kept (#话题# included).",
        f"# section: one of {' '.join(settings.sections)}",
        f"# compiled_by: empty for the default ({settings.editor} for outside sources), {NO_COMPILER} for none",
        "# Save an empty body to cancel.",
    ]
    for name in _TEMPLATE_FIELDS:
        if name == "tags":
            value = ", ".join(draft.tags)
        elif name == "compiled_by" and draft.compiled_by == "":
            value = NO_COMPILER
        else:
            value = getattr(draft, name) or ""
        lines.append(f"{name}: {value}")
    lines.append("")
    lines.append(draft.body or "")
    return "\n".join(lines) + "\n"


def parse_template(text: str) -> ArticleDraft:
    """Read back what the editor saved."""
    draft = ArticleDraft()
    lines = text.replace("\r\n", "\n").split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if line.startswith("#"):
            continue
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        key = key.strip().replace("-", "_")
        if not sep or key not in _TEMPLATE_FIELDS:
            raise UsageError(
                f"line {index} of the template: expected 'field: value', got {line[:40]!r}",
                hint=f"fields: {', '.join(_TEMPLATE_FIELDS)}",
            )
        value = value.strip()
        if key == "tags":
            draft.tags = [t.strip() for t in re.split(r"[,，、]", value) if t.strip()]
        elif key == "compiled_by":
            # Empty: the default, as without --compiled-by; NO_COMPILER: nobody.
            draft.compiled_by = "" if value == NO_COMPILER else value or None
        else:
            setattr(draft, key, value or None)
    # The body is content: a line starting with '#' (a #话题# tag) is kept as written.
    draft.body = "\n".join(lines[index:]).strip() or None
    return draft


class EditCancelled(UsageError):
    """The editor was left with an empty body: nothing to add, and nothing to keep."""


def check_template(text: str, settings: Newsletter) -> ArticleDraft:
    """The draft in an edited template, or a DraftInvalid listing every problem in it
    (the `$EDITOR` loop writes them above the text and reopens it)."""
    from .editor import DraftInvalid

    try:
        draft = parse_template(text)
    except UsageError as exc:
        raise DraftInvalid([exc]) from None
    if not draft.body:
        raise EditCancelled("the body is empty; nothing was added")
    problems = draft_problems(draft, settings)
    if problems:
        raise DraftInvalid(problems)
    return draft
