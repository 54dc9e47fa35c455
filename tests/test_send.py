"""`ecdigest send` against a real SMTP server on 127.0.0.1 (aiosmtpd, tests/_smtp.py):
STARTTLS and implicit TLS with a throwaway CA, AUTH PLAIN and LOGIN with the password
from the environment or ~/.netrc, 4xx/5xx answers at RCPT and DATA, a hang-up in the
middle of DATA, a slow server; the send record and what it allows next.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from _flowed import as_wrapped, unflow_part
from _mail import check_message
from _publishing import copy_fixture
from _smtp import Behaviour, Certs, configure_smtp, free_port, make_certs, smtp_server
from conftest import SHIPPED_ARCHIVE, Invoke, run_cli

from ecdigest.archive import Archive
from ecdigest.export import common
from ecdigest.sendlog import read as read_records
from ecdigest.sendlog import state as record_state

USER, PASSWORD = "editor@example.org", "s3cret 密码"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(autouse=True)
def _no_secrets_from_the_developer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No password, ~/.netrc or CA bundle of whoever runs the tests leaks in."""
    monkeypatch.delenv("ECDIGEST_SMTP_PASSWORD", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))


def configure(archive: Path, port: int, security: str = "none", user: str = "", timeout: int = 10) -> Path:
    return configure_smtp(archive, host="127.0.0.1", port=port, security=security, user=user, timeout=timeout)


@pytest.fixture
def fixture_archive(tmp_path: Path) -> Path:
    return copy_fixture(tmp_path)


def parse(data: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def records(archive: Path, issue: str = "2023-06") -> list[dict[str, object]]:
    return read_records(Archive.open(archive), issue)


def events(archive: Path, issue: str = "2023-06") -> list[tuple[object, object]]:
    return [(r["kind"], r["event"]) for r in records(archive, issue)]


def check_delivered(data: bytes, archive: Path, issue_id: str = "2023-06") -> EmailMessage:
    """A delivered message parses, its headers are one line each, its text un-flows to
    the issue's paragraphs."""
    assert b"\r\n" in data
    opened = Archive.open(archive)
    issue = opened.get(issue_id).issue
    message = check_message(data, issue, opened.settings)  # both parts, the same articles
    logical = unflow_part(message)
    for article in issue.articles:
        for paragraph in article.paragraphs:
            if as_wrapped(paragraph):
                assert as_wrapped(paragraph) in logical, (article.id, paragraph[:40])
        assert as_wrapped(common.attribution(article)) in logical
    return message


# --------------------------------------------------------------------------- the happy paths


@pytest.mark.skipif(not (SHIPPED_ARCHIVE / "ecdigest.toml").exists(), reason="shipped archive not there")
def test_starttls_auth_plain_with_the_password_from_the_environment(
    invoke: Invoke, tmp_path: Path, certs: Certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "shipped"
    shutil.copytree(SHIPPED_ARCHIVE, archive, ignore=shutil.ignore_patterns(".ecdigest"))
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca))
    monkeypatch.setenv("ECDIGEST_SMTP_PASSWORD", PASSWORD)
    with smtp_server(
        certs=certs, security="starttls", users={USER: PASSWORD}, exclude_auth=("LOGIN",)
    ) as server:
        configure(archive, server.port, "starttls", USER)
        result = invoke("send", archive=archive)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("sent 2023-06 (") and ": 250 2.0.0 Ok: queued as Q1" in result.stdout
    (delivery,) = server.deliveries
    assert (delivery.mail_from, delivery.rcpt_tos, delivery.login) == (
        USER,
        ["subscribers@example.org"],
        USER,
    )
    message = check_delivered(delivery.data, archive)
    assert message["Subject"] == "电子商务动态 2023 年 6 月"
    assert message["List-Id"] == "电子商务动态 <subscribers.example.org>"
    assert PASSWORD.encode() not in delivery.data
    attempt, sent = records(archive)
    assert (attempt["event"], sent["event"]) == ("attempt", "sent")
    assert attempt["attempt"] == sent["attempt"] and sent["answer"] == "250 2.0.0 Ok: queued as Q1"
    assert sent["message_id"] == message["Message-ID"] and sent["recipients"] == ["subscribers@example.org"]
    assert sent["at"] == "2023-07-10T09:00:00+08:00" and sent["kind"] == "list"
    assert PASSWORD not in (archive / "sent" / "2023-06.jsonl").read_text("utf-8")


