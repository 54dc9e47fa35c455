"""The site build: plan what changed, family by family; render only that.

Every output belongs to a *family*, the group of outputs planned together (site/manifest.py
records each file's family): an edition's issue pages, an issue's share pages, the index
and year pages, one name's pages (a section, source or tag, with its pages per year), the
lists of names, the stats, the feeds, the search index, the assets. A family is planned
whole: each of its outputs gets a key (a digest of exactly what its bytes depend on, with
the settings, templates and ecdigest version in `Plan.base`), outputs whose key or file
changed are rendered, and its recorded files it no longer produces are removed.

Two ways to plan (`full`):

- Everything (a cold build, changed settings, templates or code, `--force`, a manifest of
  another version or a damaged one): every family, from the catalog's snapshot of every
  issue and article; every issue file is read once (in forked workers when there are many).
- From the manifest (an edit, a new issue, a removed one): the issues whose file changed
  are read first and their *facets* computed (what each shared page takes from them: their
  rows on each tag's page, their counts on the lists of names and on the stats page, their
  articles in each section's feed, their summaries on the feeds' archive pages). Planned:
  the families that every build plans because their keys are cheap to compute from the
  issue list (issue pages, with their neighbours' titles; index and years; feeds; Markdown;
  email; assets), the share pages of the changed issues, and the name pages, lists of names
  and stats whose facet changed between the issue's old version (in the manifest) and its
  new one. A name's page takes its rows from the catalog (one query for all the names
  touched); nothing else is read. A body edit touches no list.

Families left with a conflict are planned again by the next build; a build with nothing
changed stats every recorded file and plans the families of those that are not as written.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..export.common import one_line, paragraphs
from ..model import Issue, Newsletter
from . import feeds as site_feeds
from . import searchindex
from .base import STATIC_FILES, static_file
from .base import parts_key as _key
from .corpus import ArticleInfo, Corpus, IssueInfo, articles_of
from .manifest import issue_key
from .names import KINDS, issue_path, key, slug
from .render import (
    INDEX_ISSUES,
    NAME_PAGE_ARTICLES,
    Edition,
    Site,
    environment,
    make_editions,
    names_index_path,
    share_path,
    year_path,
)

if TYPE_CHECKING:
    from ..archive import Archive
    from .manifest import Manifest
    from .output import Writer

Progress = Callable[[int, int, str], None]
PendingTask = tuple[set[str], Callable[[dict[str, Issue]], None]]


def _short(*parts: object) -> str:
    return _key(*parts)[:12]


def family(*parts: str) -> str:
    return "|".join(parts)


def _ed(edition: Edition) -> str:
    return edition.name or "-"


# --------------------------------------------------------------------------- facets


def _values(article: ArticleInfo | Any, kind: str) -> Iterable[str]:
    if kind == "section":
        return (article.section,)
    if kind == "source":
        return (article.source,)
    tags: tuple[str, ...] = article.tags
    return dict.fromkeys(tags) if len(tags) > 1 else tags


def row_key(article: ArticleInfo | Any, issue_id: str, title: str, date: object) -> str:
    """What an article's line in a list shows."""
    return f"{article.id}\x1e{article.title}\x1e{article.section}\x1e{article.source}\x1e{article.date}\x1e{issue_id}\x1e{title}\x1e{date}"


def facet_name(kind: str, value: str) -> str:
    return f"r\x1f{kind}\x1f{value}"


def issue_facets(issue: Issue) -> tuple[dict[str, str], str]:
    """(facets, summary digest) of an issue: what each shared page takes from it."""
    rows: dict[str, list[str]] = {}
    counts: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
    stats: list[tuple[str, str]] = []
    sections: dict[str, list[str]] = {}
    summaries: list[object] = []
    head = (issue.id, issue.title, issue.date, issue.status)
    # Each article's repr once (its whole body: the section facets and the share digests
    # both hash it; ~4 % of a one-issue build at 1,000 issues made it twice).
    shown = [repr(article) for article in issue.articles]
    for article, text in zip(issue.articles, shown, strict=True):
        line = row_key(article, issue.id, issue.title, issue.date)
        for kind in KINDS:
            for value in _values(article, kind):
                rows.setdefault(facet_name(kind, value), []).append(line)
                counts[kind][value] += 1
        stats.append((article.section, article.source))
        sections.setdefault(article.section, []).append(text)
        first = paragraphs(article)[:1]
        summaries.append(
            (
                article.id,
                article.section,
                article.title,
                article.source,
                article.url,
                article.date,
                article.tags,
            )
        )
        summaries.append((article.compiled_by, first))
    facets = {name: _short(*lines) for name, lines in rows.items()}
    for kind in KINDS:
        facets[f"n\x1f{kind}"] = _short(*sorted(counts[kind].items()))
    facets["st"] = _short(issue.date, issue.status, *stats)
    # What the index and year pages show of it (render.issue_row), all articles' ids,
    # sections and titles: a body edit leaves it as it was.
    facets["ix"] = _short(*head, *(f"{a.id}\x1e{a.section}\x1e{a.title}" for a in issue.articles))
    # What each share page shows (render.share_page: the issue's id and date, the first
    # article of each id): 12 characters an article, so a body edit renders one card.
    firsts: dict[str, str] = {}
    for article, text in zip(issue.articles, shown, strict=True):
        firsts.setdefault(article.id, text)
    facets["sh"] = "".join(share_digest(issue, text) for text in firsts.values())
    for section, articles in sections.items():
        facets[f"s\x1f{section}"] = _short(*head, *articles)
    return facets, _short(*head, *summaries)


def share_digest(issue: Issue, article_repr: str) -> str:
    """What an article's share page shows (the issue's id and date, the article: its repr),
    as 12 hex characters (issue_facets' "sh": these of the first article of each id, in the
    order of the issue)."""
    return _short(issue.id, issue.date, article_repr)


def share_digests(facets: dict[str, str], issue: Issue) -> dict[str, str]:
    """Article id -> share_digest of the first article of that id, from the issue's "sh"
    facet (as issue_facets made it for `issue`) instead of hashing each article again."""
    cards = facets["sh"]
    ids = dict.fromkeys(article.id for article in issue.articles)
    return {article_id: cards[n * 12 : n * 12 + 12] for n, article_id in enumerate(ids)}


def packed_facets(issue: Issue) -> tuple[str, str]:
    """(facets as the manifest records them: JSON with the summary under "sum", summary
    digest): a build keeps every issue's facets it computes until the manifest's save, and
    as dicts they held ~35 KB an issue (~100 MB at 3,000 issues, in the workers and again
    in the parent); as this text, ~6 KB."""
    facets, summary = issue_facets(issue)
    return json.dumps({**facets, "sum": summary}, ensure_ascii=False, sort_keys=True), summary


# --------------------------------------------------------------------------- the plan


@dataclass(slots=True)
class Job:
    name: str  # output path
    key: str | None  # None: keyed when rendered (a full plan's feeds, from what it reads)
    family: str
    render: Callable[[], bytes] | None = None  # None: rendered by the issue pass
    sitemap: str | None = None  # lastmod (ISO date) or "" when the page belongs in the sitemap


@dataclass(slots=True)
class IssueWork:
    """What the issue pass does with one issue."""

    info: IssueInfo
    tasks: list[Callable[[Issue], None]] = field(default_factory=list)


