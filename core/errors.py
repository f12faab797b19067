"""One exception family with messages a user can act on. Tokens never appear in them."""

from __future__ import annotations


class ImporterError(Exception):
    """Base of every error this product raises on purpose; `str(e)` is safe to show a user."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class ConfigError(ImporterError):
    """A setting is missing or malformed."""


class LibreNMSError(ImporterError):
    """LibreNMS could not answer as needed."""


class LibreNMSUnreachable(LibreNMSError):
    """Connection refused, DNS failure, TLS failure."""


class LibreNMSTimeout(LibreNMSError):
    """LibreNMS took longer than the read timeout."""


class LibreNMSAuthError(LibreNMSError):
    """401: the token is wrong, disabled or missing."""


class LibreNMSForbidden(LibreNMSError):
    """403: the token's user may not see this."""


class LibreNMSNotFound(LibreNMSError):
    """404 for a device, a route or an empty collection."""


class LibreNMSServerError(LibreNMSError):
    """5xx from LibreNMS or the web server in front of it."""


class LibreNMSBadResponse(LibreNMSError):
    """The body was not the JSON docs/librenms-api.md describes (truncated, HTML, wrong shape)."""


class NetBoxError(ImporterError):
    """NetBox could not answer as needed."""


class NetBoxUnreachable(NetBoxError):
    """Connection refused or timed out."""


class NetBoxAuthError(NetBoxError):
    """403 for an unknown token or a token without the needed permission."""


class NetBoxSetupError(NetBoxError):
    """NetBox lacks something the import needs (e.g. the librenms_id custom field)."""


class QueueUnavailable(ImporterError):
    """Redis cannot be reached, or no live worker listens."""


class SearchExpired(ImporterError):
    """A stored search is no longer there (expired, dropped from the recent list, or Redis was reset)."""


class CsvError(ImporterError):
    """The CSV cannot be read as a whole (no header, no librenms_id column, not text)."""


class ImportStopped(ImporterError):
    """The analyst asked a running import to stop; raised at a safe point between batches."""