def test_auth_login_with_the_password_from_netrc(
    invoke: Invoke, fixture_archive: Path, certs: Certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = Path(os.environ["HOME"]) / ".netrc"
    netrc.write_text(f"machine 127.0.0.1\n  login {USER}\n  password s3cret-netrc\n", "utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca))
    users = {USER: "s3cret-netrc"}
    with smtp_server(certs=certs, security="starttls", users=users, exclude_auth=("PLAIN",)) as server:
        configure(fixture_archive, server.port, "starttls")  # no user: the login from ~/.netrc
        dry = invoke("send", "--dry-run", archive=fixture_archive)
        result = invoke("send", archive=fixture_archive)
    assert dry.exit_code == 0, dry.output
    assert f"(starttls, login {USER}, password from ~/.netrc)" in dry.stdout
    assert result.exit_code == 0, result.output
    (delivery,) = server.deliveries
    assert delivery.login == USER
    check_delivered(delivery.data, fixture_archive)


def test_a_netrc_others_can_read_is_refused(
    invoke: Invoke, fixture_archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = Path(os.environ["HOME"]) / ".netrc"
    netrc.write_text(f"machine 127.0.0.1 login {USER} password x\n", "utf-8")
    netrc.chmod(0o644)
    configure(fixture_archive, free_port(), "starttls")
    result = invoke("send", "--dry-run", archive=fixture_archive)
    assert result.exit_code == 2, result.output
    assert "~/.netrc" in result.stderr and "chmod 600" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_implicit_tls(
    invoke: Invoke, fixture_archive: Path, certs: Certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca))
    with smtp_server(certs=certs, security="ssl") as server:
        configure(fixture_archive, server.port, "ssl")
        result = invoke("send", "--format", "json", archive=fixture_archive)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["status"] == "sent" and report["security"] == "ssl" and report["login"] is None
    assert report["answer"] == "250 2.0.0 Ok: queued as Q1"
    assert report["size"] == len(server.deliveries[0].data.rstrip(b"\r\n")) + 2
    check_delivered(server.deliveries[0].data, fixture_archive)


# --------------------------------------------------------------------------- errors before DATA


def _one_line_error(result: object, code: int, *needles: str) -> None:
    assert result.exit_code == code, result.output  # type: ignore[attr-defined]
    stderr = result.stderr  # type: ignore[attr-defined]
    assert stderr.startswith("ecdigest: error: ") and len(stderr.strip().splitlines()) == 1, stderr
    for needle in needles:
        assert needle in stderr, stderr


def test_an_untrusted_certificate_is_a_tls_failure(
    invoke: Invoke, fixture_archive: Path, certs: Certs
) -> None:
    with smtp_server(certs=certs, security="starttls") as server:
        configure(fixture_archive, server.port, "starttls")
        result = invoke("send", archive=fixture_archive)
    _one_line_error(result, 2, "TLS failure", "SSL_CERT_FILE")
    assert server.deliveries == [] and records(fixture_archive) == []


def test_starttls_not_offered_is_refused(invoke: Invoke, fixture_archive: Path) -> None:
    with smtp_server() as server:
        configure(fixture_archive, server.port, "starttls")
        result = invoke("send", archive=fixture_archive)
    _one_line_error(result, 2, "does not offer STARTTLS")
    assert server.deliveries == []


def test_a_wrong_password_is_an_auth_failure(
    invoke: Invoke, fixture_archive: Path, certs: Certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca))
    monkeypatch.setenv("ECDIGEST_SMTP_PASSWORD", "wrong")
    with smtp_server(certs=certs, security="starttls", users={USER: PASSWORD}) as server:
        configure(fixture_archive, server.port, "starttls", USER)
        result = invoke("send", archive=fixture_archive)
    _one_line_error(result, 2, "authentication failed", "535", "$ECDIGEST_SMTP_PASSWORD")
    assert "wrong" not in result.stderr
    assert server.deliveries == [] and records(fixture_archive) == []


def test_connection_refused(invoke: Invoke, fixture_archive: Path) -> None:
    configure(fixture_archive, free_port())
    result = invoke("send", archive=fixture_archive)
    _one_line_error(result, 2, "connection refused")
    assert records(fixture_archive) == []


def test_a_user_without_a_password_and_a_password_without_tls(
    invoke: Invoke, fixture_archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(fixture_archive, free_port(), "starttls", USER)
    _one_line_error(
        invoke("send", archive=fixture_archive), 2, "no password", "ECDIGEST_SMTP_PASSWORD", ".netrc"
    )
    plain = copy_fixture(fixture_archive.parent / "plain")
    configure(plain, free_port(), "none", USER)
    monkeypatch.setenv("ECDIGEST_SMTP_PASSWORD", PASSWORD)
    _one_line_error(invoke("send", archive=plain), 2, "unencrypted")


@pytest.mark.parametrize(("answer", "code"), [("450 4.2.1 Mailbox busy", 75), ("550 5.1.1 No such user", 2)])
def test_a_refused_recipient_sends_nothing_and_records_nothing(
    invoke: Invoke, fixture_archive: Path, answer: str, code: int
) -> None:
    with smtp_server() as server:
        configure(fixture_archive, server.port)
        server.behaviour = Behaviour(rcpt_answer=answer)
        result = invoke("send", archive=fixture_archive)
        _one_line_error(result, code, "refused the recipient <subscribers@example.org>", answer)
        assert server.deliveries == [] and records(fixture_archive) == []
        server.behaviour = Behaviour()
        retry = invoke("send", archive=fixture_archive)
    assert retry.exit_code == 0, retry.output
    assert len(server.deliveries) == 1


def test_a_slow_server_times_out_before_anything_is_sent(invoke: Invoke, fixture_archive: Path) -> None:
    with smtp_server() as server:
        configure(fixture_archive, server.port, timeout=1)
        server.behaviour = Behaviour(delay_mail=3)
        result = invoke("send", archive=fixture_archive)
        server.wait_idle()
    _one_line_error(result, 2, "no answer within 1 s", "timeout")
    assert server.deliveries == [] and records(fixture_archive) == []


# --------------------------------------------------------------------------- DATA and the record


@pytest.mark.parametrize(
    ("behaviour", "code", "needle"),
    [
        (Behaviour(data_answer="451 4.3.0 Try again later"), 75, "451 4.3.0"),
        (Behaviour(data_answer="554 5.6.0 Message rejected"), 2, "554 5.6.0"),
        (Behaviour(data_command_answer="554 5.5.1 No valid recipients"), 2, "refused DATA"),
    ],
    ids=["4xx-after-data", "5xx-after-data", "5xx-at-data"],
)
def test_a_refused_message_is_recorded_as_failed_and_may_be_retried(
    invoke: Invoke, fixture_archive: Path, behaviour: Behaviour, code: int, needle: str
) -> None:
    with smtp_server() as server:
        configure(fixture_archive, server.port)
        server.behaviour = behaviour
        result = invoke("send", archive=fixture_archive)
        _one_line_error(result, code, needle)
        assert server.deliveries == []
        assert events(fixture_archive) == [("list", "attempt"), ("list", "failed")]
        server.behaviour = Behaviour()
        retry = invoke("send", "--if-unsent", archive=fixture_archive)  # a failure is not a send
    assert retry.exit_code == 0, retry.output
    assert len(server.deliveries) == 1
    assert events(fixture_archive)[2:] == [("list", "attempt"), ("list", "sent")]


@pytest.mark.parametrize(
    "behaviour",
    [Behaviour(hang_up_mid_data=True), Behaviour(hang_up_after_data=True)],
    ids=["mid-data", "after-data"],
)
def test_a_hang_up_during_data_is_uncertain_and_blocks_the_next_send(
    invoke: Invoke, fixture_archive: Path, behaviour: Behaviour
) -> None:
    with smtp_server() as server:
        configure(fixture_archive, server.port)
        server.behaviour = behaviour
        result = invoke("send", archive=fixture_archive)
        _one_line_error(result, 2, "may or may not have it", "--mark-sent", "--resend")
        assert server.deliveries == []
        assert events(fixture_archive) == [("list", "attempt"), ("list", "uncertain")]
        server.behaviour = Behaviour()
        for args in (["send"], ["send", "--if-unsent"]):
            again = invoke(*args, archive=fixture_archive)
            _one_line_error(again, 1, "ended without an answer", "check the list's archive")
        assert server.deliveries == []
        resent = invoke("send", "--resend", archive=fixture_archive)
        assert resent.exit_code == 0, resent.output
        assert len(server.deliveries) == 1
        done = invoke("send", "--if-unsent", archive=fixture_archive)
    assert (
        done.exit_code == 0
        and done.stdout == "2023-06 was already sent on 2023-07-10T09:00:00+08:00; nothing to do\n"
    )
    assert len(server.deliveries) == 1


def test_a_slow_answer_after_the_message_is_uncertain_and_that_is_the_truth(
    invoke: Invoke, fixture_archive: Path
) -> None:
    with smtp_server() as server:
        configure(fixture_archive, server.port, timeout=1)
        server.behaviour = Behaviour(delay_data=2.5)
        result = invoke("send", archive=fixture_archive)
        server.wait_idle()
    _one_line_error(result, 2, "no answer within 1 s", "may or may not have it")
    # the server did keep it, after our timeout: "uncertain" was the honest answer
    assert len(server.deliveries) == 1
    assert events(fixture_archive) == [("list", "attempt"), ("list", "uncertain")]


def test_mark_sent_settles_an_unknown_outcome(invoke: Invoke, fixture_archive: Path) -> None:
    with smtp_server() as server:
        configure(fixture_archive, server.port)
        server.behaviour = Behaviour(hang_up_after_data=True)
        assert invoke("send", archive=fixture_archive).exit_code == 2
        marked = invoke("send", "--mark-sent", archive=fixture_archive)
        assert (
            marked.exit_code == 0 and marked.stdout == "recorded 2023-06 as sent to subscribers@example.org\n"
        )
        again = invoke("send", "--mark-sent", archive=fixture_archive)
        assert "already says" in again.stdout
        server.behaviour = Behaviour()
        quiet = invoke("send", "--if-unsent", archive=fixture_archive)
    assert quiet.exit_code == 0 and "already sent" in quiet.stdout
    assert server.deliveries == []
    state = record_state(records(fixture_archive))
    assert (
        state.sent is not None and state.sent["note"] == "marked sent by hand" and state.open_attempt is None
    )


def test_already_sent_is_refused_unless_resend(invoke: Invoke, fixture_archive: Path) -> None:
    with smtp_server() as server:
        configure(fixture_archive, server.port)
        assert invoke("send", archive=fixture_archive).exit_code == 0
        _one_line_error(invoke("send", archive=fixture_archive), 1, "already sent", "--resend")
        cron = invoke("send", "--if-unsent", archive=fixture_archive)
        assert cron.exit_code == 0 and cron.stdout.count("\n") == 1 and "already sent" in cron.stdout
        assert len(server.deliveries) == 1
        assert invoke("send", "--resend", archive=fixture_archive).exit_code == 0
        assert invoke("send", "--to", "me@example.org", archive=fixture_archive).exit_code == 0
        _one_line_error(invoke("send", "--if-unsent", "--resend", archive=fixture_archive), 2, "contradict")
    assert [d.rcpt_tos for d in server.deliveries] == [
        ["subscribers@example.org"],
        ["subscribers@example.org"],
        ["me@example.org"],
    ]
    # both list sends carry the same Message-ID: clients that keep one copy per id hide the second
    first, second, test = (parse(d.data)["Message-ID"] for d in server.deliveries)
    assert first == second != test


# --------------------------------------------------------------------------- drafts, dry runs


def test_a_draft_goes_out_only_as_a_proof(invoke: Invoke, fixture_archive: Path) -> None:
    with smtp_server() as server:
        configure(fixture_archive, server.port)
        refused = invoke("send", "2023-07", archive=fixture_archive)
        _one_line_error(refused, 2, "2023-07 is a draft", "--to")
        proof = invoke("send", "2023-07", "--to", "编辑 <me@example.org>", archive=fixture_archive)
    assert proof.exit_code == 0, proof.output
    (delivery,) = server.deliveries
    assert delivery.rcpt_tos == ["me@example.org"]
    message = parse(delivery.data)
    assert message["Subject"].startswith("【样稿】") and message["To"] == "编辑 <me@example.org>"
    assert events(fixture_archive, "2023-07") == [("test", "attempt"), ("test", "sent")]
    assert record_state(records(fixture_archive, "2023-07")).sent is None  # a proof is not the send


def test_dry_run_prints_headers_size_and_recipients_and_sends_nothing(
    invoke: Invoke, fixture_archive: Path
) -> None:
    with smtp_server() as server:
        configure(fixture_archive, server.port)
        result = invoke("send", "--dry-run", archive=fixture_archive)
        as_json = invoke("send", "--dry-run", "-f", "json", archive=fixture_archive)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert (
        lines[0]
        == f"would send 2023-06 to subscribers@example.org via 127.0.0.1:{server.port} (none, no login)"
    )
    assert "Subject: 电子商务动态 2023 年 6 月" in lines and "To: subscribers@example.org" in lines
    at = lines.index("Content-Type: multipart/alternative")
    assert re.fullmatch(
        r"  text/plain; charset=utf-8; format=flowed; delsp=yes \([\d,]+ bytes\)", lines[at + 1]
    )
    assert re.fullmatch(r"  text/html; charset=utf-8 \([\d,]+ bytes\)", lines[at + 2])
    assert lines[-1].startswith("size: ") and "bytes; text/html part" in lines[-1]
    assert result.stderr == "dry run: nothing was sent\n"
    report = json.loads(as_json.stdout)
    assert report["status"] == "dry-run" and report["recipients"] == ["subscribers@example.org"]
    assert [part["type"] for part in report["parts"]] == ["text/plain", "text/html"]
    assert report["size"] > sum(part["bytes"] for part in report["parts"])
    assert server.deliveries == [] and records(fixture_archive) == []
    assert not (fixture_archive / "sent").exists()


def test_no_smtp_host_is_a_clear_error(invoke: Invoke, fixture_archive: Path) -> None:
    _one_line_error(invoke("send", "--dry-run", archive=fixture_archive), 2, "[smtp] host is not set")


@pytest.mark.parametrize("table", ["smtp", "email"])
def test_a_password_in_ecdigest_toml_is_refused_by_every_command(
    invoke: Invoke, fixture_archive: Path, table: str
) -> None:
    text = (fixture_archive / "ecdigest.toml").read_text("utf-8")
    secret = f'[{table}]\npassword = "hunter2"\n'
    text = text.replace(f"[{table}]\n", secret) if f"[{table}]\n" in text else f"{text}\n{secret}"
    (fixture_archive / "ecdigest.toml").write_text(text, "utf-8")
    for args in (["send", "--dry-run"], ["list"], ["validate"]):
        result = invoke(*args, archive=fixture_archive)
        _one_line_error(result, 2, "never holds a password", "ECDIGEST_SMTP_PASSWORD", "ecdigest.toml:")
        assert "hunter2" not in result.output


# --------------------------------------------------------------------------- the record in the archive


def test_the_record_is_not_an_issue_file(invoke: Invoke, fixture_archive: Path) -> None:
    before = [
        invoke(*args, archive=fixture_archive).stdout for args in (["list"], ["validate"], ["search", "标题"])
    ]
    with smtp_server() as server:
        configure(fixture_archive, server.port)
        assert invoke("send", archive=fixture_archive).exit_code == 0
        assert invoke("send", "2023-07", "--to", "me@example.org", archive=fixture_archive).exit_code == 0
    assert sorted(p.name for p in (fixture_archive / "sent").iterdir()) == ["2023-06.jsonl", "2023-07.jsonl"]
    after = [
        invoke(*args, archive=fixture_archive).stdout for args in (["list"], ["validate"], ["search", "标题"])
    ]
    assert after == before
    # the launcher's fast `list` (a real process, stdout not a terminal) ignores it too
    fast = run_cli(["--archive", str(fixture_archive), "list"])
    assert fast.returncode == 0 and fast.stdout.decode() == before[0]


def test_a_merge_conflict_in_the_record_is_reported_with_its_line(
    invoke: Invoke, fixture_archive: Path
) -> None:
    record = fixture_archive / "sent" / "2023-06.jsonl"
    record.parent.mkdir()
    line = '{"issue": "2023-06", "event": "sent", "kind": "list", "attempt": "a", "at": "2023-07-01T08:00:00+08:00"}'
    record.write_text(f"<<<<<<< HEAD\n{line}\n=======\n>>>>>>> other\n", "utf-8")
    configure(fixture_archive, free_port())
    result = invoke("send", "--dry-run", archive=fixture_archive)
    _one_line_error(result, 2, "sent/2023-06.jsonl:1:", "merge conflict")


def test_article_text_cannot_add_headers_or_recipients(invoke: Invoke, fixture_archive: Path) -> None:
    issue_file = fixture_archive / "2023" / "2023-06.toml"
    text = issue_file.read_text("utf-8")
    evil = 'title = "正常标题\\r\\nBcc: victim@example.com\\nX-Evil: 1\\r\\n\\r\\n<script>"'
    issue_file.write_text(text.replace('title = "电子商务动态 2023 年 6 月"', evil, 1), "utf-8")
    with smtp_server() as server:
        configure(fixture_archive, server.port)
        result = invoke("send", archive=fixture_archive)
    assert result.exit_code == 0, result.output
    (delivery,) = server.deliveries
    assert delivery.rcpt_tos == ["subscribers@example.org"]
    message = check_delivered(delivery.data, fixture_archive)
    assert "Bcc" not in message and "X-Evil" not in message
    assert message["Subject"] == "正常标题 Bcc: victim@example.com X-Evil: 1 <script>"
    head = delivery.data.split(b"\r\n\r\n", 1)[0]
    assert all(line[:1] in (b" ", b"\t") or b": " in line for line in head.split(b"\r\n"))


def test_data_is_dot_stuffed() -> None:
    from ecdigest.send import _dot_stuffed

    assert _dot_stuffed(b"a\r\n.b\r\n..c\r\n.\r\n") == b"a\r\n..b\r\n...c\r\n..\r\n.\r\n"
    assert _dot_stuffed(b".x") == b"..x\r\n.\r\n"


def test_export_eml_reports_its_size_and_warns_before_gmail_clips(
    invoke: Invoke, fixture_archive: Path
) -> None:
    result = invoke("export", "email", "2023-06", "--eml", archive=fixture_archive)
    assert result.exit_code == 0, result.output
    size = len(result.stdout_bytes)
    assert result.stderr.startswith(f"2023-06: {size:,} bytes; text/html part ")
    assert "warning" not in result.stderr
    # a long issue: the warning names the way out, and --max-articles takes it
    issue_file = fixture_archive / "2023" / "2023-06.toml"
    text = issue_file.read_text("utf-8")
    last = text.rindex('body = """') + len('body = """')  # the last article: --max-articles 1 drops it
    issue_file.write_text(text[:last] + "很长的正文。" * 6000 + "\n\n" + text[last:], "utf-8")
    long = invoke("export", "email", "2023-06", "--eml", archive=fixture_archive)
    assert long.exit_code == 0 and "warning: the text/html part is" in long.stderr
    fits = re.search(r"the first (\d+) articles fit: --max-articles (\d+) ", long.stderr)
    assert fits is not None and fits[1] == fits[2], long.stderr
    cut = invoke("export", "email", "2023-06", "--eml", "--max-articles", fits[1], archive=fixture_archive)
    assert cut.exit_code == 0 and "warning" not in cut.stderr
    html = parse(cut.stdout_bytes).get_body(("html",)).get_content()  # type: ignore[union-attr]
    total = len(Archive.open(fixture_archive).get("2023-06").issue.articles)
    assert f"本期另有 {total - int(fits[1])} 篇文章未收入邮件" in html  # the cut, in the HTML part too
    dry = invoke("send", "--dry-run", "2023-06", archive=configure(fixture_archive, free_port()))
    assert dry.exit_code == 0 and "warning: the text/html part is" in dry.stderr


def test_nothing_is_sent_when_the_attempt_cannot_be_recorded(invoke: Invoke, fixture_archive: Path) -> None:
    (fixture_archive / "sent").write_text("not a folder\n", "utf-8")  # even root cannot write below it
    with smtp_server() as server:
        configure(fixture_archive, server.port)
        result = invoke("send", archive=fixture_archive)
        server.wait_idle()
    _one_line_error(result, 2, "cannot")
    assert server.deliveries == []


def test_a_record_folder_linked_out_of_the_archive_is_refused(invoke: Invoke, fixture_archive: Path) -> None:
    elsewhere = fixture_archive.parent / "elsewhere"
    elsewhere.mkdir()
    (fixture_archive / "sent").symlink_to(elsewhere, target_is_directory=True)
    with smtp_server() as server:
        configure(fixture_archive, server.port)
        result = invoke("send", archive=fixture_archive)
    _one_line_error(result, 2, "link out of the archive")
    assert server.deliveries == [] and list(elsewhere.iterdir()) == []


def test_a_record_holding_unicode_line_separators_reads_back(fixture_archive: Path) -> None:
    """A server's answer may hold U+0085, U+2028 or U+2029 (json.dumps keeps them raw with
    ensure_ascii=False): they are not line ends of the JSON-lines record."""
    from ecdigest import sendlog
    from ecdigest.archive import Archive

    archive = Archive.open(fixture_archive)
    answer = "250 ok\x85queued\u2028as\u2029ABC"
    record = {"issue": "2023-06", "event": "sent", "attempt": "a1", "at": "2023-06-05T08:00:00+08:00",
              "kind": "list", "answer": answer}  # fmt: skip
    sendlog.append(archive, "2023-06", record)
    records = sendlog.read(archive, "2023-06")
    assert [r["answer"] for r in records] == [answer]
