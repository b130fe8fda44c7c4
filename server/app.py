"""The edittrace language server: serves suggestions and feeds what happens to the recorder.

Every handler does only in-memory work: it feeds the capture core (``Recorder``) and pokes
the ``Ticker``, which hands events to ``Delivery`` (outbox thread + uploader task) a moment
later. Commands and notifications are listed in docs/server.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Mapping
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from edittrace.capture import CaptureError, CaptureSettings, OfferedCandidate, Recorder, Scope
from edittrace.server.providers.arms import ArmsProvider, shown_order
from edittrace.server.providers.base import CompletionRequest, Provider
from edittrace.server.providers.builtin import BuiltinProvider
from edittrace.server.settings import OpenAISettings, SettingProblem, parse_settings
from edittrace.server.status import STATUS_METHOD, StatusReporter
from edittrace.server.ticker import Ticker, now_ms
from edittrace.server.workspace_files import read_gitignores, read_sources

if TYPE_CHECKING:
    from edittrace.server.delivery import Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

CLIENT_NAME = "edittrace-lsp"

COMMAND_ACCEPTED = "edittrace.suggestion.accepted"
COMMAND_RATE = "edittrace.suggestion.rate"
COMMAND_PAUSE = "edittrace.capture.pause"
COMMAND_RESUME = "edittrace.capture.resume"
COMMAND_CHOOSE = "edittrace.comparison.choose"
COMMAND_CANDIDATES = "edittrace.suggestion.candidates"
NOTIFY_SHOWN = "edittrace/didShowCompletion"
NOTIFY_PARTIAL = "edittrace/didPartiallyAcceptCompletion"
NOTIFY_END = "edittrace/didEndCompletion"

PROVIDER_CONTEXT_CHARS = 32_000
"""Characters of prefix (and suffix) a provider sees."""
SHUTDOWN_UPLOAD_S = 2.0
STARS = ("★", "★★", "★★★", "★★★★", "★★★★★")


class EditTraceServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            CLIENT_NAME,
            version("edittrace"),
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.session_id = str(uuid.uuid4())
        self.settings, _ = parse_settings({})
        self.problems: list[SettingProblem] = []
        self.recorder: Recorder | None = None
        self.delivery: Delivery | None = None
        self.builtin = BuiltinProvider()
        self.provider: Provider = self.builtin
        self.comparing = False
        self.ticker = Ticker(self._tick)
        self.status = StatusReporter(self._send_status)
        self.client_name: str | None = None
        self.client_version: str | None = None
        self.workspace_folders: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._dropped_warned = False
        self._delivery_failed = False
        self._status_updates = 0
        self._closing: set[asyncio.Future[None]] = set()
        """Old providers closing after a settings change (kept so they are not collected)."""

    # --- plumbing ----------------------------------------------------------------------

    def _send_status(self, payload: dict[str, Any]) -> None:
        self.protocol.notify(STATUS_METHOD, payload)

    def _tick(self, now: int) -> int | None:
        recorder = self.recorder
        if recorder is None:
            return None
        recorder.tick(now)
        if self.delivery is not None:
            self.delivery.submit(self.session_id, recorder.events_to_send())
        elif self._delivery_failed:
            dropped = recorder.events_to_send()
            if dropped and not self._dropped_warned:
                self._dropped_warned = True
                logger.error("no outbox: %d events cannot be kept", len(dropped))
        # else: the outbox is still opening; events wait in the recorder.
        self.status.update(recording=self.recording)
        return recorder.next_deadline()

    @property
    def recording(self) -> bool:
        """What ``edittrace/status`` says: recording and able to keep what it records."""
        return self.recorder is not None and self.recorder.recording and not self._delivery_failed

    def _on_delivery_status(self, status: DeliveryStatus) -> None:
        # Delivery may call from its outbox thread: hop onto the event loop.
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._delivery_status, status)

    def _delivery_status(self, status: DeliveryStatus) -> None:
        self._status_updates += 1
        self.status.update(
            connected=status.connected, queued=status.queued, lastError=status.last_error
        )

    def show(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def log(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def refresh_code_lenses(self) -> None:
        workspace = self.client_capabilities.workspace
        lens = workspace.code_lens if workspace is not None else None
        if self.settings.ratings.code_lens and lens is not None and lens.refresh_support:
            self.workspace_code_lens_refresh(None)

    # --- settings ----------------------------------------------------------------------

    def apply_settings(self, raw: Any) -> None:
        settings, problems = parse_settings(raw)
        for problem in problems:
            self.show(problem.message())
        previous = self.settings
        self.settings = settings
        if settings.provider != previous.provider:
            self._make_provider()
        if self.delivery is not None and settings.collector != previous.collector:
            self.delivery.configure(settings.collector.url, settings.collector.token)
        if settings.outbox != previous.outbox or settings.capture.include != (
            previous.capture.include
        ):
            self.log("edittrace: outbox and capture scope changes take effect after a restart")
        recorder = self.recorder
        if recorder is not None and settings.capture.enabled != previous.capture.enabled:
            if settings.capture.enabled:
                recorder.resume(now_ms())
            else:
                recorder.pause(now_ms())
            self.ticker.poke()

    def _make_provider(self) -> None:
        old = self.provider
        provider = self.settings.provider
        if len(provider.arms) >= 2:
            arms: list[tuple[str, Provider]] = [
                (
                    arm.name,
                    self.builtin if arm.provider == "builtin" else _openai_provider(arm.openai),
                )
                for arm in provider.arms
            ]
            self.provider = ArmsProvider(arms)
            self.comparing = True
        elif provider.name == "openai":
            self.provider = _openai_provider(provider.openai)
            self.comparing = False
        else:
            self.provider = self.builtin
            self.comparing = False
        if old is not self.builtin and old is not self.provider:
            closing = asyncio.ensure_future(old.close())
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)

    # --- life cycle --------------------------------------------------------------------

    def start_recording(self) -> None:
        """Create and start the recorder at ``initialize``, before any document can open.

        Events wait inside the recorder until the outbox is open (``start_delivery``).
        """
        folders = self.workspace_folders
        capture = self.settings.capture
        # Bounded (about a second at most), and nobody is typing before initialize returns.
        scope = Scope(folders, capture.include, capture.exclude, read_gitignores(folders))
        builtin = self.settings.provider.builtin
        self.builtin.load_in_background(
            lambda: read_sources(
                folders,
                scope.allows,
                max_files=builtin.max_files,
                max_bytes=builtin.max_bytes,
                max_file_bytes=builtin.max_file_bytes,
            )
        )
        recorder = Recorder(
            self.session_id,
            CaptureSettings(
                persistence_checkpoints_s=capture.persistence_checkpoints_s,
                snapshot_every_changes=capture.snapshot_every_changes,
                snapshot_every_ms=capture.snapshot_every_s * 1000,
                max_document_chars=capture.max_document_chars,
                context_chars=capture.context_chars,
                accept_grace_ms=capture.accept_grace_ms,
            ),
            scope,
        )
        now = now_ms()
        encoding = self.workspace.position_encoding
        recorder.start(
            now,
            client=CLIENT_NAME,
            client_version=self.version,
            position_encoding=str(getattr(encoding, "value", encoding) or "utf-16"),
            editor=self.client_name,
            editor_version=self.client_version,
            workspace_folders=folders,
            settings=self.settings.public(),
        )
        if not capture.enabled:
            recorder.pause(now)
        self.recorder = recorder

    async def start_delivery(self) -> None:
        self._loop = asyncio.get_running_loop()
        outbox = self.settings.outbox
        try:
            # Imported here: websockets and sqlite set-up are paid once recording starts.
            from edittrace.server.delivery import Delivery

            delivery = Delivery(
                outbox.path, int(outbox.hold_back_s * 1000), self._on_delivery_status
            )
            await delivery.start()
        except Exception as error:
            logger.exception("outbox could not start")
            self._delivery_failed = True
            message = f"cannot open the outbox at {outbox.path} ({error}); nothing is recorded"
            self.show(f"edittrace: {message}", types.MessageType.Error)
            self.status.update(recording=False, lastError=message)
            return
        self.delivery = delivery
        delivery.configure(self.settings.collector.url, self.settings.collector.token)
        self.ticker.poke()
        self.status.update(recording=self.recording)

    async def close(self, reason: str) -> None:
        """End the session and flush everything to the outbox; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        updates_before = self._status_updates
        if self.recorder is not None:
            self.recorder.end(now_ms(), reason)
            self.ticker.run_now()
        self.ticker.stop()
        if self.delivery is not None:
            await self._let_upload_finish(updates_before)
            await self.delivery.stop()
        await self.provider.close()

    async def _let_upload_finish(self, updates_before: int) -> None:
        """When connected and nothing is held back long, give the last events a moment to
        reach the collector; otherwise (or after the moment) they wait in the outbox for
        the next start. Never longer than ``SHUTDOWN_UPLOAD_S``."""
        if (
            self.settings.outbox.hold_back_s > SHUTDOWN_UPLOAD_S
            or not self.status.current.connected
        ):
            return
        for _ in range(int(SHUTDOWN_UPLOAD_S / 0.05)):
            current = self.status.current
            if self._status_updates > updates_before and current.queued == 0:
                return
            if not current.connected:
                return
            await asyncio.sleep(0.05)

    # --- completions -------------------------------------------------------------------

    async def inline_completion(
        self, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList | None:
        started = time.perf_counter()
        uri = params.text_document.uri
        document = self.workspace.get_text_document(uri)
        version_at_request = document.version
        lines = document.lines
        position = document.position_codec.position_from_client_units(lines, params.position)
        line = lines[position.line] if position.line < len(lines) else ""
        line_prefix = line[: position.character]
        line_suffix = line[position.character :]
        above = "".join(lines[max(0, position.line - 2_000) : position.line])
        below = "".join(lines[position.line + 1 : position.line + 2_000])
        invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
        request = CompletionRequest(
            uri=uri,
            language_id=document.language_id or "",
            prefix=(above + line_prefix)[-PROVIDER_CONTEXT_CHARS:],
            suffix=(line_suffix + below)[:PROVIDER_CONTEXT_CHARS],
            line_prefix=line_prefix,
            line_suffix=line_suffix.rstrip("\r\n"),
            trigger="invoked" if invoked else "automatic",
        )
        try:
            completions = await self.provider.complete(request)
        except Exception:
            # A provider bug must not turn into an error on every keystroke.
            logger.exception("provider %s failed", self.provider.name)
            return None
        if not completions or document.version != version_at_request:
            return None
        latency_ms = (time.perf_counter() - started) * 1000
        suggestion = str(uuid.uuid4())
        order = shown_order(len(completions)) if self.comparing else list(range(len(completions)))
        at = params.position
        lsp_range = types.Range(start=at, end=at)
        plain_range = {
            "start": {"line": at.line, "character": at.character},
            "end": {"line": at.line, "character": at.character},
        }
        if self.recorder is not None:
            self.recorder.offer(
                now_ms(),
                suggestion=suggestion,
                uri=uri,
                version=version_at_request or 0,
                position={"line": at.line, "character": at.character},
                trigger=request.trigger,
                latency_ms=round(latency_ms, 3),
                candidates=[
                    OfferedCandidate(
                        text=c.text,
                        range=plain_range,
                        provider=c.provider,
                        model=c.model,
                        arm=c.arm,
                    )
                    for c in completions
                ],
                shown_order=order,
            )
            self.ticker.poke()
        return types.InlineCompletionList(
            items=[
                types.InlineCompletionItem(
                    insert_text=completions[index].text,
                    range=lsp_range,
                    command=types.Command(
                        title="edittrace: suggestion accepted",
                        command=COMMAND_ACCEPTED,
                        arguments=[{"suggestion": suggestion, "candidate": index}],
                    ),
                )
                for index in order
            ]
        )

    def code_lenses(self, uri: str) -> list[types.CodeLens]:
        if self.recorder is None or not self.settings.ratings.code_lens:
            return []
        lenses = []
        for span in self.recorder.accepted_spans(uri):
            start = span.range["start"]
            at = types.Position(line=start["line"], character=start["character"])
            where = types.Range(start=at, end=at)
            target = {"suggestion": span.suggestion, "candidate": span.candidate}
            for title, extra in (
                ("👍", {"thumbs": "up"}),
                ("👎", {"thumbs": "down"}),
                ("Rate…", {}),
            ):
                lenses.append(
                    types.CodeLens(
                        range=where,
                        command=types.Command(
                            title=title, command=COMMAND_RATE, arguments=[{**target, **extra}]
                        ),
                    )
                )
        return lenses

    # --- commands ----------------------------------------------------------------------

    async def rate(self, argument: Mapping[str, Any]) -> None:
        recorder = self._need_recorder()
        suggestion = _required_str(argument, "suggestion", COMMAND_RATE)
        values = {k: argument.get(k) for k in ("thumbs", "stars", "rubric", "comment")}
        if all(value is None for value in values.values()):
            answer = await self.window_show_message_request_async(
                types.ShowMessageRequestParams(
                    type=types.MessageType.Info,
                    message="edittrace: how good was this suggestion?",
                    actions=[types.MessageActionItem(title=title) for title in STARS],
                )
            )
            if answer is None or answer.title not in STARS:
                return
            values["stars"] = STARS.index(answer.title) + 1
        recorder.rate(
            now_ms(),
            suggestion,
            source=_source(argument, "lsp"),
            candidate=argument.get("candidate"),
            **values,
        )
        self.ticker.poke()
        self.refresh_code_lenses()

    def _need_recorder(self) -> Recorder:
        if self.recorder is None:
            raise CaptureError("edittrace is not recording in this session")
        return self.recorder


def _openai_provider(settings: OpenAISettings) -> Provider:
    # Imported only when asked for: httpx costs start-up time the builtin does not need.
    from edittrace.server.providers.openai import OpenAIProvider

    return OpenAIProvider(settings)


def _required_str(argument: Mapping[str, Any], key: str, command: str) -> str:
    value = argument.get(key)
    if not isinstance(value, str) or not value:
        raise CaptureError(f"{command} needs {key!r} (a string), got {value!r:.60}")
    return value


def _source(argument: Mapping[str, Any], default: str) -> str:
    source = argument.get("source", default)
    if source not in ("lsp", "bridge"):
        raise CaptureError(f"'source' must be 'lsp' or 'bridge', got {source!r:.40}")
    return str(source)


def _argument(args: tuple[object, ...], command: str) -> Mapping[str, Any]:
    if len(args) != 1 or not isinstance(args[0], Mapping):
        raise CaptureError(f"{command} takes one argument, a map; got {list(args)!r:.80}")
    return args[0]


def _fields(params: Any) -> dict[str, Any]:
    """Custom notification params arrive as read-only namedtuples (or maps)."""
    if isinstance(params, Mapping):
        return dict(params)
    as_dict = getattr(params, "_asdict", None)
    return dict(as_dict()) if callable(as_dict) else {}


def _change(change: types.TextDocumentContentChangeEvent) -> dict[str, Any]:
    if isinstance(change, types.TextDocumentContentChangePartial):
        start, end = change.range.start, change.range.end
        return {
            "range": {
                "start": {"line": start.line, "character": start.character},
                "end": {"line": end.line, "character": end.character},
            },
            "text": change.text,
        }
    return {"text": change.text}


def create_server() -> EditTraceServer:
    server = EditTraceServer()

    @server.feature(types.INITIALIZE)
    def initialize(params: types.InitializeParams) -> None:
        if params.client_info is not None:
            server.client_name = params.client_info.name
            server.client_version = params.client_info.version
        folders = [folder.uri for folder in params.workspace_folders or []]
        if not folders and params.root_uri:
            folders = [params.root_uri]
        server.workspace_folders = folders
        server.settings, server.problems = parse_settings(params.initialization_options)
        server._make_provider()
        server.start_recording()

    @server.feature(types.INITIALIZED)
    async def initialized(params: types.InitializedParams) -> None:
        for problem in server.problems:
            server.show(problem.message())
        await server.start_delivery()

    @server.feature(types.SHUTDOWN)
    async def shutdown(params: None) -> None:
        await server.close("shutdown")

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(params: types.DidChangeConfigurationParams) -> None:
        raw = params.settings
        if not raw:
            workspace = server.client_capabilities.workspace
            if workspace is None or not workspace.configuration:
                return
            answer = await server.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section="edittrace")])
            )
            raw = answer[0] if answer else None
        server.apply_settings(raw)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        if server.recorder is not None:
            doc = params.text_document
            server.recorder.open_document(now_ms(), doc.uri, doc.language_id, doc.version, doc.text)
            server.ticker.poke()

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        if server.recorder is not None:
            server.recorder.change_document(
                now_ms(),
                params.text_document.uri,
                params.text_document.version,
                [_change(change) for change in params.content_changes],
            )
            server.ticker.poke()

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: types.DidSaveTextDocumentParams) -> None:
        if server.recorder is not None:
            uri = params.text_document.uri
            document = server.workspace.text_documents.get(uri)
            server.recorder.save_document(now_ms(), uri, document.version if document else None)
            server.ticker.poke()

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        if server.recorder is not None:
            server.recorder.close_document(now_ms(), params.text_document.uri)
            server.ticker.poke()

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        params: types.InlineCompletionParams,
    ) -> types.InlineCompletionList | None:
        return await server.inline_completion(params)

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    def code_lens(params: types.CodeLensParams) -> list[types.CodeLens]:
        return server.code_lenses(params.text_document.uri)

    def command_failed(command: str, error: CaptureError) -> None:
        server.show(f"{command}: {error}", types.MessageType.Error)

    @server.command(COMMAND_ACCEPTED)
    def accepted(ls: EditTraceServer, *args: object) -> None:
        try:
            argument = _argument(args, COMMAND_ACCEPTED)
            candidate = argument.get("candidate", 0)
            server._need_recorder().accepted(
                now_ms(),
                _required_str(argument, "suggestion", COMMAND_ACCEPTED),
                candidate if isinstance(candidate, int) else 0,
                _source(argument, "lsp"),
            )
        except CaptureError as error:
            command_failed(COMMAND_ACCEPTED, error)
            return
        server.ticker.poke()
        server.refresh_code_lenses()

    @server.command(COMMAND_RATE)
    async def rate(ls: EditTraceServer, *args: object) -> None:
        try:
            await server.rate(_argument(args, COMMAND_RATE))
        except CaptureError as error:
            command_failed(COMMAND_RATE, error)

    @server.command(COMMAND_PAUSE)
    def pause(ls: EditTraceServer, *args: object) -> None:
        if server.recorder is not None:
            server.recorder.pause(now_ms())
            server.ticker.poke()
            server.status.update(recording=server.recording)

    @server.command(COMMAND_RESUME)
    def resume(ls: EditTraceServer, *args: object) -> None:
        if server.recorder is not None:
            server.recorder.resume(now_ms())
            server.ticker.poke()
            server.status.update(recording=server.recording)

    @server.command(COMMAND_CHOOSE)
    def choose(ls: EditTraceServer, *args: object) -> None:
        try:
            argument = _argument(args, COMMAND_CHOOSE)
            decision = argument.get("decisionMs", argument.get("decision_ms"))
            server._need_recorder().compare(
                now_ms(),
                _required_str(argument, "suggestion", COMMAND_CHOOSE),
                choice=_required_str(argument, "choice", COMMAND_CHOOSE),
                source=_source(argument, "bridge"),
                candidate=argument.get("candidate"),
                order=argument.get("order"),
                decision_ms=decision,
            )
        except CaptureError as error:
            command_failed(COMMAND_CHOOSE, error)
            return
        server.ticker.poke()

    @server.command(COMMAND_CANDIDATES)
    def candidates(ls: EditTraceServer, *args: object) -> dict[str, Any]:
        try:
            argument = _argument(args, COMMAND_CANDIDATES)
            suggestion = _required_str(argument, "suggestion", COMMAND_CANDIDATES)
            found = server._need_recorder().suggestion_candidates(suggestion)
        except CaptureError as error:
            raise JsonRpcInvalidParams(str(error)) from error
        if found is None:
            raise JsonRpcInvalidParams(f"no suggestion {suggestion!r} in this session")
        return {
            "suggestion": suggestion,
            "candidates": [{"candidate": i, "text": c.text} for i, c in enumerate(found)],
        }

    def bridge(name: str, params: Any, *keys: str) -> dict[str, Any] | None:
        fields = _fields(params)
        if server.recorder is None:
            return None
        if not isinstance(fields.get("suggestion"), str) or not isinstance(
            fields.get("candidate"), int
        ):
            server.log(f"edittrace: {name} needs suggestion and candidate, got {fields!r:.120}")
            return None
        return fields

    @server.feature(NOTIFY_SHOWN)
    def did_show(params: Any) -> None:
        fields = bridge(NOTIFY_SHOWN, params)
        if fields is not None and server.recorder is not None:
            server.recorder.shown(now_ms(), fields["suggestion"], fields["candidate"], "bridge")
            server.ticker.poke()

    @server.feature(NOTIFY_PARTIAL)
    def did_partially_accept(params: Any) -> None:
        fields = bridge(NOTIFY_PARTIAL, params)
        if fields is None or server.recorder is None:
            return
        kind = fields.get("kind")
        length = fields.get("acceptedLength")
        server.recorder.partial_accept(
            now_ms(),
            fields["suggestion"],
            fields["candidate"],
            kind if kind in ("word", "line") else "other",
            length if isinstance(length, int) else 0,
            "bridge",
        )
        server.ticker.poke()

    @server.feature(NOTIFY_END)
    def did_end(params: Any) -> None:
        fields = bridge(NOTIFY_END, params)
        if fields is None or server.recorder is None:
            return
        reason = fields.get("reason")
        if reason not in ("accepted", "rejected", "ignored"):
            server.log(f"edittrace: {NOTIFY_END} with unknown reason {reason!r:.40}")
            return
        disagreed = fields.get("userTypingDisagreed")
        server.recorder.ended(
            now_ms(),
            fields["suggestion"],
            fields["candidate"],
            reason,
            "bridge",
            reason="explicit" if reason == "rejected" else None,
            user_typing_disagreed=disagreed if isinstance(disagreed, bool) else None,
        )
        server.ticker.poke()
        if reason == "accepted":
            server.refresh_code_lenses()

    return server
