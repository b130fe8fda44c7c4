"""The capture core: fed LSP facts and a clock, drained for events. Sans-I/O.

See docs/capture.md for what is recorded and how each outcome is decided.
"""

from edittrace.capture.documents import DocumentMirror
from edittrace.capture.scope import Scope

__all__ = ["DocumentMirror", "Scope"]
