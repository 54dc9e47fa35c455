"""`@record`: the classes `dataclasses.dataclass` makes, for the start-up path, without it.

`show`, `list` and `add` start constantly, and `import dataclasses` costs ~7 ms of their
start-up (it imports inspect, which imports ast, dis, tokenize, linecache...), and each
`@dataclass` compiles five or six methods from source (exec), ~0.5-1.5 ms a class. The
model's classes and the few others on those paths are declared with `@record` instead:

- to the type checker it IS `dataclasses.dataclass` (the `TYPE_CHECKING` branch in each
  module), so fields, `__init__`'s signature and `dataclasses.replace(...)` are checked
  as before;
- at run time it makes the same class: `__init__` with the same positional and keyword
  parameters and defaults (the one method compiled, since a generic one would slow every
  article read), calling `__post_init__`; `__repr__`, `__eq__` (same class only) and, when
  frozen, `__hash__` and the `FrozenInstanceError` of assigning or deleting a field;
  `__match_args__`. Instances keep a `__dict__` and pickle as a dataclass's do;
- `dataclasses.replace`, `fields`, `asdict` and `is_dataclass` work on them: the class's
  `__dataclass_fields__` is made by the dataclasses module itself (from the same
  annotations and defaults) the first time anyone asks for it.

Only what these classes use is supported: fields with immutable defaults or none (no
`field()`, no ClassVar, no inheritance between records); anything else is a TypeError when
the class is defined. tests/test_records.py compares every behaviour with a real dataclass.
"""

from __future__ import annotations

from operator import attrgetter

# `typing` costs milliseconds to import and this module is on every start-up path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")

_MUTABLE = (list, dict, set)


def record(cls: type[T] | None = None, /, *, frozen: bool = False) -> Any:
    """`@dataclasses.dataclass` or `@dataclasses.dataclass(frozen=...)` for the classes
    described above."""

    def make(cls: type[T]) -> type[T]:
        _process(cls, frozen)
        return cls

    return make if cls is None else make(cls)


class _LazyFields:
    """`cls.__dataclass_fields__`, made by dataclasses on first use and then kept."""

    def __init__(self, names: tuple[str, ...], defaults: dict[str, Any], frozen: bool) -> None:
        self.names, self.defaults, self.frozen = names, defaults, frozen

    def __get__(self, instance: object, owner: Any) -> Any:
        import dataclasses

        shadow = type(
            owner.__name__,
            (),
            {
                "__module__": owner.__module__,
                "__qualname__": owner.__qualname__,
                "__annotations__": {name: owner.__annotations__[name] for name in self.names},
                **self.defaults,
            },
        )
        made: Any = dataclasses.dataclass(frozen=self.frozen)(shadow)
        owner.__dataclass_fields__ = made.__dataclass_fields__
        owner.__dataclass_params__ = made.__dataclass_params__
        return made.__dataclass_fields__


def _process(cls: Any, frozen: bool) -> None:
    if any("__dataclass_fields__" in vars(base) for base in cls.__mro__[1:]):
        raise TypeError(f"{cls.__name__}: a record does not inherit from a record or dataclass")
    own = {"__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__"} & set(vars(cls))
    if own:
        raise TypeError(f"{cls.__name__}: a record writes {', '.join(sorted(own))} itself")
    annotations: dict[str, str] = vars(cls).get("__annotations__", {})
    names = tuple(annotations)
    defaults: dict[str, Any] = {}
    for name in names:
        annotation = str(annotations[name])
        if "ClassVar" in annotation or "InitVar" in annotation:
            raise TypeError(f"{cls.__name__}.{name}: a record has plain fields only")
        if name in cls.__dict__:
            value = cls.__dict__[name]
            if isinstance(value, _MUTABLE) or type(value).__name__ == "Field":
                raise TypeError(f"{cls.__name__}.{name}: a record's default must be immutable")
            defaults[name] = value
        elif defaults:
            raise TypeError(f"non-default argument {name!r} follows default argument")
    if len(names) < 2:
        raise TypeError(f"{cls.__name__}: a record has two fields or more")
    values = attrgetter(*names)

    # __init__, as dataclasses writes it: the one method compiled.
    params = ", ".join(f"{n}=__d_{n}" if n in defaults else n for n in names)
    body = [f"  __set(self, {n!r}, {n})" if frozen else f"  self.{n} = {n}" for n in names]
    if hasattr(cls, "__post_init__"):
        body.append("  self.__post_init__()")
    source = f"def __init__(self, {params}):\n" + "\n".join(body) + "\n"
    scope: dict[str, Any] = {f"__d_{n}": v for n, v in defaults.items()}
    scope["__set"] = object.__setattr__
    exec(source, scope)  # our own text: the class's field names
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__annotations__ = {**annotations, "return": None}

    def __repr__(self: Any) -> str:
        shown = ", ".join(f"{n}={v!r}" for n, v in zip(names, values(self), strict=True))
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(values(self) == values(other))
        return NotImplemented

    methods: dict[str, Any] = {"__init__": init, "__repr__": __repr__, "__eq__": __eq__}
    if frozen:

        def __hash__(self: Any) -> int:
            return hash(values(self))

        def __setattr__(self: Any, name: str, value: object) -> None:
            if type(self) is cls or name in names:
                from dataclasses import FrozenInstanceError

                raise FrozenInstanceError(f"cannot assign to field {name!r}")
            object.__setattr__(self, name, value)

        def __delattr__(self: Any, name: str) -> None:
            if type(self) is cls or name in names:
                from dataclasses import FrozenInstanceError

                raise FrozenInstanceError(f"cannot delete field {name!r}")
            object.__delattr__(self, name)

        methods.update(__hash__=__hash__, __setattr__=__setattr__, __delattr__=__delattr__)
    else:
        methods["__hash__"] = None
    for name, method in methods.items():
        if method is not None:
            method.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, method)
    cls.__match_args__ = names  # type: ignore[misc]
    cls.__dataclass_fields__ = _LazyFields(names, defaults, frozen)
