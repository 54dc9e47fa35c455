"""`$EDITOR` sessions that never lose what was typed: reopen with the errors on top, or save.

`edit_until_valid` opens a text in the editor, reads it back and hands it to `accept`.
When `accept` finds mistakes (an unknown section, a date that cannot be read), the text is
not thrown away: a person at a terminal gets the editor again, with the errors written
above the text as `# ERROR:` comment lines (as `git commit` shows its instructions), until
the text is right or left unchanged. When reopening is not possible (no terminal, the
editor failed, the text was left as it was), the text is saved to a file and the error
says where; the CLI can start again from that file (`add --from-draft FILE`).

`add --edit` uses it, and `edit` (an article in its printed form, or an issue file). No typer here and no printing: the
caller supplies the editor's command line and whether a person is there.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .errors import EcdigestError, UsageError

T = TypeVar("T")
ERROR_PREFIX = "# ERROR: "


class DraftInvalid(UsageError):
    """What `accept` raises for a text with mistakes: every one of them, for the top lines."""

    def __init__(self, problems: Sequence[EcdigestError]) -> None:
        first = problems[0]
        more = (
            f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
            if len(problems) > 1
            else ""
        )
        super().__init__(f"{first.message}{more}", hint=first.hint)
        self.problems = list(problems)


@dataclass(frozen=True)
class Editor:
    """How to run the editor, and whether a person is there to fix what it returns."""

    argv: tuple[str, ...]
    interactive: bool

    @classmethod
    def from_environment(cls, *, interactive: bool) -> Editor:
        """`$VISUAL`, else `$EDITOR`, else vi; split with shlex and run without a shell.

        Without a terminal only an editor the caller named runs (a script's own program):
        vi there would wait forever for keys nobody types.
        """
        command = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if not command and not interactive:
            raise UsageError(
                "no terminal to open an editor on",
                hint="give the change as options (e.g. --title, --body-file), or set EDITOR to a program",
            )
        command = command or "vi"
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise UsageError(f"cannot read $EDITOR ({exc})", hint="set EDITOR, e.g. EDITOR=nano") from None
        if not argv:
            raise UsageError("$EDITOR is empty", hint="set EDITOR, e.g. EDITOR=nano")
        return cls(tuple(argv), interactive)

    def run(self, path: Path) -> int:
        try:
            return subprocess.run([*self.argv, str(path)], check=False).returncode
        except OSError as exc:
            raise UsageError(
                f"cannot run the editor {self.argv[0]!r}: {exc.strerror}", hint="set EDITOR"
            ) from None


def error_lines(problems: Sequence[EcdigestError]) -> str:
    """The `# ERROR:` lines written above the text, one per problem, each a single line."""
    from .terminal import printable

    return "".join(f"{ERROR_PREFIX}{printable(str(p), one_line=True)}\n" for p in problems)


def without_error_lines(text: str) -> str:
    """The text without the `# ERROR:` lines an earlier round put at its top."""
    lines = text.splitlines(keepends=True)
    start = 0
    while start < len(lines) and lines[start].startswith(ERROR_PREFIX.rstrip()):
        start += 1
    return "".join(lines[start:])


def save_draft(text: str, folder: Path, *, name: str = "article") -> Path:
    """Keep `text` in a new file in `folder` (else the system's temporary folder)."""
    for place in (folder, Path(tempfile.gettempdir())):
        try:
            place.mkdir(parents=True, exist_ok=True)
            fd, saved = tempfile.mkstemp(prefix=f"{name}-", suffix=".txt", dir=place)
        except OSError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(text)
        return Path(saved)
    raise UsageError("cannot save the text anywhere (no writable folder)")


def edit_until_valid(
    editor: Editor,
    text: str,
    accept: Callable[[str], T],
    *,
    drafts: Path,
    resume: Callable[[Path], str],
    name: str = "article",
    verb: str = "added",
) -> T:
    """What `accept` makes of the text once the editor returns it right.

    `accept` raises DraftInvalid for mistakes (the loop's business) and any other
    EcdigestError to stop at once (e.g. the text was emptied to cancel: nothing is saved).
    `drafts` is the folder for saved texts; `resume(path)` says how to start again from
    one (it ends the error message). `verb` says what did not happen ("nothing was added").
    """
    shown = text
    with tempfile.TemporaryDirectory(prefix="ecdigest-") as folder:
        path = Path(folder) / f"{name}.txt"
        while True:
            path.write_text(shown, encoding="utf-8")
            try:
                code = editor.run(path)
            except UsageError as exc:
                if shown == text:
                    raise  # nothing was typed yet
                raise _saved(exc.message, without_error_lines(shown), drafts, resume, name, verb) from None
            raw = path.read_bytes()
            edited = without_error_lines(raw.decode("utf-8", errors="surrogateescape"))
            if code != 0:
                if edited == without_error_lines(text):
                    raise UsageError(f"the editor exited with code {code}; nothing was {verb}")
                raise _saved(f"the editor exited with code {code}", edited, drafts, resume, name, verb)
            try:
                edited.encode("utf-8")
            except UnicodeEncodeError:
                problem: DraftInvalid = DraftInvalid([UsageError("the text is not valid UTF-8")])
            else:
                try:
                    return accept(edited)
                except DraftInvalid as invalid:
                    problem = invalid
            unchanged = edited == without_error_lines(shown)
            if not editor.interactive or unchanged:
                # The saved text carries its errors on top, as the editor would have shown them.
                raise _saved(str(problem), error_lines(problem.problems) + edited, drafts, resume, name, verb)
            shown = error_lines(problem.problems) + edited


def _saved(
    reason: str, text: str, drafts: Path, resume: Callable[[Path], str], name: str, verb: str = "added"
) -> UsageError:
    saved = save_draft(text, drafts, name=name)
    return UsageError(f"{reason}; nothing was {verb}, your text is saved in {saved}", hint=resume(saved))
