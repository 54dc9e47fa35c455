"""HTML onto the system clipboard as HTML (the `text/html` flavour an editor pastes with
its formatting), where the platform allows it.

| where | tool | how |
|---|---|---|
| Wayland (`WAYLAND_DISPLAY`) | `wl-copy` (wl-clipboard) | `wl-copy --type text/html`, HTML on stdin |
| X11 (`DISPLAY`) | `xclip` | `xclip -selection clipboard -t text/html`, HTML on stdin |
| macOS | `osascript` | AppleScript `set the clipboard to «data HTML…»` on stdin (hex-encoded HTML): `pbcopy` only sets plain text |
| elsewhere (Windows, a console without a display) | none | `ClipboardError`, one line naming what to install |

`xsel` is not used: it cannot say a MIME type, so the HTML would arrive as text. wl-copy
and xclip stay in the background to serve the clipboard after they read their input:
stdout is not captured (waiting for its end would wait for them) and their errors go to
a temporary file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .errors import EcdigestError

TIMEOUT_SECONDS = 20


class ClipboardError(EcdigestError):
    """No way to put HTML on this machine's clipboard, or the tool failed (exit code 2)."""


@dataclass(frozen=True)
class ClipboardCommand:
    tool: str
    argv: tuple[str, ...]
    input: bytes


def command_for(
    html: str,
    *,
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> ClipboardCommand:
    """The command that copies `html` as HTML here; ClipboardError when there is none."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    data = html.encode("utf-8")
    if platform == "darwin":
        path = which("osascript")
        if path:
            script = f"set the clipboard to «data HTML{data.hex().upper()}»\n"
            return ClipboardCommand("osascript", (path,), script.encode("utf-8"))
    if env.get("WAYLAND_DISPLAY") and (path := which("wl-copy")):
        return ClipboardCommand("wl-copy", (path, "--type", "text/html"), data)
    if env.get("DISPLAY") and (path := which("xclip")):
        return ClipboardCommand("xclip", (path, "-selection", "clipboard", "-t", "text/html"), data)
    raise ClipboardError(
        "no clipboard here that can take HTML",
        hint="install wl-clipboard (Wayland) or xclip (X11) and run in the desktop session; "
        "on macOS osascript is built in; or write the file with -o and open it in a browser to copy",
    )


def copy_html(html: str, *, env: Mapping[str, str] | None = None) -> str:
    """Put `html` on the clipboard as text/html; returns the tool used."""
    import tempfile

    command = command_for(html, env=env)
    with tempfile.TemporaryFile() as errors:
        try:
            result = subprocess.run(
                command.argv,
                input=command.input,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                timeout=TIMEOUT_SECONDS,
                check=False,
                env=dict(env) if env is not None else None,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ClipboardError(f"{command.tool} could not copy: {exc}") from None
        errors.seek(0)
        message = errors.read(2000).decode("utf-8", "replace").strip().splitlines()
    if result.returncode != 0:
        detail = f": {message[0]}" if message else ""
        raise ClipboardError(f"{command.tool} failed (exit {result.returncode}){detail}")
    return command.tool
