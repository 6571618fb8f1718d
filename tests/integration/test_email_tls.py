"""STARTTLS and authentication on both sides of the email channel, with a certificate made here:
the relay that carries our answers (aiosmtpd requiring STARTTLS and a login) and our own listener."""

from __future__ import annotations

import datetime as dt
import ipaddress
import smtplib
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlmodel import Session, func, select

from channels.base import AuthFailed, OutboundMessage
from channels.email.adapter import EmailAdapter
from channels.email.smtpd import start_smtpd
from config.runtime import Runtime
from crm.channel_accounts import create_account
from crm.messaging import ChannelKind
from crm.models import InboundEvent
from tests.factories import make_center
from tests.integration.test_email_smtp import CORPUS, free_port

ADDRESS = "soudan@tokyo.demo.example"


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (key, cert)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    d = tmp_path_factory.mktemp("tls")
    key_path, cert_path = d / "key.pem", d / "cert.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


class AuthRelay:
    def __init__(self) -> None:
        self.mail: list[bytes] = []
        self.logins: list[str] = []

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"relay-pass"
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mail.append(envelope.original_content or envelope.content)
        return "250 OK"


@pytest.fixture
def tls_relay(cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[AuthRelay, int]]:
    key_path, cert_path = cert
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_path))  # our client trusts this relay's certificate
    handler, port = AuthRelay(), free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=handler.authenticate,
    )
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def answer() -> OutboundMessage:
    return OutboundMessage(
        channel=ChannelKind.EMAIL, recipient="hanako@example.jp", text="ご回答です。", retry_key="outbox-9"
    )


def test_answers_go_over_starttls_with_a_login(tls_relay: tuple[AuthRelay, int]) -> None:
    handler, port = tls_relay
    EmailAdapter(address=ADDRESS, relay_url=f"smtp://center%40example.jp:relay-pass@127.0.0.1:{port}").send(
        answer()
    )
    assert handler.logins == ["center@example.jp"] and len(handler.mail) == 1


def test_a_wrong_relay_password_is_a_permanent_auth_failure(tls_relay: tuple[AuthRelay, int]) -> None:
    handler, port = tls_relay
    adapter = EmailAdapter(address=ADDRESS, relay_url=f"smtp://center:wrong@127.0.0.1:{port}")
    with pytest.raises(AuthFailed, match="refused our login"):
        adapter.send(answer())
    assert handler.mail == []


def test_the_listener_offers_starttls(runtime: Runtime, cert: tuple[Path, Path]) -> None:
    key_path, cert_path = cert
    with Session(runtime.engine, expire_on_commit=False) as s:
        center = make_center(s, code="TLS01")
        create_account(
            s,
            kind="email",
            center_id=center.id,
            name="mail",
            address=ADDRESS,
            keys=runtime.settings.encryption_keys,
        )
    runtime.settings = runtime.settings.model_copy(
        update={"smtp_tls_cert": str(cert_path), "smtp_tls_key": str(key_path)}
    )
    port = free_port()
    controller = start_smtpd(runtime, host="127.0.0.1", port=port)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo()
            assert client.has_extn("starttls")
            client.starttls(context=ssl.create_default_context(cafile=str(cert_path)))
            client.ehlo()
            client.sendmail("hanako@example.jp", [ADDRESS], (CORPUS / "outlook_iso2022jp.eml").read_bytes())
    finally:
        controller.stop()
    with Session(runtime.engine) as s:
        assert s.exec(select(func.count()).select_from(InboundEvent)).one() == 1
