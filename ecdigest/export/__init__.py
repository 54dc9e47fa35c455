"""Exporters: pure renderers found through one registry.

Each format is a module with `NAME`, `EXTENSION`, `MEDIA_TYPE` and a pure
`render(issues, settings, **options) -> str | bytes`; the CLI decides where the bytes go.
Modules are imported only when their format is asked for (feedgen/lxml are slow to load).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType

from ..errors import UsageError

TYPE_CHECKING = False  # not `typing`'s: show never imports typing
if TYPE_CHECKING:
    from typing import Any

    from ..model import Issue, Newsletter

# format name -> module (relative to this package)
REGISTRY: dict[str, str] = {
    "json": ".jsonout",
    "text": ".text",
    "markdown": ".markdown",
    "rss": ".rss",
    "email": ".email",
    "wechat": ".wechat",
}


def get(name: str) -> ModuleType:
    """The exporter module for `name`; UsageError names the known formats."""
    try:
        module_name = REGISTRY[name]
    except KeyError:
        raise UsageError(
            f"unknown export format {name!r}", hint=f"known formats: {', '.join(sorted(REGISTRY))}"
        ) from None
    return importlib.import_module(module_name, __name__)


def render(
    name: str, issues: Sequence[Issue], settings: Newsletter, *, script: str | None = None, **options: Any
) -> str | bytes:
    """Render `issues` with the exporter `name`, as the edition `script` (None: the
    archive's own text): the one path every export takes, so each format converts alike."""
    from ..editions import for_edition

    converted, edition_settings = for_edition(issues, settings, script)
    result: str | bytes = get(name).render(converted, edition_settings, **options)
    return result
