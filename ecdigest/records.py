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

Only what these classes use is supported: fields with immutable defaults, a
`field(default_factory=...)` (records.field) or none; `frozen` and `slots`; no other
`field()` options, no ClassVar, no inheritance between records. Anything else is a
TypeError when the class is defined. tests/test_records.py compares every behaviour with a real dataclass.
"""

from __future__ import annotations

from operator import attrgetter

# `typing` costs milliseconds to import and this module is on every start-up path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")

_MUTABLE = (list, dict, set)


def record(cls: type[T] | None = None, /, *, frozen: bool = False, slots: bool = False) -> Any:
    """`@dataclasses.dataclass` or `@dataclasses.dataclass(frozen=..., slots=...)` for the
    classes described above."""

    def make(cls: type[T]) -> type[T]:
        made: type[T] = _process(cls, frozen, slots)
        return made

    return make if cls is None else make(cls)


def replace(obj: T, /, **changes: Any) -> T:
    """`dataclasses.replace(obj, **changes)` for a record, without importing dataclasses:
    a new instance with these fields changed (an unknown name is __init__'s TypeError)."""
    cls: Any = type(obj)
    kept = {name: getattr(obj, name) for name in cls.__match_args__ if name not in changes}
    made: T = cls(**kept, **changes)
    return made


class _Factory:
    """`field(default_factory=...)`: the field's default is made anew for each instance."""

    __slots__ = ("make",)

    def __init__(self, make: Any) -> None:
        self.make = make

    def __repr__(self) -> str:
        return "<factory>"


def field(*, default_factory: Any) -> Any:
    """`dataclasses.field(default_factory=...)`, the one use of `field` records support."""
    return _Factory(default_factory)


_HAS_FACTORY = _Factory(None)  # __init__'s default for such a field: "make one"


class _LazyFields:
    """`cls.__dataclass_fields__`, made by dataclasses on first use and then kept."""

    def __init__(
        self, names: tuple[str, ...], defaults: dict[str, Any], factories: dict[str, Any], frozen: bool
    ) -> None:
        self.names, self.defaults, self.factories, self.frozen = names, defaults, factories, frozen

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
                **{name: dataclasses.field(default_factory=make) for name, make in self.factories.items()},
            },
        )
        made: Any = dataclasses.dataclass(frozen=self.frozen)(shadow)
        owner.__dataclass_fields__ = made.__dataclass_fields__
        owner.__dataclass_params__ = made.__dataclass_params__
        return made.__dataclass_fields__


def _process(cls: Any, frozen: bool, slots: bool) -> Any:
    if any("__dataclass_fields__" in vars(base) for base in cls.__mro__[1:]):
        raise TypeError(f"{cls.__name__}: a record does not inherit from a record or dataclass")
    own = {"__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__"} & set(vars(cls))
    if own:
        raise TypeError(f"{cls.__name__}: a record writes {', '.join(sorted(own))} itself")
    annotations: dict[str, str] = vars(cls).get("__annotations__", {})
    names = tuple(annotations)
    defaults: dict[str, Any] = {}
    factories: dict[str, Any] = {}
    for name in names:
        annotation = str(annotations[name])
        if "ClassVar" in annotation or "InitVar" in annotation:
            raise TypeError(f"{cls.__name__}.{name}: a record has plain fields only")
        if name in cls.__dict__:
            value = cls.__dict__[name]
            if isinstance(value, _Factory):
                factories[name] = value.make
                delattr(cls, name)  # as dataclasses does: no class attribute for such a field
                continue
            if isinstance(value, _MUTABLE) or type(value).__name__ == "Field":
                raise TypeError(f"{cls.__name__}.{name}: a record's default must be immutable")
            defaults[name] = value
        elif defaults or factories:
            raise TypeError(f"non-default argument {name!r} follows default argument")
    if not names:
        raise TypeError(f"{cls.__name__}: a record has a field or more")
    if slots:  # a new class with the fields as slots, as dataclasses makes it
        body_of = {k: v for k, v in vars(cls).items() if k not in (*names, "__dict__", "__weakref__")}
        made = type(cls)(cls.__name__, cls.__bases__, {**body_of, "__slots__": names})
        made.__qualname__ = cls.__qualname__
        cls = made
    # The fields' values as a tuple (attrgetter of one name gives the value itself).
    values = attrgetter(*names) if len(names) > 1 else lambda obj: (getattr(obj, names[0]),)

    # __init__, as dataclasses writes it: the one method compiled.
    def param(n: str) -> str:
        return f"{n}=__d_{n}" if n in defaults else f"{n}=__F" if n in factories else n

    def given(n: str) -> str:
        return f"__f_{n}() if {n} is __F else {n}" if n in factories else n

    params = ", ".join(map(param, names))
    body = [f"  __set(self, {n!r}, {given(n)})" if frozen else f"  self.{n} = {given(n)}" for n in names]
    if hasattr(cls, "__post_init__"):
        body.append("  self.__post_init__()")
    source = f"def __init__(self, {params}):\n" + "\n".join(body) + "\n"
    scope: dict[str, Any] = {f"__d_{n}": v for n, v in defaults.items()}
    scope.update({f"__f_{n}": make for n, make in factories.items()}, __F=_HAS_FACTORY)
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
        if slots:  # pickling sets the slots past the frozen __setattr__, as dataclasses does

            def __getstate__(self: Any) -> list[Any]:
                return [getattr(self, n) for n in names]

            def __setstate__(self: Any, state: list[Any]) -> None:
                for n, v in zip(names, state, strict=False):
                    object.__setattr__(self, n, v)

            methods.update(__getstate__=__getstate__, __setstate__=__setstate__)
    else:
        methods["__hash__"] = None
    for name, method in methods.items():
        if method is not None:
            method.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, method)
    cls.__match_args__ = names  # type: ignore[misc]
    cls.__dataclass_fields__ = _LazyFields(names, defaults, factories, frozen)
    return cls