class Plan:
    def __init__(
        self,
        archive: Archive,
        corpus: Corpus,
        writer: Writer,
        *,
        drafts: bool,
        base: str,
        progress: Progress | None,
        full: bool = True,
        forced: Iterable[str] = (),
    ) -> None:
        self.archive = archive
        self.settings: Newsletter = archive.settings
        self.corpus = corpus
        self.writer = writer
        self.manifest: Manifest = writer.manifest
        self.drafts = drafts
        self.base = base
        self.progress = progress
        self.full = full
        self.forced = set(forced)
        self.env = environment(archive.root)
        self.editions = make_editions(self.settings, self.settings.editions)
        self.sites = [Site(self.env, e, self.editions) for e in self.editions]
        self.issues = corpus.issues
        self.published = [i for i in self.issues if not i.is_draft]
        self.jobs: list[Job] = []
        self.jobs_by_name: dict[str, Job] = {}
        self.carried: dict[str, str] = {}  # issue file -> facets as recorded, for a full plan
        self.families: set[str] = set()  # families planned
        self.fresh: set[str] = set()  # outputs already as they should be
        self.work: dict[str, IssueWork] = {}
        self.pending: list[PendingTask] = []
        self.produced: set[str] = set()
        self.done = 0
        self.total = 0
        self.unplanned = 0  # outputs to write that have no job (share pages)
        self.final_tasks: list[Callable[[], None]] = []
        self.building: list[tuple[searchindex.SegmentBuilder, list[IssueInfo]]] = []
        self.parts: list[searchindex.SegmentPart] = []  # the segments' parts this process fills
        self.in_worker = False
        self._converted: dict[tuple[str, str], Issue] = {}
        self.parsed: dict[str, Issue] = {}  # issues read before planning (a plan from the manifest)
        self.new_facets: dict[str, tuple[str, str]] = {}  # issue id -> facets read now (packed_facets)
        self.recorded_facets: dict[str, tuple[dict[str, str], str]] = {}
        self.changed: list[IssueInfo] = []
        self.removed: dict[str, Any] = {}  # issue file -> IssueRecord (as last built)
        self.touched_names: dict[str, set[str]] = {kind: set() for kind in KINDS}
        self.touched_counts: set[str] = set()
        self.touched_stats = False
        # Changed issues whose rows on the index and year pages are as recorded (their "ix"
        # facet): issue id -> IssueRecord as last built.
        self.list_stable: dict[str, Any] = {}
        # Changed issues: (digest as last built, the share digests it had then).
        self.share_stable: dict[str, tuple[str, set[str]]] = {}
        self._pages: dict[tuple[str, str, str], tuple[str, str] | None] = {}

    # ------------------------------------------------------------------ helpers

    def add(
        self,
        name: str,
        key: str | None,
        render: Callable[[], bytes] | None = None,
        *,
        family: str,
        sitemap: str | None = None,
        same_as: str | None = None,
    ) -> bool:
        """Plan `name`; True when it must be rendered (its key or its file changed).
        `same_as`: an older key under which the output has the same bytes (what it shows of
        every input is as it was): a file still as written under it takes the new key
        without being rendered."""
        if name in self.produced:
            self.writer.repeated.add(name)
        self.produced.add(name)
        self.families.add(family)
        full_key = _key(self.base, key) if key is not None else None
        job = Job(name, full_key, family, render, sitemap)
        self.jobs.append(job)
        self.jobs_by_name[name] = job
        if full_key is not None and self.writer.fresh(name, full_key):
            self.writer.keep(name)
            self.fresh.add(name)
            return False
        if full_key is not None and same_as is not None and self.writer.fresh(name, _key(self.base, same_as)):
            self.rekey(name, full_key)
            return False
        return True

    def rekey(self, name: str, full_key: str) -> None:
        """`name`, still as written, has the bytes `full_key` would render: kept, under it."""
        record = self.manifest.files.get(name)
        assert record is not None  # fresh: recorded
        self.manifest.files[name] = replace(record, key=full_key)
        self.writer.keep(name)
        self.fresh.add(name)

    def put(self, name: str, data: bytes, key: Callable[[], str] | None = None) -> None:
        """Write a planned output (`key`: makes its key, for one keyed as it is rendered)."""
        job = self.jobs_by_name[name]
        full_key = job.key
        if full_key is None:
            assert key is not None, f"{name} has no key"
            full_key = _key(self.base, key())
        self.writer.put(name, full_key, data, family=job.family, sitemap=job.sitemap)
        self.step(name)

    def record_key(self, path: Path) -> str:
        """An issue file's name in the manifest (manifest.issue_key)."""
        return issue_key(self.archive.root, path)

    def step(self, label: str) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, max(self.total, self.done), label)

    def on_issue(self, info: IssueInfo, task: Callable[[Issue], None]) -> None:
        self.work.setdefault(info.id, IssueWork(info)).tasks.append(task)

    def after_issues(self, infos: Iterable[IssueInfo], task: Callable[[dict[str, Issue]], None]) -> None:
        """Run `task` once all of `infos` have been read (they are kept until then)."""
        ids = {i.id for i in infos}
        for info in infos:
            self.work.setdefault(info.id, IssueWork(info))
        self.pending.append((ids, task))

    def planned(self, name: str) -> bool:
        """A family planned by every plan, or this one's (full, or forced)."""
        return self.full or name in self.forced

    # ------------------------------------------------------------------ the plan

    def run(self) -> None:
        self.prepare()
        self.execute()

    def prepare(self) -> None:
        """Plan every output and check every place it goes; nothing is written yet (the
        build does this before it even creates the output folder's lock file)."""
        if not self.full:
            self.compare()
        else:
            self.manifest.files.load_all()
            self.carry_facets()
        for edition, site in zip(self.editions, self.sites, strict=True):
            self.plan_issues(edition, site)
            self.plan_lists(edition, site)
            self.plan_feeds(edition)
            self.plan_search(edition, site)
            self.plan_static(edition, site)
        self.plan_legacy()
        self.families.add("site")
        self.total = self.done + self.unplanned + sum(1 for j in self.jobs if j.name not in self.fresh)
        self.check_folders()
        self.writer.check(self.produced - self.fresh)

    def execute(self) -> None:
        """Render and write what `prepare` found stale (under the output folder's lock)."""
        import gc

        # While the issues are read (by forked workers in a cold build), what exists now is
        # out of the garbage collector's sight: a collection writes into every object it
        # visits, which copies the parent's whole heap (the plan and the corpus, ~100 MB at
        # 1,000 issues) into each worker that runs one.
        gc.freeze()
        try:
            early = self.read_issues(meanwhile=self.render_jobs)
        finally:
            gc.unfreeze()
        self.jobs = [job for job in self.jobs if job.render is not None]
        for task in self.final_tasks:
            task()
        if early is not None:  # rendered while the workers read the issues: recorded in order
            written, unchanged, conflicts = early
            self.writer.written += written
            self.writer.unchanged += unchanged
            self.writer.conflicts += conflicts
        self.render_jobs()
        self.plan_sitemap()
        self.record_issues()

    def render_jobs(self) -> None:
        """Render the planned outputs that need no issue read (the lists, the name pages,
        the stats, the assets): each once."""
        for job in self.jobs:
            render, job.render = job.render, None
            if render is not None and job.name not in self.fresh:
                self.put(job.name, render())

    def release(self) -> None:
        """Drop what the plan holds per output file (its jobs, the issues' tasks), once every
        file is written and the stale ones removed: the manifest's save comes next."""
        self.jobs, self.jobs_by_name, self.work, self.fresh = [], {}, {}, set()
        self.produced, self.parsed, self._pages = set(), {}, {}

    def check_folders(self) -> None:
        """Every folder the build writes into must resolve inside the output folder: checked
        before the first write (a link out of it is refused; one inside is written through)."""
        import posixpath

        from ..build import target

        for folder in sorted({posixpath.dirname(name) for name in self.produced} - {""}):
            target(self.writer.out, folder)

    # ------------------------------------------------------------------ what changed

    def compare(self) -> None:
        """A plan from the manifest: which issues changed since the last build, read them,
        and what their facets touch."""
        old = self.manifest.issues()
        current = {self.record_key(info.path): info for info in self.issues}
        for path, info in current.items():
            recorded = old.get(path)
            if recorded is None or (recorded.id, recorded.digest, recorded.status) != (
                info.id,
                info.digest,
                info.status,
            ):
                self.changed.append(info)
        self.removed = {path: old[path] for path in old if path not in current}
        for info in self.changed:
            issue = self.read(info)
            self.parsed[info.id] = issue
            self.new_facets[info.id] = packed_facets(issue)
        befores = [
            (self.manifest.facets(self.record_key(i.path)), self.facets_of(i)[0]) for i in self.changed
        ]
        for info, (before, after) in zip(self.changed, befores, strict=True):
            recorded = old.get(self.record_key(info.path))
            if recorded is not None and before.get("ix") is not None and before.get("ix") == after.get("ix"):
                self.list_stable[info.id] = recorded
            cards = before.get("sh")
            if recorded is not None and cards:
                self.share_stable[info.id] = (
                    recorded.digest,
                    {cards[i : i + 12] for i in range(0, len(cards), 12)},
                )
        befores += [(self.manifest.facets(path), {}) for path in self.removed]
        for before, after in befores:
            for name in before.keys() | after.keys():
                if before.get(name) == after.get(name):
                    continue
                kind, _, value = name.partition("\x1f")
                if kind == "r":
                    which, _, value = value.partition("\x1f")
                    self.touched_names[which].add(value)
                elif kind == "n":
                    self.touched_counts.add(value)
                elif kind == "st":
                    self.touched_stats = True

    def carry_facets(self) -> None:
        """A full plan records every issue's facets: those of an unchanged issue are taken
        from the manifest; any other issue is read even if none of its pages is stale."""
        old = self.manifest.issues() if self.manifest.usable else {}
        for info in self.issues:
            recorded = old.get(self.record_key(info.path))
            if recorded is not None and (recorded.id, recorded.digest, recorded.status) == (
                info.id,
                info.digest,
                info.status,
            ):
                self.carried[self.record_key(info.path)] = ""
            else:
                self.work.setdefault(info.id, IssueWork(info))

    def facets_of(self, info: IssueInfo) -> tuple[dict[str, str], str]:
        """An issue's facets: read in this build, else as recorded."""
        packed = self.new_facets.get(info.id)
        if packed is not None:
            return json.loads(packed[0]), packed[1]
        found = self.recorded_facets.get(info.id)
        if found is not None:
            return found
        facets = self.manifest.facets(self.record_key(info.path))
        found = self.recorded_facets[info.id] = (facets, facets.get("sum", ""))
        return found

    def record_issues(self) -> None:
        """The issues as built, with their facets, for the next plan."""
        from .manifest import IssueRecord

        for path in self.removed:
            self.manifest.set_issue(path, None)
        for info in self.issues:
            packed = self.new_facets.get(info.id)
            if packed is None:
                if self.record_key(info.path) in self.carried:
                    facets, summary = self.facets_of(info)
                    summary = facets.pop("sum", summary)
                    packed = (
                        json.dumps({**facets, "sum": summary}, ensure_ascii=False, sort_keys=True),
                        summary,
                    )
                else:
                    continue  # as recorded (a plan from the manifest: unchanged)
            record = IssueRecord(info.id, info.digest, info.status, *packed)
            self.manifest.set_issue(self.record_key(info.path), record)

    # ------------------------------------------------------------------ reading issues

    def read_issues(
        self, meanwhile: Callable[[], None] | None = None
    ) -> tuple[list[str], list[str], list[Any]] | None:
        """Read each issue some stale output needs, once, oldest first, and run its tasks:
        in worker processes when there are many (a cold build), else here.

        With workers, the parent runs `meanwhile` while they work (it would otherwise wait
        idle, then render the lists alone: ~7 s of a cold build at 1,000 issues) and returns
        what it wrote, kept apart (written, unchanged, conflicts) so that the caller records
        it in the order of a build without workers; None when `meanwhile` did not run."""
        order = [i for i in self.issues if i.id in self.work]
        workers = _worker_count(len(order))
        if workers <= 1:
            self.parts = [builder.part(0) for builder, _ in self.building]
            self._read(order, self.pending)
            self.pending = []
            self._finish_parts([[part.close() for part in self.parts]])
            return None
        chunks = self._chunks(order, workers)
        local: list[list[PendingTask]] = [[] for _ in chunks]
        rest = []
        for ids, job in self.pending:
            where = [n for n, chunk in enumerate(chunks) if ids <= {i.id for i in chunk}]
            if where:
                local[where[0]].append((ids, job))
            else:
                rest.append((ids, job))
        import multiprocessing

        # The parts of each segment, one per worker, numbered from the documents before it.
        chunk_parts: list[list[searchindex.SegmentPart]] = []
        for chunk in chunks:
            ids = {info.id for info in chunk}
            parts = []
            for builder, infos in self.building:
                before = next((n for n, i in enumerate(infos) if i.id in ids), len(infos))
                parts.append(builder.part(sum(i.count for i in infos[:before])))
            chunk_parts.append(parts)
        from .manifest import Spool

        context = multiprocessing.get_context("fork")
        self.writer.unsynced = True  # the workers write in bulk: the save syncs them
        pipes = []
        spools = [Spool() for _ in chunks]  # each worker's records (the parent's save reads them)
        for chunk, jobs, parts, spool in zip(chunks, local, chunk_parts, spools, strict=True):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(
                target=self._worker, args=(sender, chunk, jobs, parts, spool), daemon=True
            )
            process.start()
            sender.close()
            pipes.append((process, receiver))
        early = None
        if meanwhile is not None:
            writer = self.writer
            kept = writer.written, writer.unchanged, writer.conflicts, writer.bulk
            writer.written, writer.unchanged, writer.conflicts = [], [], []
            writer.bulk = True  # a cold build's many files: one sync at the save
            try:
                meanwhile()
            except BaseException:
                for process, _ in pipes:
                    process.kill()
                    process.join()
                raise
            finally:
                early = writer.written, writer.unchanged, writer.conflicts
                writer.written, writer.unchanged, writer.conflicts, writer.bulk = kept
        failure: BaseException | None = None
        results = []
        reported = []  # the spools of the workers that finished (done, or stale)
        for (process, receiver), spool in zip(pipes, spools, strict=True):
            # in order: segment parts must be merged in order
            try:
                kind, payload = receiver.recv()
                if kind == "error" and isinstance(payload, _Stale):
                    self.manifest.files.update(receiver.recv()[1])
                    reported.append(spool)
            except EOFError:
                kind, payload = "error", RuntimeError("a build worker died")
            process.join()  # after every message: a child blocked on a full pipe never exits
            if kind == "error":
                failure = failure or payload
                continue
            results.append(payload)
            reported.append(spool)
        if isinstance(failure, _Stale):
            # An issue file changed between the catalog's answer and its reading (an editor
            # saving during a cold build): read the issues again here, numbering as we go.
            # The files the workers wrote are recorded as theirs, so none is a stranger.
            for spool in reported:
                self.manifest.files.update(spool.records())
            for spool in spools:
                spool.close()
            for builder, _ in self.building:
                builder.discard()
            self.parts = [builder.part(0) for builder, _ in self.building]
            self._read(order, self.pending)
            self.pending = []
            self._finish_parts([[part.close() for part in self.parts]])
            return early
        if failure is not None:
            for spool in spools:
                spool.close()
            raise failure
        self.manifest.files.spools += spools
        summaries = []
        for payload, spool in zip(results, spools, strict=True):
            summaries.append(self._absorb(payload, spool))
        self._finish_parts(summaries)
        self.pending = []
        if rest:  # feeds whose issues span the workers' stretches: read those issues here
            needed = set().union(*(ids for ids, _ in rest))
            self._read([i for i in self.issues if i.id in needed], rest, run_tasks=False)
        return early

    def _finish_parts(self, per_process: list[list[searchindex.PartSummary]]) -> None:
        """Each segment's part summaries, in document order."""
        for index, (builder, _) in enumerate(self.building):
            builder.summaries = [parts[index] for parts in per_process]

    def _chunks(self, order: list[IssueInfo], count: int) -> list[list[IssueInfo]]:
        """`order` cut into `count` stretches, each cut moved forward past feed pages
        (10 consecutive issues) so that most feeds are written by one worker."""
        spans = [ids for ids, _ in self.pending if len(ids) <= 64]
        position = {info.id: n for n, info in enumerate(order)}
        cuts = []
        for part in range(1, count):
            cut = len(order) * part // count
            for _ in range(64):
                crossing = [
                    ids
                    for ids in spans
                    if min(position.get(i, -1) for i in ids) < cut <= max(position.get(i, -1) for i in ids)
                ]
                if not crossing:
                    break
                cut += 1
            cuts.append(min(cut, len(order)))
        bounds = [0, *cuts, len(order)]
        return [order[a:b] for a, b in itertools.pairwise(bounds) if a < b]

    def _worker(
        self,
        sender: Any,
        chunk: list[IssueInfo],
        jobs: list[PendingTask],
        parts: list[searchindex.SegmentPart],
        spool: Any,
    ) -> None:
        """In a forked process: do the chunk's tasks, send back what the parent must know
        (the files' records go to `spool`)."""
        try:
            self.in_worker = True
            self.parts = parts
            writer = self.writer
            writer.records = {}
            writer.spool = spool
            # No fsync per file: the parent syncs the file system once before its manifest
            # records them (it owes one: see read_issues). Each worker fsynced its first
            # FSYNC_FILES files (~3 ms each under load), which that sync covers anyway.
            writer.bulk = True
            self.new_facets = {}
            self.progress = None  # the parent's progress bar is the parent's to draw
            marks = (len(writer.written), len(writer.conflicts), self.done)
            self._read(chunk, jobs)
            summaries = [part.close() for part in parts]
            spool.flush()
            sender.send(
                (
                    "done",
                    (
                        writer.written[marks[0] :],
                        writer.conflicts[marks[1] :],
                        self.done - marks[2],
                        summaries,
                        self.new_facets,
                        writer.pending,
                    ),
                )
            )
        except _Stale as exc:  # the parent does the stretch again; what was written is ours
            spool.flush()
            sender.send(("error", exc))
            sender.send(("records", self.writer.records))
        except BaseException as exc:  # sent to the parent, which raises it
            sender.send(("error", exc))
        finally:
            sender.close()

    def _absorb(self, payload: Any, spool: Any) -> list[searchindex.PartSummary]:
        written, conflicts, done, summaries, facets, pending = payload
        written += spool.written()
        writer = self.writer
        # A worker's files are done (their records are in its spool): the jobs of those it
        # wrote go, and their names are the plan's own strings, not the unpickled copies.
        jobs = self.jobs_by_name
        writer.written.extend(job.name if (job := jobs.pop(n, None)) is not None else n for n in written)
        writer.conflicts.extend(conflicts)
        writer.pending |= pending
        self.new_facets.update(facets)
        self.done += done
        if self.progress is not None:
            self.progress(self.done, max(self.total, self.done), "")
        result: list[searchindex.PartSummary] = summaries
        return result

    def _read(self, order: list[IssueInfo], pending: list[PendingTask], *, run_tasks: bool = True) -> None:
        kept: dict[str, Issue] = {}
        needed_by: Counter[str] = Counter()
        for ids, _ in pending:
            needed_by.update(ids)
        pending = list(pending)
        for info in order:
            issue = self.read(info)
            self._converted.clear()
            if self.full and info.id not in self.new_facets:
                self.new_facets[info.id] = packed_facets(issue)
            if run_tasks:
                for task in self.work[info.id].tasks:
                    task(issue)
            if needed_by[info.id]:
                kept[info.id] = issue
            ready = [(ids, job) for ids, job in pending if ids <= kept.keys()]
            for ids, job in ready:
                job(kept)
                pending.remove((ids, job))
                for done_id in ids:
                    needed_by[done_id] -= 1
                    if not needed_by[done_id]:
                        kept.pop(done_id, None)

    def read(self, info: IssueInfo) -> Issue:
        found = self.parsed.get(info.id)
        if found is not None:
            return found
        return self.archive.read(info.path).issue

    def convert(self, issue: Issue, edition: Edition) -> Issue:
        """The issue as the edition prints it (converted once per issue read)."""
        if not edition.name:
            return issue
        from ..editions import convert_issue

        found = self._converted.get((issue.id, edition.name))
        if found is None:
            found = self._converted[(issue.id, edition.name)] = convert_issue(issue, edition.convert)
        return found

    # ------------------------------------------------------------------ issue pages, shares

    def plan_issues(self, edition: Edition, site: Site) -> None:
        root = edition.root
        pages = family("page", _ed(edition))
        self.manifest.files.in_families([pages])
        self.families.add(pages)  # planned even when no issue is left: their pages go
        for number, info in enumerate(self.issues):
            previous = self.issues[number - 1] if number else None
            following = self.issues[number + 1] if number + 1 < len(self.issues) else None
            name = root + issue_path(edition.settings, info.id)
            neighbours = [(n.id, n.title, n.date) if n else None for n in (previous, following)]
            if self.add(
                name,
                _key("issue", edition.name, info.digest, info.status, *neighbours),
                family=pages,
                sitemap=info.date.isoformat() if info.date else "",
            ):

                def page(
                    issue: Issue,
                    name: str = name,
                    previous: IssueInfo | None = previous,
                    following: IssueInfo | None = following,
                    site: Site = site,
                    info: IssueInfo = info,
                ) -> None:
                    converted = self.convert(issue, site.edition)
                    site.draft = info.is_draft
                    try:
                        self.put(name, site.issue_page(converted, previous, following))
                    finally:
                        site.draft = False

                self.on_issue(info, page)
        if self.full:
            for info in self.issues:
                self.plan_shares(edition, site, info, info.articles, trust=False)
            return
        for info in self.changed:
            self.plan_shares(edition, site, info, self.parsed[info.id].articles)
        for record in self.removed.values():
            self.plan_shares(edition, site, None, (), issue_id=record.id)
        changed = {i.id for i in self.changed}
        for name in sorted(self.forced):
            kind, _, rest = name.partition("|")
            ed, _, issue_id = rest.partition("|")
            if kind == "shares" and ed == _ed(edition) and issue_id not in changed:
                found = next((i for i in self.issues if i.id == issue_id), None)
                loaded = articles_of(self.archive, [found]) if found is not None else []
                self.plan_shares(
                    edition, site, found, loaded[0].articles if loaded else (), issue_id=issue_id, trust=False
                )

    def plan_shares(
        self,
        edition: Edition,
        site: Site,
        info: IssueInfo | None,
        articles: Iterable[ArticleInfo | Any],
        *,
        issue_id: str = "",
        trust: bool = True,
    ) -> None:
        """An issue's share pages (come from the issue file alone: while its digest is what
        it was, the family is taken as written without a stat per page)."""
        root = edition.root
        shares = family("shares", _ed(edition), info.id if info is not None else issue_id)
        self.families.add(shares)
        if info is None:
            self.manifest.set_family_key(shares, None)
            return
        articles = list(articles)
        shares_key = _key(self.base, "shares", edition.name, info.digest, *(a.id for a in articles))
        if trust and self.manifest.family_key(shares) == shares_key and shares not in self.forced:
            for name in self.manifest.files.in_families([shares]):
                self.produced.add(name)
                self.writer.keep(name)
                self.fresh.add(name)
            return
        self.manifest.set_family_key(shares, shares_key)
        # No job per share page (55 an issue: most of a cold build's files), one task per
        # issue: each job and its closure held ~400 bytes in the parent, and in the forked
        # workers, until the end of the build (~65 MB at 3,000 issues).
        stale = []
        # A changed issue's cards that show what they showed (share_digest): kept, rekeyed.
        before = self.share_stable.get(info.id) if trust else None
        issue = self.parsed.get(info.id) if before is not None else None
        digests = share_digests(self.facets_of(info)[0], issue) if issue is not None else {}
        for article in articles:
            share = root + share_path(article.id)
            if share in self.produced:
                self.writer.repeated.add(share)
            self.produced.add(share)
            full_key = _key(self.base, self._share_key(edition, info.digest, article.id))
            if self.writer.fresh(share, full_key):
                self.writer.keep(share)
                self.fresh.add(share)
            elif (
                before is not None
                and issue is not None
                and digests[article.id] in before[1]
                and self.writer.fresh(share, _key(self.base, self._share_key(edition, before[0], article.id)))
            ):
                self.rekey(share, full_key)
            else:
                stale.append(article.id)
        if stale:
            self.unplanned += len(stale)
            self.on_issue(info, partial(self.put_shares, site, shares, info.digest, tuple(stale)))

    @staticmethod
    def _share_key(edition: Edition, digest: str, article_id: str) -> str:
        return _key("share", edition.name, digest, article_id)

    def put_shares(
        self, site: Site, shares: str, digest: str, article_ids: tuple[str, ...], issue: Issue
    ) -> None:
        """Write the issue's stale share pages (`article_ids`, in the order planned)."""
        converted = self.convert(issue, site.edition)
        articles: dict[str, Any] = {}
        for article in converted.articles:
            articles.setdefault(article.id, article)  # the first of an id, as it is found
        root = site.edition.root
        for article_id in article_ids:
            found = articles.get(article_id)
            if found is None:
                continue
            share = root + share_path(article_id)
            full_key = _key(self.base, self._share_key(site.edition, digest, article_id))
            self.writer.put(share, full_key, site.share_page(converted, found), family=shares)
            self.step(share)

    # ------------------------------------------------------------------ index, years, names, stats

    def plan_lists(self, edition: Edition, site: Site) -> None:
        root = edition.root
        lists = family("lists", _ed(edition))
        self.manifest.files.in_families([lists])
        issues = self.issues
        years = Counter(i.year or 0 for i in issues)
        year_list = sorted(((y, n) for y, n in years.items() if y), reverse=True)
        newest = issues[-INDEX_ISSUES:]

        def row(info: IssueInfo) -> str:
            return f"{info.id}\x1e{info.digest}\x1e{info.status}"

        stable = self.list_stable

        def as_before(head: tuple[object, ...], shown: list[IssueInfo]) -> str | None:
            """The page's key as last built when every changed issue it shows is one whose
            row is as recorded (a body edit): its bytes are the same (None: not so)."""
            if not any(i.id in stable for i in shown):
                return None
            rows = (
                row(i) if (old := stable.get(i.id)) is None else f"{i.id}\x1e{old.digest}\x1e{old.status}"
                for i in shown
            )
            return _key(*head, *rows, year_list)

        def index_page() -> bytes:
            return site.index_page("index.html", articles_of(self.archive, newest), year_list, year=None)

        head: tuple[object, ...] = ("index", edition.name)
        self.add(
            root + "index.html",
            _key(*head, *map(row, newest), year_list),
            index_page,
            family=lists,
            sitemap="",
            same_as=as_before(head, newest),
        )
        for year, _ in year_list:
            chosen = [i for i in issues if i.year == year]

            def year_page(year: int = year, chosen: list[IssueInfo] = chosen) -> bytes:
                return site.index_page(
                    year_path(year), articles_of(self.archive, chosen), year_list, year=year
                )

            head = ("year", edition.name, year)
            self.add(
                root + year_path(year),
                _key(*head, *map(row, chosen), year_list),
                year_page,
                family=lists,
                sitemap="",
                same_as=as_before(head, chosen),
            )
        for kind in KINDS:
            self.plan_names(edition, site, kind)
        self.plan_stats(edition, site)

    def page_of(self, edition: Edition, kind: str, value: str) -> tuple[str, str] | None:
        """(the name as shown, its page's slug) of a section, source or tag as stored."""
        memo = (edition.name, kind, value)
        if memo not in self._pages:
            shown = edition.convert(one_line(value))
            self._pages[memo] = (shown, slug(shown)) if key(shown) else None
        return self._pages[memo]

    def plan_names(self, edition: Edition, site: Site, kind: str) -> None:
        """The list of a kind's names (sections.html…) and each name's pages: all of them
        (a full plan, from every article), or those whose facet changed."""
        ed = _ed(edition)
        listing_family = family("names", ed, kind)
        if self.full or kind in self.touched_counts or listing_family in self.forced:
            self.plan_listing(edition, site, kind)
        if self.full:
            groups = self._group(edition, kind, self.issues, None)
        else:
            pages = {
                found[1]
                for value in self.touched_names[kind]
                if (found := self.page_of(edition, kind, value)) is not None
            }
            prefix = family("name", ed, kind) + "|"
            pages |= {name[len(prefix) :] for name in self.forced if name.startswith(prefix)}
            if not pages:
                return
            values = [
                value
                for value in _all_values(self.archive, kind)
                if (found := self.page_of(edition, kind, value)) is not None and found[1] in pages
            ]
            by_path = _with_value(self.archive, kind, values)
            infos = [
                IssueInfo(
                    i.id, i.title, i.date, i.status, i.path, i.digest, by_path[i.path], i.sections, i.count
                )
                for i in self.issues
                if i.path in by_path
            ]
            groups = self._group(edition, kind, infos, pages)
            for page in pages - groups.keys():
                self.families.add(family("name", ed, kind, page))  # no article left: removed
        for page, rows in groups.items():
            self.plan_name_page(edition, site, kind, page, rows)

    def _group(
        self, edition: Edition, kind: str, infos: Iterable[IssueInfo], pages: set[str] | None
    ) -> dict[str, list[tuple[ArticleInfo, IssueInfo, str]]]:
        """Each page's rows (article, issue, value), oldest first."""
        groups: dict[str, list[tuple[ArticleInfo, IssueInfo, str]]] = {}
        for info in infos:
            for article in info.articles:
                for value in _values(article, kind):
                    found = self.page_of(edition, kind, value)
                    if found is None or (pages is not None and found[1] not in pages):
                        continue
                    groups.setdefault(found[1], []).append((article, info, value))
        return groups

    def plan_listing(self, edition: Edition, site: Site, kind: str) -> None:
        counts: Counter[str] = Counter()
        if self.full:
            for info in self.issues:
                for article in info.articles:
                    for value in _values(article, kind):
                        counts[value] += 1
        else:
            counts.update(_value_counts(self.archive, kind, drafts=self.drafts))
        spelled: dict[str, Counter[str]] = {}
        for value, count in counts.items():
            found = self.page_of(edition, kind, value)
            if found is not None:
                spelled.setdefault(found[1], Counter())[found[0]] += count
        listing = [
            (sorted(c.items(), key=lambda item: (-item[1], item[0]))[0][0], sum(c.values()), page)
            for page, c in spelled.items()
        ]
        listing.sort(
            key=lambda item: (
                (-item[1], key(item[0]))
                if kind != "section"
                else (self._section_rank(item[0], edition), item[0])
            )
        )
        names = [(display, count) for display, count, _ in listing]
        self.add(
            edition.root + names_index_path(kind),
            _key("names", edition.name, kind, names),
            partial(site.names_page, kind, names),
            family=family("names", _ed(edition), kind),
            sitemap="",
        )

    def plan_name_page(
        self,
        edition: Edition,
        site: Site,
        kind: str,
        page: str,
        rows: list[tuple[ArticleInfo, IssueInfo, str]],
    ) -> None:
        """A name's page (its newest articles) and, past NAME_PAGE_ARTICLES, its pages per year."""
        root = edition.root
        name_family = family("name", _ed(edition), kind, page)
        self.manifest.files.in_families([name_family])
        spelled: Counter[str] = Counter()
        originals: set[str] = set()
        for _, _, value in rows:
            found = self.page_of(edition, kind, value)
            assert found is not None
            spelled[found[0]] += 1
            originals.add(value)
        spellings = sorted(spelled.items(), key=lambda item: (-item[1], item[0]))
        display = spellings[0][0]
        variants = [s for s, _ in spellings[1:]]
        total = len(rows)
        newest = [(a, i) for a, i, _ in reversed(rows)]  # newest first
        keys = [row_key(a, i.id, i.title, i.date) for a, i in newest]
        original = sorted(one_line(o) for o in originals)[:1] or [display]

        def counterpart(other: Edition, suffix: str = "", original: str = original[0]) -> str:
            return f"{kind}/{slug(other.convert(original))}{suffix}"

        per_year: dict[int, Pairs] = {}
        for article, info in newest:
            of_year = per_year.get(info.year or 0)
            if of_year is None:
                of_year = per_year[info.year or 0] = Pairs()
            of_year.append(article, info)
        split = total > NAME_PAGE_ARTICLES
        year_list = sorted(((y, len(r)) for y, r in per_year.items()), reverse=True) if split else []
        path = f"{kind}/{page}.html"
        self.add(
            root + path,
            _key("name", edition.name, kind, display, variants, year_list, *keys[:NAME_PAGE_ARTICLES], total),
            partial(
                site.name_page,
                kind,
                display,
                path,
                Pairs(newest[:NAME_PAGE_ARTICLES]),
                total=total,
                years=year_list,
                variants=variants,
                year=None,
                counterpart=partial(counterpart, suffix=".html"),
            ),
            family=name_family,
            sitemap="",
        )
        for year, count in year_list:
            year_rows = per_year[year]
            year_page = f"{kind}/{page}/{year}.html"
            self.add(
                root + year_page,
                _key(
                    "name-year",
                    edition.name,
                    kind,
                    display,
                    year,
                    year_list,
                    *(row_key(a, i.id, i.title, i.date) for a, i in year_rows),
                ),
                partial(
                    site.name_page,
                    kind,
                    display,
                    year_page,
                    year_rows,
                    total=count,
                    years=year_list,
                    variants=variants,
                    year=year,
                    counterpart=partial(counterpart, suffix=f"/{year}.html"),
                ),
                family=name_family,
                sitemap="",
            )

    def _section_rank(self, name: str, edition: Edition) -> int:
        order = [key(s) for s in edition.settings.sections]
        return order.index(key(name)) if key(name) in order else len(order)

    def plan_stats(self, edition: Edition, site: Site) -> None:
        stats_family = family("stats", _ed(edition))
        if not (self.full or self.touched_stats or stats_family in self.forced):
            return
        from ..stats import compute  # not imported by a build that leaves the page as it is

        self.manifest.files.in_families([stats_family])
        if self.full:
            issues = self.issues
        else:
            if not hasattr(self, "_all_articles"):
                self._all_articles = articles_of(self.archive, self.issues)
            issues = self._all_articles
        stats = compute(issues, self.settings.sections)
        self.add(
            edition.root + "stats.html",
            _key("stats", edition.name, stats.to_dict()),
            lambda: self.stats_page(edition, site, stats),
            family=stats_family,
            sitemap="",
        )

    def stats_page(self, edition: Edition, site: Site, stats: Any) -> bytes:
        from . import charts

        t, convert = edition.t, edition.convert
        if edition.name:
            from dataclasses import replace

            stats = replace(
                stats,
                sections=[convert(s) for s in stats.sections],
                years={y: {convert(s): n for s, n in row.items()} for y, row in stats.years.items()},
                sources=[(convert(s), n) for s, n in stats.sources],
            )
        span = f"{stats.first.isoformat()} – {stats.last.isoformat()}" if stats.first and stats.last else ""
        intro = f"{stats.issues} {t('期')} · {stats.articles:,} {t('篇文章')}" + (
            f" · {span}" if span else ""
        )
        chart_list = []
        if stats.articles:
            from markupsafe import Markup

            month_title, section_title, source_title = t("每月文章数"), t("各栏目每年文章数"), t("来源排行")
            chart_list = [
                {
                    "id": "per-month",
                    "title": month_title,
                    "svg": Markup(charts.per_month(stats, month_title)),
                    "caption": t("按期刊日期计，每月刊出的文章数。"),
                    "table": {
                        "head": [t("月份"), t("文章")],
                        "rows": [[m, n] for m, n in stats.months.items() if n],
                    },
                },
                {
                    "id": "per-section",
                    "title": section_title,
                    "svg": Markup(charts.per_section(stats, section_title)),
                    "caption": t("每年各栏目的文章数。"),
                    "table": {
                        "head": [t("年份"), *stats.sections],
                        "rows": [
                            [y, *(row.get(s, 0) for s in stats.sections)] for y, row in stats.years.items()
                        ],
                    },
                },
                {
                    "id": "top-sources",
                    "title": source_title,
                    "svg": Markup(charts.top_sources(stats, source_title)),
                    "caption": t("文章最多的来源（同一来源的不同写法合并计算）。"),
                    "table": {"head": [t("来源"), t("文章")], "rows": [[s, n] for s, n in stats.sources]},
                },
            ]
        return site.stats_page(chart_list, intro)

    # ------------------------------------------------------------------ feeds

    def plan_feeds(self, edition: Edition) -> None:
        root = edition.root
        settings = edition.settings
        published = self.published
        feeds = family("feeds", _ed(edition))
        self.manifest.files.in_families([feeds])
        self.families.add(feeds)
        if not published:
            return
        newest = published[-site_feeds.FEED_ISSUES :]
        pages = site_feeds.archive_pages(len(published))
        digests = [f"{i.id}\x1e{i.digest}" for i in newest]
        from ..export.rss import SharedEntries

        shared = SharedEntries()  # feed.xml's items are atom.xml's
        for fmt, name in (("rss", "feed.xml"), ("atom", "atom.xml")):
            if self.add(root + name, _key("feed", edition.name, fmt, *digests, len(pages)), family=feeds):
                self.feed_job(
                    root + name,
                    newest,
                    edition,
                    partial(
                        site_feeds.main_feed, settings=settings, fmt=fmt, pages=len(pages), shared=shared
                    ),
                )
            for number, (start, end) in enumerate(pages, start=1):
                chosen = published[start:end]
                page = root + site_feeds.archive_path(fmt, number)
                head: tuple[object, ...] = ("archive", edition.name, fmt, number, len(pages))

                def archive_key(issues: list[Issue], head: tuple[object, ...] = head) -> str:
                    return _key(*head, *self.summaries(issues))

                if self.add(page, None if self.full else _key(*head, *self.summaries(chosen)), family=feeds):
                    self.feed_job(
                        page,
                        chosen,
                        edition,
                        partial(
                            site_feeds.archive_feed,
                            settings=settings,
                            fmt=fmt,
                            number=number,
                            pages=len(pages),
                        ),
                        key=archive_key,
                    )
        if self.add(root + "feed.json", _key("json", edition.name, *digests), family=feeds):
            self.feed_job(
                root + "feed.json", newest, edition, partial(site_feeds.json_feed, settings=settings)
            )
        sections: dict[str, list[IssueInfo]] = {}
        for info in published:
            for section, _ in info.sections:
                sections.setdefault(section, []).append(info)
        for section, infos in sections.items():
            shown = edition.convert(one_line(section))
            if not key(shown):
                continue
            chosen = infos[-site_feeds.FEED_ISSUES :]
            base = f"section/{slug(shown)}"
            for fmt, suffix in (("rss", ".xml"), ("atom", ".atom.xml")):
                path = base + suffix
                head = ("section-feed", edition.name, fmt, section)

                def section_key(
                    issues: list[Issue], head: tuple[object, ...] = head, section: str = section
                ) -> str:
                    return _key(*head, *self.section_facets(issues, section))

                if self.add(
                    root + path,
                    None if self.full else _key(*head, *self.section_facets(chosen, section)),
                    family=feeds,
                ):
                    self.feed_job(
                        root + path,
                        chosen,
                        edition,
                        partial(
                            site_feeds.section_feed,
                            settings=settings,
                            section=edition.convert(section),
                            path=path,
                            fmt=fmt,
                        ),
                        key=section_key,
                    )

    def summaries(self, infos: Iterable[IssueInfo | Issue]) -> list[str]:
        """What an archive page shows of each issue (its summary facet)."""
        return [f"{i.id}\x1e{self._summary(i)}" for i in infos]

    def _summary(self, item: IssueInfo | Issue) -> str:
        if isinstance(item, Issue):
            return self._facets(item)[1]
        found = self.new_facets.get(item.id) or self.recorded_facets.get(item.id)
        return found[1] if found is not None else self.manifest.summary(self.record_key(item.path))

    def section_facets(self, infos: Iterable[IssueInfo | Issue], section: str) -> list[str]:
        name = f"s\x1f{section}"
        return [f"{i.id}\x1e{self._facets(i)[0].get(name, '')}" for i in infos]

    def _facets(self, item: IssueInfo | Issue) -> tuple[dict[str, str], str]:
        if isinstance(item, Issue):
            packed = self.new_facets.get(item.id)
            if packed is None:
                packed = self.new_facets[item.id] = packed_facets(item)
            return json.loads(packed[0]), packed[1]
        return self.facets_of(item)

    def feed_job(
        self,
        path: str,
        infos: list[IssueInfo],
        edition: Edition,
        render: Callable[[list[Issue]], bytes],
        key: Callable[[list[Issue]], str] | None = None,
    ) -> None:
        """Render a feed once its issues have been read (as the edition prints them)."""

        def task(issues: dict[str, Issue]) -> None:
            chosen = [issues[i.id] for i in infos]
            data = render([self.convert(issue, edition) for issue in chosen])
            self.put(path, data, partial(key, chosen) if key is not None else None)

        self.after_issues(infos, task)

    # ------------------------------------------------------------------ search

    def plan_search(self, edition: Edition, site: Site) -> None:
        ed = _ed(edition)
        root = edition.root + "search/"
        search_family = family("search", ed)
        main_family = family("search-main", ed)
        state = self.manifest.search(ed) if not self.full else {}
        current = {i.id: i for i in self.issues}
        main = state.get("main") if state.get("base") == self.base else None
        changed: list[IssueInfo] = []
        removed: list[str] = []
        if main is not None:
            for info in self.issues:
                known = main["issues"].get(info.id)
                if known is None or known[2] != info.digest:
                    changed.append(info)
            removed = [i for i in main["issues"] if i not in current]
            delta = state.get("delta") or {}
            if (
                [i.id for i in changed] == list(delta.get("issues", {}))
                and all(delta["issues"][i.id][2] == i.digest for i in changed)
                and set(removed) == set(state.get("removed", []))
                and search_family not in self.forced
                and main_family not in self.forced
            ):
                return  # the index is as the last build left it
        rebuild = main is None or len(changed) + len(removed) > searchindex.DELTA_MAX
        settings_key = _key(self.base, edition.name)
        self.families.add(search_family)
        self.manifest.files.in_families([search_family])

        def segment(kind: str, infos: list[IssueInfo]) -> dict[str, Any]:
            name = f"{kind}-" + _key(settings_key, kind, *(f"{i.id}\x1e{i.digest}" for i in infos))[:12]
            builder = searchindex.SegmentBuilder()
            index = len(self.building)
            self.building.append((builder, infos))
            entry: dict[str, Any] = {"name": name, "docs": 0, "shards": 0, "issues": {}, "starts": []}
            for info in infos:

                def add(issue: Issue, info: IssueInfo = info) -> None:
                    converted = self.convert(issue, edition)
                    date = info.date.isoformat() if info.date else ""
                    docs = self.search_docs(converted, edition)
                    if self.in_worker and len(docs) != info.count:
                        # Numbered from the catalog's count, which an edit since has changed.
                        raise _Stale(str(info.path))
                    self.parts[index].add(info.id, info.digest, date, docs)

                self.on_issue(info, add)
            where = main_family if kind == "main" else search_family

            def write() -> None:
                built, files = builder.files(name, builder.summaries)
                for file_name, data in files:
                    path = root + file_name
                    self.produced.add(path)
                    self.writer.put(path, _key(self.base, name), data, family=where)
                    self.step(path)
                builder.discard()
                entry.update(built)

            self.final_tasks.append(write)
            return entry

        deleted: list[tuple[int, int]] = []
        if rebuild:
            self.families.add(main_family)
            self.manifest.files.in_families([main_family])
            segments = [segment("main", list(self.issues))]
        else:
            assert main is not None
            segments = [dict(main)]
            stale = [c.id for c in changed if c.id in main["issues"]] + removed
            deleted = sorted((int(main["issues"][i][0]), int(main["issues"][i][1])) for i in stale)
            if changed:
                segments.append(segment("delta", changed))

        def finish() -> None:
            meta_segments = [
                (s["name"], int(s["docs"]), int(s["shards"]), s["starts"]) for s in segments if s["docs"]
            ]
            zh_name = state.get("zh") if state.get("base") == self.base else None
            zh_path = root + zh_name if zh_name else ""
            if not zh_name or not self.writer.fresh(zh_path, _key(self.base, zh_name)):
                zh_name, zh = _zh_table()
                zh_path = root + zh_name
                self.writer.put(zh_path, _key(self.base, zh_name), zh, family=search_family)
            else:
                self.writer.keep(zh_path)
            self.produced.add(zh_path)
            meta_name, meta = searchindex.meta_file(meta_segments, deleted, _fold_table(), zh_name)
            meta_path = root + meta_name
            self.produced.add(meta_path)
            self.writer.put(meta_path, _key(self.base, meta_name), meta, family=search_family)
            state_out: dict[str, Any] = {"base": self.base, "zh": zh_name, "removed": removed}
            for s in segments:
                state_out[s["name"].split("-", 1)[0]] = {
                    k: s[k] for k in ("name", "docs", "shards", "issues", "starts")
                }
            self.manifest.set_search(ed, state_out)
            page = edition.root + "search.html"
            self.produced.add(page)
            page_key = _key(self.base, "search", edition.name, meta_name)
            if self.writer.fresh(page, page_key):
                self.writer.keep(page)
            else:
                self.writer.put(page, page_key, site.search_page("search/" + meta_name), family=search_family)

        self.final_tasks.append(finish)

    def search_docs(self, issue: Issue, edition: Edition) -> list[tuple[searchindex.Doc, str, str]]:
        page = issue_path(edition.settings, issue.id)
        date = issue.date.isoformat() if issue.date else ""
        rows = []
        for article in issue.articles:
            section = one_line(article.section) or edition.t("未分类")
            shown = one_line(article.title) or article.id
            rows.append((article.id, article.title, section, article.body, shown))
        return searchindex.article_docs(page, date, rows)

    # ------------------------------------------------------------------ assets and the rest

    def plan_static(self, edition: Edition, site: Site) -> None:
        root = edition.root
        static = family("static", _ed(edition))
        self.manifest.files.in_families([static])
        for name in STATIC_FILES:
            data = static_file(self.archive.root, name)
            self.add(
                root + "assets/" + name, _key("static", name, _key(data)), partial(bytes, data), family=static
            )
        self.add(root + "404.html", _key("404", edition.name), site.not_found_page, family=static)

    def plan_legacy(self) -> None:
        """Today's outputs, kept: `ISSUE.md` for each published issue, the latest's email
        (the email's modules imported only when it is stale: most edits leave it as it is)."""
        self.manifest.files.in_families(["md", "email"])
        self.families |= {"md", "email"}
        for info in self.published:
            name = f"{info.id}.md"
            if self.add(name, _key("md", info.digest), family="md"):
                self.on_issue(info, partial(self.put_markdown, name))
        if self.published and not self.drafts:
            latest = self.published[-1]
            text, eml = f"email/{latest.id}.txt", f"email/{latest.id}.eml"
            stale = [
                name
                for name, kind in ((text, "email-text"), (eml, "email-eml"))
                if self.add(name, _key(kind, latest.digest), family="email")
            ]
            if stale:
                self.on_issue(latest, partial(self.put_email, stale))

    def put_email(self, names: list[str], issue: Issue) -> None:
        """The latest issue's email text (.txt) and message (.eml): both laid out once."""
        from ..export import email

        if len(names) == 2:
            text, eml = email.render_text_and_eml(issue, self.settings, archive_root=self.archive.root)
            self.put(names[0], text.encode("utf-8"))
            self.put(names[1], eml)
        elif names[0].endswith(".eml"):
            self.put(names[0], email.render_eml(issue, self.settings, archive_root=self.archive.root))
        else:
            self.put(names[0], email.render_text(issue, self.settings).encode("utf-8"))

    def put_markdown(self, name: str, issue: Issue) -> None:
        from ..export import markdown

        self.put(name, markdown.render([issue], self.settings).encode("utf-8"))

    def plan_sitemap(self) -> None:
        """robots.txt and sitemap.xml (every page of every edition but share pages and 404),
        from the manifest: the pages this build wrote or kept, and those of families it
        did not plan."""
        self.manifest.files.in_families(["site"])
        entries = []
        digest = hashlib.blake2b(digest_size=16)
        for name, lastmod in self.manifest.files.sitemap():
            record = self.manifest.files.get(name)
            if name not in self.produced and (record is None or self.full or record.family in self.families):
                continue  # to be removed: its family was planned without it
            entries.append((name, lastmod))
            digest.update(f"{name}\x1f{lastmod}\x1e".encode("utf-8", "surrogatepass"))
        # Keyed by its entries (a URL is its name under the settings' link, in the base):
        # an edit that changes no page's lastmod makes no URL again (~3,000 at 1,000 issues).
        if self.add("sitemap.xml", _key("sitemap", digest.hexdigest()), family="site"):
            body = [
                '<?xml version="1.0" encoding="UTF-8"?>',
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
            ]
            for name, lastmod in entries:
                url = site_feeds.absolute(self.settings, name)
                body.append(
                    f"<url><loc>{_xml_escape(url)}</loc>"
                    + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "")
                    + "</url>"
                )
            body.append("</urlset>")
            self.put("sitemap.xml", ("\n".join(body) + "\n").encode("utf-8"))
        robots = f"User-agent: *\nAllow: /\nSitemap: {site_feeds.absolute(self.settings, 'sitemap.xml')}\n".encode()
        if self.add("robots.txt", _key("robots", _key(robots)), family="site"):
            self.put("robots.txt", robots)


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Pairs:
    """A name page's rows (article, issue), kept as two lists until the page is rendered:
    as a tuple each, every article's rows on its section's, source's and tags' pages held
    ~30 MB at 3,000 issues in the parent of a cold build, and in the workers it forks."""

    __slots__ = ("articles", "issues")

    def __init__(self, rows: Iterable[tuple[ArticleInfo, IssueInfo]] = ()) -> None:
        self.articles: list[ArticleInfo] = []
        self.issues: list[IssueInfo] = []
        for article, info in rows:
            self.append(article, info)

    def append(self, article: ArticleInfo, info: IssueInfo) -> None:
        self.articles.append(article)
        self.issues.append(info)

    def __iter__(self) -> Iterator[tuple[ArticleInfo, IssueInfo]]:
        return zip(self.articles, self.issues, strict=True)

    def __len__(self) -> int:
        return len(self.articles)

    def __contains__(self, row: object) -> bool:
        return row in list(self)


