"""`ecdigest completion SHELL`, the hidden `__complete` the scripts call, and the generator of
`data/completion.json` from this Typer app (completion.py answers from that file)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .app import app
from .output import note, write_stdout

if TYPE_CHECKING:
    from typer._click import Command, Parameter

# Value kinds by option name, then by metavar (without [], … and ...): what completes them.
BY_OPTION = {
    "--section": "section",
    "--source": "source",
    "--compiled-by": "compiled_by",
    "--tag": "tag",
    "--issue": "issue",
    "--article": "article",
    "--before": "article",
    "--after": "article",
}
BY_METAVAR = {
    "ISSUE": "issue",
    "ARTICLE": "article",
    "OTHER": "article",
    "ARTICLE|ISSUE": "target",
    "ISSUE|ARTICLE": "target",
    "FILE": "file",
    "FILE|-": "file",
    "PATH": "file",
    "PATH|-": "file",
    "FILE|FOLDER": "file",
    "DIR": "dir",
}


def _kind(param: Parameter) -> Any:
    """What completes a parameter's value: a list of choices, a kind name, "" for free text,
    None for a flag (no value)."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return None
    choices = getattr(param.type, "choices", None)
    if choices:
        return [str(c) for c in choices]
    for name in param.opts:
        if name in BY_OPTION:
            return BY_OPTION[name]
    metavar = (param.metavar or "").strip("[]").replace("…", "").replace("...", "").strip("[]")
    if param.param_type_name == "argument" and type(param.type).__name__ == "TyperPath":
        return "dir"
    return BY_METAVAR.get(metavar, "")


def _command_spec(command: Command) -> dict[str, Any]:
    subcommands = getattr(command, "commands", None)
    help_text = (command.help or "").strip().splitlines()[0] if command.help else ""
    if subcommands is not None:
        return {
            "help": help_text,
            "commands": {
                name: _command_spec(sub) for name, sub in sorted(subcommands.items()) if not sub.hidden
            },
        }
    options: dict[str, Any] = {}
    option_help: dict[str, str] = {}
    args: list[Any] = []
    variadic = False
    for param in command.params:
        if param.param_type_name == "argument":
            args.append(_kind(param))
            variadic = variadic or param.nargs == -1
            continue
        if getattr(param, "hidden", False):
            continue
        for name in (*param.opts, *param.secondary_opts):
            options[name] = _kind(param) if name in param.opts else None
            option_help[name] = (getattr(param, "help", None) or "").strip()
    return {
        "help": help_text,
        "options": options,
        "option_help": option_help,
        "args": args,
        "variadic": variadic,
    }


def generate() -> str:
    """`data/completion.json` for this app: every visible command, its options, arguments."""
    import typer.main

    group = typer.main.get_command(app)
    table = {
        "commands": {
            name: _command_spec(command)
            for name, command in sorted(group.commands.items())  # type: ignore[attr-defined]
            if not command.hidden
        }
    }
    return json.dumps(table, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


@app.command()
def completion(
    shell: Annotated[
        str | None,
        typer.Argument(metavar="[bash|zsh|fish]", help="The shell (default: the one in $SHELL)."),
    ] = None,
    *,
    install: Annotated[
        bool, typer.Option("--install", help="Write the script where the shell looks for it.")
    ] = False,
) -> None:
    """Print (or install) the shell completion script: commands, options, ids, sections, sources.

    \b
    Example: eval "$(ecdigest completion bash)"      (in ~/.bashrc)
             ecdigest completion fish --install

    Tab then completes commands and options, issue and article ids (2023-06-0<Tab>),
    sections, sources, compilers and tags from the archive (--archive, $ECDIGEST_ARCHIVE
    or the one found upward), and file names where a file is expected.
    """
    import os

    from ..completion import SHELLS, install_path, script
    from ..errors import UsageError

    if shell is None:
        shell = os.path.basename(os.environ.get("SHELL", ""))
        if shell not in SHELLS:
            raise UsageError(
                "which shell? $SHELL names none of bash, zsh, fish", hint="give it: ecdigest completion bash"
            )
    if shell not in SHELLS:
        raise UsageError(f"no completion for {shell!r}", hint="choose bash, zsh or fish")
    text = script(shell)
    if not install:
        write_stdout(text)
        return
    from pathlib import Path

    from ..fileio import atomic_write

    target = Path(install_path(shell))
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, text.encode("utf-8"))
    note(f"installed {target}")
    if shell == "zsh":
        note("zsh reads it with: fpath=(~/.zfunc $fpath); autoload -Uz compinit && compinit  (in ~/.zshrc)")
    else:
        note("a new shell completes ecdigest")


@app.command(
    name="__complete",
    hidden=True,
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
def complete_words(ctx: typer.Context) -> None:
    """What the shells' completion scripts ask: the candidates for one word.

    Example: ecdigest __complete bash 1 -- show 2023-06-0

    SHELL INDEX -- WORDS…: the words after `ecdigest`, the one at INDEX being completed.
    The launcher answers it without Typer; this is the same function, for --debug.
    """
    from ..completion import run

    args = list(ctx.args)  # click has taken the `--` out: put it back where the launcher sees it
    code = run([*args[:2], "--", *args[2:]])
    if code:
        raise typer.Exit(code)
