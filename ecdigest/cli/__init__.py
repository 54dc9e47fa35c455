"""Command-line interface. `main()` is the process's single exit point."""

from __future__ import annotations

import os
import sys

from . import (  # noqa: F401  (each module registers its commands on `app`)
    archive_cmds,
    completion_cmd,
    editing_cmds,
    export_cmds,
    history_cmds,
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
    """Run the CLI; no Python traceback reaches the user unless --debug/ECDIGEST_DEBUG.

    Usage errors, the core's errors and a command line that is not UTF-8 are reported by
    the app itself (`EcdigestGroup.main`); what is left for here is what escapes it: a
    reader that went away (`| head`: quiet, exit 0), an I/O error on a standard stream
    (one line, exit 2), Ctrl-C (130) and bugs (one line, exit 70).
    """
    from ..terminal import silence_stdout

    debug = "--debug" in (argv if argv is not None else sys.argv[1:]) or os.environ.get(
        "ECDIGEST_DEBUG", ""
    ) not in ("", "0")
    try:
        app(args=argv, prog_name="ecdigest")
    except KeyboardInterrupt:
        sys.stderr.write("ecdigest: interrupted; files are unchanged or fully written\n")
        sys.exit(130)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error worth a line.
        silence_stdout()
        sys.exit(0)
    except SystemExit:
        raise
    except OSError as exc:  # a standard stream that cannot be written or read
        if debug:
            raise
        silence_stdout()
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"ecdigest: error: {where}{exc.strerror or exc} (nothing more was written)\n")
        sys.exit(2)
    except Exception as exc:  # a bug, not bad input: say so in one line
        if debug:
            raise
        from ..terminal import internal_error_line

        sys.stderr.write(internal_error_line(exc) + "\n")
        sys.exit(70)
