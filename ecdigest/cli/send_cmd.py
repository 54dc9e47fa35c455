"""`ecdigest send`: an issue's email through SMTP, to the list exactly once (send.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..terminal import printable
from .app import app, state
from .export_cmds import MaxArticlesOption
from .output import FormatOption, TextOrJson, emit_json, note, write_stdout

if TYPE_CHECKING:
    from ..send import Plan


def _summary(plan: Plan, status: str, **extra: Any) -> dict[str, Any]:
    message = plan.message
    return {
        "issue": plan.issue.id,
        "status": status,
        "kind": plan.kind,
        "message_id": message.message_id,
        "from": message.sender,
        "recipients": list(message.recipients),
        "server": str(plan.server),
        "security": plan.server.security,
        "login": plan.login.user if plan.login else None,
        "password_from": plan.login.source if plan.login else None,
        "size": message.size,
        "parts": [{"type": f"text/{p.subtype}", "bytes": p.size} for p in message.parts],
        "clip_bytes": _clip_bytes(),
        "warnings": [w for w in [message.clip_warning()] if w],
        **extra,
    }


def _clip_bytes() -> int:
    from ..export.email import CLIP_BYTES

    return CLIP_BYTES


def _warn(plan: Plan) -> None:
    warning = plan.message.clip_warning()
    if warning:
        note(f"warning: {warning}")


@app.command()
def send(
    ctx: typer.Context,
    issue: Annotated[
        str | None, typer.Argument(metavar="[ISSUE]", help="Issue id (default: the latest published issue).")
    ] = None,
    *,
    to: Annotated[
        list[str] | None,
        typer.Option(
            "--to",
            metavar="ADDR",
            help="A test send to ADDR instead of the list (repeatable); the only way a draft goes out, as a proof.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the headers, size and recipients; send nothing.")
    ] = False,
    resend: Annotated[
        bool,
        typer.Option(
            "--resend", help="Send to the list even though the record says it was (or may have been)."
        ),
    ] = False,
    if_unsent: Annotated[
        bool,
        typer.Option(
            "--if-unsent", help="For cron: when the list already has it, say so in one line, exit 0."
        ),
    ] = False,
    mark_sent: Annotated[
        bool,
        typer.Option(
            "--mark-sent",
            help="Record that the list has the issue (after checking its archive); send nothing.",
        ),
    ] = False,
    max_articles: MaxArticlesOption = None,
    format: FormatOption = TextOrJson.text,
) -> None:
    """Send an issue's email through SMTP: to the list once, or a test to yourself.

    Example: ecdigest send 2023-06 --to me@example.org

    The list ([email] to) gets an issue once: each send is recorded in ARCHIVE/sent/ISSUE.jsonl
    and a second one is refused unless --resend. A send killed between handing the message
    over and hearing the answer is refused too, until an editor has checked the list's
    archive (--mark-sent or --resend). Drafts go out only with --to, as a 【样稿】 proof.
    Server: [smtp] host, port, security, user in ecdigest.toml; the password from
    $ECDIGEST_SMTP_PASSWORD or ~/.netrc, never from ecdigest.toml. Exit 75 when the server
    says try later (4xx); cron: ecdigest build && ecdigest send --if-unsent
    """
    from ..errors import UsageError
    from ..send import already_sent, deliver, prepare, refusal
    from ..send import mark_sent as record_sent

    if if_unsent and resend:
        raise UsageError("--if-unsent and --resend contradict each other; give one")
    if mark_sent and (to or resend or if_unsent or dry_run):
        raise UsageError("--mark-sent only records the list send; give it alone")
    archive = state(ctx).archive()
    plan = prepare(archive, issue, to=to, max_articles=max_articles)
    as_json = format is TextOrJson.json

    if mark_sent:
        record = record_sent(archive, plan)
        if as_json:
            emit_json(_summary(plan, "marked-sent" if record else "already-sent"))
        elif record is None:
            write_stdout(f"{plan.issue.id}: the record already says the list has it; nothing changed\n")
        else:
            write_stdout(f"recorded {plan.issue.id} as sent to {', '.join(plan.message.recipients)}\n")
        return

    def nothing_to_do(sent_at: str) -> None:
        if as_json:
            emit_json(_summary(plan, "already-sent", sent_at=sent_at))
        else:
            write_stdout(f"{plan.issue.id} was already sent on {sent_at}; nothing to do\n")

    sent = already_sent(plan)
    if if_unsent and sent is not None:
        nothing_to_do(sent["at"])
        return
    if dry_run:
        refused = refusal(plan, resend=resend)
        if refused is not None:
            raise refused
        _warn(plan)
        if as_json:
            emit_json(_summary(plan, "dry-run"))
            return
        lines = [f"would send {plan.describe()}"]
        lines += [f"{name}: {value}" for name, value in plan.message.headers]
        parts = plan.message.parts
        if len(parts) > 1:
            lines.append("Content-Type: multipart/alternative")
            lines += [f"  {part.content_type} ({part.size:,} bytes)" for part in parts]
        else:
            lines += [f"Content-Type: {part.content_type}" for part in parts]
        lines.append(f"size: {plan.message.size_line()}")
        write_stdout("".join(printable(line, one_line=True) + "\n" for line in lines))
        note("dry run: nothing was sent")
        return

    _warn(plan)
    # The record is judged under the send lock only: read before it, an attempt with no
    # outcome yet may be another send still in flight, not an unknown one.
    outcome = deliver(archive, plan, resend=resend, if_unsent=if_unsent)
    if outcome.already_sent:  # another send finished while this one waited for the lock
        nothing_to_do(outcome.at)
        return
    if as_json:
        emit_json(_summary(plan, "sent", answer=outcome.answer, sent_at=outcome.at))
        return
    write_stdout(
        printable(
            f"sent {plan.issue.id} ({plan.message.size:,} bytes) to {', '.join(plan.message.recipients)} "
            f"via {plan.server}: {outcome.answer}",
            one_line=True,
        )
        + "\n"
    )
