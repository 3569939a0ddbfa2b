"""SMTP against a real server in the test process (aiosmtpd): STARTTLS, AUTH, and the server's refusals."""

from __future__ import annotations

import copy
import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from strides.config import Settings
from strides.integrations import DeliveryError
from strides.integrations.smtp import SMTPConfig, SMTPTransport
from strides.integrations.transport import Outgoing
from strides.integrations.transports import build_transport

from .conftest import free_port

USER, PASSWORD = "strides", "s3cret-pass"


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class Recorder:
    """Keeps what the server accepted; refuses some recipients the way real servers do."""

    def __init__(self) -> None:
        self.accepted: list[tuple[str, list[str], bytes]] = []
        # The TLS version each accepted message came over (None: in the clear).
        self.tls: list[str | None] = []

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.startswith("nobody."):
            return "550 5.1.1 no such user"
        if address.startswith("busy."):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.accepted.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        secured = server.transport.get_extra_info("ssl_object")
        self.tls.append(secured.version() if secured is not None else None)
        return "250 2.0.0 queued"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Controller, Recorder, Path]]:
    folder = tmp_path_factory.mktemp("smtp")
    cert, key = self_signed(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    recorder = Recorder()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield controller, recorder, cert
    finally:
        controller.stop()


def config(server: tuple[Controller, Recorder, Path], password: str = PASSWORD) -> SMTPConfig:
    controller, _, cert = server
    return SMTPConfig(
        host="127.0.0.1", port=controller.port, username=USER, password=password, cafile=cert, timeout=10
    )


def test_messages_go_over_starttls_with_auth_and_arrive_intact(smtp_server, outgoing_by_kind):
    _, recorder, _ = smtp_server
    before = len(recorder.accepted)
    transport = SMTPTransport(config(smtp_server))
    try:
        for kind in ("digest", "invite"):
            item = outgoing_by_kind[kind]
            ref = transport.send(item.key, item.message, item.label)
            assert ref == item.message["Message-ID"]
    finally:
        transport.close()
    got = recorder.accepted[before:]
    assert recorder.tls[before:] == ["TLSv1.3", "TLSv1.3"]
    assert [rcpt for _, rcpt, _ in got] == [
        [outgoing_by_kind["digest"].message["To"].addresses[0].addr_spec],
        [outgoing_by_kind["invite"].message["To"].addresses[0].addr_spec],
    ]
    invite = message_from_bytes(got[1][2], policy=default)
    calendar = [p for p in invite.walk() if p.get_content_type() == "text/calendar"]
    assert calendar and calendar[0].get_param("method") == "REQUEST"
    assert invite["X-Strides-Key"] == outgoing_by_kind["invite"].key


def test_a_wrong_password_is_a_delivery_error_that_names_the_server_answer(smtp_server, outgoing_by_kind):
    item = outgoing_by_kind["notification"]
    transport = SMTPTransport(config(smtp_server, password="wrong"))
    with pytest.raises(DeliveryError) as caught:
        transport.send(item.key, item.message, item.label)
    assert caught.value.answer.startswith("SMTP 535")
    assert not caught.value.permanent
    assert "wrong" not in repr(transport.config)


def test_an_untrusted_certificate_is_refused(smtp_server, outgoing_by_kind):
    controller, _, _ = smtp_server
    item = outgoing_by_kind["notification"]
    transport = SMTPTransport(SMTPConfig(host="127.0.0.1", port=controller.port, timeout=10))
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        transport.send(item.key, item.message, item.label)


@pytest.mark.parametrize(("local", "permanent"), [("nobody", True), ("busy", False)])
def test_refused_recipients_are_permanent_on_5xx_and_retried_on_4xx(
    smtp_server, outgoing_by_kind, local, permanent
):
    item = outgoing_by_kind["notification"]
    refused = copy.deepcopy(item.message)
    refused.replace_header("To", f"Someone <{local}.x@example.com>")
    transport = SMTPTransport(config(smtp_server))
    try:
        with pytest.raises(DeliveryError) as caught:
            transport.send(item.key, refused, item.label)
    finally:
        transport.close()
    assert caught.value.permanent is permanent
    assert caught.value.answer.startswith("SMTP 550" if permanent else "SMTP 451")


def test_the_factory_builds_smtp_from_settings(tmp_path, smtp_server, outgoing_by_kind):
    controller, recorder, cert = smtp_server
    settings = Settings(
        state_dir=tmp_path,
        transport="smtp",
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        smtp_username=USER,
        smtp_password=PASSWORD,
        smtp_cafile=cert,
    )
    transport = build_transport(settings)
    assert isinstance(transport, SMTPTransport)
    item: Outgoing = outgoing_by_kind["notification"]
    before = len(recorder.accepted)
    transport.send(item.key, item.message, item.label)
    transport.close()
    assert len(recorder.accepted) == before + 1


@pytest.fixture(scope="module")
def smtps_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Controller, Recorder, Path]]:
    """Implicit TLS (the port 465 style, RFC 8314): TLS from the first byte, no STARTTLS."""
    folder = tmp_path_factory.mktemp("smtps")
    cert, key = self_signed(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    recorder = Recorder()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=free_port(),
        ssl_context=context,
        authenticator=authenticate,
        auth_require_tls=False,  # aiosmtpd only counts STARTTLS; the whole session is TLS here
    )
    controller.start()
    try:
        yield controller, recorder, cert
    finally:
        controller.stop()


