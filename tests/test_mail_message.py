"""Tests for structlogx.mail: building messages, addresses, connections, send_mail, mail_admins."""

from __future__ import annotations

import datetime
import email
import email.policy
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage, MIMEPart
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from smtp_server import SMTPServer, free_port, running_smtp_server

from structlogx import mail
from structlogx.conf import settings
from structlogx.mail import (
    build_message,
    check_address,
    get_connection,
    mail_admins,
    mail_managers,
    send_mail,
)
from structlogx.mail.backends import DummyBackend, FileBackend, MemoryBackend, SMTPBackend

MEMORY = "structlogx.mail.backends.MemoryBackend"
PLAIN_HEADERS = [
    "Content-Transfer-Encoding", "Content-Type", "Date", "From", "MIME-Version", "Message-ID",
    "Subject", "To",
]
LINE_BREAKS = "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029"
GUIDE = (Path(__file__).resolve().parent.parent / "docs" / "mail.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"```python\n(.*?)```\n(?:[ \t]*\n)*(?:```text\n(.*?)```)?", re.S)
EXAMPLES = [(match.group(1), match.group(2)) for match in BLOCK.finditer(GUIDE)]


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("STRUCTLOGX_"):
            monkeypatch.delenv(name)
    mail.outbox.clear()
    yield
    mail.outbox.clear()
    settings.reset()


def parse(message: EmailMessage) -> EmailMessage:
    """Serialise as SMTP would (CRLF) and parse back, as a receiving client does."""
    raw = bytes(message).replace(b"\n", b"\r\n")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def text(part: MIMEPart) -> str:
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def one_line(value: str) -> str:
    """What build_message promises for header text: line breaks are spaces."""
    return re.sub("\r\n|[" + LINE_BREAKS + "]", " ", value)


def same_words(left: str, right: str) -> bool:
    """Header folding may change runs of white space, never the words."""
    return left.split() == right.split()


def expected_body(body: str) -> str:
    body = re.sub("\r\n|\r", "\n", body)
    return body if body.endswith("\n") else body + "\n"


# --- build_message --------------------------------------------------------------------------


def test_headers_of_a_plain_message() -> None:
    built = build_message("Subject", "Body", from_email="app@example.com", to=["a@example.com"])
    assert sorted(built.keys()) == PLAIN_HEADERS
    parsed = parse(built)
    assert sorted(parsed.keys()) == PLAIN_HEADERS
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"
    assert parsed["Content-Transfer-Encoding"] == "7bit"
    assert text(parsed) == "Body\n"


def test_to_and_cc_accept_every_address_form() -> None:
    built = build_message(
        "s", "b",
        from_email="App <app@example.com>",
        to=["a@example.com", ("Bé, Z", "b@example.com")],
        cc=['"Quoted" <c@example.com>'],
    )
    parsed = parse(built)
    assert [a.addr_spec for a in parsed["To"].addresses] == ["a@example.com", "b@example.com"]
    assert parsed["To"].addresses[1].display_name == "Bé, Z"
    assert str(parsed["Cc"]) == "Quoted <c@example.com>"
    assert str(parsed["From"]) == "App <app@example.com>"


def test_date_header(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = parse(build_message("s", "b", from_email="a@example.com", to=["b@example.com"]))
    assert parsed["Date"].endswith("+0000")  # UTC by default
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((parsed["Date"].datetime - now).total_seconds()) < 60
    with settings.override(EMAIL_USE_LOCALTIME=True):
        local = parse(build_message("s", "b", from_email="a@example.com", to=["b@example.com"]))
    assert local["Date"].datetime.utcoffset() == datetime.datetime.now().astimezone().utcoffset()


def test_message_id_is_unique_and_uses_the_senders_domain() -> None:
    ids = {
        build_message("s", "b", from_email="a@mail.example.org", to=["b@example.com"])[
            "Message-ID"
        ]
        for _ in range(100)
    }
    assert len(ids) == 100
    assert all(re.fullmatch(r"<[^<>@\s]+@mail\.example\.org>", str(i)) for i in ids)


def test_html_makes_multipart_alternative() -> None:
    built = build_message(
        "s", "plain", from_email="a@example.com", to=["b@example.com"], html="<p>ü</p>"
    )
    parsed = parse(built)
    assert parsed.get_content_type() == "multipart/alternative"
    assert "Content-Transfer-Encoding" not in parsed
    plain, html = parsed.iter_parts()
    assert (plain.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert (text(plain), text(html)) == ("plain\n", "<p>ü</p>\n")
    body = parsed.get_body(preferencelist=("html",))
    assert body is not None
    assert text(body) == "<p>ü</p>\n"


def test_utf8_subject_and_body_are_seven_bit_on_the_wire() -> None:
    built = build_message("Größe ☃", "Grüße\n" * 3, from_email="a@example.com", to=["b@x.org"])
    raw = bytes(built)
    assert raw.isascii()
    assert b"Subject: =?utf-8?" in raw
    parsed = parse(built)
    assert parsed["Subject"] == "Größe ☃"
    assert parsed["Content-Transfer-Encoding"] in ("quoted-printable", "base64")
    assert text(parsed) == "Grüße\n" * 3


def test_long_ascii_lines_are_not_sent_raw() -> None:
    body = "x" * 2000 + "\n"
    built = build_message("s", body, from_email="a@example.com", to=["b@example.com"])
    assert max(len(line) for line in bytes(built).splitlines()) <= 78
    assert text(parse(built)) == body


def test_subject_that_looks_encoded_stays_literal() -> None:
    subject = "Bad header =?utf-8?q?caf=C3=A9?= received"
    parsed = parse(build_message(subject, "b", from_email="a@example.com", to=["b@example.com"]))
    assert parsed["Subject"] == subject


@pytest.mark.parametrize(
    "subject",
    [
        "Hi\r\nBcc: victim@example.com",
        "Hi\nBcc: victim@example.com",
        "Hi\rBcc: victim@example.com",
        "Hi\u2028Bcc: victim@example.com",
        "Hi\x85Bcc: victim@example.com",
        "Hi\r\n\r\nbody injection",
    ],
)
def test_subject_line_breaks_become_spaces(subject: str) -> None:
    built = build_message(subject, "b", from_email="a@example.com", to=["b@example.com"])
    raw = bytes(built)
    assert not re.search(rb"^Bcc:", raw, re.MULTILINE | re.IGNORECASE)
    parsed = parse(built)
    assert sorted(parsed.keys()) == PLAIN_HEADERS
    assert parsed["Subject"] == one_line(subject)
    assert text(parsed) == "b\n"


def test_extra_headers() -> None:
    built = build_message(
        "s", "b",
        from_email="a@example.com",
        to=["b@example.com"],
        headers={
            "X-Error-Id": "42\r\nBcc: victim@example.com",
            "Reply-To": "help@example.com",
            "Date": "Mon, 01 Jan 2024 00:00:00 +0000",
            "X-Looks-Encoded": "=?utf-8?q?x?=",
        },
    )
    parsed = parse(built)
    assert "Bcc" not in parsed
    assert parsed["X-Error-Id"] == "42 Bcc: victim@example.com"
    assert parsed["Reply-To"] == "help@example.com"
    assert parsed.get_all("Date") == ["Mon, 01 Jan 2024 00:00:00 +0000"]  # replaced, not added
    assert parsed["X-Looks-Encoded"] == "=?utf-8?q?x?="


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("Bad Name", "invalid header name 'Bad Name'"),
        ("X-A:B", "invalid header name"),
        ("X-\u00e9", "invalid header name"),
        ("", "invalid header name ''"),
        ("Content-Type", "'Content-Type' is set by build_message"),
        ("MIME-Version", "is set by build_message"),
    ],
)
def test_bad_extra_header_names(name: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build_message("s", "b", from_email="a@x.org", to=["b@x.org"], headers={name: "v"})


def test_recipient_lists_must_not_be_strings() -> None:
    with pytest.raises(TypeError, match="to must be a list or tuple of addresses"):
        build_message("s", "b", from_email="a@x.org", to="b@x.org")
    with pytest.raises(TypeError, match="cc must be a list"):
        build_message("s", "b", from_email="a@x.org", to=["b@x.org"], cc="c@x.org")


def test_invalid_addresses_are_reported_with_their_value() -> None:
    with pytest.raises(ValueError, match="invalid e-mail address 'nobody'"):
        build_message("s", "b", from_email="nobody", to=["b@x.org"])
    with pytest.raises(ValueError, match=r"invalid e-mail address 'b@x\.org, c@x\.org'"):
        build_message("s", "b", from_email="a@x.org", to=["b@x.org, c@x.org"])


# --- check_address --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ops@example.com", "ops@example.com"),
        ("  ops@example.com ", "ops@example.com"),
        ("Ops <ops@example.com>", "Ops <ops@example.com>"),
        ('"Ops, Team" <ops@example.com>', '"Ops, Team" <ops@example.com>'),
        ("<ops@example.com>", "ops@example.com"),
        (("Ops", "ops@example.com"), "Ops <ops@example.com>"),
        (["Ops", "ops@example.com"], "Ops <ops@example.com>"),
        (("Jöhn", "j@example.com"), "Jöhn <j@example.com>"),
        ("root@localhost", "root@localhost"),
    ],
)
def test_check_address_accepts(value: object, expected: str) -> None:
    assert check_address(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "", "ops", "ops@", "@example.com", "a b@example.com", "ops@exa mple.com",
        "a@example.com, b@example.com", "ops@example.com\r\nBcc: v@example.com",
        ("Ops\r\nBcc: v@example.com", "ops@example.com"), ("Ops", "not an address"),
        ("Ops",), ("a", "b", "c"), None, 42, b"ops@example.com", "é@example.com",
        "Ops <ops@example.com", "Ops <<ops@example.com>>",
    ],
)
def test_check_address_rejects_naming_the_value(value: object) -> None:
    with pytest.raises(ValueError, match=re.escape(f"invalid e-mail address {value!r}: ")):
        check_address(value)


