"""What every command shares: exit codes, help texts, and printing with every configured secret masked."""

from __future__ import annotations

import logging
import os
import sys

from core.settings import Settings

EXIT_OK = 0
EXIT_FAILING = 1  # the command ran and found a problem (check: a service is failing)
EXIT_ERROR = 2  # the command could not run: bad usage, settings, connection, authentication, file
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """\
exit codes:
  0  done (check: every service is OK)
  1  check: at least one service is failing
  2  could not run: bad arguments or settings, a service unreachable or refusing the token, a file error
     (the message on stderr says which and what to do; tokens are never printed)
"""

SETTINGS_HELP = """\
settings come from the environment (or .streamlit/secrets.toml): LIBRENMS_URL, LIBRENMS_TOKEN, NETBOX_URL,
NETBOX_TOKEN, REDIS_URL, MAPPING_FILE, NAME_SOURCE, ... (see README.md)
"""


class Redactor:
    """Masks every secret value known from the environment and the settings in text we print."""

    MIN_LENGTH = 4  # shorter "secrets" would mask ordinary words
    MASK = "********"

    def __init__(self) -> None:
        self.secrets: set[str] = {
            value
            for name, value in os.environ.items()
            if any(word in name.upper() for word in ("TOKEN", "PASSWORD", "SECRET"))
            and len(value) >= self.MIN_LENGTH
        }

    def add(self, settings: Settings) -> None:
        for secret in (settings.netbox_token, *(s.token for s in settings.librenms_servers)):
            if len(secret.get()) >= self.MIN_LENGTH:
                self.secrets.add(secret.get())

    def __call__(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, self.MASK)
        return text


redact = Redactor()


def out(text: str = "") -> None:
    """A result line, on stdout."""
    print(redact(text), file=sys.stdout, flush=True)


def err(text: str) -> None:
    """An error, a warning or a note, on stderr."""
    print(redact(text), file=sys.stderr, flush=True)


class RedactingFilter(logging.Filter):
    """Masks every known secret in log records, whatever logger wrote them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
