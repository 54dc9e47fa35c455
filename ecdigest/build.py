"""`ecdigest build`: the whole publication, for cron: the website, the feeds, the email.

1. Under a lock in the output folder (`.ecdigest-build.lock`), read the manifest of the
   previous build (site/output.py) and the catalog's snapshot of the archive. When
   nothing changed since (same issue files, settings, templates, version) and every file
   is still as written, stop: a no-change build only stats files.
2. Validate what changed: errors in what would be published (the published issues whose
   files changed since the last build, all of them when the settings changed, and any
   file too broken to tell its status) stop the build before anything is written; drafts
   being edited do not block it.
3. Plan and render (site/builder.py): the web archive of every edition, the feeds, the
   search index, today's `ISSUE.md` pages and the latest issue's `email/ISSUE.{txt,eml}`;
   each file rendered only when the key of its inputs changed, written atomically and only
   when its bytes changed. Files the build no longer produces are removed; files changed
   by hand, or in the way and not written by ecdigest, are left alone and reported (exit 1;
   `--force` replaces them).

Issue ids become file names: they are checked against the id pattern and every target
path must resolve inside the output folder (a symlinked `email/` pointing elsewhere is
refused).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .archive import Archive
from .errors import Failure, UsageError, WriteError
from .model import is_valid_issue_id
from .site.manifest import LOCK_NAME  # the output folder's lock: one name, the manifest's
from .validate import Problem, validate_report

if TYPE_CHECKING:
    from .site.manifest import Manifest

# Validating every issue in a forked child from this many issues (a cold build's parent).
_APART_FROM = 48

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
    removed: list[str] = field(default_factory=list)
    # (file, what is wrong): files changed by hand or not written by ecdigest, left alone
    conflicts: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "out": str(self.out_dir),
            "issues": self.issues,
            "written": self.written,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "conflicts": [{"file": name, "problem": problem} for name, problem in self.conflicts],
        }

    def summary(self) -> str:
        """One line: what changed."""
        written = f"{len(self.written)} written"
        if self.written and len(self.written) <= 5:
            written += f" ({', '.join(self.written)})"
        removed = f", {len(self.removed)} removed" if self.removed else ""
        plural = "" if self.issues == 1 else "s"
        return f"{self.out_dir}: {written}, {len(self.unchanged)} unchanged{removed} ({self.issues} published issue{plural})"


class BuildRefused(Failure):
    """Validation found errors in what would be published: nothing was written (exit 1)."""

    def __init__(self, message: str, problems: list[Problem], *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems


class BuildConflicts(Failure):
    """The build finished but left files it may not overwrite or remove (exit 1)."""

    def __init__(self, result: BuildResult) -> None:
        count = len(result.conflicts)
        super().__init__(
            f"{count} file{'s' if count != 1 else ''} in {result.out_dir} left as they are (changed by hand, or not written by ecdigest)",
            hint="delete them or build again with --force to replace them",
        )
        self.result = result


# --------------------------------------------------------------------------- validating


def blocking_problems(archive: Archive, paths: list[Path] | None) -> list[Problem]:
    """Errors that stop a build: in the published issues of `paths` (all files when None),
    and in any file too broken to tell its status."""
    if paths is None:
        # keep=False: the issues only as far as their status (not 100 MB of bodies at 1,000)
        report = validate_report(archive, warnings=False, keep=False)
    else:
        from .archive import check_issue_id

        ids = []
        for path in paths:
            ids.append(check_issue_id(archive.read(path).issue.id))
        report = validate_report(archive, sorted(set(ids)), warnings=False)
    blocking: set[str] = set()
    for path, issue in report.issues:
        if issue is None or issue.is_published:  # unreadable: its status is unknown
            blocking.add(str(path))
    return [p for p in report.problems if p.path is None or p.path in blocking]


@dataclass
class _Child:
    """A forked child working on an answer (`_start_child`); `pid` 0: none was forked."""

    pid: int = 0
    reader: int = -1


def _start_child(work: Callable[[], list[Problem]]) -> _Child:
    """Fork a child doing `work()`, its answer sent back pickled; the parent goes on at
    once (`_child_answer` waits). A cold build validates every issue in one while it plans:
    in the build's own process, what validation left behind (freed, but not given back to
    the system: ~28 MB at 3,000 issues) was in the parent, and again in each worker it then
    forks."""
    import os
    import pickle

    if not hasattr(os, "fork"):  # pragma: no cover - POSIX has it
        return _Child()
    import sys

    for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
        if stream is not None:
            stream.flush()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child (coverage does not follow a fork)
        try:
            os.close(reader)
            try:
                data = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:
                data = b""
            with os.fdopen(writer, "wb") as out:
                out.write(data)
        finally:
            os._exit(0)
    os.close(writer)
    return _Child(pid, reader)


def _child_answer(child: _Child) -> list[Problem] | None:
    """What `child` sent back (waiting for it to end); None when it could not answer (no
    fork; the child failed, raised or died: the caller does the work itself, so any error
    is raised as it always is)."""
    import os
    import pickle

    if child.pid == 0:
        return None
    with os.fdopen(child.reader, "rb") as source:
        data = source.read()
    _, status = os.waitpid(child.pid, 0)
    if not data or status != 0:
        return None
    found: list[Problem] = pickle.loads(data)
    return found


def _refuse(problems: list[Problem], manifest: Manifest) -> None:
    """Raise BuildRefused for `problems` (none: return), closing `manifest`."""
    if problems:
        count = len(problems)
        manifest.close()
        raise BuildRefused(
            f"{count} validation error{'s' if count != 1 else ''} in published issues; nothing was written",
            problems,
            hint="fix them (`ecdigest validate`) and build again",
        )


def _validated(archive: Archive, child: _Child | None, manifest: Manifest) -> None:
    """Wait for the validating `child` (None: nothing to wait for) and refuse the build on
    what it found; validated here when it could not answer."""
    if child is None:
        return
    found = _child_answer(child)
    _refuse(found if found is not None else blocking_problems(archive, None), manifest)


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
    """Write each file atomically if its bytes changed, under the output folder's lock
    (files given by the caller; `build` itself writes through site/output.py)."""
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


# --------------------------------------------------------------------------- the build


def _state(base: str, corpus_digests: list[str]) -> str:
    import hashlib

    digest = hashlib.blake2b(base.encode(), digest_size=16)
    for item in corpus_digests:
        digest.update(item.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def build(
    archive: Archive,
    out_dir: Path,
    *,
    progress: Progress | None = None,
    force: bool = False,
    drafts: bool = False,
    validate: bool = True,
) -> BuildResult:
    """Validate what changed, then bring `out_dir` up to date (see the module's steps).

    Raises BuildRefused (exit 1, nothing written) on validation errors. `drafts`: a
    preview with the drafts (`serve`), never the published site. `validate=False`: build
    even with errors (the preview, which shows them instead).
    """
    import time

    from .fileio import FileLock
    from .outputs import output_folder
    from .site import corpus as site_corpus
    from .site.base import base_digest
    from .site.manifest import Manifest, issue_key, unchanged_since
    from .site.output import RACY_NS, Writer

    output_folder(out_dir, archive)  # a folder (or nothing yet), and not the archive's own
    summary = site_corpus.load(archive, drafts=drafts, articles=False)
    for info in summary.issues:
        if not is_valid_issue_id(info.id):
            raise UsageError(f"issue id {info.id!r} cannot be a file name", hint="run `ecdigest validate`")
    published = [i for i in summary.issues if not i.is_draft]
    base = base_digest(archive, drafts=drafts)
    state = _state(
        base, [f"{issue_key(archive.root, i.path)}\x1e{i.digest}\x1e{i.status}" for i in summary.issues]
    )
    result = BuildResult(out_dir, len(published))
    # Read without the lock first: a no-change build, or one refused by validation, must
    # not even create the output folder. Written files are decided under the lock.
    manifest = Manifest.load(out_dir)
    forced: set[str] = set()
    if state == manifest.state and manifest.usable and not summary.broken and not force:
        checked_ns = time.time_ns()
        stale, names = manifest.stale_files(out_dir, RACY_NS)
        pending = manifest.pending()
        if not stale and not pending:
            result.unchanged = names
            if manifest.racily_clean:  # read by their bytes this time: by their stat next time
                manifest.mark_checked(out_dir, checked_ns)
            manifest.close()
            return result
        # Nothing changed but a file did (changed or deleted by hand): plan its family again.
        forced = manifest.families_of(stale) | pending
    else:
        forced = manifest.pending()
    full = force or not manifest.usable or manifest.settings != base
    corpus = site_corpus.load(archive, drafts=drafts) if full else summary
    validating: _Child | None = None  # validation in a forked child, answering later
    if validate:
        recorded = manifest.issues()
        if (corpus.broken or full) and len(summary.issues) >= _APART_FROM:
            # Every issue validated in a child (`_start_child`) while this process plans:
            # planning writes nothing and shows no progress, and its answer is awaited
            # before the output folder is touched (a refused build writes nothing).
            validating = _start_child(lambda: blocking_problems(archive, None))
        elif corpus.broken or full:
            _refuse(blocking_problems(archive, None), manifest)
        else:
            changed = [
                i.path
                for i in published
                if (found := recorded.get(issue_key(archive.root, i.path))) is None
                or found.digest != i.digest
            ]
            _refuse(blocking_problems(archive, changed) if changed else [], manifest)
    try:
        if not corpus.issues and not manifest.existed:
            _validated(archive, validating, manifest)
            return result
        from .site.builder import Plan  # (not for a no-change build: ~10 ms of imports)

        # Plan and check every output before the first write, the lock file included.
        writer = Writer(out_dir, manifest, force=force)
        plan = Plan(
            archive, corpus, writer, drafts=drafts, base=base, progress=progress, full=full, forced=forced
        )
        plan.prepare()
    except Exception:
        _validated(archive, validating, manifest)  # validation's errors come first
        raise
    _validated(archive, validating, manifest)
    with FileLock(out_dir / LOCK_NAME).held():
        if not unchanged_since(manifest, out_dir):  # another build finished meanwhile
            manifest.close()
            manifest = Manifest.load(out_dir)
            full = force or not manifest.usable or manifest.settings != base
            forced = manifest.pending()
            corpus = site_corpus.load(archive, drafts=drafts) if full else summary
            writer = Writer(out_dir, manifest, force=force)
            plan = Plan(
                archive, corpus, writer, drafts=drafts, base=base, progress=progress, full=full, forced=forced
            )
            plan.prepare()
        plan.execute()
        writer.remove_stale(plan.produced, None if full else plan.families)
        plan.release()  # its per-file jobs, before the manifest's save (the cold build's peak)
        manifest.state = state if not writer.conflicts else ""
        manifest.settings = base
        written = set(writer.written)
        writer.save(full=full)
        result.written = writer.written
        result.removed = writer.removed
        # What was saved (a cold build's workers' records went from their spools to the
        # manifest: none of them is in memory here).
        saved = Manifest.load(out_dir)
        try:
            result.unchanged = [name for name in saved.iter_names() if name not in written]
        finally:
            saved.close()
        result.conflicts = [(c.path, c.message()) for c in writer.conflicts]
        return result
