"""The IMAP poller (imapclient): per email account with IMAP settings, UID-based.

Each poll selects the folder, compares UIDVALIDITY with the stored one (changed: start over),
fetches only UIDs above the last stored one, stores each raw mail through the inbound pipeline,
then advances the position (crm.email_poll) and flags the mail ``\\Seen`` + ``$Madoguchi`` (or moves
it to ``imap_processed_folder`` when set). A crash between storing and advancing refetches at most
that mail, which the Message-ID makes a no-op.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from imapclient import IMAPClient
from sqlmodel import Session

from channels.email.adapter import EmailAdapter
from channels.inbox import accept
from config.runtime import Runtime, get_runtime
from crm.channel_accounts import ChannelAccountInfo, list_accounts
from crm.email_poll import get_position, save_position

log = logging.getLogger(__name__)
BATCH = 50
FLAG = b"$Madoguchi"


@dataclass(frozen=True)
class PollResult:
    account_id: int
    fetched: int
    stored: int
    error: str | None = None


def imap_accounts(runtime: Runtime) -> list[ChannelAccountInfo]:
    """The enabled email accounts that have IMAP settings."""
    with Session(runtime.engine) as s:
        infos = list_accounts(s, kind="email", keys=runtime.settings.encryption_keys)
    return [i for i in infos if i.enabled and i.settings.get("imap_host")]


def poll_account(runtime: Runtime, info: ChannelAccountInfo, *, timeout: float = 30.0) -> PollResult:
    """Fetch and store the new mail of one account; errors come back in ``error`` (logged)."""
    s = info.settings
    folder = str(s.get("imap_folder") or "INBOX")
    use_ssl = str(s.get("imap_ssl", "true")).lower() not in ("false", "0", "no")
    port = int(s.get("imap_port") or (993 if use_ssl else 143))
    adapter = EmailAdapter.for_account(info, runtime.settings)
    fetched = stored = 0
    try:
        with IMAPClient(str(s["imap_host"]), port=port, ssl=use_ssl, timeout=timeout) as client:
            client.login(str(s.get("imap_user") or info.address), info.secrets.get("imap_password", ""))
            status = client.select_folder(folder)
            uidvalidity = int(status[b"UIDVALIDITY"])
            pos = get_position(runtime.engine, info.id, folder)
            last = pos.last_uid if pos.uidvalidity == uidvalidity else 0
            if pos.uidvalidity and pos.uidvalidity != uidvalidity:
                log.warning("%s: UIDVALIDITY of %s changed; reading the folder again", info.address, folder)
            uids = sorted(u for u in client.search(["UID", f"{last + 1}:*"]) if u > last)
            processed = str(s.get("imap_processed_folder") or "")
            for start in range(0, len(uids), BATCH):
                batch = uids[start : start + BATCH]
                data = client.fetch(batch, ["BODY.PEEK[]"])
                for uid in batch:
                    raw = data.get(uid, {}).get(b"BODY[]")
                    if raw is None:
                        continue
                    fetched += 1
                    result = accept(runtime, info, adapter.split(bytes(raw)))
                    stored += result.stored
                    save_position(runtime.engine, info.id, folder, uidvalidity=uidvalidity, last_uid=uid)
                if processed:
                    client.move(batch, processed)
                else:
                    client.add_flags(batch, [b"\\Seen", FLAG])
            if not uids and pos.uidvalidity != uidvalidity:
                save_position(runtime.engine, info.id, folder, uidvalidity=uidvalidity, last_uid=last)
    except Exception as exc:  # network, login, server errors: reported, retried next period
        log.warning("IMAP poll of %s failed: %s", info.address, exc)
        return PollResult(info.id, fetched, stored, f"{type(exc).__name__}: {exc}")
    return PollResult(info.id, fetched, stored)


def poll_all(runtime: Runtime | None = None) -> list[PollResult]:
    """Poll every IMAP account once (``madoguchi email poll``, and the periodic job)."""
    runtime = runtime or get_runtime()
    return [poll_account(runtime, info) for info in imap_accounts(runtime)]


def poll_job() -> int:
    """Periodic job: the number of mails stored."""
    return sum(r.stored for r in poll_all())
