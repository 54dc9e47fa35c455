"""The site's pages as bytes: Jinja2 templates (shipped in `ecdigest/site/templates/`,
overridable per archive from `ARCHIVE/templates/`, the way Hugo and Pelican themes are)
fed with plain view objects built here.

Trust: templates are the editors' code (like `ecdigest.toml`); article text never is.
Autoescaping is on for every template, and no article field is ever marked safe: the only
markup that reaches a page unescaped is the charts' SVG, which pygal builds with lxml from
escaped text (site/charts.py).

Every fixed piece of text goes through `t()` (the edition's script), every link through
`link()` (relative to the page being rendered, percent-encoded), so one template serves the
original and each Traditional edition, on a server or opened from a disk.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..counting import Count, count_article
from ..dates import format_cn
from ..export.common import attribution, issue_title, one_line, paragraphs, section_anchors, title_of, web_url
from ..model import Article, Issue, Newsletter
from .base import PACKAGE_TEMPLATES, template_dirs, templates_digest
from .corpus import ArticleInfo, IssueInfo
from .names import href, issue_path, key, name_path, slug

if TYPE_CHECKING:
    import jinja2


# Index: this many newest issues in full, then the years.
INDEX_ISSUES = 12
# A name's page lists this many articles; more go to its pages per year.
NAME_PAGE_ARTICLES = 100
FIRST_TITLES = 3

NAV = (
    ("index.html", "首页"),
    ("sections.html", "栏目"),
    ("sources.html", "来源"),
    ("tags.html", "标签"),
    ("stats.html", "统计"),
    ("search.html", "搜索"),
)
KIND_LABELS = {"section": "栏目", "source": "来源", "tag": "标签"}
FEED_FILES = {"rss": "feed.xml", "atom": "atom.xml", "json": "feed.json"}


# --------------------------------------------------------------------------- templates


# One environment per state of the templates: Jinja compiles a template once per
# environment (~0.2 s for email.html and its partials), and the email's HTML part is
# rendered several times per message (the clipping search), the site's pages many more.
_ENVIRONMENTS: dict[tuple[str, str], jinja2.Environment] = {}


def environment(archive_root: Path | None) -> jinja2.Environment:
    """The Jinja environment for `archive_root`'s templates, shared while they stay the
    same (keyed by their digest, so `serve` and tests that edit them get a fresh one)."""
    key = (str(archive_root), templates_digest(archive_root))
    env = _ENVIRONMENTS.get(key)
    if env is None:
        if len(_ENVIRONMENTS) >= 8:
            _ENVIRONMENTS.clear()
        env = _ENVIRONMENTS[key] = _new_environment(archive_root)
    return env


def _new_environment(archive_root: Path | None) -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(archive_root)]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # a build renders from one state of the templates (in its digest)
    )


# --------------------------------------------------------------------------- views


def _date(value: dt.date | None) -> str:
    return format_cn(value) if value else ""


def section_name(settings: Newsletter, name: str, t: Callable[[str], str]) -> str:
    return one_line(name) or t("未分类")


@dataclass
class Edition:
    """One edition of the site: its settings (converted), where it lives, how it converts."""

    name: str  # "" for the archive's own text
    settings: Newsletter
    root: str  # "" or "zh-Hant-TW/"
    label: str
    convert: Callable[[str], str]

    @cached_property
    def labels(self) -> dict[str, str]:
        return {}

    def t(self, text: str) -> str:
        cached = self.labels.get(text)
        if cached is None:
            cached = self.labels[text] = self.convert(text) if self.name else text
        return cached


def make_editions(settings: Newsletter, names: Sequence[str]) -> list[Edition]:
    """The original and every configured edition, in that order."""
    from ..editions import convert_settings
    from ..zhconv import SOURCE_SCRIPT, converter, get_edition

    editions = [Edition("", settings, "", "简体中文", lambda text: text)]
    for name in names:
        if name == SOURCE_SCRIPT:
            continue
        convert = converter(name, settings.protected_terms).convert
        memo: dict[str, str] = {}

        def cached(text: str, convert: Callable[[str], str] = convert, memo: dict[str, str] = memo) -> str:
            found = memo.get(text)
            if found is None:
                found = memo[text] = convert(text)
            return found

        editions.append(
            Edition(
                name, convert_settings(settings, name, convert), f"{name}/", get_edition(name).label, cached
            )
        )
    return editions


@dataclass
class ArticleView:
    id: str
    title: str
    paragraphs: list[str]
    source: str
    source_page: str | None
    compiled_by: str | None
    date: str
    date_iso: str
    url: str | None
    words: str
    tags: list[dict[str, str]]
    labels: dict[str, str]
    share_page: str | None = None


@dataclass
class SectionView:
    name: str
    anchor: str
    page: str | None
    first_number: int
    articles: list[ArticleView] = field(default_factory=list)


@dataclass
class IssueView:
    id: str
    title: str
    date: str
    date_iso: str
    summary: str
    sections: list[SectionView]
    previous: dict[str, str] | None = None
    next: dict[str, str] | None = None


def words_text(t: Callable[[str], str], words: int, minutes: int) -> str:
    return f"{words:,} {t('字')} · {t('约')} {minutes} {t('分钟')}"


def issue_view(
    issue: Issue,
    edition: Edition,
    *,
    previous: IssueInfo | None = None,
    following: IssueInfo | None = None,
    share_pages: bool = True,
) -> IssueView:
    """What an issue's page (or the email's HTML part) shows; `issue` already converted."""
    settings, t = edition.settings, edition.t
    groups = list(issue.by_section(settings.sections))
    anchors = section_anchors([name for name, _ in groups], {a.id for a in issue.articles})
    labels = {"source": t("来源"), "compiled_by": t("编选")}
    sections: list[SectionView] = []
    number = 1
    total = Count()
    for name, articles in groups:
        shown = section_name(settings, name, t)
        view = SectionView(shown, anchors[name], name_path("section", name) if key(name) else None, number)
        for article in articles:
            count = count_article(article)
            total += count
            view.articles.append(article_view(article, edition, labels, count, share_pages=share_pages))
        number += len(articles)
        sections.append(view)
    counts = "，".join(f"{section.name} {len(section.articles)} {t('篇')}" for section in sections)
    summary = f"{t('共')} {len(issue.articles)} {t('篇')}" + (f"（{counts}）" if counts else "")
    summary += " · " + words_text(t, total.words, total.minutes)
    return IssueView(
        id=issue.id,
        title=issue_title(issue, settings),
        date=_date(issue.date),
        date_iso=issue.date.isoformat() if issue.date else "",
        summary=summary,
        sections=sections,
        previous=_neighbour(previous, edition),
        next=_neighbour(following, edition),
    )


def _neighbour(info: IssueInfo | None, edition: Edition) -> dict[str, str] | None:
    if info is None:
        return None
    title = edition.convert(one_line(info.title)) or f"{edition.settings.title} {info.id}"
    return {"page": issue_path(edition.settings, info.id), "title": title}


def article_view(
    article: Article, edition: Edition, labels: dict[str, str], count: Count, *, share_pages: bool = True
) -> ArticleView:
    t = edition.t
    source = one_line(article.source)
    return ArticleView(
        id=article.id,
        title=title_of(article),
        paragraphs=paragraphs(article),
        source=source or "?",
        source_page=name_path("source", source) if key(source) else None,
        compiled_by=one_line(article.compiled_by) if article.compiled_by else None,
        date=_date(article.date),
        date_iso=article.date.isoformat() if article.date else "",
        url=web_url(article.url),
        words=words_text(t, count.words, count.minutes),
        tags=[
            {"name": one_line(tag), "page": name_path("tag", tag)}
            for tag in dict.fromkeys(article.tags)
            if key(tag)
        ],
        labels=labels,
        share_page=share_path(article.id) if share_pages else None,
    )


def share_path(article_id: str) -> str:
    return f"a/{article_id}.html"


def issue_row(info: IssueInfo, edition: Edition) -> dict[str, Any]:
    """An issue in a list: title, date, articles per section, the first few titles."""
    settings, t, convert = edition.settings, edition.t, edition.convert
    counts: dict[str, int] = {}
    for article in info.articles:
        counts[article.section] = counts.get(article.section, 0) + 1
    order = [s for s in settings.sections if s in counts] + [s for s in counts if s not in settings.sections]
    parts = [f"{section_name(settings, convert(name), t)} {counts[name]}" for name in order]
    summary = f"{t('共')} {len(info.articles)} {t('篇')}" + (f"：{'，'.join(parts)}" if parts else "")
    return {
        "page": issue_path(settings, info.id),
        "title": convert(one_line(info.title)) or f"{settings.title} {info.id}",
        "date": _date(info.date),
        "date_iso": info.date.isoformat() if info.date else "",
        "summary": summary,
        "draft": info.is_draft,
        "first_titles": [
            {"id": a.id, "title": convert(one_line(a.title)) or a.id} for a in info.articles[:FIRST_TITLES]
        ],
    }


def article_row(article: ArticleInfo, info: IssueInfo, edition: Edition) -> dict[str, Any]:
    convert, t = edition.convert, edition.t
    when = info.date or article.date
    return {
        "id": article.id,
        "issue_page": issue_path(edition.settings, info.id),
        "title": convert(one_line(article.title)) or article.id,
        "date": _date(when),
        "date_iso": when.isoformat() if when else "",
        "section": section_name(edition.settings, convert(article.section), t),
        "source": convert(one_line(article.source)),
    }


# --------------------------------------------------------------------------- pages


@dataclass
class Site:
    """Renders pages of one edition. `editions`: all of them (the language switcher)."""

    env: jinja2.Environment
    edition: Edition
    editions: list[Edition]
    draft: bool = False
    cards: ShareCard | None = None  # the shipped share.html's fast form (None: Jinja)
    cards_known: bool = False
    # (issue id, its page, its page's URL + "#") of the cards being written
    _share_target: tuple[str, str, str] = ("", "", "")

    def context(
        self, path: str, *, title: str, description: str, nav: str = "", **extra: Any
    ) -> dict[str, Any]:
        """The shell's variables for the page at `path` (edition-relative)."""
        edition = self.edition
        settings = edition.settings
        full = edition.root + path

        def link(target: str, fragment: str = "") -> str:
            return href(full, edition.root + target, fragment)

        feeds = [
            {
                "type": "application/rss+xml",
                "title": f"{settings.title} (RSS)",
                "href": link(FEED_FILES["rss"]),
            },
            {
                "type": "application/atom+xml",
                "title": f"{settings.title} (Atom)",
                "href": link(FEED_FILES["atom"]),
            },
            {
                "type": "application/feed+json",
                "title": f"{settings.title} (JSON Feed)",
                "href": link(FEED_FILES["json"]),
            },
        ]
        feeds += extra.pop("extra_feeds", [])
        page = {
            "self": path,
            "title": title,
            "description": description,
            "canonical": self.absolute(path),
            "og_type": extra.pop("og_type", "website"),
            "feeds": feeds,
            "nav": nav,
        }
        counterpart = extra.pop("counterpart", None)
        editions = []
        if len(self.editions) > 1:
            for other in self.editions:
                other_path = counterpart(other) if counterpart else path
                editions.append(
                    {
                        "lang": settings_language(other),
                        "label": other.label,
                        "current": other is edition,
                        "href": href(full, other.root + other_path),
                        "url": _absolute(other.settings, other_path),
                    }
                )
        site = {
            "title": settings.title,
            "description": settings.description,
            "lang": settings.language or "zh-CN",
            "locale": (settings.language or "zh-CN").replace("-", "_"),
            "editions": editions,
            "nav": [{"path": p, "label": label} for p, label in NAV],
            "feeds": FEED_FILES,
        }
        return {"site": site, "page": page, "link": link, "t": edition.t, "draft": self.draft, **extra}

    def absolute(self, path: str) -> str:
        return _absolute(self.edition.settings, path)

    def render(self, template: str, context: dict[str, Any]) -> bytes:
        return self.env.get_template(template).render(context).encode("utf-8")

    # -------------------------------------------------------------- one page each

    def issue_page(self, issue: Issue, previous: IssueInfo | None, following: IssueInfo | None) -> bytes:
        edition = self.edition
        view = issue_view(issue, edition, previous=previous, following=following)
        path = issue_path(edition.settings, issue.id)
        first = next((p for a in issue.articles for p in paragraphs(a)), "")
        description = _clip_line(first) or view.summary
        context = self.context(
            path,
            title=f"{view.title} · {edition.settings.title}"
            if edition.settings.title not in view.title
            else view.title,
            description=description,
            og_type="article",
            issue=view,
        )
        return self.render("issue.html", context)

    def share_page(self, issue: Issue, article: Article) -> bytes:
        """The article's card (share.html): a small page, so its context is built here and
        not by `context()` (no navigation, no feeds; a cold build writes one per article,
        through `ShareCard` when the template is the shipped one)."""
        edition = self.edition
        settings = edition.settings
        path = share_path(article.id)
        target = self._share_target
        if target[0] != issue.id:  # an issue's cards are written one after the other
            page = issue_path(settings, issue.id)
            target = self._share_target = (issue.id, page, self.absolute(page) + "#")
        _, target_page, target_url = target
        found = paragraphs(article)
        language = settings.language or "zh-CN"
        context = {
            "site": {"title": settings.title, "lang": language, "locale": language.replace("-", "_")},
            "page": {
                "title": title_of(article),
                "description": (_clip_line(found[0]) if found else "") or attribution(article, settings),
                "canonical": self.absolute(path),
                "target": href(edition.root + path, edition.root + target_page, article.id),
                "target_url": target_url + article.id,
                "published": issue.date.isoformat() if issue.date else "",
            },
        }
        if not self.cards_known:
            self.cards, self.cards_known = ShareCard.of(self.env), True
        if self.cards is not None:
            return self.cards.render(context)
        return self.render("share.html", context)

    def index_page(
        self, path: str, rows: list[IssueInfo], years: list[tuple[int, int]], *, year: int | None
    ) -> bytes:
        edition = self.edition
        t = edition.t
        if year is None:
            heading = edition.settings.title
            list_heading = t("最新各期")
            title = edition.settings.title
        else:
            heading = f"{year} {t('年各期')}"
            list_heading = heading
            title = f"{heading} · {edition.settings.title}"
        context = self.context(
            path,
            title=title,
            description=edition.settings.description,
            nav="index.html" if year is None else "",
            heading=heading,
            intro=edition.settings.description if year is None else "",
            list_heading=list_heading,
            issues=[issue_row(info, edition) for info in reversed(rows)],
            years=[
                {"page": year_path(y), "label": f"{y} {t('年')}", "count": f"{n} {t('期')}"} for y, n in years
            ],
        )
        return self.render("index.html", context)

    def names_page(self, kind: str, names: list[tuple[str, int]]) -> bytes:
        """All sections, sources or tags with their article counts."""
        edition, t = self.edition, self.edition.t
        path = names_index_path(kind)
        label = t(KIND_LABELS[kind])
        context = self.context(
            path,
            title=f"{label} · {edition.settings.title}",
            description=f"{edition.settings.title}{t('的全部')}{label}",
            nav=path,
            heading=label,
            intro=f"{len(names)} {t('个')}{label}",
            names=[
                {"name": name, "page": name_path(kind, name), "count": f"{count} {t('篇')}"}
                for name, count in names
            ],
        )
        return self.render("names.html", context)

    def name_page(
        self,
        kind: str,
        name: str,
        path: str,
        articles: Collection[tuple[ArticleInfo, IssueInfo]],
        *,
        total: int,
        years: list[tuple[int, int]],
        variants: list[str],
        year: int | None,
        counterpart: Callable[[Edition], str] | None = None,
    ) -> bytes:
        """A section's, source's or tag's articles (newest first, grouped by year)."""
        edition, t = self.edition, self.edition.t
        label = t(KIND_LABELS[kind])
        groups: list[dict[str, Any]] = []
        for article, info in articles:
            y = info.year or (article.date.year if article.date else 0)
            if not groups or groups[-1]["year"] != y:
                groups.append({"year": y, "label": f"{y} {t('年')}" if y else t("无日期"), "articles": []})
            groups[-1]["articles"].append(article_row(article, info, edition))
        heading = f"{label}：{name}" + (f" · {year} {t('年')}" if year else "")
        feeds = []
        extra_feeds = []
        if kind == "section" and year is None:
            base = path[: -len(".html")]
            feeds = [
                {"label": "RSS", "href": href(edition.root + path, edition.root + base + ".xml")},
                {"label": "Atom", "href": href(edition.root + path, edition.root + base + ".atom.xml")},
            ]
            extra_feeds = [
                {"type": "application/rss+xml", "title": f"{name} (RSS)", "href": feeds[0]["href"]},
                {"type": "application/atom+xml", "title": f"{name} (Atom)", "href": feeds[1]["href"]},
            ]
        base = path[: -len(".html")] if year is None else path.rsplit("/", 1)[0]
        context = self.context(
            path,
            title=f"{heading} · {edition.settings.title}",
            description=f"{edition.settings.title}：{label}「{name}」{t('共')} {total} {t('篇')}",
            heading=heading,
            intro=f"{t('共')} {total} {t('篇')}"
            + (
                f"，{t('这里是最新的')} {len(articles)} {t('篇')}"
                if year is None and len(articles) < total
                else ""
            ),
            feeds=feeds,
            extra_feeds=extra_feeds,
            variants=variants,
            groups=groups,
            show_section=kind != "section",
            show_source=kind != "source",
            years=[
                {"page": f"{base}/{y}.html", "label": f"{y} {t('年')}", "count": f"{n} {t('篇')}"}
                for y, n in years
            ],
            counterpart=counterpart,
        )
        return self.render("name.html", context)

    def stats_page(self, charts: list[dict[str, Any]], intro: str) -> bytes:
        edition, t = self.edition, self.edition.t
        context = self.context(
            "stats.html",
            title=f"{t('统计')} · {edition.settings.title}",
            description=intro,
            nav="stats.html",
            heading=t("统计"),
            intro=intro,
            charts=charts,
        )
        return self.render("stats.html", context)

    def search_page(self, index_meta: str) -> bytes:
        edition, t = self.edition, self.edition.t
        context = self.context(
            "search.html",
            title=f"{t('搜索')} · {edition.settings.title}",
            description=f"{t('搜索')}{edition.settings.title}",
            nav="search.html",
            index_meta=index_meta,
        )
        return self.render("search.html", context)

    def not_found_page(self) -> bytes:
        edition, t = self.edition, self.edition.t
        context = self.context(
            "404.html",
            title=f"{t('找不到这一页')} · {edition.settings.title}",
            description=edition.settings.description,
        )
        context["page"]["canonical"] = ""  # a 404 answers for many addresses
        return self.render("404.html", context)


