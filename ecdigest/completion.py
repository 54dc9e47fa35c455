"""Shell completion (bash, zsh, fish): commands, options, issue and article ids, sections,
sources, compilers and tags, answered fast enough to run on every Tab.

The shells' scripts (`ecdigest completion SHELL` prints one) call
`ecdigest __complete SHELL INDEX -- WORDS…` with the words after `ecdigest` up to the one
being completed (at INDEX). The launcher answers that without loading Typer (start-up is
most of a completion's time; bench/bench_completion.py measures it against `python -c
pass` and the `list` fast path), from two sources:

- what the command line can hold: `data/completion.json`, generated from the Typer app
  itself (cli/completion_cmd.py), so there is one definition of every command and option,
  and a test regenerates it and compares;
- what the archive holds: the catalog (ids, sections, sources, compilers, tags), opened
  like `list` opens it, and the settings' sections and known sources.

The answer is one candidate a line (`value`, or `value:description` for zsh, `value<TAB>
description` for fish), or `:files` / `:dirs` to let the shell complete paths. With more
than MAX_ARTICLES article ids to offer, the issues are offered instead (`2023-06-`), so a
first Tab narrows to an issue and a second lists its articles.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

SHELLS = ("bash", "zsh", "fish")
FILES, DIRS = ":files", ":dirs"
MAX_ARTICLES = 60
SPEC_FILE = "completion.json"
GLOBAL_OPTIONS = {
    "--archive": "dir",
    "-a": "dir",
    "--debug": None,
    "--version": None,
    "--help": None,
    "-h": None,
}

Candidate = tuple[str, str]  # (value, description)


def spec() -> dict[str, Any]:
    """The command line's shape, as generated from the Typer app."""
    import json

    path = os.path.join(os.path.dirname(__file__), "data", SPEC_FILE)
    with open(path, encoding="utf-8") as handle:
        value: dict[str, Any] = json.load(handle)
    return value


# --------------------------------------------------------------------------- reading the words


class _Line:
    """Where the words being completed stand: the archive option, the command, its
    subcommand, the positional arguments given so far, the option awaiting a value."""

    def __init__(self, table: dict[str, Any], words: Sequence[str]) -> None:
        self.archive: str | None = None
        self.command: dict[str, Any] | None = None
        self.path: list[str] = []
        self.positionals = 0
        self.pending: Any = None  # the value kind an option waits for ("" when free text)
        self.after_dashes = False
        options: dict[str, Any] = dict(GLOBAL_OPTIONS)
        level = table["commands"]
        i = 0
        while i < len(words):
            word = words[i]
            i += 1
            if self.pending is not None:
                if self.pending == "dir" and self.command is None:
                    self.archive = word
                self.pending = None
                continue
            if word == "--" and self.command is not None:
                self.after_dashes = True
                continue
            if word.startswith("-") and len(word) > 1 and not self.after_dashes:
                name, equals, value = word.partition("=")
                if i < len(words) and words[i] == "=":  # bash splits --opt=value at '='
                    i += 1
                    equals = "="
                    if i < len(words):
                        value = words[i]
                        i += 1
                if (
                    self.command is None
                    and name.startswith("-a")
                    and len(name) > 2
                    and not name.startswith("--")
                ):
                    self.archive = name[2:]
                    continue
                kind = options.get(name, _UNKNOWN)
                if kind is not _UNKNOWN and kind is not None and not equals:
                    self.pending = kind
                elif equals and self.command is None and name == "--archive":
                    self.archive = value
                continue
            if self.command is None or "commands" in self.command:
                chosen = level.get(word)
                if chosen is None:
                    self.command = {"options": {}, "args": []}
                    continue
                self.command = chosen
                self.path.append(word)
                if "commands" in chosen:
                    level = chosen["commands"]
                options = {**GLOBAL_OPTIONS, **chosen.get("options", {})} if self.command else options
                continue
            self.positionals += 1

    def option_kinds(self) -> dict[str, Any]:
        base = dict(GLOBAL_OPTIONS) if self.command is None else {"--help": None, "-h": None}
        if self.command is not None:
            base.update(self.command.get("options", {}))
        return base

    def argument_kind(self) -> Any:
        if self.command is None or "commands" in self.command:
            return None
        args = self.command.get("args", [])
        if not args:
            return ""
        if self.positionals < len(args):
            return args[self.positionals]
        return args[-1] if self.command.get("variadic") else ""


_UNKNOWN = object()


# --------------------------------------------------------------------------- candidates


