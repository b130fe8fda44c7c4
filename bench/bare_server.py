"""The baseline of bench/lsp_keystroke.py: a pygls server that only keeps documents in sync.

    python bench/bare_server.py      # speaks LSP on stdio

Same pygls, same incremental sync, no features: whatever ``edittrace lsp`` costs beyond
this is edittrace's own overhead.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.lsp.server import LanguageServer


def main() -> None:
    server = LanguageServer(
        "bare-sync", "1", text_document_sync_kind=types.TextDocumentSyncKind.Incremental
    )
    server.start_io()


if __name__ == "__main__":
    main()