class ShareCard:
    """share.html without Jinja: the shipped template renders to fixed text around its
    values, so it is rendered once with a marker for each value (and once for each way its
    one condition, `page.published`, can go), cut at the markers, and each card is that
    text with the card's values escaped as autoescaping escapes them. 55,000 cards are
    most of a cold build's files; this makes each a few string joins. An archive's own
    share.html is rendered by Jinja (it may do anything with the values); the shipped one
    is checked against Jinja on the hostile corpus (tests/test_site.py)."""

    FIELDS = (
        ("site", "title"),
        ("site", "lang"),
        ("site", "locale"),
        ("page", "title"),
        ("page", "description"),
        ("page", "canonical"),
        ("page", "target"),
        ("page", "target_url"),
        ("page", "published"),
    )

    def __init__(self, env: jinja2.Environment) -> None:
        template = env.get_template("share.html")
        self.forms: dict[bool, list[tuple[str, int]]] = {}
        for published in (True, False):
            context: dict[str, dict[str, str]] = {"site": {}, "page": {}}
            for number, (group, name) in enumerate(self.FIELDS):
                context[group][name] = f"\x00{number}\x00"
            if not published:
                context["page"]["published"] = ""
            text = template.render(context)
            pieces = text.split("\x00")
            form = [(pieces[0], -1)]
            for marker, literal in zip(pieces[1::2], pieces[2::2], strict=True):
                form.append((literal, int(marker)))
            self.forms[published] = form

    @classmethod
    def of(cls, env: jinja2.Environment) -> ShareCard | None:
        """The fast form for the shipped share.html, else None (render with Jinja)."""
        if env.loader is None:
            return None
        _, filename, _ = env.loader.get_source(env, "share.html")
        if filename is None or Path(filename).resolve() != (PACKAGE_TEMPLATES / "share.html").resolve():
            return None
        return cls(env)

    def render(self, context: dict[str, dict[str, str]]) -> bytes:
        from markupsafe import escape

        values = [str(escape(context[group][name])) for group, name in self.FIELDS]
        form = self.forms[bool(context["page"]["published"])]
        out = [form[0][0]]
        for literal, number in form[1:]:
            out.append(values[number])
            out.append(literal)
        return "".join(out).encode("utf-8")