def complete(words: Sequence[str], index: int, table: dict[str, Any] | None = None) -> list[Candidate] | str:
    """The candidates for `words[index]` (the words after `ecdigest`), or FILES/DIRS."""
    table = table if table is not None else spec()
    words = list(words[: index + 1]) + [""] * max(0, index + 1 - len(words))
    current = words[index]
    before = words[:index]
    if current == "=" and before and before[-1].startswith("--"):  # bash: `--opt=` then Tab
        before, current = [*before, "="], ""
    line = _Line(table, before)
    if before and before[-1] == "=" and len(before) >= 2 and before[-2].startswith("--"):
        kind = line.option_kinds().get(before[-2])
        return _values(kind, current, line) if kind else []
    if line.pending is not None:
        return _values(line.pending, current, line)
    if current.startswith("--") and "=" in current:
        name, _, value = current.partition("=")
        kind = line.option_kinds().get(name)
        found = _values(kind, value, line) if kind else []
        return found if isinstance(found, str) else [(f"{name}={v}", d) for v, d in found]
    if current.startswith("-") and not line.after_dashes:
        helps = _option_help(line)
        return [
            (name, helps.get(name, "")) for name in sorted(line.option_kinds()) if name.startswith(current)
        ]
    if line.command is None or "commands" in line.command:
        level = table["commands"] if line.command is None else line.command["commands"]
        return [
            (name, entry.get("help", "")) for name, entry in sorted(level.items()) if name.startswith(current)
        ]
    kind = line.argument_kind()
    return _values(kind, current, line) if kind else []


def _option_help(line: _Line) -> dict[str, str]:
    if line.command is None:
        return {
            "--archive": "archive folder",
            "-a": "archive folder",
            "--debug": "traceback on errors",
            "--version": "print the version",
            "--help": "show help",
            "-h": "show help",
        }
    helps: dict[str, str] = line.command.get("option_help", {})
    return {"--help": "show help", "-h": "show help", **helps}


def _values(kind: Any, prefix: str, line: _Line) -> list[Candidate] | str:
    if isinstance(kind, list):  # a choice
        return [(value, "") for value in kind if value.startswith(prefix)]
    if kind == "file":
        return FILES
    if kind == "dir":
        return DIRS
    if kind not in ("issue", "article", "target", "section", "source", "compiled_by", "tag"):
        return []
    try:
        return _archive_values(kind, prefix, line.archive)
    except Exception:  # no archive here, a broken one: nothing to offer, never an error
        return []


def _archive_values(kind: str, prefix: str, archive_option: str | None) -> list[Candidate]:
    """Values from the archive's catalog, opened like `list` opens it (no issue file, not
    even ecdigest.toml unless the catalog must be brought up to date); the settings are
    read only for sources (the configured ones and the editorial office)."""
    from .catalog import open_catalog
    from .derived import archive_root, settings_stamp

    root = archive_root(archive_option)
    settings_stamp(root)  # not an archive: the one error every command gives, here an empty answer
    with open_catalog(root) as catalog:
        if kind in ("issue", "target", "article"):
            entries = catalog.issues()
            found: list[Candidate] = []
            if kind != "article":
                seen: dict[str, str] = {}
                for e in reversed(entries):  # newest first
                    if e.id and e.id.startswith(prefix):
                        seen.setdefault(e.id, _issue_note(e.date, e.status, e.title))
                found = list(seen.items())
            if kind != "issue":
                found += _articles(catalog, entries, prefix)
            return found
        values = set(catalog.values(kind))
        configured = catalog.settings_sections() if kind == "section" else []
    if kind == "section":
        ordered = [s for s in configured if s.startswith(prefix)]
        return [(s, "") for s in ordered] + [
            (s, "") for s in sorted(values - set(ordered)) if s.startswith(prefix)
        ]
    if kind == "source":
        from .archive import open_archive

        settings = open_archive(root).settings
        values |= {*settings.known_sources, settings.editor}
    return [(v, "") for v in sorted(values) if v.startswith(prefix)]


def _issue_note(date: Any, status: Any, title: Any) -> str:
    return " · ".join(str(x) for x in (date, status, title) if x)


def _articles(catalog: Any, entries: Sequence[Any], prefix: str) -> list[Candidate]:
    """Article ids starting with `prefix`, with their titles; past MAX_ARTICLES, the issues
    they belong to (`ISSUE-`) so the next Tab can narrow. The issues' article counts say
    how many there are before any id is fetched (ids are ISSUE-NNN)."""
    groups = {
        e.id + "-": e.article_count
        for e in entries
        if e.id and e.article_count and (e.id + "-").startswith(prefix)
    }
    if sum(groups.values()) > MAX_ARTICLES:
        return [(g, f"{n} articles") for g, n in sorted(groups.items())]
    ids = catalog.article_ids(prefix)
    if len(ids) > MAX_ARTICLES:
        return [(i, "") for i in ids]  # inside one issue's ids (2023-06-0 of 1,000 articles)
    titles: dict[str, str] = {}
    for issue in dict.fromkeys(i.rpartition("-")[0] for i in ids):  # one query per issue
        titles.update((a.id, a.title) for a in catalog.articles(issue) if a.id.startswith(prefix))
    for missing in (i for i in ids if i not in titles):  # an id not of the ISSUE-NNN form
        titles.update((a.id, a.title) for a in catalog.find_articles(missing))
    return [(i, " ".join(titles.get(i, "").split())) for i in ids]


