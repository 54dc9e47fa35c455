"""Changing what the archive already holds: edit, remove, move, reorder, unpublish.

Each operation runs under the archive lock and re-reads the files it changes inside it,
finds articles through the catalog (never by parsing every issue file), writes each
changed file once, atomically (`Archive.write`: comments kept, read back before the
rename), and names the change for the history (`Archive.change().describe`).

Ids are never reused: a removed or moved article's number stays taken in its issue
(`last_article_number`), so its feed GUID can never name another article. The order of an
issue's articles is the order the file holds them in; `show`, the exports and the site
print them by section (in the configured order), and in file order within a section, so
a reorder moves the article's `[[articles]]` table and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .archive import Archive, IssueFile
from .errors import ConflictError, Failure, InputError, NotFoundError, UsageError
from .model import Article, Issue, next_article_id
from .operations import change_subject, refuse_published

if TYPE_CHECKING:
    from .guards import Reach
    from .validate import Problem

POSITIONS = ("before", "after", "first", "last")


# --------------------------------------------------------------------------- finding articles


def locate(archive: Archive, article_id: str) -> tuple[IssueFile, int]:
    """The issue file holding `article_id` (read now) and the article's index in it."""
    for attempt in (1, 2):
        with archive.catalog() as catalog:
            found = catalog.find_articles(article_id)
            hint = None if found else _article_hint(catalog, article_id)
        if not found:
            raise NotFoundError(f"no article {article_id!r} in {archive.root}", hint=hint)
        if len({entry.path for entry in found}) > 1 or len(found) > 1:
            raise InputError(
                f"article id {article_id!r} is used twice: {', '.join(str(e.path) for e in found)}",
                hint="give each article its own id (`ecdigest validate` shows E203)",
            )
        item = archive.read(found[0].path)
        for index, article in enumerate(item.issue.articles):
            if article.id == article_id:
                return item, index
        if attempt == 2:  # the file changed between the catalog's answer and the read
            raise NotFoundError(f"no article {article_id!r} in {archive.root}")
    raise AssertionError("unreachable")  # pragma: no cover


def find_target(archive: Archive, value: str) -> tuple[IssueFile, int | None]:
    """An issue (index None) or an article (its issue and index) by id; an issue id wins."""
    try:
        return archive.get(value), None
    except NotFoundError as not_issue:
        return find_article(archive, value, not_issue)


def find_article(archive: Archive, value: str, not_issue: NotFoundError) -> tuple[IssueFile, int | None]:
    """find_target once `value` is known not to be an issue id (`not_issue`: what get said):
    the article, or the error that fits the id, not an issue's when it names one's article."""
    try:
        return locate(archive, value)
    except NotFoundError as not_article:
        with archive.catalog() as catalog:
            of_an_issue = bool(catalog.issue_files(value.rpartition("-")[0]))
        raise not_article if of_an_issue else not_issue from None


def _article_hint(catalog: object, article_id: str) -> str:
    from .catalog import Catalog

    assert isinstance(catalog, Catalog)
    issue_id = article_id.rpartition("-")[0]
    if issue_id and catalog.issue_files(issue_id):
        ids = catalog.article_ids(f"{issue_id}-")
        if not ids:
            return f"{issue_id} has no articles yet"
        shown = ", ".join(ids[:3]) + (f", …, {ids[-1]}" if len(ids) > 3 else "")
        return f"{issue_id} has {shown}; `ecdigest show {issue_id} --toc` lists them"
    if catalog.issue_files(article_id):
        return f"{article_id} is an issue; give an article id such as {article_id}-001"
    return "article ids are ISSUE-NNN, e.g. 2023-07-002; `ecdigest show ISSUE --toc` lists them"


def _replaced(issue: Issue, articles: Sequence[Article]) -> Issue:
    return replace(issue, articles=tuple(articles))


# --------------------------------------------------------------------------- edit


