"""`ecdigest export FORMAT`: render issues through the exporter registry."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import CONTEXT_SETTINGS, EcdigestGroup, app, state
from .output import OutputOption, emit

export_app = typer.Typer(
    cls=EcdigestGroup,
    help="Export issues as JSON, Markdown, RSS/Atom or email.\n\nExample: ecdigest export json 2023-06",
    rich_markup_mode=None,
    no_args_is_help=True,
    context_settings=CONTEXT_SETTINGS,
)
app.add_typer(export_app, name="export")


@export_app.command("json")
def export_json(
    ctx: typer.Context,
    issue: Annotated[
        str | None, typer.Argument(metavar="[ISSUE]", help="Issue id (default: the latest published issue).")
    ] = None,
    *,
    all_issues: Annotated[bool, typer.Option("--all", help="Every issue, as a JSON array.")] = False,
    output: OutputOption = "-",
) -> None:
    """Print an issue (or --all issues) as JSON, the stable machine interface.

    Example: ecdigest export json 2023-06 -o 2023-06.json
    """
    from .. import export
    from ..errors import UsageError

    archive = state(ctx).archive()
    renderer = export.get("json")
    if all_issues:
        if issue:
            raise UsageError("give an ISSUE or --all, not both")
        emit(renderer.render([i.issue for i in archive.issues()], archive.settings, as_list=True), output)
        return
    item = archive.resolve(issue, default_status="published")
    emit(renderer.render([item.issue], archive.settings), output)