def test_messages_go_over_implicit_tls_with_auth_and_arrive_intact(smtps_server, outgoing_by_kind):
    controller, recorder, cert = smtps_server
    transport = SMTPTransport(
        SMTPConfig(
            host="127.0.0.1",
            port=controller.port,
            security="tls",
            username=USER,
            password=PASSWORD,
            cafile=cert,
            timeout=10,
        )
    )
    item = outgoing_by_kind["invite"]
    before = len(recorder.accepted)
    try:
        assert transport.send(item.key, item.message, item.label) == item.message["Message-ID"]
        assert transport.send(item.key + "x", item.message, item.label)  # the connection is reused
    finally:
        transport.close()
    assert recorder.tls[before:] == ["TLSv1.3", "TLSv1.3"]
    received = message_from_bytes(recorder.accepted[before][2], policy=default)
    assert received["X-Strides-Key"] == item.key


def test_implicit_tls_refuses_a_wrong_password_and_an_untrusted_certificate(smtps_server, outgoing_by_kind):
    controller, _, cert = smtps_server
    item = outgoing_by_kind["notification"]
    wrong = SMTPTransport(
        SMTPConfig(
            host="127.0.0.1", port=controller.port, security="tls", username=USER, password="no", cafile=cert
        )
    )
    with pytest.raises(DeliveryError) as caught:
        wrong.send(item.key, item.message, item.label)
    assert caught.value.answer.startswith("SMTP 535") and not caught.value.permanent
    untrusted = SMTPTransport(SMTPConfig(host="127.0.0.1", port=controller.port, security="tls", timeout=10))
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        untrusted.send(item.key, item.message, item.label)


def test_starttls_settings_against_an_implicit_tls_port_fail_clearly_and_are_retried(
    smtps_server, outgoing_by_kind
):
    controller, recorder, cert = smtps_server
    item = outgoing_by_kind["notification"]
    before = len(recorder.accepted)
    transport = SMTPTransport(SMTPConfig(host="127.0.0.1", port=controller.port, cafile=cert, timeout=3))
    with pytest.raises(DeliveryError) as caught:
        transport.send(item.key, item.message, item.label)
    assert not caught.value.permanent
    assert len(recorder.accepted) == before


def test_the_factory_builds_implicit_tls_smtp_from_settings(tmp_path, smtps_server, outgoing_by_kind):
    controller, recorder, cert = smtps_server
    settings = Settings(
        state_dir=tmp_path,
        transport="smtp",
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        smtp_security="tls",
        smtp_username=USER,
        smtp_password=PASSWORD,
        smtp_cafile=cert,
    )
    transport = build_transport(settings)
    assert isinstance(transport, SMTPTransport) and transport.config.security == "tls"
    item: Outgoing = outgoing_by_kind["notification"]
    before = len(recorder.accepted)
    transport.send(item.key, item.message, item.label)
    transport.close()
    assert recorder.tls[before:] == ["TLSv1.3"]