class _Stale(Exception):
    """A worker read an issue whose article count is not the catalog's."""


# Below this many issues to read, forking workers costs more than it saves.
PARALLEL_FROM = 48


def _worker_count(issues: int) -> int:
    import os

    if issues < PARALLEL_FROM or not hasattr(os, "fork"):
        return 1
    return max(1, min(4, os.cpu_count() or 1, issues // PARALLEL_FROM))


def _all_values(archive: Archive, kind: str) -> list[str]:
    from .corpus import all_values

    return all_values(archive, kind)


def _with_value(archive: Archive, kind: str, values: list[str]) -> dict[Path, tuple[ArticleInfo, ...]]:
    from .corpus import with_value

    return with_value(archive, kind, values)


def _value_counts(archive: Archive, kind: str, *, drafts: bool) -> dict[str, int]:
    from .corpus import value_counts

    return value_counts(archive, kind, drafts=drafts)


_FOLD: dict[str, str] | None = None


def _fold_table() -> dict[str, str]:
    global _FOLD
    if _FOLD is None:
        _FOLD = searchindex.casefold_table()
    return _FOLD


_ZH: tuple[str, bytes] | None = None


def _zh_table() -> tuple[str, bytes]:
    global _ZH
    if _ZH is None:
        _ZH = searchindex.zh_file()
    return _ZH