@dataclass(frozen=True)
class Edited:
    path: Path
    issue: Issue
    before: Article
    after: Article

    @property
    def changed(self) -> bool:
        return self.before != self.after


class ChangedMeanwhile(ConflictError):
    """The thing being edited changed on disk while the editor was open (exit 2)."""


def edit_article(
    archive: Archive,
    article_id: str,
    update: Callable[[Article], Article],
    *,
    expected: Article | None = None,
) -> Edited:
    """Replace one article with `update(article)` under the lock; nothing is written when
    the result is the same article. `expected`: the article as the editor opened it; if
    the file now holds another version of it, ChangedMeanwhile (nothing written)."""
    with archive.locked():
        item, index = locate(archive, article_id)
        current = item.issue.articles[index]
        if expected is not None and current != expected:
            raise ChangedMeanwhile(
                f"{article_id} was changed by someone else while you edited it",
                path=item.path,
                hint="look at it again (`ecdigest show " + article_id + "`)",
            )
        new = update(current)
        if new.id != article_id:
            raise UsageError("an article keeps its id (its feed GUID) when it is edited")
        if new == current:
            return Edited(item.path, item.issue, current, new)
        articles = list(item.issue.articles)
        articles[index] = new
        issue = _replaced(item.issue, articles)
        archive.change().describe(
            "edit", change_subject("edit", article_id, new.title), issues=[issue.id], articles=[article_id]
        )
        archive.write(item.path, issue)
    return Edited(item.path, issue, current, new)


@dataclass(frozen=True)
class IssueEdit:
    path: Path
    issue_id: str
    changed: bool


def save_issue_text(archive: Archive, issue_id: str, text: str, *, expected: bytes) -> IssueEdit:
    """Save the text of an issue file as the editor wrote it (`edit ISSUE`), if the file
    still holds `expected` (what the editor opened); ChangedMeanwhile otherwise."""
    from .fileio import atomic_write, read_bytes

    with archive.locked():
        path = issue_file(archive, issue_id)
        if read_bytes(path) != expected:
            raise ChangedMeanwhile(
                f"{path} was changed by someone else while you edited it", hint="open it again"
            )
        data = text.encode("utf-8")
        if data == expected:
            return IssueEdit(path, issue_id, False)
        target = archive.writable_path(path)
        archive.change().describe("edit", f"edit {issue_id} (the issue file)", issues=[issue_id])
        archive.before_write(target)
        atomic_write(target, data)
    return IssueEdit(path, issue_id, True)


def issue_file(archive: Archive, issue_id: str) -> Path:
    """The file of an issue (`edit ISSUE` opens it), even one that does not read cleanly:
    editing is how it gets fixed. A file that is not TOML at all is found by its name."""
    with archive.catalog() as catalog:
        files = catalog.issue_files(issue_id) or [
            e for e in catalog.issues() if not e.readable and e.path.stem == issue_id
        ]
    if not files:
        raise NotFoundError(f"no issue {issue_id!r} in {archive.root}")
    if len(files) > 1:
        raise InputError(f"issue id {issue_id!r} is used by {files[0].path} and {files[1].path}")
    return files[0].path


def check_issue_text(
    archive: Archive, path: Path, text: str, before: Sequence[Problem]
) -> tuple[list[Problem], list[Problem]]:
    """(errors the edit introduced, warnings it introduced) in the text of an issue file:
    validate's problems of the new text that the file did not have before (`before`, its
    problems as opened). An error it already had does not stop the save."""
    from .validate import validate_text

    def key(problem: Problem) -> tuple[str, str | None, str | None, str]:
        return (problem.code, problem.article, problem.field, problem.message)

    old = {key(p) for p in before}
    new = [p for p in validate_text(archive, path, text.encode("utf-8")) if key(p) not in old]
    return [p for p in new if p.is_error], [p for p in new if not p.is_error]


# --------------------------------------------------------------------------- remove