def fragment_context(issue: Issue, settings: Newsletter) -> dict[str, Any]:
    """What `partials/issue.html` needs, with absolute links (an email has no "here"):
    `issue` (the IssueView), `t` and `link`. `issue` and `settings` as the edition prints
    them (editions.for_edition)."""
    edition = Edition(settings.edition, settings, "", settings.edition or "", lambda text: text)
    if settings.edition:
        from ..editions import label

        edition.t = lambda text: label(settings, text)  # type: ignore[method-assign]

    def link(target: str, fragment: str = "") -> str:
        return _absolute(settings, target) + ("#" + fragment if fragment else "")

    view = issue_view(issue, edition, share_pages=False)
    return {"issue": view, "t": edition.t, "link": link}


def issue_fragment(issue: Issue, settings: Newsletter, *, archive_root: Path | None = None) -> str:
    """The issue's content as the web page shows it (contents by section, every article
    with its attribution line, url and tags), as an HTML fragment whose links are absolute:
    the seam for the email's HTML part. The email template (`email.html`, export/mailhtml.py)
    imports the same partial (`partials/issue.html`, overridable per archive) with the same
    context (`fragment_context`) and inlines the CSS itself."""
    env = environment(archive_root)
    template = env.from_string(
        '{% import "partials/issue.html" as content with context %}{{ content.body(issue) }}'
    )
    return template.render(fragment_context(issue, settings))


