"""`ecdigest stats` (the archive's figures in a terminal) and `ecdigest serve` (a preview of
the web archive, drafts included, rebuilt on every change)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer

from ..terminal import stdout_is_terminal
from .app import app, state
from .output import FormatOption, TextOrJson, emit_json, note, write_stdout

if TYPE_CHECKING:
    from http.server import ThreadingHTTPServer
    from pathlib import Path

    from ..stats import Stats

BAR_WIDTH = 40
LONG_SPAN_MONTHS = 36


def _date_option(value: str | None, name: str, timezone: str) -> dt.date | None:
    if value is None:
        return None
    from ..dates import parse_date
    from ..errors import UsageError

    try:
        return parse_date(value, tz=timezone)
    except UsageError as exc:
        raise UsageError(f"{name}: {exc.message}", hint=exc.hint) from None


@app.command()
def stats(
    ctx: typer.Context,
    *,
    since: Annotated[
        str | None, typer.Option(metavar="DATE", help="Only issues dated on or after DATE.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(metavar="DATE", help="Only issues dated on or before DATE.")
    ] = None,
    section: Annotated[
        list[str] | None,
        typer.Option("--section", metavar="NAME", help="Count only this section (repeatable)."),
    ] = None,
    top: Annotated[int, typer.Option(min=1, max=1000, help="How many top sources to list.")] = 20,
    format: FormatOption = TextOrJson.text,
) -> None:
    """The archive's figures: articles per month, per section per year, the top sources.

    Example: ecdigest stats --since 2023-01-01 --section 行业资讯

    Counts the published issues (by the issue's date); the same figures as the site's
    stats page. Bars on a terminal, plain text on a pipe, --format json for scripts.
    """
    from ..stats import archive_stats

    archive = state(ctx).archive()
    tz = archive.settings.timezone
    result = archive_stats(
        archive,
        since=_date_option(since, "--since", tz),
        until=_date_option(until, "--until", tz),
        sections=section or (),
        top=top,
    )
    if format is TextOrJson.json:
        emit_json(result.to_dict())
        return
    if stdout_is_terminal():
        _rich(result)
    else:
        write_stdout(render_text(result))


def _bar(value: int, largest: int) -> str:
    if largest <= 0 or value <= 0:
        return ""
    return "█" * max(1, round(value * BAR_WIDTH / largest))


def _periods(result: Stats) -> tuple[str, list[tuple[str, int]]]:
    """Months, or years when the range is long (the JSON always has the months)."""
    if len(result.months) <= LONG_SPAN_MONTHS:
        return "articles per month", list(result.months.items())
    years: dict[str, int] = {}
    for month, count in result.months.items():
        years[month[:4]] = years.get(month[:4], 0) + count
    return "articles per year", list(years.items())


def render_text(result: Stats) -> str:
    """The figures as plain text (bars of █ scaled to the largest value)."""
    from ..terminal import plain_table

    span = f", {result.first} – {result.last}" if result.first and result.last else ""
    lines = [
        f"{result.issues} published issue{'s' if result.issues != 1 else ''}, {result.articles:,} articles{span}"
    ]
    if not result.articles:
        return lines[0] + "\n"
    title, periods = _periods(result)
    largest = max(count for _, count in periods)
    lines += ["", title]
    lines += [f"{label}  {count:>6,}  {_bar(count, largest)}" for label, count in periods]
    text = "\n".join(lines) + "\n\narticles per section per year\n"
    text += plain_table(
        ["year", *result.sections],
        [[y, *(f"{row.get(s, 0):,}" for s in result.sections)] for y, row in result.years.items()],
    )
    largest = max((n for _, n in result.sources), default=0)
    text += "\ntop sources\n"
    text += plain_table(
        ["source", "articles", ""], [[name, f"{n:,}", _bar(n, largest)] for name, n in result.sources]
    )
    return text


def _rich(result: Stats) -> None:
    from rich.bar import Bar
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from ..terminal import printable

    console = Console()
    span = f", {result.first} – {result.last}" if result.first and result.last else ""
    console.print(
        f"[bold]{result.issues}[/] published issues, [bold]{result.articles:,}[/] articles{escape(span)}"
    )
    if not result.articles:
        return
    title, periods = _periods(result)
    largest = max(count for _, count in periods)
    grid = Table(title=title, show_header=False, box=None)
    grid.add_column(justify="left")
    grid.add_column(justify="right")
    grid.add_column(width=BAR_WIDTH)
    for label, count in periods:
        grid.add_row(label, f"{count:,}", Bar(largest, 0, count, color="red"))
    console.print(grid)
    sections = Table(
        "year", *(escape(printable(s, one_line=True)) for s in result.sections), title="per section"
    )
    for year, row in result.years.items():
        sections.add_row(year, *(f"{row.get(s, 0):,}" for s in result.sections))
    console.print(sections)
    largest = max((n for _, n in result.sources), default=1)
    sources = Table("source", "articles", "", title="top sources")
    for name, count in result.sources:
        sources.add_row(
            escape(printable(name, one_line=True)), f"{count:,}", Bar(largest, 0, count, color="blue")
        )
    console.print(sources)


@app.command()
def serve(
    ctx: typer.Context,
    *,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0: any free port).")] = 8000,
    interval: Annotated[float, typer.Option(min=0.2, help="Seconds between checks for changes.")] = 1.0,
) -> None:
    """Preview the web archive on http://127.0.0.1:PORT/, drafts included, rebuilt on change.

    Example: ecdigest serve --port 8000

    Builds the site with the drafts (each under a 草稿 banner) into a temporary folder,
    never into site/, and serves it on 127.0.0.1 only. Every INTERVAL seconds it looks at
    the issue files, ecdigest.toml and ARCHIVE/templates/; on a change it rebuilds what
    changed (validation problems are printed, not fatal). Ctrl-C stops it.
    """
    import tempfile
    from pathlib import Path

    archive = state(ctx).archive()
    with tempfile.TemporaryDirectory(prefix="ecdigest-preview-") as folder:
        out = Path(folder) / "site"
        _preview(archive, out)
        server, url = _serve(out, port)
        write_stdout(f"serving {url} (drafts included; Ctrl-C to stop)\n")
        import sys

        sys.stdout.flush()
        try:
            _watch(archive.root, out, interval, ctx)
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown()
            server.server_close()


def _preview(archive: object, out: Path) -> None:
    from ..archive import Archive, open_archive
    from ..build import build
    from ..errors import EcdigestError

    assert isinstance(archive, Archive)
    try:
        fresh = open_archive(archive.root)  # the settings may have changed
        result = build(fresh, out, drafts=True, validate=False, force=True)
    except EcdigestError as exc:
        note(f"ecdigest: error: {exc} (the preview keeps its last good state)")
        return
    if result.written or result.removed:
        note(f"rebuilt: {len(result.written)} written, {len(result.removed)} removed")


def _serve(out: Path, port: int) -> tuple[ThreadingHTTPServer, str]:
    import functools
    import http.server
    import threading

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            page = out / "404.html"
            if code == 404 and page.is_file():
                data = page.read_bytes()
                self.send_response(404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            super().send_error(code, message, explain)

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(Handler, directory=str(out))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def _stamp(root: Path) -> tuple[tuple[str, int, int], ...]:
    """What a rebuild depends on, by size and mtime: issue files, settings, templates."""
    import os

    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if name.startswith("."):
                continue
            path = os.path.join(folder, name)
            try:
                info = os.stat(path)
            except OSError:
                continue
            found.append((path, info.st_size, info.st_mtime_ns))
    return tuple(sorted(found))


def _watch(root: Path, out: Path, interval: float, ctx: typer.Context) -> None:
    import time

    last = _stamp(root)
    while True:
        time.sleep(interval)
        now = _stamp(root)
        if now != last:
            last = now
            _preview(state(ctx).archive(), out)
