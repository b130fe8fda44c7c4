"""The capture core: fed LSP facts and a clock, drained for events. Sans-I/O.

See docs/capture.md for what is recorded and how each outcome is decided.
"""

from edittrace.capture.documents import DocumentMirror
from edittrace.capture.persistence import AcceptedSpan, levenshtein
from edittrace.capture.recorder import CaptureSettings, Recorder
from edittrace.capture.scope import Scope
from edittrace.capture.suggestions import CaptureError, OfferedCandidate

__all__ = [
    "AcceptedSpan",
    "CaptureError",
    "CaptureSettings",
    "DocumentMirror",
    "OfferedCandidate",
    "Recorder",
    "Scope",
    "levenshtein",
]