@dataclass(frozen=True)
class Removed:
    article: Article
    issue: Issue  # as it was before the removal
    path: Path


def remove_articles(archive: Archive, article_ids: Sequence[str], *, force: bool = False) -> list[Removed]:
    """Remove articles (all or none): their ids stay taken forever. An article of a
    published issue only with `force` (its item leaves the feed at the next build)."""
    ids = list(dict.fromkeys(article_ids))
    if not ids:
        raise UsageError("name at least one article to remove")
    removed: list[Removed] = []
    with archive.locked():
        by_path: dict[Path, tuple[IssueFile, list[int]]] = {}
        for article_id in ids:
            item, index = locate(archive, article_id)
            held = by_path.setdefault(item.path, (item, []))
            held[1].append(index)
        for item, indexes in by_path.values():
            refuse_published(
                item.issue,
                f"removing {', '.join(item.issue.articles[i].id for i in indexes)}",
                "the item leaves the feed at the next build, and readers who fetched it keep it",
                force=force,
            )
        for item, indexes in by_path.values():
            removed += [Removed(item.issue.articles[i], item.issue, item.path) for i in sorted(indexes)]
        single = removed[0].article.title if len(removed) == 1 else f"({len(removed)} articles)"
        archive.change().describe(
            "rm",
            change_subject("rm", " ".join(r.article.id for r in removed), single),
            issues=[item.issue.id for item, _ in by_path.values()],
            articles=[r.article.id for r in removed],
        )
        for item, indexes in by_path.values():
            kept = [a for i, a in enumerate(item.issue.articles) if i not in indexes]
            archive.write(item.path, _replaced(item.issue, kept))
    return removed


# --------------------------------------------------------------------------- move and reorder


@dataclass(frozen=True)
class Moved:
    before: Article
    after: Article
    from_issue: str
    to_issue: str
    from_path: Path
    to_path: Path
    changed: bool


def _slot(articles: Sequence[Article], section: str, sections: Sequence[str], *, first: bool) -> int:
    """Where the first (or last) article of `section` goes in file order: before (or after)
    the section's articles, else before the articles of the sections printed after it."""
    same = [i for i, a in enumerate(articles) if a.section == section]
    if same:
        return same[0] if first else same[-1] + 1
    order = list(sections)
    rank = order.index(section) if section in order else len(order)
    later = [
        i
        for i, a in enumerate(articles)
        if (order.index(a.section) if a.section in order else len(order)) > rank
    ]
    return later[0] if later else len(articles)