# --- get_connection -------------------------------------------------------------------------


def test_get_connection_reads_the_setting_at_call_time() -> None:
    assert isinstance(get_connection(), SMTPBackend)
    with settings.override(EMAIL_BACKEND="structlogx.mail.backends.DummyBackend"):
        assert isinstance(get_connection(), DummyBackend)


def test_get_connection_by_path_or_class_with_options(tmp_path: Any) -> None:
    backend = get_connection("structlogx.mail.backends.FileBackend", file_path=str(tmp_path))
    assert isinstance(backend, FileBackend)
    assert backend.file_path == tmp_path
    smtp = get_connection(SMTPBackend, fail_silently=True, host="mail.example.com", port=2525)
    assert isinstance(smtp, SMTPBackend)
    assert (smtp.fail_silently, smtp.host, smtp.port) == (True, "mail.example.com", 2525)


def test_get_connection_errors_name_the_problem() -> None:
    with pytest.raises(ImportError, match=r"structlogx\.mail\.backends\.NoSuchBackend"):
        get_connection("structlogx.mail.backends.NoSuchBackend")
    with pytest.raises(TypeError, match="MemoryBackend got unexpected options: 'host'"):
        get_connection(MEMORY, host="x")


# --- send_mail, mail_admins, mail_managers --------------------------------------------------


