"""Regular expressions compiled on first use.

Compiling a pattern runs Python's own regex compiler (tenths of a millisecond to a
millisecond each): a module compiling at import time makes every command pay for patterns
only some commands use (`show` never rewrites a file nor locates a bad key, yet it imports
the codec that does both). `lazy(...)` stands in for `re.compile(...)`: the first attribute
asked for compiles the pattern and puts the compiled pattern's methods and attributes on the
object, so every later `.match` is a plain attribute lookup, as fast as the compiled
pattern's own.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # not `typing`'s: show and list never import typing
if TYPE_CHECKING:
    from typing import Any

# What a pattern offers (re.Pattern's public methods and attributes).
_NAMES = (
    "match",
    "fullmatch",
    "search",
    "finditer",
    "findall",
    "sub",
    "subn",
    "split",
    "scanner",
    "pattern",
    "flags",
    "groups",
    "groupindex",
)


class _Lazy:
    def __init__(self, source: str, flags: int) -> None:
        self._source = source
        self._flags = flags

    @property
    def compiled(self) -> bool:
        """Whether the pattern has been compiled (tests check what a command compiles)."""
        return "match" in self.__dict__

    def __getattr__(self, name: str) -> Any:  # only for names not yet in __dict__
        if name.startswith("__"):
            raise AttributeError(name)
        pattern = re.compile(self._source, self._flags)
        self.__dict__.update({n: getattr(pattern, n) for n in _NAMES})
        return getattr(pattern, name)

    def __repr__(self) -> str:
        return f"lazy({self._source!r}, {self._flags!r})"


def lazy(source: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile(source, flags)`, compiled when first used."""
    return _Lazy(source, flags)  # type: ignore[return-value]  # it answers as one


def is_compiled(pattern: object) -> bool:
    """Whether `pattern` (from `lazy`) has been compiled yet; a compiled pattern is."""
    return not isinstance(pattern, _Lazy) or pattern.compiled
