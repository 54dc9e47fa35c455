"""Finding the archive, as git finds its repository: the one resolver every entry path uses.

`--archive PATH`, else `$ECDIGEST_ARCHIVE`, else the nearest folder upward from the current
one that holds `ecdigest.toml`, else `./issues`. The Typer app (`archive.resolve_root`),
the launcher's fast paths (`list`, `search`, completion) and search all ask here, so an
editor working inside `issues/2023/` reaches the same archive from every command.

Kept free of imports beyond `os`: the fast paths pay for every module they load.
"""

from __future__ import annotations

import os

ENV_VAR = "ECDIGEST_ARCHIVE"
DEFAULT_DIR = "issues"
SETTINGS_FILE = "ecdigest.toml"


def archive_root(option: str | os.PathLike[str] | None = None) -> str:
    """The archive folder: the option, the environment, the nearest archive upward, `issues`.

    A folder found upward is given relative to the current one (`..`, `.`), so the paths
    in messages read from where the editor stands, as git prints them.
    """
    if option is not None and os.fspath(option) != "":
        return os.fspath(option)
    value = os.environ.get(ENV_VAR)
    if value:
        return value
    found = nearest_archive()
    return found if found is not None else DEFAULT_DIR


def nearest_archive() -> str | None:
    """The nearest folder upward from the current one (itself included) holding
    `ecdigest.toml` as a file, relative to the current folder; None when there is none."""
    try:
        here = os.getcwd()
    except OSError:  # the current folder was deleted
        return None
    folder = here
    while True:
        if os.path.isfile(os.path.join(folder, SETTINGS_FILE)):
            return os.path.relpath(folder, here)
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
