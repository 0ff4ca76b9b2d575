"""The emails the procedure sends as the employee: automated (RFC 3834) and sent once.

Each carries a Message-ID derived from the run, and is looked up by it before it is sent, so a
retried or re-run step finds its earlier email instead of sending it again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

from ooo.services.once import write_once
from ooo.team import Person


def automated_email(sender: Person, to: Sequence[tuple[str, str]], subject: str, text: str, html: str,
                    message_id: str, now: dt.datetime, headers: dict[str, str] | None = None) -> EmailMessage:
    """A plain-text email with an HTML alternative, from ``sender`` to ``(name, address)`` pairs."""
    message = EmailMessage()
    message["From"] = formataddr((sender.name, sender.email))
    message["To"] = ", ".join(formataddr(pair) for pair in to)
    message["Subject"] = subject
    message["Date"] = format_datetime(now.astimezone(dt.timezone.utc))
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-replies must not answer it
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send_once(google: Any, message: EmailMessage, look_first: bool = True) -> tuple[str, bool]:
    """Send ``message`` unless one with its Message-ID was sent already: (Gmail id, sent now).

    The lookup comes before every try but the task's first (``look_first=False``: nothing can have
    sent it yet), so a send whose answer was lost is found, not resent."""
    mid = message["Message-ID"]
    return write_once(lambda: google.find_message(mid), lambda: google.send_message(message), f"email {mid}",
                      look_first=look_first)
