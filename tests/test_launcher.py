"""The launcher's one parser serves every fast command; what it cannot answer goes to Typer."""

from __future__ import annotations

import pytest

from ecdigest.launcher import parse_argv


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["list"], ("list", None, [], {"format": "text"})),
        (["-a", "x", "list", "-f", "JSON"], ("list", "x", [], {"format": "json"})),
        (["--archive=x", "list", "--format=json"], ("list", "x", [], {"format": "json"})),
        (["-ax", "list", "--format", "text"], ("list", "x", [], {"format": "text"})),
        (["show"], ("show", None, [], {"format": "text", "width": None})),
        (["show", "2023-06", "-fjson"], ("show", None, ["2023-06"], {"format": "json", "width": None})),
        (["show", "--width", "40", "x"], ("show", None, ["x"], {"format": "text", "width": 40})),
    ],
)
def test_fast_command_lines(argv: list[str], expected: tuple[object, ...]) -> None:
    assert parse_argv(argv) == expected


@pytest.mark.parametrize(
    "argv",
    [
        ["list", "extra"],
        ["list", "--format", "yaml"],
        ["list", "-f"],
        ["list", "--help"],
        ["list", "-h"],
        ["--debug", "list"],
        ["show", "a", "b"],
        ["show", "--width", "19"],
        ["show", "--width", "1001"],
        ["show", "-h"],
        ["--archive"],
        [],
    ],
)
def test_other_command_lines_are_left_to_the_app(argv: list[str]) -> None:
    assert parse_argv(argv) is None
