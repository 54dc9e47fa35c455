"""`records.record` makes the classes `dataclasses.dataclass` makes.

Every record class of the package is compared with a real dataclass declared from the
same annotations and defaults: `__init__`'s signature, what it stores (and
`__post_init__`), repr, equality and hashing, the frozen errors, `__match_args__`, and
what the dataclasses module answers about it (`replace`, `fields`, `asdict`,
`is_dataclass`), pickling and copying. `show`, `list` and `add` must not import
dataclasses at all (tests/test_hardening_startup.py checks the modules they load).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import inspect
import pickle
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecdigest import (
    archive,
    attribution,
    codec,
    counting,
    guards,
    history,
    model,
    operations,
    records,
    urls,
    validate,
)
from ecdigest.records import record

CLASSES: list[type[Any]] = [
    model.Newsletter,
    model.Article,
    model.Issue,
    codec.FieldProblem,
    codec._Statement,
    archive.IssueFile,
    archive.LoadResult,
    counting.Count,
    urls.Cleaning,
    attribution.Attribution,
    operations.ArticleDraft,
    history.Repo,
    history.Description,
    history.Commit,
    guards.Reach,
    validate.Problem,
    validate.Report,
    validate.Edit,
    validate._Rule,
    validate.CopyEdit,
    validate._Finding,
    validate._Loaded,
    validate.Change,
    validate.FileFix,
]
MADE = {
    "__init__",
    "__repr__",
    "__eq__",
    "__hash__",
    "__setattr__",
    "__delattr__",
    "__getstate__",
    "__setstate__",
}


def twin(cls: type[Any]) -> type[Any]:
    """A real dataclass with the record's annotations, defaults and methods (the defaults
    as the dataclasses module reads them from the record)."""
    frozen = cls.__hash__ is not None
    slots = "__slots__" in vars(cls)
    names = cls.__match_args__
    namespace = {
        name: value
        for name, value in vars(cls).items()
        if name
        not in ("__dict__", "__weakref__", "__slots__", "__dataclass_fields__", "__dataclass_params__")
        and name not in MADE
        and name not in names
        and name != "__match_args__"
    }
    for f in dataclasses.fields(cls):
        if f.default_factory is not dataclasses.MISSING:
            namespace[f.name] = dataclasses.field(default_factory=f.default_factory)
        elif f.default is not dataclasses.MISSING:
            namespace[f.name] = f.default
    made = type(cls.__name__, (), namespace)
    made.__qualname__ = cls.__qualname__
    return dataclasses.dataclass(frozen=frozen, slots=slots)(made)


def state(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in type(obj).__match_args__}


def signature(function: Any) -> list[tuple[str, Any, Any, str]]:
    """A signature to compare: a default made by a factory is shown as `<factory>` by both."""
    return [
        (p.name, p.kind, p.annotation, repr(p.default))
        for p in inspect.signature(function).parameters.values()
    ]


SAMPLE: dict[str, Any] = {
    "str": "标题 a",
    "int": 7,
    "bool": True,
    "date": dt.date(2023, 6, 5),
    "path": Path("2023/2023-06.toml"),
}


def sample_value(annotation: str) -> Any:
    if annotation.startswith("tuple"):
        return ("一", "b")
    if annotation.startswith("list"):
        return ["x"]
    for key, value in (
        ("Issue", model.Issue("x", title="题")),
        ("Path", SAMPLE["path"]),
        ("date", SAMPLE["date"]),
        ("bool", True),
        ("int", 7),
        ("str", "标题 a\r\nb"),
    ):
        if key in annotation:
            return value
    return None


def sample(cls: type[Any]) -> dict[str, Any]:
    return {name: sample_value(str(annotation)) for name, annotation in cls.__annotations__.items()}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_a_record_is_the_dataclass_it_declares(cls: type[Any]) -> None:
    real = twin(cls)
    assert signature(cls.__init__) == signature(real.__init__)
    assert (
        inspect.signature(cls.__init__).return_annotation
        == inspect.signature(real.__init__).return_annotation
    )
    assert cls.__match_args__ == real.__match_args__
    values = sample(cls)
    ours, theirs = cls(**values), real(**values)
    assert state(ours) == state(theirs)  # what __init__ and __post_init__ stored
    assert hasattr(ours, "__dict__") is hasattr(theirs, "__dict__")  # slots or not
    assert repr(ours) == repr(theirs)
    positional = cls(*values.values())
    assert positional == ours
    assert positional.__ne__(ours) is False
    assert ours != theirs  # another class is never equal, as for dataclasses
    assert (ours == 1) is False
    frozen = cls.__hash__ is not None
    assert (real.__hash__ is not None) is frozen
    if frozen and all(v.__hash__ is not None for v in values.values()):
        assert hash(ours) == hash(theirs) == hash(positional)
    name = next(iter(values))
    if frozen:
        for action in (setattr, delattr):
            errors = []
            for obj in (ours, theirs):
                with pytest.raises(dataclasses.FrozenInstanceError) as caught:
                    action(obj, name, 1) if action is setattr else action(obj, name)
                errors.append(str(caught.value))
            assert errors[0] == errors[1]
    else:
        setattr(ours, name, values[name])
    # The dataclasses module's own functions.
    assert dataclasses.is_dataclass(ours) and dataclasses.is_dataclass(cls)
    assert [(f.name, f.default, f.type) for f in dataclasses.fields(cls)] == [
        (f.name, f.default, f.type) for f in dataclasses.fields(real)
    ]
    assert dataclasses.asdict(ours) == dataclasses.asdict(theirs)
    changed = dataclasses.replace(ours, **{name: values[name]})
    assert type(changed) is cls and changed == ours and changed is not ours
    # Pickled (the build's workers), copied.
    assert pickle.loads(pickle.dumps(ours)) == ours
    assert copy.copy(ours) == ours and copy.deepcopy(ours) == ours


def test_defaults_and_post_init_as_a_dataclass() -> None:
    assert model.Newsletter() == model.Newsletter(
        **{f.name: f.default for f in dataclasses.fields(model.Newsletter)}
    )
    article = model.Article("a-001", body="一\r\n\r\n二", tags=["x"])  # type: ignore[arg-type]
    assert article.body == "一\n\n二" and article.tags == ("x",)
    with pytest.raises(TypeError):
        model.Article()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        model.Article("a", nope=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        model.Issue("a", "t", None, "draft", (), 0, "extra")  # type: ignore[call-arg]


@given(
    st.text(max_size=5),
    st.text(max_size=5),
    st.none() | st.dates(),
    st.lists(st.text(max_size=3), max_size=2).map(tuple),
    st.text(max_size=5),
    st.text(max_size=5),
)
def test_equality_and_hash_follow_every_field(
    ident: str, title: str, date: dt.date | None, tags: tuple[str, ...], other: str, body: str
) -> None:
    real = twin(model.Article)
    a, b = (
        model.Article(ident, title=title, date=date, tags=tags, body=body),
        model.Article(ident, title=title),
    )
    ra, rb = real(ident, title=title, date=date, tags=tags, body=body), real(ident, title=title)
    assert (a == b) is (ra == rb)
    assert hash(a) == hash(ra) and hash(b) == hash(rb)
    c = dataclasses.replace(a, source=other)
    assert (c == a) is (other == "")


def test_what_a_record_refuses() -> None:
    with pytest.raises(TypeError, match="follows default"):

        @record(frozen=True)
        class Late:
            a: int = 1
            b: int

    with pytest.raises(TypeError, match="immutable"):

        @record(frozen=True)
        class Mutable:
            a: int
            b: list[int] = []  # noqa: RUF012

    with pytest.raises(TypeError, match="writes __eq__"):

        @record(frozen=True)
        class OwnEq:
            a: int
            b: int

            def __eq__(self, other: object) -> bool:
                return True

            __hash__ = object.__hash__

    with pytest.raises(TypeError, match="plain fields"):

        @record(frozen=True)
        class WithClassVar:
            a: int
            b: ClassVar[int]

    assert records.record is record


def test_a_default_factory_makes_a_new_value_for_each_instance() -> None:
    one, two = operations.ArticleDraft(), operations.ArticleDraft()
    one.tags.append("x")
    assert two.tags == [] and operations.ArticleDraft(tags=["y"]).tags == ["y"]
    assert "tags" not in vars(operations.ArticleDraft)  # as dataclasses leaves it: no class attribute


def test_replace_as_dataclasses_replaces() -> None:
    article = model.Article("a-001", title="题", tags=("x",))
    assert records.replace(article, title="新") == dataclasses.replace(article, title="新")
    assert records.replace(article) == article and records.replace(article) is not article
    with pytest.raises(TypeError):
        records.replace(article, nope=1)
