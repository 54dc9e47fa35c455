"""A pager for long output on a terminal, as git does it.

`show` and `log` page their text when stdout is a terminal: `$ECDIGEST_PAGER`, else
`$PAGER`, else `less -R`; an empty value or `cat` means no pager, and `--no-pager` turns it
off. Like git, `LESS=FRX` is set unless the environment has its own: less quits at once
when the text fits the screen (F), keeps colour codes (R) and leaves the text on the screen
when it quits (X). Off a terminal (a pipe, a file, cron) nothing is paged, ever.

The command is split with shlex and run without a shell (as the editor is). A pager that
cannot be started falls back to printing; one that quits early (`q` in less) ends the
output quietly.
"""

from __future__ import annotations

import os

from .terminal import stdout_is_terminal, write_stdout

PAGER_VAR = "ECDIGEST_PAGER"
DEFAULT_PAGER = "less -R"


def pager_command() -> list[str] | None:
    """The pager's argv, or None for none (`cat`, an empty value, a command shlex cannot split)."""
    for name in (PAGER_VAR, "PAGER"):
        if name in os.environ:
            value = os.environ[name]
            break
    else:
        value = DEFAULT_PAGER
    import shlex  # here, not at the top: `show` off a terminal never pages

    try:
        argv = shlex.split(value)
    except ValueError:
        return None
    if not argv or argv == ["cat"]:
        return None
    return argv


def page(text: str, *, enabled: bool = True) -> None:
    """Write `text` to stdout, through the pager when stdout is a terminal and `enabled`."""
    argv = pager_command() if enabled and stdout_is_terminal() else None
    if argv is None:
        write_stdout(text)
        return
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    env.setdefault("LV", "-c")
    import subprocess
    import sys

    sys.stdout.flush()
    try:
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, env=env)
    except OSError:
        write_stdout(text)
        return
    assert process.stdin is not None
    try:
        process.stdin.write(text.encode("utf-8", "surrogateescape"))
        process.stdin.close()
    except BrokenPipeError:
        pass  # the reader quit before the end: nothing more to show
    except KeyboardInterrupt:
        process.kill()
        raise
    while True:
        try:
            process.wait()
            break
        except KeyboardInterrupt:
            continue  # Ctrl-C belongs to the pager while it runs (git ignores it too)
