"""The site build: plan every output with the key of its inputs, render only what changed.

Planning needs no issue file: the catalog's snapshot (`corpus.Corpus`) says which issues
exist, their digests, titles, sections, sources and tags, which is all that the index,
year, section, source and tag pages, the stats and the choice of feed items depend on. Each
planned file gets a key (a digest of exactly what its bytes depend on, with the settings,
templates and ecdigest version in `Plan.base`); the manifest (output.py) says which keys
are on disk. Then only the issue files that stale outputs need are read, once each, in
date order: an issue's page and share pages in every edition, its Markdown page, the
feeds' archive pages as soon as their issues have been read, the search index's segment.

What depends on an issue: its page; its neighbours' pages (their previous/next links show
its title); the index or year page that lists it; the pages of the sections, sources and
tags of its articles (before and after the change: a removed tag's page goes); the stats;
the main feeds when it is among the newest, the archive page that holds it, its sections'
feeds; the search index's delta segment; the sitemap. Nothing else is rendered.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..export.common import one_line
from ..model import Issue, Newsletter
from . import feeds as site_feeds
from . import searchindex
from .corpus import ArticleInfo, Corpus, IssueInfo
from .names import KINDS, issue_path, key, slug
from .render import (
    INDEX_ISSUES,
    NAME_PAGE_ARTICLES,
    STATIC_FILES,
    Edition,
    Site,
    environment,
    make_editions,
    names_index_path,
    share_path,
    static_file,
    templates_digest,
    year_path,
)

if TYPE_CHECKING:
    from ..archive import Archive
    from .output import Writer

Progress = Callable[[int, int, str], None]


def _key(*parts: object) -> str:
    text = "\x1f".join(map(str, parts))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def base_digest(archive: Archive, *, drafts: bool) -> str:
    """Everything every output depends on: ecdigest's version, the settings, the templates
    and assets, the Traditional conversion's data, preview or not."""
    from .. import __version__
    from ..codec import encode_settings

    parts: list[object] = [
        __version__,
        _code_digest(),
        encode_settings(archive.settings),
        templates_digest(archive.root),
        drafts,
    ]
    if archive.settings.editions:
        from .. import zhconv

        data = Path(zhconv.__file__).with_name("data") / zhconv.FIXES_FILE
        parts.append(data.read_bytes() if data.exists() else b"")
        try:
            import opencc

            parts.append(getattr(opencc, "__version__", ""))
        except ImportError:  # pragma: no cover - a dependency
            parts.append("")
    return _key(*parts)


_CODE: str | None = None


def _code_digest() -> str:
    """ecdigest's own code (3 ms to read): a changed renderer re-renders every page, even
    under the same version number."""
    global _CODE
    if _CODE is None:
        digest = hashlib.blake2b(digest_size=16)
        package = Path(__file__).resolve().parent.parent
        for path in sorted(package.rglob("*.py")):
            digest.update(path.read_bytes())
        _CODE = digest.hexdigest()
    return _CODE


@dataclass
class Job:
    name: str  # output path
    key: str
    render: Callable[[], bytes] | None = None  # None: rendered by the issue pass
    sitemap: str | None = None  # lastmod (ISO date) or "" when the page belongs in the sitemap