def test_send_mail_through_the_configured_backend() -> None:
    with settings.override(EMAIL_BACKEND=MEMORY):
        count = send_mail("Hi", "Body", None, ["a@example.com"], html_message="<b>Body</b>")
    assert count == 1
    [sent] = mail.outbox
    assert sent["From"] == "webmaster@localhost"  # DEFAULT_FROM_EMAIL
    assert sent["To"] == "a@example.com"
    assert sent.get_content_type() == "multipart/alternative"


def test_send_mail_uses_a_given_connection() -> None:
    connection = DummyBackend()
    assert send_mail("s", "b", "a@example.com", ["b@example.com"], connection=connection) == 1
    assert mail.outbox == []


def test_send_mail_fail_silently_reaches_the_backend() -> None:
    port = free_port()
    with settings.override(EMAIL_HOST="127.0.0.1", EMAIL_PORT=port):
        assert send_mail("s", "b", "a@example.com", ["b@example.com"], fail_silently=True) == 0
        with pytest.raises(ConnectionRefusedError):
            send_mail("s", "b", "a@example.com", ["b@example.com"])


def test_mail_admins_prefix_sender_and_recipients() -> None:
    admins = [("Ops", "ops@example.com"), "dev@example.com"]
    with settings.override(
        EMAIL_BACKEND=MEMORY,
        ADMINS=admins,
        SERVER_EMAIL="server@example.com",
        EMAIL_SUBJECT_PREFIX="-SuperAwesomeSubject-",
    ):
        assert mail_admins("ERROR: boom", "details", html_message="<p>details</p>") == 1
    [sent] = mail.outbox
    assert sent["Subject"] == "-SuperAwesomeSubject-ERROR: boom"  # verbatim, no space added
    assert sent["From"] == "server@example.com"
    assert sent["To"] == "Ops <ops@example.com>, dev@example.com"
    assert sent.get_content_type() == "multipart/alternative"


def test_mail_managers_goes_to_managers() -> None:
    with settings.override(EMAIL_BACKEND=MEMORY, MANAGERS=["boss@example.com"]):
        assert mail_managers("Report", "text") == 1
    assert [(m["To"], m["Subject"]) for m in mail.outbox] == [
        ("boss@example.com", "[structlogx] Report")
    ]


