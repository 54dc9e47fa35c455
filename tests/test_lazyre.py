"""lazyre: a pattern compiled on first use answers as `re.compile` does, and `show` compiles
none of the patterns only writes, error locating and date/attribution parsing need."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from ecdigest.lazyre import is_compiled, lazy

PATTERNS = [
    (r"(?P<word>[A-Za-z]+)|(?P<han>[\u4e00-\u9fff]+)", 0),
    (r"^\s*来\s*源\s*[:：]", 0),
    (r"'''.*?'''(?:''?)?", re.DOTALL),
    (r"[a-z]+\d*", re.IGNORECASE),
]
TEXT = st.text(alphabet=st.sampled_from("ab Z9:：来源'\n电商"), max_size=30)


def _shape(value: object) -> object:
    if isinstance(value, re.Match):
        return (value.span(), value.groups(), value.groupdict())
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return value


@given(index=st.integers(0, len(PATTERNS) - 1), text=TEXT, pos=st.integers(0, 5))
def test_lazy_answers_as_compiled(index: int, text: str, pos: int) -> None:
    source, flags = PATTERNS[index]
    eager, deferred = re.compile(source, flags), lazy(source, flags)
    assert _shape(deferred.match(text, pos)) == _shape(eager.match(text, pos))
    assert _shape(deferred.search(text)) == _shape(eager.search(text))
    assert _shape(deferred.fullmatch(text)) == _shape(eager.fullmatch(text))
    assert _shape(list(deferred.finditer(text))) == _shape(list(eager.finditer(text)))
    assert deferred.findall(text) == eager.findall(text)
    assert deferred.sub("-", text) == eager.sub("-", text)
    assert deferred.subn("-", text) == eager.subn("-", text)
    assert deferred.split(text) == eager.split(text)
    assert (deferred.pattern, deferred.flags, deferred.groups, deferred.groupindex) == (
        eager.pattern,
        eager.flags,
        eager.groups,
        eager.groupindex,
    )


def test_compiled_on_first_use_only() -> None:
    pattern = lazy(r"\d+")
    assert not is_compiled(pattern)
    assert pattern.findall("a1b22") == ["1", "22"]
    assert is_compiled(pattern)
    assert "match" in vars(pattern)  # later calls skip __getattr__
    assert is_compiled(re.compile("x"))
    assert repr(lazy("a")) == "lazy('a', 0)"


CHECK = """
import sys
from ecdigest import attribution, codec, dates
from ecdigest.launcher import main
from ecdigest.lazyre import is_compiled

sys.argv = ["ecdigest", "--archive", sys.argv[1], *sys.argv[2:]]
try:
    main()
except SystemExit as exit:
    assert not exit.code, exit.code
lazy = [
    (module.__name__, name)
    for module in (codec, dates, attribution)
    for name, value in vars(module).items()
    if type(value).__name__ == "_Lazy"
]
assert len(lazy) >= 10, lazy
compiled = [m + "." + n for m, n in lazy if is_compiled(getattr(sys.modules[m], n))]
compiled += [k for k, v in codec._CLOSING.items() if is_compiled(v)]
compiled += [p.pattern for p in codec._STRINGS if is_compiled(p)]
compiled += [n for n in ("_HEADER", "_TABLE", "_KEY") if is_compiled(getattr(codec.KeyLines, n))]
print(*compiled, sep=chr(10), file=sys.stderr)
"""


def _compiled_by(shipped: Path, *argv: str) -> list[str]:
    run = subprocess.run(
        [sys.executable, "-c", CHECK, str(shipped), *argv], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout
    return run.stderr.split()


def test_show_and_list_compile_no_write_or_parse_pattern(shipped: Path) -> None:
    assert _compiled_by(shipped, "show", "2023-06") == []
    assert _compiled_by(shipped, "show", "2023-06-001") == []
    assert _compiled_by(shipped, "list") == []


def test_a_write_compiles_what_it_uses(shipped: Path) -> None:
    """The check above can fail: `add` parses the date it is given."""
    compiled = _compiled_by(
        shipped, "add", "2023-06", "--force", "--title", "标题", "--section", "行业资讯",
        "--source", "《人民日报》", "--date", "2023年6月5日", "--body", "正文。",
    )  # fmt: skip
    assert "ecdigest.dates._YMD" in compiled