@dataclass
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
        trust: bool = True,
    ) -> None:
        self.trust = trust
        self.archive = archive
        self.settings: Newsletter = archive.settings
        self.corpus = corpus
        self.writer = writer
        self.drafts = drafts
        self.base = base
        self.progress = progress
        self.env = environment(archive.root)
        self.editions = make_editions(self.settings, self.settings.editions)
        self.sites = [Site(self.env, e, self.editions) for e in self.editions]
        self.issues = corpus.issues
        self.published = [i for i in self.issues if not i.is_draft]
        self.jobs: list[Job] = []
        self.keys: dict[str, str] = {}  # output -> key
        self.fresh: set[str] = set()  # outputs already as they should be
        self.work: dict[str, IssueWork] = {}
        self.pending: list[tuple[set[str], Callable[[dict[str, Issue]], None]]] = []
        self.produced: set[str] = set()
        self.done = 0
        self.total = 0
        self.final_tasks: list[Callable[[], None]] = []
        self.building: list[tuple[searchindex.Segment, list[IssueInfo]]] = []
        self.in_worker = False
        self._row_keys: dict[int, str] = {}  # id(ArticleInfo) -> its row key (the corpus outlives it)
        self._converted: dict[tuple[str, str], Issue] = {}

    # ------------------------------------------------------------------ helpers

    def add(
        self, name: str, key: str, render: Callable[[], bytes] | None = None, *, sitemap: str | None = None
    ) -> bool:
        """Plan `name`; True when it must be rendered (its key or its file changed)."""
        self.produced.add(name)
        job = Job(name, _key(self.base, key), render, sitemap)
        self.jobs.append(job)
        self.keys[name] = job.key
        if self.writer.fresh(name, job.key):
            self.writer.keep(name)
            self.fresh.add(name)
            return False
        return True

    def put(self, name: str, data: bytes) -> None:
        self.writer.put(name, self.keys[name], data)
        self.step(name)

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

    # ------------------------------------------------------------------ the plan

    def run(self) -> None:
        self.prepare()
        self.execute()

    def prepare(self) -> None:
        """Plan every output and check every place it goes; nothing is written yet (the
        build does this before it even creates the output folder's lock file)."""
        for edition, site in zip(self.editions, self.sites, strict=True):
            self.plan_issues(edition, site)
            self.plan_lists(edition, site)
            self.plan_feeds(edition)
            self.plan_search(edition, site)
            self.plan_static(edition, site)
        self.plan_legacy()
        self.total = self.done + sum(1 for j in self.jobs if j.name not in self.fresh)
        self.check_folders()
        self.writer.check(self.produced - self.fresh)

    def execute(self) -> None:
        """Render and write what `prepare` found stale (under the output folder's lock)."""
        self.read_issues()
        for task in self.final_tasks:
            task()
        for job in self.jobs:
            if job.render is not None and job.name not in self.fresh:
                self.writer.put(job.name, job.key, job.render())
                self.step(job.name)
        self.plan_sitemap()

    def check_folders(self) -> None:
        """Every folder the build writes into must resolve inside the output folder: checked
        before the first write (a link out of it is refused; one inside is written through)."""
        import posixpath

        from ..build import target

        for folder in sorted({posixpath.dirname(name) for name in self.produced} - {""}):
            target(self.writer.out, folder)

    def read_issues(self) -> None:
        """Read each issue some stale output needs, once, oldest first, and run its tasks:
        in worker processes when there are many (a cold build), else here."""
        order = [i for i in self.issues if i.id in self.work]
        workers = _worker_count(len(order))
        if workers <= 1:
            self._read(order, self.pending)
            self.pending = []
            return
        chunks = self._chunks(order, workers)
        local: list[list[tuple[set[str], Callable[[dict[str, Issue]], None]]]] = [[] for _ in chunks]
        rest = []
        for ids, job in self.pending:
            where = [n for n, chunk in enumerate(chunks) if ids <= {i.id for i in chunk}]
            if where:
                local[where[0]].append((ids, job))
            else:
                rest.append((ids, job))
        import multiprocessing

        context = multiprocessing.get_context("fork")
        pipes = []
        for chunk, jobs in zip(chunks, local, strict=True):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=self._worker, args=(sender, chunk, jobs), daemon=True)
            process.start()
            sender.close()
            pipes.append((process, receiver))
        failure: BaseException | None = None
        results = []
        for process, receiver in pipes:  # in order: segment parts must be merged in order
            try:
                kind, payload = receiver.recv()
                if kind == "error" and isinstance(payload, _Stale):
                    self.writer.manifest.files.update(receiver.recv()[1])
            except EOFError:
                kind, payload = "error", RuntimeError("a build worker died")
            process.join()  # after every message: a child blocked on a full pipe never exits
            if kind == "error":
                failure = failure or payload
                continue
            results.append(payload)
        if isinstance(failure, _Stale):
            # An issue file changed between the catalog's answer and its reading (an editor
            # saving during a cold build): read the issues again here, numbering as we go.
            # The files the workers wrote are recorded as theirs, so none is a stranger.
            for payload in results:
                self.writer.manifest.files.update(payload[0])
            self._read(order, self.pending)
            self.pending = []
            return
        if failure is not None:
            raise failure
        for payload in results:
            self._absorb(payload)
        self.pending = []
        if rest:  # feeds whose issues span the workers' stretches: read those issues here
            needed = set().union(*(ids for ids, _ in rest))
            self._read([i for i in self.issues if i.id in needed], rest, run_tasks=False)

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
        jobs: list[tuple[set[str], Callable[[dict[str, Issue]], None]]],
    ) -> None:
        """In a forked process: do the chunk's tasks, send back what the parent must know."""
        try:
            self.in_worker = True
            ids = {info.id for info in chunk}
            parts = []
            for segment, infos in self.building:
                first = sum(
                    len(i.articles)
                    for i in infos[: next((n for n, i in enumerate(infos) if i.id in ids), len(infos))]
                )
                segment.docs, segment.postings, segment.issues, segment.starts = [], {}, {}, []
                segment.first = first
                parts.append(segment)
            writer = self.writer
            writer.records = {}
            self.progress = None  # the parent's progress bar is the parent's to draw
            marks = (len(writer.written), len(writer.unchanged), len(writer.conflicts), self.done)
            self._read(chunk, jobs)
            for segment in parts:
                segment.pack()
            sender.send(
                (
                    "done",
                    (
                        writer.records,
                        writer.written[marks[0] :],
                        writer.unchanged[marks[1] :],
                        writer.conflicts[marks[2] :],
                        self.done - marks[3],
                        parts,
                    ),
                )
            )
        except _Stale as exc:  # the parent does the stretch again; what was written is ours
            sender.send(("error", exc))
            sender.send(("records", self.writer.records))
        except BaseException as exc:  # sent to the parent, which raises it
            sender.send(("error", exc))
        finally:
            sender.close()

    def _absorb(self, payload: Any) -> None:
        records, written, unchanged, conflicts, done, parts = payload
        writer = self.writer
        writer.manifest.files.update(records)
        writer.written.extend(written)
        writer.unchanged.extend(unchanged)
        writer.conflicts.extend(conflicts)
        for (segment, _), part in zip(self.building, parts, strict=True):
            searchindex.merge(segment, part)
        self.done += done
        if self.progress is not None:
            self.progress(self.done, max(self.total, self.done), "")

    def _read(
        self,
        order: list[IssueInfo],
        pending: list[tuple[set[str], Callable[[dict[str, Issue]], None]]],
        *,
        run_tasks: bool = True,
    ) -> None:
        kept: dict[str, Issue] = {}
        needed_by: Counter[str] = Counter()
        for ids, _ in pending:
            needed_by.update(ids)
        pending = list(pending)
        for info in order:
            issue = self.read(info)
            self._converted.clear()
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
        item = self.archive.read(info.path)
        return item.issue

    # ------------------------------------------------------------------ issue pages

    def plan_issues(self, edition: Edition, site: Site) -> None:
        root = edition.root
        for number, info in enumerate(self.issues):
            previous = self.issues[number - 1] if number else None
            following = self.issues[number + 1] if number + 1 < len(self.issues) else None
            name = root + issue_path(edition.settings, info.id)
            neighbours = [(n.id, n.title, n.date) if n else None for n in (previous, following)]
            if self.add(
                name,
                _key("issue", edition.name, info.digest, info.status, *neighbours),
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
            # Share pages come from the issue file alone: while its digest is what it was, the
            # whole family is taken as written (a no-change build still stats every file;
            # `trust=False` plans each one, as after a hand change).
            family = f"{edition.name}|{info.id}"
            shares_key = _key(self.base, "shares", edition.name, info.digest, *(a.id for a in info.articles))
            if self.trust and self.writer.manifest.families.get(family) == shares_key:
                for article in info.articles:
                    share = root + share_path(article.id)
                    self.produced.add(share)
                    self.writer.keep(share)
                    self.fresh.add(share)
                continue
            self.writer.manifest.families[family] = shares_key
            for article in info.articles:
                share = root + share_path(article.id)
                if self.add(share, _key("share", edition.name, info.digest, article.id)):

                    def card(
                        issue: Issue, share: str = share, article_id: str = article.id, site: Site = site
                    ) -> None:
                        converted = self.convert(issue, site.edition)
                        found = next((a for a in converted.articles if a.id == article_id), None)
                        if found is not None:
                            self.put(share, site.share_page(converted, found))

                    self.on_issue(info, card)

    def convert(self, issue: Issue, edition: Edition) -> Issue:
        """The issue as the edition prints it (converted once per issue read)."""
        if not edition.name:
            return issue
        from ..editions import convert_issue

        found = self._converted.get((issue.id, edition.name))
        if found is None:
            found = self._converted[(issue.id, edition.name)] = convert_issue(issue, edition.convert)
        return found

    # ------------------------------------------------------------------ index, years, names, stats

    def plan_lists(self, edition: Edition, site: Site) -> None:
        root = edition.root
        issues = self.issues
        years = Counter(i.year or 0 for i in issues)
        year_list = sorted(((y, n) for y, n in years.items() if y), reverse=True)
        newest = issues[-INDEX_ISSUES:]

        def row_key(info: IssueInfo) -> str:
            return f"{info.id}\x1e{info.digest}\x1e{info.status}"

        index_key = _key("index", edition.name, *map(row_key, newest), year_list)
        if self.add(
            root + "index.html",
            index_key,
            lambda: site.index_page("index.html", newest, year_list, year=None),
            sitemap="",
        ):
            pass
        for year, _ in year_list:
            chosen = [i for i in issues if i.year == year]
            if self.add(
                root + year_path(year),
                _key("year", edition.name, year, *map(row_key, chosen), year_list),
                partial(site.index_page, year_path(year), chosen, year_list, year=year),
                sitemap="",
            ):
                pass
        for kind in KINDS:
            self.plan_names(edition, site, kind)
        self.plan_stats(edition, site)

    def plan_names(self, edition: Edition, site: Site, kind: str) -> None:
        root = edition.root
        convert = edition.convert
        groups: dict[str, list[tuple[ArticleInfo, IssueInfo]]] = {}
        spelled: dict[str, Counter[str]] = {}
        pages: dict[str, tuple[str, str] | None] = {}  # name as stored -> (shown, page)
        originals: dict[str, set[str]] = {}  # page -> names as stored
        for info in self.issues:
            for article in info.articles:
                for value in _values(article, kind):
                    if value in pages:
                        found = pages[value]
                    else:
                        shown = convert(one_line(value))
                        found = pages[value] = (shown, slug(shown)) if key(shown) else None
                    if found is None:
                        continue
                    shown, page = found
                    originals.setdefault(page, set()).add(value)
                    groups.setdefault(page, []).append((article, info))
                    counter = spelled.get(page)
                    if counter is None:
                        counter = spelled[page] = Counter()
                    counter[shown] += 1
        listing: list[tuple[str, int, str]] = []
        for page, rows in groups.items():
            spellings = sorted(spelled[page].items(), key=lambda item: (-item[1], item[0]))
            display = spellings[0][0]
            listing.append((display, len(rows), page))
        listing.sort(
            key=lambda item: (
                (-item[1], key(item[0]))
                if kind != "section"
                else (self._section_rank(item[0], edition), item[0])
            )
        )
        names = [(display, count) for display, count, _ in listing]
        self.add(
            root + names_index_path(kind),
            _key("names", edition.name, kind, names),
            partial(site.names_page, kind, names),
            sitemap="",
        )
        for display, total, page in listing:
            rows = list(reversed(groups[page]))  # newest first
            variants = [s for s, _ in sorted(spelled[page].items(), key=lambda i: (-i[1], i[0]))[1:]]
            row_keys = [self.row_key(a, i) for a, i in rows]
            original = sorted(one_line(o) for o in originals[page])[:1] or [display]

            def counterpart(other: Edition, suffix: str = "", original: str = original[0]) -> str:
                return f"{kind}/{slug(other.convert(original))}{suffix}"

            per_year: dict[int, list[tuple[ArticleInfo, IssueInfo]]] = {}
            for article, info in rows:
                per_year.setdefault(info.year or 0, []).append((article, info))
            split = total > NAME_PAGE_ARTICLES
            year_list = sorted(((y, len(r)) for y, r in per_year.items()), reverse=True) if split else []
            shown_rows = rows[:NAME_PAGE_ARTICLES]
            path = f"{kind}/{page}.html"
            self.add(
                root + path,
                _key(
                    "name",
                    edition.name,
                    kind,
                    display,
                    variants,
                    year_list,
                    *row_keys[:NAME_PAGE_ARTICLES],
                    total,
                ),
                partial(
                    site.name_page,
                    kind,
                    display,
                    path,
                    shown_rows,
                    total=total,
                    years=year_list,
                    variants=variants,
                    year=None,
                    counterpart=partial(counterpart, suffix=".html"),
                ),
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
                        *(self.row_key(a, i) for a, i in year_rows),
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
                    sitemap="",
                )

    def row_key(self, article: ArticleInfo, info: IssueInfo) -> str:
        """What an article's line in a list shows (made once per article and build)."""
        found = self._row_keys.get(id(article))
        if found is None:
            tail = f"\x1e{info.id}\x1e{info.title}\x1e{info.date}"
            for each in info.articles:
                self._row_keys[id(each)] = (
                    f"{each.id}\x1e{each.title}\x1e{each.section}\x1e{each.source}{tail}"
                )
            found = self._row_keys[id(article)]
        return found

    def _section_rank(self, name: str, edition: Edition) -> int:
        order = [key(s) for s in edition.settings.sections]
        return order.index(key(name)) if key(name) in order else len(order)

    def plan_stats(self, edition: Edition, site: Site) -> None:
        from ..stats import compute

        stats = compute(self.issues, self.settings.sections)
        self.add(
            edition.root + "stats.html",
            _key("stats", edition.name, stats.to_dict()),
            lambda: self.stats_page(edition, site, stats),
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
        if not published:
            return
        newest = published[-site_feeds.FEED_ISSUES :]
        pages = site_feeds.archive_pages(len(published))
        digests = [f"{i.id}\x1e{i.digest}" for i in newest]
        for fmt, name in (("rss", "feed.xml"), ("atom", "atom.xml")):
            if self.add(root + name, _key("feed", edition.name, fmt, *digests, len(pages))):
                self.feed_job(
                    root + name,
                    newest,
                    edition,
                    partial(site_feeds.main_feed, settings=settings, fmt=fmt, pages=len(pages)),
                )
            for number, (start, end) in enumerate(pages, start=1):
                chosen = published[start:end]
                page = root + site_feeds.archive_path(fmt, number)
                if self.add(
                    page,
                    _key(
                        "archive",
                        edition.name,
                        fmt,
                        number,
                        len(pages),
                        *(f"{i.id}\x1e{i.digest}" for i in chosen),
                    ),
                ):
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
                    )
        if self.add(root + "feed.json", _key("json", edition.name, *digests)):
            self.feed_job(
                root + "feed.json", newest, edition, partial(site_feeds.json_feed, settings=settings)
            )
        sections: dict[str, list[IssueInfo]] = {}
        for info in published:
            for article in info.articles:
                listed = sections.setdefault(article.section, [])
                if not listed or listed[-1] is not info:
                    listed.append(info)
        for section, infos in sections.items():
            shown = edition.convert(one_line(section))
            if not key(shown):
                continue
            chosen = infos[-site_feeds.FEED_ISSUES :]
            base = f"section/{slug(shown)}"
            for fmt, suffix in (("rss", ".xml"), ("atom", ".atom.xml")):
                path = base + suffix
                if self.add(
                    root + path,
                    _key(
                        "section-feed", edition.name, fmt, section, *(f"{i.id}\x1e{i.digest}" for i in chosen)
                    ),
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
                    )

    def feed_job(
        self, path: str, infos: list[IssueInfo], edition: Edition, render: Callable[[list[Issue]], bytes]
    ) -> None:
        """Render a feed once its issues have been read (as the edition prints them)."""

        def task(issues: dict[str, Issue]) -> None:
            self.put(path, render([self.convert(issues[i.id], edition) for i in infos]))

        self.after_issues(infos, task)

    # ------------------------------------------------------------------ search

    def plan_search(self, edition: Edition, site: Site) -> None:
        root = edition.root + "search/"
        recorded = self.writer.manifest.search.get(edition.name or "-")
        state: dict[str, Any] = dict(recorded) if isinstance(recorded, dict) else {}
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
        rebuild = main is None or len(changed) + len(removed) > searchindex.DELTA_MAX
        settings_key = _key(self.base, edition.name)

        def segment(kind: str, infos: list[IssueInfo]) -> dict[str, Any]:
            """A segment's state: kept as it is when its name (a digest of what it holds)
            and files are unchanged, else rebuilt as its issues are read."""
            name = f"{kind}-" + _key(settings_key, kind, *(f"{i.id}\x1e{i.digest}" for i in infos))[:12]
            recorded = state.get(kind)
            prefix = f"{root}{name}/"
            files = [f for f in self.writer.manifest.files if f.startswith(prefix)]
            if (
                recorded
                and recorded.get("name") == name
                and files
                and all(self.writer.fresh(f, self.writer.manifest.files[f].key) for f in files)
            ):
                for f in files:
                    self.produced.add(f)
                    self.writer.keep(f)
                return dict(recorded)
            built = searchindex.Segment()
            self.building.append((built, infos))
            entry: dict[str, Any] = {"name": name, "docs": 0, "shards": 0, "issues": {}, "starts": []}
            for info in infos:

                def add(issue: Issue, info: IssueInfo = info) -> None:
                    converted = self.convert(issue, edition)
                    date = info.date.isoformat() if info.date else ""
                    docs = self.search_docs(converted, edition)
                    if self.in_worker and len(docs) != len(info.articles):
                        # Numbered from the catalog's count, which an edit since has changed.
                        raise _Stale(str(info.path))
                    built.add(info.id, info.digest, date, docs)

                self.on_issue(info, add)

            def write() -> None:
                shards, files = searchindex.segment_files(name, built)
                for file_name, data in files.items():
                    path = root + file_name
                    self.produced.add(path)
                    self.writer.put(path, _key(self.base, name), data)
                    self.step(path)
                entry.update(docs=len(built.docs), shards=shards, issues=built.issues, starts=built.starts)

            self.final_tasks.append(write)
            return entry

        deleted: list[tuple[int, int]] = []
        if rebuild:
            segments = [segment("main", list(self.issues))]
        else:
            assert main is not None
            segments = [dict(main)]
            for f in list(self.writer.manifest.files):
                if f.startswith(f"{root}{main['name']}/"):
                    self.produced.add(f)
                    self.writer.keep(f)
            stale = [c.id for c in changed if c.id in main["issues"]] + removed
            deleted = sorted((int(main["issues"][i][0]), int(main["issues"][i][1])) for i in stale)
            if changed:
                segments.append(segment("delta", changed))

        def finish() -> None:
            meta_segments = [
                (s["name"], int(s["docs"]), int(s["shards"]), s["starts"]) for s in segments if s["docs"]
            ]
            zh_name, zh = _zh_table()
            zh_path = root + zh_name
            self.produced.add(zh_path)
            zh_key = _key(self.base, zh_name)
            if self.writer.fresh(zh_path, zh_key):
                self.writer.keep(zh_path)
            else:
                self.writer.put(zh_path, zh_key, zh)
            meta_name, meta = searchindex.meta_file(meta_segments, deleted, _fold_table(), zh_name)
            meta_path = root + meta_name
            self.produced.add(meta_path)
            self.writer.put(meta_path, _key(self.base, meta_name), meta)
            state_out: dict[str, Any] = {"base": self.base}
            for s in segments:
                state_out[s["name"].split("-", 1)[0]] = {
                    k: s[k] for k in ("name", "docs", "shards", "issues", "starts")
                }
            self.writer.manifest.search[edition.name or "-"] = state_out
            page = edition.root + "search.html"
            self.produced.add(page)
            page_key = _key(self.base, "search", edition.name, meta_name)
            if self.writer.fresh(page, page_key):
                self.writer.keep(page)
            else:
                self.writer.put(page, page_key, site.search_page("search/" + meta_name))

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
        for name in STATIC_FILES:
            data = static_file(self.archive.root, name)
            self.add(root + "assets/" + name, _key("static", name, _key(data)), partial(bytes, data))
        self.add(root + "404.html", _key("404", edition.name), site.not_found_page)

    def plan_legacy(self) -> None:
        """Today's outputs, kept: `ISSUE.md` for each published issue, the latest's email."""
        from ..export import email

        settings = self.settings
        for info in self.published:
            name = f"{info.id}.md"
            if self.add(name, _key("md", info.digest)):
                self.on_issue(info, partial(self.put_markdown, name))
        if self.published and not self.drafts:
            latest = self.published[-1]
            text, eml = f"email/{latest.id}.txt", f"email/{latest.id}.eml"
            if self.add(text, _key("email-text", latest.digest)):
                self.on_issue(
                    latest, lambda issue: self.put(text, email.render_text(issue, settings).encode("utf-8"))
                )
            if self.add(eml, _key("email-eml", latest.digest)):
                self.on_issue(latest, lambda issue: self.put(eml, email.render_eml(issue, settings)))

    def put_markdown(self, name: str, issue: Issue) -> None:
        from ..export import markdown

        self.put(name, markdown.render([issue], self.settings).encode("utf-8"))

    def plan_sitemap(self) -> None:
        """robots.txt and sitemap.xml (every page of every edition but share pages and 404)."""
        from xml.sax.saxutils import escape

        urls = []
        for job in sorted(self.jobs, key=lambda j: j.name):
            if job.sitemap is None:
                continue
            urls.append((site_feeds.absolute(self.settings, job.name), job.sitemap))
        body = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
        ]
        for url, lastmod in urls:
            body.append(
                f"<url><loc>{escape(url)}</loc>"
                + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "")
                + "</url>"
            )
        body.append("</urlset>")
        data = ("\n".join(body) + "\n").encode("utf-8")
        if self.add("sitemap.xml", _key("sitemap", _key(data))):
            self.writer.put("sitemap.xml", self.jobs[-1].key, data)
        robots = f"User-agent: *\nAllow: /\nSitemap: {site_feeds.absolute(self.settings, 'sitemap.xml')}\n".encode()
        if self.add("robots.txt", _key("robots", _key(robots))):
            self.writer.put("robots.txt", self.jobs[-1].key, robots)


class _Stale(Exception):
    """A worker read an issue whose article count is not the catalog's."""


# Below this many issues to read, forking workers costs more than it saves.
PARALLEL_FROM = 48


def _worker_count(issues: int) -> int:
    import os

    if issues < PARALLEL_FROM or not hasattr(os, "fork"):
        return 1
    return max(1, min(4, os.cpu_count() or 1, issues // PARALLEL_FROM))


def _values(article: ArticleInfo, kind: str) -> Iterable[str]:
    if kind == "section":
        return (article.section,)
    if kind == "source":
        return (article.source,)
    return dict.fromkeys(article.tags) if len(article.tags) > 1 else article.tags


_FOLD: dict[str, str] | None = None


_ZH: tuple[str, bytes] | None = None


def _zh_table() -> tuple[str, bytes]:
    global _ZH
    if _ZH is None:
        _ZH = searchindex.zh_file()
    return _ZH


def _fold_table() -> dict[str, str]:
    global _FOLD
    if _FOLD is None:
        _FOLD = searchindex.casefold_table()
    return _FOLD