def move_article(
    archive: Archive,
    article_id: str,
    *,
    to_issue: str | None = None,
    section: str | None = None,
    position: tuple[str, str | None] | None = None,
    force: bool = False,
) -> Moved:
    """Move an article to another issue (it gets that issue's next id; its old id stays
    taken), to another section, and/or to another place among its section's articles:
    `position` is ("before", OTHER), ("after", OTHER), ("first", None) or ("last", None);
    without one a moved article goes last in its section."""
    settings = archive.settings
    if section is not None:
        section = section.strip()
        if section not in settings.sections:
            raise UsageError(
                f"unknown section {section!r}", hint=f"choose one of: {', '.join(settings.sections)}"
            )
    if position is not None and position[0] not in POSITIONS:
        raise UsageError(f"unknown position {position[0]!r}")
    with archive.locked():
        source, index = locate(archive, article_id)
        article = source.issue.articles[index]
        if to_issue is not None and to_issue != source.issue.id:
            target = archive.get(to_issue)
            if target.path == source.path:
                raise InputError(f"{to_issue} and {source.issue.id} are one file", path=target.path)
        else:
            target = source
        moving = target.path != source.path
        new_section = section if section is not None else article.section
        remaining = [a for i, a in enumerate(source.issue.articles) if i != index]
        into = list(target.issue.articles) if moving else list(remaining)
        other_id = position[1] if position is not None else None
        if other_id is not None:
            if other_id == article_id:
                raise UsageError(f"{article_id} cannot be moved before or after itself")
            place = next((i for i, a in enumerate(into) if a.id == other_id), None)
            if place is None:
                raise UsageError(
                    f"{other_id} is not in {target.issue.id}",
                    hint=f"--before/--after name an article of the issue it moves in (`ecdigest show {target.issue.id} --toc`)",
                )
            other = into[place]
            if other.section != new_section:
                raise UsageError(
                    f"{other_id} is in {other.section}, {article_id} in {new_section}; articles print by section",
                    hint=f"add --section {other.section} to move it into that section",
                )
            slot = place if position is not None and position[0] == "before" else place + 1
        else:
            first = position is not None and position[0] == "first"
            slot = _slot(into, new_section, settings.sections, first=first)
        if moving:
            refuse_published(
                source.issue,
                f"moving {article_id} out of it",
                "the item leaves its feed at the next build",
                force=force,
            )
            refuse_published(
                target.issue,
                f"moving {article_id} into it",
                "the article appears in the feed as a new item",
                force=force,
            )
            taken = archive.taken_article_ids(f"{target.issue.id}-", exclude=target.path)
            new_id, number = next_article_id(target.issue, taken)
            moved = replace(article, id=new_id, section=new_section)
            into.insert(slot, moved)
            new_target = replace(
                target.issue,
                articles=tuple(into),
                last_article_number=max(target.issue.last_article_number, number),
            )
            new_source = _replaced(source.issue, remaining)
            archive.change().describe(
                "mv",
                change_subject("mv", f"{article_id} → {new_id}", moved.title),
                issues=[source.issue.id, target.issue.id],
                articles=[new_id, article_id],
                moved_from=[article_id],
            )
            # The new copy first: a failure between the two writes leaves the article twice
            # (under two ids), never nowhere.
            archive.write(target.path, new_target)
            archive.write(source.path, new_source)
            return Moved(article, moved, source.issue.id, target.issue.id, source.path, target.path, True)
        moved = replace(article, section=new_section)
        into.insert(slot, moved)
        if into == list(source.issue.articles):
            return Moved(article, moved, source.issue.id, source.issue.id, source.path, source.path, False)
        refuse_published(
            source.issue, f"moving {article_id}", "its page and email print the new order", force=force
        )
        archive.change().describe(
            "mv",
            change_subject("mv", article_id, moved.title),
            issues=[source.issue.id],
            articles=[article_id],
        )
        archive.write(source.path, _replaced(source.issue, into))
    return Moved(article, moved, source.issue.id, source.issue.id, source.path, source.path, True)


# --------------------------------------------------------------------------- unpublish


class AlreadyOut(Failure):
    """Unpublishing an issue that readers already have, without --force (exit 1)."""


@dataclass(frozen=True)
class Unpublished:
    path: Path
    issue: Issue
    changed: bool
    reach: Reach | None


def unpublish(archive: Archive, issue_id: str, *, site: Path, force: bool = False) -> Unpublished:
    """Make a published issue a draft again. Once it has gone out (a built site carries it,
    or the list was emailed it) only with `force`: the feed drops its items at the next
    build, but readers keep what they fetched."""
    from .guards import reach

    with archive.locked():
        item = archive.get(issue_id)
        if not item.issue.is_published:
            return Unpublished(item.path, item.issue, False, None)
        where = reach(archive, item.issue, site)
        if where.reached and not force:
            count = len(item.issue.articles)
            raise AlreadyOut(
                f"{issue_id} has gone out: {where.describe()}; unpublished, its {count} "
                f"item{'s' if count != 1 else ''} leave the feed at the next build, but readers keep "
                "what they fetched",
                hint="unpublish it anyway with --force",
            )
        draft = replace(item.issue, status="draft")
        archive.change().describe("unpublish", f"unpublish {issue_id}", issues=[issue_id])
        archive.write(item.path, draft)
    return Unpublished(item.path, draft, True, where)
