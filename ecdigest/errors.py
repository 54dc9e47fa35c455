"""The one exception hierarchy of the core.

Core modules never print or exit: they raise these, and the CLI (the single exit point)
turns each into one line on stderr and its exit code.
"""

from __future__ import annotations

from pathlib import Path


class EcdigestError(Exception):
    """Base of every error the CLI reports as one line (exit code 2 unless overridden)."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.hint = hint

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        text = f"{where}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class UsageError(EcdigestError):
    """The command line asked for something impossible (bad value, missing field)."""


class InputError(EcdigestError):
    """A file or stream we were asked to read is unreadable or malformed."""


class NotFoundError(EcdigestError):
    """An issue, article or archive that was named does not exist."""


class ConflictError(EcdigestError):
    """Refusing to overwrite something that already exists (archive, issue id)."""


class WriteError(EcdigestError):
    """Writing failed (read-only folder, disk full); the original file is intact."""


class Failure(EcdigestError):
    """The command ran and found problems (validation errors): exit code 1."""

    exit_code = 1
