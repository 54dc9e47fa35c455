"""Publishing one issue: validate it, then mark it published with its date.

Everything happens under the archive lock, and the issue file is re-read inside it, so a
concurrent `add` or `validate --fix` is never lost. Validation is `validate.py`'s; the
rules added here are the ones that depend on the new date, reported with validate's codes
for them: an article dated after the issue (E303), and a publication date in the future
(E106) or out of range (E107), which refuse the issue like any other error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

from .archive import Archive
from .errors import Failure, UsageError
from .model import Issue
from .validate import ERROR, Problem, issue_date_problems, validate_archive


@dataclass(frozen=True)
class PublishResult:
    path: Path
    issue: Issue
    changed: bool  # False when the issue was already published with that date
    problems: list[Problem]  # what validation found (warnings, or errors overridden by force)


class PublishRefused(Failure):
    """Validation found errors (exit 1); `problems` lists them all."""

    def __init__(self, message: str, problems: list[Problem], *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems


def _date_problems(issue: Issue, path: Path, date: dt.date) -> list[Problem]:
    return [
        Problem(
            "E303",
            ERROR,
            issue.id,
            article.id,
            "date",
            str(path),
            None,
            f"article date {article.date.isoformat()} is after the issue date {date.isoformat()} "
            "(publish on a later --date or fix the article's date)",
        )
        for article in issue.articles
        if article.date is not None and article.date > date
    ]


def publish_issue(
    archive: Archive, issue_id: str, *, date: str | None = None, force: bool = False
) -> PublishResult:
    """Set `status = "published"` and the date (`date`, else the issue's own, else today).

    Raises PublishRefused (exit 1) when validation finds errors, unless `force`.
    """
    from .dates import parse_date, today

    tz = archive.settings.timezone
    new_date = parse_date(date, tz=tz) if date else None
    if new_date is not None and new_date > today(tz):
        raise UsageError(
            f"--date {new_date.isoformat()} is in the future",
            hint="publish on the day; a feed item dated in the future is held back by readers",
        )
    with archive.locked():
        problems = validate_archive(archive, [issue_id])
        current = archive.get(issue_id) if force or not any(p.is_error for p in problems) else None
        if current is not None:
            when = new_date or current.issue.date or today(tz)
            if new_date is not None:
                problems += _date_problems(current.issue, current.path, new_date)
            seen = {(p.code, p.field, p.article) for p in problems}
            problems += [
                p
                for p in issue_date_problems(
                    current.issue, str(current.path), None, today(tz), archive.settings, date=when
                )
                if (p.code, p.field, p.article) not in seen
            ]
        errors = [p for p in problems if p.is_error]
        if errors and not force:
            raise PublishRefused(
                f"{issue_id} has {len(errors)} error{'s' if len(errors) != 1 else ''}; not published",
                problems,
                hint=f"fix them (`ecdigest validate {issue_id}`) or publish anyway with --force",
            )
        assert current is not None
        issue = current.issue
        if not issue.articles and not force:
            raise PublishRefused(
                f"{issue_id} has no articles; not published",
                problems,
                hint=f"add some with `ecdigest add {issue_id}`, or publish anyway with --force",
            )
        published = replace(issue, status="published", date=new_date or issue.date or today(tz))
        changed = published != issue
        if changed:
            archive.change().describe("publish", f"publish {issue_id}", issues=[issue_id])
            archive.write(current.path, published)
    return PublishResult(current.path, published, changed, problems)
