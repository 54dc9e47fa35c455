"""A real SMTP server on 127.0.0.1 for the send tests (aiosmtpd in a thread), with the
misbehaviours a list server shows: STARTTLS or implicit TLS with a throwaway certificate,
AUTH, 4xx/5xx answers at RCPT and DATA, a hang-up in the middle of DATA, a slow answer.

Every message the server accepts (answers 250 to) is kept in `deliveries`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class Certs:
    ca: Path  # what a client must trust (SSL_CERT_FILE)
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_certs(folder: Path) -> Certs:
    """A throwaway CA and a certificate it signed for 127.0.0.1 and localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ecdigest test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    paths = Certs(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


@dataclass
class Delivery:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: str | None


@dataclass
class Behaviour:
    """How the server answers; change it between sends."""

    rcpt_answer: str | None = None  # e.g. "450 4.2.1 Mailbox busy"
    data_answer: str | None = None  # instead of 250, after the whole message
    data_command_answer: str | None = None  # instead of 354
    delay_mail: float = 0.0  # seconds before answering MAIL FROM
    delay_data: float = 0.0  # seconds between keeping the message and saying 250
    hang_up_mid_data: bool = False  # close after the first line of the message
    hang_up_after_data: bool = False  # close after the whole message, no answer
    # Called in the server thread: at="rcpt" before answering RCPT, "data" when the whole
    # message is in (before it is kept), "kept" after it is kept (before the answer).
    hook: Callable[[str], None] | None = None


class _SMTP(SMTP):
    """aiosmtpd's server, plus the hang-up in the middle of DATA and a connection count."""

    def __init__(self, owner: SmtpServer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        with self.owner.lock:
            self.owner.open_connections += 1
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        with self.owner.lock:
            self.owner.open_connections -= 1
        super().connection_lost(error)

    async def smtp_DATA(self, arg: str) -> None:
        if self.owner.behaviour.data_command_answer and self.envelope and self.envelope.rcpt_tos:
            await self.push(self.owner.behaviour.data_command_answer)
            return
        if self.owner.behaviour.hang_up_mid_data and self.envelope and self.envelope.rcpt_tos:
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._reader.readuntil(b"\r\n")  # the first line of the message
            assert self.transport is not None
            self.transport.close()
            return
        await super().smtp_DATA(arg)


class _Handler:
    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.owner.behaviour.delay_mail:
            await asyncio.sleep(self.owner.behaviour.delay_mail)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        behaviour = self.owner.behaviour
        if behaviour.hook:
            behaviour.hook("rcpt")
        if behaviour.rcpt_answer:
            return behaviour.rcpt_answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        behaviour = self.owner.behaviour
        if behaviour.hook:
            behaviour.hook("data")
        if behaviour.hang_up_after_data:
            assert server.transport is not None
            server.transport.close()
            return "250 never heard"
        if behaviour.data_answer:
            return behaviour.data_answer
        assert isinstance(envelope.original_content, bytes) and envelope.mail_from is not None
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        with self.owner.lock:
            self.owner.deliveries.append(
                Delivery(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content, login)
            )
            number = len(self.owner.deliveries)
        if behaviour.hook:
            behaviour.hook("kept")
        if behaviour.delay_data:  # queued, then slow to say so
            await asyncio.sleep(behaviour.delay_data)
        return f"250 2.0.0 Ok: queued as Q{number}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class SmtpServer:
    """What the running server saw; `behaviour` says how it answers."""

    port: int
    behaviour: Behaviour = field(default_factory=Behaviour)
    deliveries: list[Delivery] = field(default_factory=list)
    open_connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Until no client is connected (a killed client's session has been wound up)."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.open_connections <= 0:
                    return
            time.sleep(0.01)
        raise AssertionError("the SMTP server still has a client after 10 s")


@contextmanager
def smtp_server(
    *,
    certs: Certs | None = None,
    security: str = "none",
    users: dict[str, str] | None = None,
    exclude_auth: tuple[str, ...] = (),
    timeout: float = 30,
) -> Iterator[SmtpServer]:
    """A server on 127.0.0.1: security "none", "starttls" (required) or "ssl"; with
    `users`, AUTH (LOGIN and PLAIN) is offered and required."""
    state = SmtpServer(free_port())

    def authenticator(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and users is not None
            and users.get(auth_data.login.decode()) == auth_data.password.decode()
        )
        # handled=False: aiosmtpd itself answers (235, or 535 on failure)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    smtp_kwargs: dict[str, Any] = {"server_hostname": "test.invalid", "timeout": timeout}
    if users is not None:
        smtp_kwargs.update(
            authenticator=authenticator,
            auth_required=True,
            auth_require_tls=security != "none",
            auth_exclude_mechanism=list(exclude_auth),
        )
    ssl_context = None
    if security == "starttls":
        assert certs is not None
        smtp_kwargs.update(tls_context=certs.server_context(), require_starttls=True)
    elif security == "ssl":
        assert certs is not None
        ssl_context = certs.server_context()

    class _Controller(Controller):
        def factory(self) -> SMTP:
            return _SMTP(state, self.handler, **self.SMTP_kwargs)

    controller = _Controller(
        _Handler(state), hostname="127.0.0.1", port=state.port, ssl_context=ssl_context, **smtp_kwargs
    )
    controller.start()
    try:
        yield state
    finally:
        controller.stop()


def configure_smtp(archive: Path, **values: object) -> Path:
    """Set the archive's `[smtp]` table to `values` (replacing the one `init` writes)."""
    import re

    settings = archive / "ecdigest.toml"
    text = re.sub(r"(?ms)^\[smtp\]\n.*?(?=^\[|\Z)", "", settings.read_text("utf-8")).rstrip("\n")
    lines = [
        f"{key} = {value!r}" if isinstance(value, int) else f'{key} = "{value}"'
        for key, value in values.items()
    ]
    settings.write_text(text + "\n\n[smtp]\n" + "\n".join(lines) + "\n", "utf-8")
    return archive
