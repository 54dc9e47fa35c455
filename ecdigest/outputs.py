"""Where outputs may be written: the one check behind `export … -o FILE` and `build -o DIR`.

Every output path goes through here, for every command that writes one:

- `-o ''` is a usage error (an empty name is not "the current folder");
- a symlink is written through: its target gets the new bytes, the link stays
  (`fileio.write_target`, the rule every write in ecdigest follows);
- a FIFO, socket, device or folder at the path is refused before it is opened, so an
  output never hangs on a FIFO and never replaces a device with a regular file
  (`-o -` and a shell redirection write to stdout, `/dev/null` included);
- the archive's own files are refused, wherever the path (or its link) leads:
  `ecdigest.toml`, `.gitignore`, any `.toml` file in it (the reader takes each for an
  issue), and `.ecdigest/` (`Archive.owns`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import UsageError, WriteError
from .fileio import special_kind, write_if_changed, write_target

if TYPE_CHECKING:
    from .archive import Archive


def output_file(value: str | Path, archive: Archive | None, *, option: str = "-o") -> Path:
    """The file that writing the output `value` replaces, after every check above."""
    if str(value) == "":
        raise UsageError(f"{option} needs a file name", hint=f"give {option} FILE, or {option} - for stdout")
    path = Path(value)
    target = write_target(path)
    if archive is not None:
        reason = archive.owns(target)
        if reason is not None:
            shown = path if target == path else f"{path} (a link to {target})"
            raise WriteError(
                f"{reason}; refusing to overwrite it with output", path=shown, hint=f"choose another {option}"
            )
    return target


def write_output(value: str | Path, data: bytes, archive: Archive | None) -> bool:
    """Write `data` to the output `value` atomically, only if it changed; True if written."""
    return write_if_changed(output_file(value, archive), data)


def output_folder(value: str | Path, archive: Archive | None, *, option: str = "-o") -> Path:
    """The folder a site is built in, checked: a folder (or nothing yet), not the archive's."""
    if str(value) == "":
        raise UsageError(f"{option} needs a folder name", hint=f"give {option} DIR")
    path = Path(value)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise WriteError(f"cannot use it: {exc.strerror}", path=path) from None
    if mode is not None and not stat.S_ISDIR(mode):
        raise WriteError(
            f"is {special_kind(mode) or 'a file'}, not a folder",
            path=path,
            hint=f"choose another {option} DIR",
        )
    if archive is not None:
        reason = archive.owns(path)
        if reason is not None:
            raise WriteError(
                f"{reason}; refusing to build the site there", path=path, hint=f"choose another {option} DIR"
            )
    return path
