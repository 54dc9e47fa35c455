"""`ecdigest send`: one issue's message through SMTP, to the list exactly once.

The plan (`prepare`) is everything that can be known without the network: the message
(export/email.py), the envelope, the server settings (`[smtp]`), where the password comes
from, and what the send record says. `--dry-run` prints it; `deliver` then runs it.

Exactly once. Cron retries after a crash or a timeout, so the record (sendlog.py) is
written around the one step that cannot be undone, DATA:

1. under a send lock (`ARCHIVE/.ecdigest/send.lock`, so two sends of one archive take
   turns), read the record: refuse when the list already has the issue, or when an
   earlier attempt has no known outcome;
2. connect, TLS, AUTH, MAIL FROM, RCPT TO: any refusal here, or a kill, leaves the list
   without the message and the record without a line, so a retry simply sends;
3. write an `attempt` line (atomically, fsynced), and only then DATA;
4. write the outcome: `sent` after the server's 250, `failed` after a definite refusal,
   `uncertain` when the connection broke or timed out once the message was on its way.

A SIGKILL (or a power cut) between 3 and 4 leaves an attempt without an outcome: the
server may have the message or not, and nothing on this side can tell. The next send
refuses (exit 1) and says to check the list's archive, then `--mark-sent` or `--resend`.
So the order fails towards a missed send that a person resolves, never towards a second
copy in every subscriber's inbox: a newsletter sent twice cannot be unsent.

Errors are one line: connection refused, name not found, timeout, TLS failure, auth
failed, sender or recipient refused (exit 2); a temporary refusal (a 4xx reply) is
`SmtpTempFailure`, exit 75 (EX_TEMPFAIL, sysexits.h), so cron can tell "try later".

The password is never a setting: `$ECDIGEST_SMTP_PASSWORD`, else `~/.netrc` (`machine
HOST login USER password …`, which Python refuses to read when others may read it). It is
sent only over TLS, never shown, never recorded.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import EcdigestError, Failure, UsageError
from .fileio import FileLock

if TYPE_CHECKING:
    import smtplib
    from pathlib import Path

    from .archive import Archive
    from .export.email import Message
    from .model import Issue, Newsletter

PASSWORD_ENV = "ECDIGEST_SMTP_PASSWORD"
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
SEND_LOCK = "send.lock"


class SendRefused(Failure):
    """The record says no (already sent, or an earlier attempt's outcome is unknown): exit 1."""


class SmtpError(EcdigestError):
    """The send failed for good (connection, TLS, auth, a 5xx answer): exit 2."""


class SmtpTempFailure(EcdigestError):
    """The server answered 4xx (try again later): exit 75, EX_TEMPFAIL from sysexits.h."""

    exit_code = 75


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    security: str  # starttls | ssl | none
    timeout: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Login:
    user: str
    password: str = field(repr=False)
    source: str  # where the password came from, for people: "$ECDIGEST_SMTP_PASSWORD", "~/.netrc"


def server_of(settings: Newsletter) -> Server:
    host = settings.smtp_host.strip()
    if not host:
        raise UsageError(
            "no SMTP server: [smtp] host is not set",
            path="ecdigest.toml",
            hint='e.g. [smtp] host = "smtp.example.org"; try `ecdigest send --dry-run` after setting it',
        )
    if any(c.isspace() for c in host) or "/" in host:
        raise UsageError(f"[smtp] host = {host!r} is not a host name", path="ecdigest.toml")
    port = settings.smtp_port or DEFAULT_PORTS[settings.smtp_security]
    return Server(host, port, settings.smtp_security, settings.smtp_timeout)


def login_for(server: Server, user: str) -> Login | None:
    """The login to use: `[smtp] user` with $ECDIGEST_SMTP_PASSWORD, else the ~/.netrc
    entry for the host (whose login must match `user` when one is set); None: no AUTH."""
    password = os.environ.get(PASSWORD_ENV)
    if password:
        if not user:
            raise UsageError(
                f"${PASSWORD_ENV} is set but [smtp] user is not",
                path="ecdigest.toml",
                hint='set [smtp] user = "…", the login that password belongs to',
            )
        found: Login | None = Login(user, password, f"${PASSWORD_ENV}")
    else:
        found = _netrc_login(server.host, user)
    if found is None and user:
        raise UsageError(
            f"no password for SMTP user {user!r}",
            hint=f"set ${PASSWORD_ENV}, or add `machine {server.host} login {user} password …` to ~/.netrc",
        )
    if found is not None and server.security == "none":
        raise UsageError(
            'refusing to send the SMTP password unencrypted ([smtp] security = "none")',
            path="ecdigest.toml",
            hint='use security = "starttls" or "ssl", or a relay that needs no login',
        )
    return found


def _netrc_login(host: str, user: str) -> Login | None:
    import netrc

    path = os.path.join(os.path.expanduser("~"), ".netrc")
    if not os.path.exists(path):
        return None
    try:
        entry = netrc.netrc().authenticators(host)
    except netrc.NetrcParseError as exc:
        raise UsageError(
            f"~/.netrc: {exc.msg}",
            path=exc.filename,
            line=exc.lineno,
            hint="chmod 600 ~/.netrc" if "access" in exc.msg else "fix the line",
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot read ~/.netrc: {exc.strerror}", path=path) from None
    if entry is None:
        return None
    login, _account, password = entry
    if not password or (user and login and login != user):
        return None
    return Login(user or login, password, "~/.netrc")


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Plan:
    """What `send` would do, known without the network."""

    issue: Issue
    message: Message
    server: Server
    login: Login | None
    kind: str  # "list" (to [email] to, once) or "test" (--to)
    records: list[dict[str, Any]]
    record_path: Path

    def describe(self) -> str:
        """One line: to whom, through what, with which login."""
        auth = f"login {self.login.user}, password from {self.login.source}" if self.login else "no login"
        return (
            f"{self.issue.id} to {', '.join(self.message.recipients)} via {self.server} "
            f"({self.server.security}, {auth})"
        )


def prepare(
    archive: Archive,
    issue_id: str | None,
    *,
    to: list[str] | None = None,
    max_articles: int | None = None,
) -> Plan:
    """The plan for sending ISSUE (default: the latest published issue) to the list, or
    to `to` (a test send; the only way a draft goes out, as a proof)."""
    from . import sendlog
    from .export.email import SMTP_LINESEP, compose

    item = archive.resolve(issue_id, default_status="published")
    issue = item.issue
    if not issue.is_published and not to:
        raise UsageError(
            f"{issue.id} is a draft: only published issues go to the list",
            hint=f"send yourself a proof with `ecdigest send {issue.id} --to ADDR`, or publish it first",
        )
    settings = archive.settings
    server = server_of(settings)
    login = login_for(server, settings.smtp_user.strip())
    message = compose(
        issue,
        settings,
        to=to or (),
        max_articles=max_articles,
        linesep=SMTP_LINESEP,
        archive_root=archive.root,
    )
    return Plan(
        issue,
        message,
        server,
        login,
        "test" if to else "list",
        sendlog.read(archive, issue.id),
        sendlog.path_for(archive, issue.id),
    )


def refusal(plan: Plan, *, resend: bool) -> SendRefused | None:
    """Why the record forbids this send (None: go ahead). Test sends are never refused."""
    from . import sendlog

    if plan.kind != "list" or resend:
        return None
    state = sendlog.state(plan.records)
    where = plan.record_path
    if state.sent is not None:
        return SendRefused(
            f"{plan.issue.id} was already sent on {state.sent['at']} to {', '.join(state.sent.get('recipients', []))}",
            path=where,
            hint="send it again with --resend",
        )
    if state.open_attempt is not None:
        attempt = state.open_attempt
        what = "ended without an answer" if attempt["event"] == "uncertain" else "has no recorded outcome"
        return SendRefused(
            f"the send of {plan.issue.id} started {attempt['at']} {what}: the list may or may not have it",
            path=where,
            hint=(
                f"check the list's archive; if it is there, `ecdigest send {plan.issue.id} --mark-sent`, "
                "if not, `--resend`"
            ),
        )
    return None


def already_sent(plan: Plan) -> dict[str, Any] | None:
    """The `sent` record of the list send, if there is one."""
    from . import sendlog

    return sendlog.state(plan.records).sent if plan.kind == "list" else None


# --------------------------------------------------------------------------- sending


@dataclass(frozen=True)
class Outcome:
    answer: str | None  # the server's final reply, "250 2.0.0 Ok: queued as …"
    at: str
    # --if-unsent found the list send recorded (by a send that held the lock before us)
    already_sent: bool = False


def _who() -> str:
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "?"
    return f"{user}@{socket.gethostname()}"


def _now(settings: Newsletter) -> str:
    from .dates import now

    return now(settings.timezone).isoformat(timespec="seconds")


def _record(archive: Archive, plan: Plan, attempt: str, event: str, **extra: Any) -> dict[str, Any]:
    from . import sendlog

    record: dict[str, Any] = {
        "issue": plan.issue.id,
        "event": event,
        "kind": plan.kind,
        "attempt": attempt,
        "at": _now(archive.settings),
        "message_id": plan.message.message_id,
        "recipients": list(plan.message.recipients),
        "server": str(plan.server),
        "size": plan.message.size,
        "by": _who(),
        **extra,
    }
    sendlog.append(archive, plan.issue.id, record)
    return record


def _reply(code: int, text: bytes | str) -> str:
    from .export.common import one_line

    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return one_line(f"{code} {text}")


def _refused(step: str, code: int, text: bytes | str, server: Server) -> EcdigestError:
    answer = _reply(code, text)
    if 400 <= code < 500:
        return SmtpTempFailure(f"{server} {step}: {answer}", hint="a temporary refusal: try again later")
    return SmtpError(f"{server} {step}: {answer}")


def _network_error(exc: BaseException, server: Server, doing: str) -> EcdigestError:
    """One line for what went wrong talking to the server."""
    import smtplib
    import socket
    import ssl

    cause = exc.__context__ if isinstance(exc, smtplib.SMTPServerDisconnected) else None
    if isinstance(exc, TimeoutError) or isinstance(cause, TimeoutError):
        return SmtpError(
            f"{server}: no answer within {server.timeout} s while {doing}",
            hint="a slow or unreachable server; [smtp] timeout sets the wait",
        )
    if isinstance(exc, ConnectionRefusedError):
        return SmtpError(
            f"{server}: connection refused", hint="is the server running? check [smtp] host and port"
        )
    if isinstance(exc, socket.gaierror):
        return SmtpError(f"{server}: cannot find the host ({exc.strerror})", hint="check [smtp] host")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SmtpError(
            f"{server}: TLS failure: {exc.verify_message or exc.reason}",
            hint="the server's certificate is not trusted for this host name (a private CA: SSL_CERT_FILE=ca.pem)",
        )
    if isinstance(exc, ssl.SSLError):
        return SmtpError(f"{server}: TLS failure: {exc.reason or exc}", hint="check [smtp] security and port")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return SmtpError(f"{server}: the server closed the connection while {doing}")
    if isinstance(exc, smtplib.SMTPResponseException):
        return _refused(f"refused {doing}", exc.smtp_code, exc.smtp_error, server)
    if isinstance(exc, OSError):
        return SmtpError(f"{server}: {exc.strerror or exc} while {doing}")
    return SmtpError(f"{server}: {exc} while {doing}")


def _open(plan: Plan) -> smtplib.SMTP:
    """Connected, encrypted as `[smtp] security` says, logged in: ready for MAIL FROM."""
    import smtplib
    import ssl

    server = plan.server
    context = ssl.create_default_context()
    client: smtplib.SMTP | None = None
    doing = "connecting"
    try:
        # Connecting in the constructor is what tells smtplib the host name TLS checks the
        # certificate against (for STARTTLS too); a greeting other than 220 raises.
        if server.security == "ssl":
            client = smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout, context=context)
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
        doing = "greeting (EHLO)"
        client.ehlo()
        if server.security == "starttls":
            if not client.has_extn("starttls"):
                raise SmtpError(
                    f"{server} does not offer STARTTLS",
                    hint='refusing to go on unencrypted; set [smtp] security = "ssl" (port 465) if it speaks TLS from the start',
                )
            doing = "starting TLS"
            client.starttls(context=context)  # anything but 220 raises
            doing = "greeting (EHLO) after STARTTLS"
            client.ehlo()
        if plan.login is not None:
            doing = "logging in"
            _login(client, plan.login, server)
    except EcdigestError:
        if client is not None:
            client.close()
        raise
    except (OSError, smtplib.SMTPException) as exc:
        if client is not None:
            client.close()
        raise _network_error(exc, server, doing) from None
    return client


def _login(client: smtplib.SMTP, login: Login, server: Server) -> None:
    """AUTH PLAIN or LOGIN (RFC 4954, 4616), in UTF-8: smtplib's own login() encodes the
    password as ASCII and fails on any other character. Only ever over TLS (login_for)."""
    import base64

    def b64(text: str) -> str:
        return base64.b64encode(text.encode("utf-8")).decode("ascii")

    offered = (client.esmtp_features.get("auth") or "").upper().split()
    if "PLAIN" in offered:
        code, text = client.docmd("AUTH", "PLAIN " + b64(f"\0{login.user}\0{login.password}"))
    elif "LOGIN" in offered:
        code, text = client.docmd("AUTH", "LOGIN " + b64(login.user))
        if code == 334:
            code, text = client.docmd(b64(login.password))
    else:
        raise SmtpError(
            f"{server} offers no AUTH PLAIN or LOGIN on this connection ({' '.join(offered) or 'no AUTH at all'})",
            hint="check [smtp] security and user",
        )
    if code != 235:
        error = SmtpTempFailure if 400 <= code < 500 else SmtpError
        raise error(
            f"{server}: authentication failed for {login.user}: {_reply(code, text)}",
            hint=f"check the password in {login.source}",
        )


def _envelope(client: smtplib.SMTP, plan: Plan) -> None:
    """MAIL FROM and RCPT TO; any refusal aborts before DATA (nothing was sent)."""
    server, message = plan.server, plan.message
    options = [f"SIZE={message.size}"] if client.has_extn("size") else []
    code, text = client.mail(message.sender, options)
    if code != 250:
        raise _refused(f"refused the sender <{message.sender}>", code, text, server)
    refused = []
    for recipient in message.recipients:
        code, text = client.rcpt(recipient)
        if code not in (250, 251):
            refused.append((recipient, code, text))
    if refused:
        recipient, code, text = refused[0]
        more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        if all(400 <= c < 500 for _, c, _ in refused):
            code = min(c for _, c, _ in refused)
        raise _refused(f"refused the recipient <{recipient}>{more}", code, text, server)


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA payload: a line starting with '.' gets another (RFC 5321 4.5.2), then CRLF.CRLF."""
    payload = re.sub(rb"(?m)^\.", b"..", data)
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    return payload + b".\r\n"


def deliver(archive: Archive, plan: Plan, *, resend: bool = False, if_unsent: bool = False) -> Outcome:
    """Send the plan's message, recording it as the module docstring says. The record is
    read again under the send lock: another send may have finished while this one waited."""
    import smtplib

    from .archive import STATE_DIR

    with FileLock(archive.root / STATE_DIR / SEND_LOCK).held():
        fresh = prepare_again(archive, plan)
        sent = already_sent(fresh)
        if if_unsent and sent is not None:
            return Outcome(sent.get("answer"), sent["at"], already_sent=True)
        refused = refusal(fresh, resend=resend)
        if refused is not None:
            raise refused
        client = _open(plan)
        try:
            try:
                _envelope(client, plan)
            except (OSError, smtplib.SMTPException) as exc:
                raise _network_error(exc, plan.server, "sending the envelope (MAIL FROM, RCPT TO)") from None
            return _data(archive, plan, client)
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()


def prepare_again(archive: Archive, plan: Plan) -> Plan:
    """The plan with the record as it is now (read under the send lock)."""
    from dataclasses import replace

    from . import sendlog

    return replace(plan, records=sendlog.read(archive, plan.issue.id))


def _data(archive: Archive, plan: Plan, client: smtplib.SMTP) -> Outcome:
    import smtplib

    server = plan.server
    attempt = os.urandom(6).hex()
    _record(archive, plan, attempt, "attempt")  # before DATA: see the module docstring
    try:
        code, text = client.docmd("DATA")
    except (OSError, smtplib.SMTPException) as exc:
        error = _network_error(exc, server, "starting DATA")
        _record(archive, plan, attempt, "failed", answer=f"no 354: {error.message}")
        raise error from None
    if code != 354:
        _record(archive, plan, attempt, "failed", answer=_reply(code, text))
        raise _refused("refused DATA", code, text, server)
    try:
        client.send(_dot_stuffed(plan.message.data))
        code, text = client.getreply()
    except (OSError, smtplib.SMTPException) as exc:
        error = _network_error(exc, server, "waiting for the answer to the message")
        _record(archive, plan, attempt, "uncertain", answer=error.message)
        raise SmtpError(
            f"{error.message}: the message was on its way, so the list may or may not have it",
            hint=f"check the list's archive; then `ecdigest send {plan.issue.id} --mark-sent` or `--resend`",
        ) from None
    answer = _reply(code, text)
    if not 200 <= code < 300:
        _record(archive, plan, attempt, "failed", answer=answer)
        raise _refused("refused the message", code, text, server)
    try:
        record = _record(archive, plan, attempt, "sent", answer=answer)
    except EcdigestError as exc:
        raise SmtpError(
            f"the server took {plan.issue.id} ({answer}) but the record could not be written: {exc}",
            hint=f"once that is fixed, `ecdigest send {plan.issue.id} --mark-sent`; a retry would refuse",
        ) from None
    return Outcome(answer, record["at"])


def mark_sent(archive: Archive, plan: Plan) -> dict[str, Any] | None:
    """Record that the list has the issue (an editor checked), without sending; None when
    the record already says so."""
    from .archive import STATE_DIR

    if plan.kind != "list":
        raise UsageError("--mark-sent records the send to the list; it does not go with --to")
    with FileLock(archive.root / STATE_DIR / SEND_LOCK).held():
        fresh = prepare_again(archive, plan)
        if already_sent(fresh) is not None:
            return None
        return _record(archive, plan, os.urandom(6).hex(), "sent", answer=None, note="marked sent by hand")
