"""What the 1688 client raises."""

from __future__ import annotations

from typing import Any


# ------------------------------------------------------------------------------- errors
class Alibaba1688Error(Exception):
    """1688 refused or failed a request.

    ``message`` is 1688's own words when it gave any, ``code`` its error code, ``retryable``
    whether the same call may succeed later, ``maybe_processed`` whether 1688 may have acted on
    it anyway (the request left and no clear answer came back); ``status``/``body`` are for the
    log.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        retryable: bool = False,
        maybe_processed: bool = False,
        status: int | None = None,
        body: Any = None,
        api: str = "",
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.maybe_processed = maybe_processed
        self.status = status
        self.body = body
        self.api = api

    def __str__(self) -> str:
        return f"1688 {self.api}: {self.message}" if self.api else f"1688: {self.message}"


class Alibaba1688AuthError(Alibaba1688Error):
    """The app or the buyer's authorisation was refused: a person must fix the account."""


class Alibaba1688TokenExpired(Alibaba1688AuthError):
    """The access token expired; a refresh token turns it into a new one."""


class Alibaba1688Timeout(Alibaba1688Error):
    """No answer in time."""