def settings_language(edition: Edition) -> str:
    return edition.settings.language or "zh-CN"


def _absolute(settings: Newsletter, path: str) -> str:
    from ..export.common import uri

    link = settings.link if settings.link.endswith("/") else settings.link + "/"
    if _PLAIN_PATH.fullmatch(path):
        # uri(link + path), made from uri(link), which stays in uri's cache: a path of
        # unreserved ASCII and "/" after a link ending in "/" is left as it is by every step
        # of uri (one_line, the host's IDNA, quote), and changes none of them for the link
        # (a cold build asks for ~110,000 share pages' and issue pages' URLs, each new;
        # tests/test_site.py compares both ways for hostile links and paths).
        return uri(link) + path
    return uri(link + path)


_PLAIN_PATH = re.compile(r"[A-Za-z0-9._~/-]+")


def _clip_line(text: str, limit: int = 110) -> str:
    """A description: a paragraph's line (from `paragraphs()`, which one_line answers
    unchanged: tests/test_site.py; asking it was a miss of its cache for every paragraph),
    cut to `limit` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def year_path(year: int) -> str:
    return f"year/{year}.html"


def names_index_path(kind: str) -> str:
    return {"section": "sections.html", "source": "sources.html", "tag": "tags.html"}[kind]


__all__ = [
    "Edition",
    "IssueView",
    "Site",
    "environment",
    "issue_view",
    "make_editions",
    "slug",
    "templates_digest",
]
