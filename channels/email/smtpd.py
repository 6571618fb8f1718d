"""The SMTP listener (aiosmtpd): mail for the enabled email accounts' addresses only.

RCPT for any other address: 550. Larger than ``data_size_limit``: 552 (aiosmtpd). STARTTLS when a
certificate and key are configured. Each accepted mail is stored raw once per recipient account
(the inbound pipeline: store, then a job parses it); a mail the pipeline cannot store gets 451 so
the sender retries: nothing is silently dropped.
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from anyio import to_thread
from sqlmodel import Session as DbSession

from channels.email.adapter import EmailAdapter
from channels.inbox import accept
from config.runtime import Runtime
from crm.channel_accounts import ChannelAccountInfo, list_accounts

log = logging.getLogger(__name__)


class InboundHandler:
    """aiosmtpd handler: RCPT checks against the email accounts, DATA stores the raw mail."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def accounts(self) -> dict[str, ChannelAccountInfo]:
        with DbSession(self.runtime.engine) as s:
            infos = list_accounts(s, kind="email", keys=self.runtime.settings.encryption_keys)
        return {i.address.lower(): i for i in infos if i.enabled}

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            accounts = await to_thread.run_sync(self.accounts)
        except Exception:
            log.exception("the email accounts could not be read; the sender will retry")
            return "451 4.3.0 temporary failure, try again later"
        if address.lower() not in accounts:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            await to_thread.run_sync(self.store, raw, list(envelope.rcpt_tos))
        except Exception:
            log.exception("an inbound mail could not be stored; the sender will retry")
            return "451 4.3.0 temporary failure, try again later"
        return "250 OK stored"

    def store(self, raw: bytes, recipients: list[str]) -> None:
        accounts = self.accounts()
        for rcpt in dict.fromkeys(r.lower() for r in recipients):
            info = accounts.get(rcpt)
            if info is None:
                continue
            events = EmailAdapter.for_account(info, self.runtime.settings).split(raw)
            accept(self.runtime, info, events)


def start_smtpd(runtime: Runtime, *, host: str | None = None, port: int | None = None) -> Controller:
    """Start the listener in a background thread; ``.stop()`` it when done."""
    settings = runtime.settings
    tls: ssl.SSLContext | None = None
    if settings.smtp_tls_cert and settings.smtp_tls_key:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(settings.smtp_tls_cert, settings.smtp_tls_key)
    kwargs: dict[str, Any] = {"data_size_limit": settings.email_max_bytes}
    if tls is not None:
        kwargs["tls_context"] = tls
    controller = Controller(
        InboundHandler(runtime),
        hostname=host or settings.smtp_listen_host,
        port=port if port is not None else (settings.smtp_listen_port or 2525),
        **kwargs,
    )
    controller.start()
    log.info("SMTP listener on %s:%s", controller.hostname, controller.port)
    return controller
