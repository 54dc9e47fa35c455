"""`ecdigest build`: the whole publication, for cron.

1. Validate. Errors in what would be published (the published issues, and any file too
   broken to tell its status) stop the build before anything is written; drafts being
   edited do not block it.
2. Render everything in memory: `feed.xml` (RSS 2.0), `atom.xml`, `ISSUE.md` per published
   issue, `email/ISSUE.txt` and `email/ISSUE.eml` for the latest published issue.
3. Under a lock in the output folder (`.ecdigest-build.lock`), write each file atomically
   and only when its bytes changed, so a second run touches nothing (not even mtimes) and
   two concurrent builds cannot interleave.

Issue ids become file names: they are checked against the id pattern and every target
path must resolve inside the output folder (a symlinked `email/` pointing elsewhere is
refused).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .archive import Archive
from .errors import Failure, UsageError, WriteError
from .model import Issue, is_valid_issue_id
from .validate import Problem, validate_report

LOCK_NAME = ".ecdigest-build.lock"
FEED = "feed.xml"
ATOM = "atom.xml"
EMAIL_DIR = "email"

# progress(done, total, label)
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class SiteFile:
    name: str  # relative to the output folder, with '/' separators
    data: bytes


@dataclass
class BuildResult:
    out_dir: Path
    issues: int
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "out": str(self.out_dir),
            "issues": self.issues,
            "written": self.written,
            "unchanged": self.unchanged,
        }

    def summary(self) -> str:
        """One line: what changed."""
        written = f"{len(self.written)} written"
        if self.written and len(self.written) <= 5:
            written += f" ({', '.join(self.written)})"
        plural = "" if self.issues == 1 else "s"
        return f"{self.out_dir}: {written}, {len(self.unchanged)} unchanged ({self.issues} published issue{plural})"


class BuildRefused(Failure):
    """Validation found errors in what would be published: nothing was written (exit 1)."""

    def __init__(self, message: str, problems: list[Problem], *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems


# --------------------------------------------------------------------------- reading


def published_issues(archive: Archive) -> tuple[list[Issue], list[Problem]]:
    """The published issues (oldest first) and the validation errors that block a build."""
    report = validate_report(archive, warnings=False)  # one read of every file, errors only
    issues: list[Issue] = []
    blocking_paths: set[str] = set()
    for path, issue in report.issues:
        if issue is None or issue.is_published:  # unreadable: its status is unknown
            blocking_paths.add(str(path))
        if issue is not None and issue.is_published:
            issues.append(issue)
    errors = [p for p in report.problems if p.path is None or p.path in blocking_paths]
    issues.sort(key=lambda i: (i.date.isoformat() if i.date else "", i.id))
    return issues, errors


# --------------------------------------------------------------------------- rendering


def render_site(issues: list[Issue], archive: Archive, *, progress: Progress | None = None) -> list[SiteFile]:
    """Every output file's bytes, rendered before anything is written."""
    from .export import email, markdown, rss

    settings = archive.settings
    for issue in issues:
        if not is_valid_issue_id(issue.id):
            raise UsageError(f"issue id {issue.id!r} cannot be a file name", hint="run `ecdigest validate`")
    total = len(issues) + 4 if issues else 0
    done = 0

    def step(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, label)

    files: list[SiteFile] = []
    if not issues:
        return files
    files.append(SiteFile(FEED, rss.render(issues, settings, format="rss")))
    step(FEED)
    files.append(SiteFile(ATOM, rss.render(issues, settings, format="atom")))
    step(ATOM)
    for issue in issues:
        files.append(SiteFile(f"{issue.id}.md", markdown.render([issue], settings).encode("utf-8")))
        step(f"{issue.id}.md")
    latest = issues[-1]
    files.append(
        SiteFile(f"{EMAIL_DIR}/{latest.id}.txt", email.render_text(latest, settings).encode("utf-8"))
    )
    step(f"{EMAIL_DIR}/{latest.id}.txt")
    files.append(SiteFile(f"{EMAIL_DIR}/{latest.id}.eml", email.render_eml(latest, settings)))
    step(f"{EMAIL_DIR}/{latest.id}.eml")
    return files


# --------------------------------------------------------------------------- writing


def target(out_dir: Path, name: str) -> Path:
    """`out_dir/name`, refusing anything that would land outside `out_dir`."""
    relative = Path(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise WriteError(f"refusing to write {name!r}: not a plain file name inside the output folder")
    path = out_dir / relative
    root = out_dir.resolve()
    if not path.resolve().is_relative_to(root):
        raise WriteError(
            f"refusing to write {path}: it resolves to {path.resolve()}, outside {root}",
            hint="remove the symlink",
        )
    return path


def write_site(
    out_dir: Path, files: list[SiteFile], issues: int, archive: Archive | None = None
) -> BuildResult:
    """Write each file atomically if its bytes changed, under the output folder's lock."""
    from .fileio import FileLock, write_if_changed
    from .outputs import output_file, output_folder

    result = BuildResult(out_dir, issues)
    output_folder(out_dir, archive)
    # Check all before writing any: inside the folder, and each one a place an output may go.
    paths = [(f, output_file(target(out_dir, f.name), archive)) for f in files]
    with FileLock(out_dir / LOCK_NAME).held():
        for file, path in paths:
            if write_if_changed(path, file.data):
                result.written.append(file.name)
            else:
                result.unchanged.append(file.name)
    return result


def build(archive: Archive, out_dir: Path, *, progress: Progress | None = None) -> BuildResult:
    """Validate, render, write. Raises BuildRefused (exit 1, nothing written) on errors."""
    issues, errors = published_issues(archive)
    if errors:
        raise BuildRefused(
            f"{len(errors)} validation error{'s' if len(errors) != 1 else ''} in published issues; nothing was written",
            errors,
            hint="fix them (`ecdigest validate`), then build again",
        )
    files = render_site(issues, archive, progress=progress)
    if not files:
        return BuildResult(out_dir, 0)
    return write_site(out_dir, files, len(issues), archive)
