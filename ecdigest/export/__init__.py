"""Exporters: pure renderers found through one registry.

Each format is a module with `NAME`, `EXTENSION`, `MEDIA_TYPE` and a pure
`render(issues, settings, **options) -> str | bytes`; the CLI decides where the bytes go.
Modules are imported only when their format is asked for (feedgen/lxml are slow to load).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import UsageError

# format name -> module (relative to this package)
REGISTRY: dict[str, str] = {
    "json": ".jsonout",
    "text": ".text",
    "markdown": ".markdown",
    "rss": ".rss",
    "email": ".email",
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
