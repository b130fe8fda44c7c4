"""Error codes shared by both ends; each one is documented in docs/protocol.md."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    BAD_FRAME = "bad_frame"
    """The message is not a well-formed frame: not MessagePack, wrong keys or types."""
    TOO_LARGE = "too_large"
    """A frame, a batch or a string exceeds the documented limits."""
    CONFLICT = "conflict"
    """An event reuses a stored ``(session, seq)`` with different content."""
    FORBIDDEN = "forbidden"
    """The session belongs to another contractor."""
    RATE_LIMITED = "rate_limited"
    """The client sends faster than the collector lets one connection write."""
    UNSUPPORTED_VERSION = "unsupported_version"
    """The client asked for a protocol version the collector does not speak."""
    OUT_OF_ORDER = "out_of_order"
    """A batch would leave a gap: its first seq is beyond the acknowledged seq + 1."""
    INTERNAL = "internal"
    """The collector failed to store the batch; nothing of it was stored, resend later."""


class ProtocolError(Exception):
    """A frame or event that breaks the protocol, with the code to report it under."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"ProtocolError({self.code.value!r}, {self.message!r})"
