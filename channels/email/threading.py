"""Pure helpers for threading mail: reply prefixes, quoted history, auto-mail detection."""

from __future__ import annotations

import re
import unicodedata

_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|sv|vs|tr|転送|返信|回复|答复)\s*(?:\[\d+\]|\(\d+\)|\^\d+)?\s*[:>]"
    r"|\[(?:re|fw|fwd)\]|\((?:re|fw|fwd)\))\s*",
    re.IGNORECASE,
)
_TAG = re.compile(r"^\s*(?:\[[^\]]{0,40}\]|【[^】]{0,40}】)\s*")


def normalize_subject(subject: str) -> str:
    """The subject for matching: reply/forward prefixes (any width, any count) and list tags off."""
    s = unicodedata.normalize("NFKC", subject or "")
    s = s.replace("：", ":")
    while True:
        m = _PREFIX.match(s) or _TAG.match(s)
        if not m or not m.group(0):
            break
        s = s[m.end() :]
    return re.sub(r"\s+", " ", s).strip().casefold()


_ATTRIBUTION = re.compile(
    r"^(?:On\s.{0,200}\swrote:\s*$"
    r"|.{0,200}\s?wrote:\s*$"
    r"|.{0,200}(?:さんは書きました|さんが書きました|は書きました|wrote)\s*[:：]\s*$"
    r"|-{2,}\s*(?:Original Message|元のメッセージ|Forwarded message|転送メッセージ)\s*-{2,}\s*$"
    r"|From:\s.+\n(?:Sent|Date|送信日時):)",
    re.IGNORECASE,
)


def split_quoted(text: str) -> tuple[str, str]:
    """(new text, quoted history): ``>`` lines and everything from an attribution line on."""
    lines = text.split("\n")
    new: list[str] = []
    quoted: list[str] = []
    for idx, line in enumerate(lines):
        stripped = line.strip()
        if _ATTRIBUTION.match(stripped) and (
            stripped.startswith("-")
            or any(ln.lstrip().startswith(">") for ln in lines[idx + 1 :])
            or re.search(r"(wrote|書きました)\s*[:：]?\s*$", stripped, re.IGNORECASE)
        ):
            quoted.extend(lines[idx:])
            break
        if stripped.startswith(">") or stripped.startswith("＞"):
            quoted.append(line)
        else:
            new.append(line)
    return "\n".join(new).strip(), "\n".join(quoted).strip()


_AUTO_SUBJECT = re.compile(
    r"不在通知|自動応答|自動返信|自動送信|out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?reply"
    r"|vacation|autoreply|delivery status notification|undeliver|returned mail|mail delivery failed"
    r"|配信不能|配送不能|宛先不明|エラーメール|送信できませんでした",
    re.IGNORECASE,
)
_BOUNCE_SENDERS = ("mailer-daemon", "postmaster", "mail-daemon", "mailer_daemon")


def auto_reason(
    headers: dict[str, str],
    sender: str,
    subject: str,
    message_id: str,
    own_domains: tuple[str, ...],
    content_type: str,
) -> str | None:
    """Why this mail must never open a ticket nor get an automatic answer, or None."""
    h = {k.lower(): v.strip().lower() for k, v in headers.items()}
    if h.get("auto-submitted", "no") not in ("", "no"):
        return f"Auto-Submitted: {h['auto-submitted'][:40]}"
    if h.get("precedence") in ("bulk", "list", "junk", "auto_reply"):
        return f"Precedence: {h['precedence']}"
    for name in (
        "x-loop",
        "x-auto-response-suppress",
        "list-unsubscribe",
        "list-id",
        "x-autoreply",
        "x-autorespond",
        "x-ml-name",
        "x-mail-count",
    ):
        if name in h:
            return f"{name} header"
    if content_type == "multipart/report":
        return "delivery status notification"
    local = sender.split("@", 1)[0].lower()
    if local in _BOUNCE_SENDERS or local.startswith("mailer-daemon"):
        return f"sent by {local}"
    domain = message_id.rsplit("@", 1)[-1].lower() if "@" in message_id else ""
    if domain and domain in own_domains:
        return "our own Message-ID"
    if _AUTO_SUBJECT.search(subject or ""):
        return "automatic reply subject"
    return None
