"""Building and sending email. Sending happens only in the worker, from the outbox."""

from __future__ import annotations

import sys
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

import aiosmtplib

from models.notifications import Outbox
from web.core.settings import Settings


def message_id(settings: Settings, item: Outbox) -> str:
    """One Message-ID per outbox row, the same on every attempt: should a worker die between
    the SMTP server accepting a message and the row being marked sent, the copy sent again
    carries the same id, so mail systems and readers can drop the duplicate."""
    created = int(item.created_at.timestamp()) if item.created_at else 0
    return f"<patchwork.outbox.{item.id}.{created}@{settings.rp_id}>"


def build_message(settings: Settings, item: Outbox) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = item.recipient
    message["Subject"] = item.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id(settings, item)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(item.body)
    for attachment in item.attachments:
        maintype, subtype = attachment["content_type"].split("/", 1)
        message.add_attachment(
            attachment["content"].encode(),
            maintype=maintype,
            subtype=subtype,
            filename=attachment["filename"],
        )
    return message


async def send(settings: Settings, message: EmailMessage) -> None:
    """Send over SMTP_URL: smtp:// (plain), smtp+starttls:// or smtps:// (implicit TLS).

    With SMTP_URL unset (development), the message is printed to the console instead.
    """
    if not settings.smtp_url:
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        print(
            f"\n----- email (SMTP_URL unset) -----\nTo: {message['To']}\n"
            f"Subject: {message['Subject']}\n\n{text}-----",
            file=sys.stdout,
            flush=True,
        )
        return
    url = urlsplit(settings.smtp_url)
    implicit_tls = url.scheme == "smtps"
    await aiosmtplib.send(
        message,
        hostname=url.hostname,
        port=url.port or (465 if implicit_tls else 25),
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
        use_tls=implicit_tls,
        start_tls=url.scheme == "smtp+starttls",
        timeout=30,
    )