@pytest.mark.parametrize("function", [mail_admins, mail_managers])
def test_no_recipients_means_no_work(function: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("no message may be built or sent")

    monkeypatch.setattr(mail, "get_connection", forbidden)
    monkeypatch.setattr(mail, "build_message", forbidden)
    assert function("s", "b") == 0
    assert function("s", "b", connection=MemoryBackend()) == 0
    assert mail.outbox == []


def test_mail_admins_with_an_invalid_admin_raises_naming_it() -> None:
    with settings.override(EMAIL_BACKEND=MEMORY, ADMINS=["ops@example.com", "nobody"]), \
            pytest.raises(ValueError, match="'nobody'"):
        mail_admins("s", "b")


def test_mail_admins_over_real_smtp(smtp_server: SMTPServer) -> None:
    with settings.override(
        EMAIL_HOST=smtp_server.host, EMAIL_PORT=smtp_server.port, ADMINS=["ops@example.com"]
    ):
        assert mail_admins("ERROR: Message \\r\\n with newlines", "body") == 1
    [received] = smtp_server.wait_for(1)
    assert received.mail_from == "root@localhost"
    assert received.rcpt_tos == ["ops@example.com"]
    assert received.message["Subject"] == "[structlogx] ERROR: Message \\r\\n with newlines"


# --- properties: arbitrary text never adds a header -----------------------------------------

hostile = st.sampled_from(
    [
        "\r\nBcc: victim@example.com",
        "x\nBcc: victim@example.com\n",
        "\rTo: victim@example.com",
        "\r\n\r\n<html>injected body",
        "=?utf-8?q?Bcc=3A_victim?=",
        "\u2028Bcc: v@example.com",
        "",
        " ",
        "é" * 200,
        "x" * 1200,
        ".\r\n.\r\nQUIT\r\n",
    ]
)
any_text = st.one_of(hostile, st.text(), st.text(alphabet=LINE_BREAKS + "ab: ", max_size=30))
PROPERTY_SETTINGS = hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def check_received(parsed: EmailMessage, subject: str, body: str, extra: str) -> None:
    assert sorted(parsed.keys()) == sorted([*PLAIN_HEADERS, "X-Extra"])
    assert same_words(parsed["Subject"], one_line(subject))
    assert same_words(parsed["X-Extra"], one_line(extra))
    assert text(parsed) == expected_body(body)
    assert parsed.defects == []


@hypothesis_settings(max_examples=150, deadline=None)
@given(subject=any_text, body=any_text, extra=any_text)
@example(subject="\r\nBcc: victim@example.com", body="\r\nBcc: victim@example.com", extra="\n")
def test_arbitrary_text_round_trips_through_bytes(subject: str, body: str, extra: str) -> None:
    built = build_message(
        subject, body, from_email="a@example.com", to=["b@example.com"], headers={"X-Extra": extra}
    )
    raw = bytes(built)
    assert raw.isascii()
    check_received(parse(built), subject, body, extra)


@pytest.fixture(scope="module")
def shared_smtp_server() -> Iterator[SMTPServer]:
    with running_smtp_server() as server:
        yield server


@PROPERTY_SETTINGS
@given(subject=any_text, body=any_text, extra=any_text)
@example(subject="\r\nBcc: victim@example.com", body="\r\nBcc: victim@example.com", extra="\r")
def test_arbitrary_text_round_trips_through_a_real_server(
    shared_smtp_server: SMTPServer, subject: str, body: str, extra: str
) -> None:
    server = shared_smtp_server
    server.messages.clear()
    built = build_message(
        subject, body, from_email="a@example.com", to=["b@example.com"], headers={"X-Extra": extra}
    )
    assert SMTPBackend(host=server.host, port=server.port).send_messages([built]) == 1
    [received] = server.wait_for(1)
    assert received.rcpt_tos == ["b@example.com"]  # no injected recipient reached the envelope
    check_received(received.message, subject, body, extra)


# --- the guide's examples -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"), EXAMPLES, ids=[f"example{i + 1}" for i in range(len(EXAMPLES))]
)
def test_guide_example_runs_and_prints_what_it_shows(
    code: str, expected: str | None, tmp_path: Path
) -> None:
    """Each example of docs/mail.md runs alone, in a fresh directory, with no STRUCTLOGX_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRUCTLOGX_")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    if expected is not None:
        assert result.stdout == expected
