"""Command-line interface. `main()` is the process's single exit point."""

from __future__ import annotations

import os
import sys

from . import (  # noqa: F401  (each module registers its commands on `app`)
    archive_cmds,
    export_cmds,
    import_cmd,
    publish_cmds,
    search_cmd,
    send_cmd,
    site_cmds,
    validate_cmd,
)
from .app import app

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; no Python traceback reaches the user unless --debug/ECDIGEST_DEBUG."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:]) or os.environ.get(
        "ECDIGEST_DEBUG", ""
    ) not in ("", "0")
    try:
        app(args=argv, prog_name="ecdigest")
    except KeyboardInterrupt:
        sys.stderr.write("ecdigest: interrupted; files are unchanged or fully written\n")
        sys.exit(130)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except SystemExit:
        raise
    except Exception as exc:  # a bug, not bad input: say so in one line
        if debug:
            raise
        sys.stderr.write(
            f"ecdigest: internal error: {type(exc).__name__}: {exc} "
            "(rerun with --debug for the traceback, and please report it)\n"
        )
        sys.exit(70)
