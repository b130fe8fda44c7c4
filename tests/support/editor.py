"""A scripted editor: a real LSP client (pytest-lsp) driving ``edittrace lsp`` over stdio.

It keeps its own copy of each open document, types character by character as a person
does (one ``didChange`` per key), and records what the server tells it (status
notifications, messages, CodeLens refreshes). Used by the server's end-to-end tests::

    editor = await Editor.start(workspace, settings)
    uri = editor.open(workspace / "a.py")
    editor.type("x = ")
    items = await editor.complete()
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.support.collector import EDITTRACE

TIMEOUT_S = 30.0


async def eventually(check: Callable[[], Any], what: str = "", within_s: float = TIMEOUT_S) -> Any:
    """Poll ``check()`` until it returns something truthy; fail after ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    for _ in range(1_000_000):
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within_s} s waiting for {what or check}")
        await asyncio.sleep(0.05)
    raise AssertionError("unreachable")


def capabilities() -> types.ClientCapabilities:
    # pytest-lsp's bundled profiles do not declare inline completion: declare it here.
    return types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            inline_completion=types.InlineCompletionClientCapabilities(),
            code_lens=types.CodeLensClientCapabilities(),
            synchronization=types.TextDocumentSyncClientCapabilities(did_save=True),
        ),
        workspace=types.WorkspaceClientCapabilities(
            code_lens=types.CodeLensWorkspaceClientCapabilities(refresh_support=True),
            configuration=True,
            execute_command=types.ExecuteCommandClientCapabilities(),
        ),
        window=types.WindowClientCapabilities(
            show_message=types.ShowMessageRequestClientCapabilities()
        ),
    )


class Editor:
    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.statuses: list[dict[str, Any]] = []
        self.lens_refreshes = 0
        self.message_requests: list[types.ShowMessageRequestParams] = []
        self.answer: str | None = None
        """Title of the action to pick when the server asks (showMessageRequest)."""
        self.lines: dict[str, list[str]] = {}
        self.versions: dict[str, int] = {}
        self.uri = ""
        self.cursor = (0, 0)

    @classmethod
    async def start(
        cls,
        workspace: Path,
        settings: Mapping[str, Any],
        env: Mapping[str, str] | None = None,
    ) -> Editor:
        config = ClientServerConfig(
            server_command=[*EDITTRACE, "lsp"], server_env=dict(env) if env else None
        )
        client = await config.start()
        assert isinstance(client, LanguageClient)
        editor = cls(client)

        @client.feature("edittrace/status")
        def status(params: Any) -> None:
            editor.statuses.append(dict(params._asdict()))

        @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
        def refresh(params: None) -> None:
            editor.lens_refreshes += 1

        @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
        def ask(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
            editor.message_requests.append(params)
            return types.MessageActionItem(title=editor.answer) if editor.answer else None

        await client.initialize_session(
            types.InitializeParams(
                capabilities=capabilities(),
                client_info=types.ClientInfo(name="scripted-editor", version="1.0"),
                workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")],
                initialization_options={"edittrace": dict(settings)},
            )
        )
        return editor

    @property
    def status(self) -> dict[str, Any]:
        return self.statuses[-1] if self.statuses else {}

    async def wait_status(self, **expected: Any) -> None:
        await eventually(
            lambda: all(self.status.get(k) == v for k, v in expected.items()),
            what=f"status {expected} (last {self.status})",
        )

    def messages(self) -> list[str]:
        return [message.message for message in self.client.messages]

    # --- documents -----------------------------------------------------------------------

    def open(self, path: Path, language_id: str = "python") -> str:
        """Open ``path`` with its text on disk; the cursor goes to the end."""
        uri = path.as_uri()
        text = path.read_text()
        self.lines[uri] = text.split("\n")
        self.versions[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=uri, language_id=language_id, version=1, text=text)
            )
        )
        self.uri = uri
        last = len(self.lines[uri]) - 1
        self.cursor = (last, len(self.lines[uri][last]))
        return uri

    def text(self, uri: str | None = None) -> str:
        return "\n".join(self.lines[uri or self.uri])

    def replace(self, start: tuple[int, int], end: tuple[int, int], new: str) -> None:
        """One ``didChange`` replacing [start, end) with ``new`` (ASCII text)."""
        lines = self.lines[self.uri]
        before = lines[start[0]][: start[1]]
        after = lines[end[0]][end[1] :]
        inserted = (before + new + after).split("\n")
        lines[start[0] : end[0] + 1] = inserted
        self.versions[self.uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=self.uri, version=self.versions[self.uri]
                ),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=types.Position(*start), end=types.Position(*end)),
                        text=new,
                    )
                ],
            )
        )
        last = new.split("\n")
        line = start[0] + len(last) - 1
        column = (start[1] if len(last) == 1 else 0) + len(last[-1])
        self.cursor = (line, column)

    def end_of_line(self) -> None:
        """Move the cursor to the end of its line (the End key)."""
        line = self.cursor[0]
        self.cursor = (line, len(self.lines[self.uri][line]))

    def insert(self, new: str) -> None:
        """Insert at the cursor in one change (a paste, or accepting ghost text)."""
        self.replace(self.cursor, self.cursor, new)

    def type(self, typed: str) -> None:
        """Type at the cursor, one ``didChange`` per character."""
        for character in typed:
            self.insert(character)

    def save(self) -> None:
        self.client.text_document_did_save(
            types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(self.uri))
        )

    def close(self) -> None:
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(self.uri))
        )

    # --- suggestions and commands --------------------------------------------------------

    async def complete(self, wait: bool = True) -> list[types.InlineCompletionItem]:
        """Ask for ghost text at the cursor; with ``wait``, ask again until some comes (the
        builtin model is read in the background at start)."""

        async def ask() -> list[types.InlineCompletionItem]:
            result = await self.client.text_document_inline_completion_async(
                types.InlineCompletionParams(
                    context=types.InlineCompletionContext(
                        trigger_kind=types.InlineCompletionTriggerKind.Automatic
                    ),
                    text_document=types.TextDocumentIdentifier(self.uri),
                    position=types.Position(*self.cursor),
                )
            )
            if isinstance(result, types.InlineCompletionList):
                return list(result.items)
            return list(result or [])

        if not wait:
            return await ask()
        deadline = time.monotonic() + TIMEOUT_S
        for _ in range(1_000_000):
            found = await ask()
            if found or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert found, f"no ghost text at {self.cursor} after {self.text()[-200:]!r}"
        return found

    async def execute(self, command: str, *arguments: Any) -> Any:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=list(arguments))
        )

    def notify(self, method: str, params: Mapping[str, Any]) -> None:
        self.client.protocol.notify(method, dict(params))

    async def code_lenses(self) -> list[types.CodeLens]:
        return list(
            await self.client.text_document_code_lens_async(
                types.CodeLensParams(text_document=types.TextDocumentIdentifier(self.uri))
            )
            or []
        )

    async def stop(self) -> None:
        """``shutdown`` + ``exit``, then wait for the process to end."""
        await self.client.shutdown_session()
        await self.client.stop()  # type: ignore[no-untyped-call]

    async def kill(self) -> None:
        """SIGKILL the server, as a crash would."""
        server = self.client._server
        assert server is not None
        server.kill()
        await server.wait()
        await self.client.stop()  # type: ignore[no-untyped-call]


def accept_argument(item: types.InlineCompletionItem) -> dict[str, Any]:
    assert item.command is not None and item.command.arguments
    argument = item.command.arguments[0]
    assert isinstance(argument, dict)
    return argument
