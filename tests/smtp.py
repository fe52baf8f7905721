"""A real SMTP server in the test process (aiosmtpd), keeping what it receives to read back."""

from __future__ import annotations

import email
import email.policy
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.conftest import free_port


class SmtpSink:
    """``with SmtpSink() as smtp:`` listens on ``smtp.port`` (127.0.0.1, no TLS);
    ``smtp.messages`` are the e-mails received, parsed."""

    def __init__(self):
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        return "250 OK"

    def env(self) -> dict[str, str]:
        """The settings that send mail here."""
        return {"EVIDENCIA_SMTP_HOST": "127.0.0.1", "EVIDENCIA_SMTP_PORT": str(self.port),
                "EVIDENCIA_SMTP_TLS": "none",
                "EVIDENCIA_SMTP_FROM": "Compromiso Migrante <no-responder@evidencia.test>"}

    def wait_for(self, to: str, count: int = 1, timeout: float = 60) -> list[EmailMessage]:
        """The first ``count`` messages to ``to``, once they arrived (a worker sends them)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.messages if to in str(m["To"])]
            if len(found) >= count:
                return found
            time.sleep(0.2)
        raise AssertionError(f"{count} e-mail(s) to {to} not received; got "
                             f"{[(str(m['To']), str(m['Subject'])) for m in self.messages]}")

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()


def body_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()
