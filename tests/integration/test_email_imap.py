"""The IMAP poller against a real Dovecot (Debian's dovecot-imapd) on a free port with a throw-away
configuration: UID-based, nothing fetched twice across restarts, processed mail flagged."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from imapclient import IMAPClient
from sqlmodel import Session, func, select

from channels.email.imap import poll_account, poll_all
from config.runtime import Runtime
from crm.channel_accounts import create_account
from crm.models import InboundEvent, Message, Ticket
from tests.factories import make_center

CORPUS = Path(__file__).parents[1] / "fixtures" / "email"
DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
USER, PASSWORD = "soudan", "imap-test-pass"
pytestmark = pytest.mark.skipif(  # under CI=true a missing Dovecot fails (the dovecot fixture)
    (DOVECOT is None or os.geteuid() != 0) and os.environ.get("CI") != "true",
    reason="needs Debian's dovecot-imapd and root (.ci/run installs it: apt-get install dovecot-imapd)",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CONF = """
protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{d}/mail/%u
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={d}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


@pytest.fixture(scope="module")
def dovecot() -> Iterator[int]:
    if DOVECOT is None or os.geteuid() != 0:
        pytest.fail("the IMAP tests need Debian's dovecot-imapd and root: apt-get install dovecot-imapd")
    # Not pytest's tmp_path: its parents are 0700 and Dovecot's auth worker (user dovenull) must read it.
    d = Path(tempfile.mkdtemp(prefix="madoguchi-dovecot-"))
    d.chmod(0o755)
    for sub in ("run", "state", "mail", "home"):
        (d / sub).mkdir()
    shutil.chown(d / "mail", "nobody", "nogroup")
    shutil.chown(d / "home", "nobody", "nogroup")
    (d / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    port = free_port()
    (d / "dovecot.conf").write_text(CONF.format(d=d, port=port))
    proc = subprocess.Popen([DOVECOT, "-F", "-c", str(d / "dovecot.conf")], start_new_session=True)  # type: ignore[list-item]
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None:
                    log = (d / "dovecot.log").read_text() if (d / "dovecot.log").exists() else ""
                    pytest.fail(f"dovecot exited: {log[-2000:]}")
                time.sleep(0.1)
        else:
            pytest.fail("dovecot did not listen within 15 s")
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(d, ignore_errors=True)


def imap(port: int) -> IMAPClient:
    client = IMAPClient("127.0.0.1", port=port, ssl=False, timeout=10)
    client.login(USER, PASSWORD)
    return client


def deliver(port: int, *names: str) -> None:
    with imap(port) as c:
        for name in names:
            c.append("INBOX", (CORPUS / name).read_bytes())


@pytest.fixture
def account(runtime: Runtime, dovecot: int):
    with imap(dovecot) as c:  # an empty INBOX per test
        c.select_folder("INBOX")
        uids = c.search(["ALL"])
        if uids:
            c.delete_messages(uids)
            c.expunge()
    with Session(runtime.engine, expire_on_commit=False) as s:
        center = make_center(s, code="IMAP01")
        info, _ = create_account(
            s,
            kind="email",
            center_id=center.id,
            name="imap",
            address="soudan@tokyo.demo.example",
            settings={"imap_host": "127.0.0.1", "imap_port": dovecot, "imap_user": USER, "imap_ssl": False},
            secrets={"imap_password": PASSWORD},
            keys=runtime.settings.encryption_keys,
        )
    return info


def count(rt: Runtime, model: type) -> int:
    with Session(rt.engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def test_poll_stores_new_mail_once_and_flags_it(runtime: Runtime, dovecot: int, account) -> None:
    deliver(dovecot, "outlook_iso2022jp.eml", "auto_reply.eml")
    (first,) = poll_all(runtime)
    assert (first.fetched, first.stored, first.error) == (2, 2, None)
    runtime.jobs.drain()
    with Session(runtime.engine) as s:
        msg = s.exec(select(Message)).one()  # the auto-reply opened nothing
        assert "①契約書の件で相談です。" in msg.body
    assert count(runtime, Ticket) == 1
    with imap(dovecot) as c:
        c.select_folder("INBOX")
        flags = c.get_flags(c.search(["ALL"]))
        assert all(b"\\Seen" in f and b"$Madoguchi" in f for f in flags.values())
    # a restart (a new poll) fetches nothing again, even after the flags are removed by someone
    with imap(dovecot) as c:
        c.select_folder("INBOX")
        c.remove_flags(c.search(["ALL"]), [b"\\Seen", b"$Madoguchi"])
    again = poll_account(runtime, account)
    assert (again.fetched, again.stored) == (0, 0)
    deliver(dovecot, "reply_quoted.eml")
    third = poll_account(runtime, account)
    assert (third.fetched, third.stored) == (1, 1)
    runtime.jobs.drain()
    assert count(runtime, InboundEvent) == 3
    assert count(runtime, Ticket) == 1 and count(runtime, Message) == 2


def test_wrong_password_is_reported_not_raised(runtime: Runtime, dovecot: int, account) -> None:
    from crm.channel_accounts import get_account_by_id, update_account

    with Session(runtime.engine) as s:
        update_account(
            s,
            account_id=account.id,
            keys=runtime.settings.encryption_keys,
            secrets={"imap_password": "wrong"},
        )
        info = get_account_by_id(s, account_id=account.id, keys=runtime.settings.encryption_keys)
    result = poll_account(runtime, info, timeout=10)  # type: ignore[arg-type]
    assert result.stored == 0 and result.error is not None and "LoginError" in result.error
