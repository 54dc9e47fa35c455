"""The stats page's charts: inline SVG drawn by pygal, readable without JavaScript.

pygal (Kozea) writes SVG with lxml, escaping every label; its tooltips need JavaScript,
which the site does not ship (`js=[]`): the bars, axes and legends are plain SVG. Two
things pygal adds that would make builds differ are taken out: the random chart id (set
from the chart's name) and the "generated on DATE" comment (an XML filter drops comments).
Colours come from the site's CSS custom properties, so the charts follow light and dark.
Each chart also gets a data table (stats.html), for screen readers and for copying.
"""

from __future__ import annotations

from typing import Any

from ..stats import Stats

FONT = '-apple-system, "PingFang SC", "Hiragino Sans GB", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif'
COLORS = ("#b5302a", "#2a6fb5", "#3b8a4a", "#b5832a", "#7a4ab5", "#2a9fb5", "#b52a7a", "#5a5a5a")


def _style() -> Any:
    from pygal.style import Style

    return Style(
        background="transparent",
        plot_background="transparent",
        foreground="var(--ink, #1a1a1a)",
        foreground_strong="var(--ink, #1a1a1a)",
        foreground_subtle="var(--rule, #cccccc)",
        opacity="1",
        opacity_hover="1",
        transition="none",
        colors=COLORS,
        font_family=FONT,
        label_font_size=13,
        major_label_font_size=13,
        legend_font_size=13,
        value_font_size=12,
        title_font_size=15,
    )


def _drop_comments(tree: Any) -> Any:
    """No "generated on DATE" comment, and no script (pygal's tooltip configuration)."""
    for node in tree.xpath("//comment() | //*[local-name()='script']"):
        node.getparent().remove(node)
    return tree


def _render(chart: Any, name: str, title: str) -> str:
    chart.uuid = name  # pygal's id is random otherwise
    chart.add_xml_filter(_drop_comments)
    svg: str = chart.render(is_unicode=True)
    # The page's <figure> names the chart; an <svg> also gets a label for screen readers.
    return svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(title)}" ', 1)


def _attr(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def _config(**options: Any) -> dict[str, Any]:
    return {
        "js": [],
        "disable_xml_declaration": True,
        "style": _style(),
        "width": 720,
        "height": 360,
        "explicit_size": False,
        "show_y_guides": True,
        "print_values": False,
        "margin": 8,
        "truncate_label": -1,  # names are short and Chinese: pygal would cut them to "…"
        **options,
    }


def per_month(stats: Stats, title: str) -> str:
    """Articles per month: a bar per month, labelled by year."""
    import pygal

    months = list(stats.months)
    chart = pygal.Bar(**_config(show_legend=False, x_label_rotation=0, show_minor_x_labels=False, spacing=1))
    # One label a year (January), or every month when there are few.
    few = len(months) <= 12
    chart.x_labels = [m if few else (m[:4] if m.endswith("-01") else "") for m in months]
    chart.x_labels_major = (
        chart.x_labels if few else [m[:4] for m in months if m.endswith("-01")] or months[:1]
    )
    chart.add(title, list(stats.months.values()))
    return _render(chart, "chart-months", title)


def per_section(stats: Stats, title: str) -> str:
    """Articles per section over the years: stacked bars, one colour per section."""
    import pygal

    chart = pygal.StackedBar(**_config(legend_at_bottom=True, legend_at_bottom_columns=4, x_label_rotation=0))
    chart.x_labels = list(stats.years)
    for section in stats.sections:
        chart.add(section, [stats.years[year].get(section, 0) for year in stats.years])
    return _render(chart, "chart-sections", title)


def top_sources(stats: Stats, title: str) -> str:
    """The sources with the most articles: horizontal bars, most first."""
    import pygal

    rows = list(reversed(stats.sources))
    height = max(160, 28 * len(rows) + 60)
    from ..textwrap_cjk import display_width

    widest = max((display_width(name) for name, _ in rows), default=0)
    chart = pygal.HorizontalBar(
        **_config(show_legend=False, height=height, print_values=True, margin_left=min(300, 7 * widest + 16))
    )
    chart.x_labels = [name for name, _ in rows]
    chart.add(title, [count for _, count in rows])
    return _render(chart, "chart-sources", title)