# --------------------------------------------------------------------------- output for the shells


_BASH_SPECIAL = set(" \t\n\\'\"`$&|;<>()[]{}*?!#~")


def _bash_quote(value: str) -> str:
    return "".join("\\" + c if c in _BASH_SPECIAL else c for c in value)


def render(found: list[Candidate] | str, shell: str) -> str:
    """The answer as the shell's script reads it."""
    if isinstance(found, str):
        return found + "\n"
    lines = []
    for value, note in found:
        value, note = " ".join(value.splitlines()), " ".join(note.split())
        if shell == "bash":
            lines.append(_bash_quote(value))
        elif shell == "zsh":
            escaped = value.replace("\\", "\\\\").replace(":", "\\:")
            lines.append(f"{escaped}:{note}" if note else escaped)
        else:
            lines.append(f"{value}\t{note}" if note else value)
    return "".join(line + "\n" for line in lines)


def run(argv: Sequence[str]) -> int:
    """`ecdigest __complete SHELL INDEX -- WORDS…`: print the candidates; 0, or 2 for a
    malformed request (the shells ignore both)."""
    import sys

    args = list(argv)
    if len(args) < 3 or args[0] not in SHELLS or not args[1].isdigit() or args[2] != "--":
        sys.stderr.write("ecdigest: error: usage: ecdigest __complete bash|zsh|fish INDEX -- WORDS…\n")
        return 2
    from .terminal import write_stdout

    write_stdout(render(complete(args[3:], int(args[1])), args[0]))
    return 0


# --------------------------------------------------------------------------- the scripts


BASH = r"""# ecdigest completion for bash. Load it with
#   eval "$(ecdigest completion bash)"
# or save it as ~/.local/share/bash-completion/completions/ecdigest (ecdigest completion bash --install).
_ecdigest_complete() {
    local IFS=$'\n' reply
    reply=$(ecdigest __complete bash "$((COMP_CWORD - 1))" -- "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
    case "$reply" in
        :files) COMPREPLY=($(compgen -f -- "${COMP_WORDS[COMP_CWORD]}")); compopt -o filenames 2>/dev/null; return 0 ;;
        :dirs) COMPREPLY=($(compgen -d -- "${COMP_WORDS[COMP_CWORD]}")); compopt -o filenames 2>/dev/null; return 0 ;;
    esac
    COMPREPLY=($reply)
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *- ]]; then
        compopt -o nospace 2>/dev/null
    fi
    return 0
}
complete -F _ecdigest_complete ecdigest
"""

ZSH = r"""#compdef ecdigest
# ecdigest completion for zsh. Load it with
#   eval "$(ecdigest completion zsh)"
# or save it as _ecdigest in a folder of $fpath (ecdigest completion zsh --install).
_ecdigest() {
    local -a reply whole partial
    reply=("${(@f)$(ecdigest __complete zsh $((CURRENT - 2)) -- "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    case "${reply[1]}" in
        :files) _files; return ;;
        :dirs) _files -/; return ;;
    esac
    local item
    for item in "${reply[@]}"; do
        [[ -z "$item" ]] && continue
        if [[ "${item%%:*}" == *- ]]; then partial+=("$item"); else whole+=("$item"); fi
    done
    (( ${#whole} )) && _describe -t values 'ecdigest' whole
    (( ${#partial} )) && _describe -t issues 'issue' partial -S ''
    return 0
}
if [[ "${zsh_eval_context[-1]}" == loadautofunc ]]; then
    _ecdigest "$@"
else
    compdef _ecdigest ecdigest
fi
"""

FISH = r"""# ecdigest completion for fish. Load it with
#   ecdigest completion fish | source
# or save it as ~/.config/fish/completions/ecdigest.fish (ecdigest completion fish --install).
function __ecdigest_complete
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l current (commandline -ct)
    set -l reply (ecdigest __complete fish (count $tokens) -- $tokens "$current" 2>/dev/null)
    switch "$reply[1]"
        case ':files'
            __fish_complete_path "$current"
        case ':dirs'
            __fish_complete_directories "$current"
        case '*'
            printf '%s\n' $reply
    end
end
complete -c ecdigest -f -a '(__ecdigest_complete)'
"""

SCRIPTS = {"bash": BASH, "zsh": ZSH, "fish": FISH}


def script(shell: str) -> str:
    return SCRIPTS[shell]


def install_path(shell: str) -> str:
    """Where `completion SHELL --install` puts the script: the shell's per-user folder."""
    home = os.path.expanduser("~")
    if shell == "bash":
        data = os.environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
        return os.path.join(data, "bash-completion", "completions", "ecdigest")
    if shell == "zsh":
        return os.path.join(home, ".zfunc", "_ecdigest")
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    return os.path.join(config, "fish", "completions", "ecdigest.fish")
