"""``edittrace lsp``: the language server on stdio."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from typing import Any

import click


@click.command("lsp")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="warning",
    show_default=True,
    help="How much the server logs to stderr.",
)
def lsp(log_level: str) -> None:
    """Run the edittrace language server on stdio.

    An editor starts it and speaks LSP over stdin/stdout. Settings come from the
    editor (initializationOptions, workspace/didChangeConfiguration); see
    docs/settings.md. EDITTRACE_COLLECTOR_URL and EDITTRACE_TOKEN fill in the
    collector when the settings leave it empty.
    """
    logging.basicConfig(
        level=getattr(logging, log_level.upper()),
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    # The outbox thread (masking, SQLite) and the model reader compete for the GIL with the
    # event loop: hand it back to the loop within 1 ms rather than Python's default 5 ms.
    sys.setswitchinterval(0.001)
    try:
        code = asyncio.run(_serve())
    except SystemExit as exiting:  # pygls calls sys.exit from a callback on ``exit``
        code = exiting.code if isinstance(exiting.code, int) else 0
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    # A thread blocked reading stdin would keep the interpreter alive; everything that
    # matters is flushed by now (the outbox is committed in Delivery.stop).
    os._exit(code)


async def _serve() -> int:
    from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async

    from edittrace.server.app import create_server

    server = create_server()
    exit_code: list[int] = []

    class Writer(StdoutWriter):
        def close(self) -> Any:
            # pygls calls close() on ``exit`` and waits for an awaitable before sys.exit:
            # flush the session into the outbox first.
            async def close_after_flush() -> None:
                await server.close("exit")
                exit_code.append(0 if server.protocol._shutdown else 1)
                StdoutWriter.close(self)  # type: ignore[no-untyped-call]

            return close_after_flush()

    async def terminate() -> None:
        # Editors send SIGTERM when the server does not exit in time: keep the session.
        await server.close("terminated")
        os._exit(0)

    asyncio.get_running_loop().add_signal_handler(
        signal.SIGTERM, lambda: asyncio.ensure_future(terminate())
    )
    server.protocol.set_writer(Writer(sys.stdout.buffer))
    reader = StdinAsyncReader(sys.stdin.buffer, server.thread_pool)
    stop = threading.Event()
    try:
        await run_async(
            stop_event=stop,
            reader=reader,
            protocol=server.protocol,
            logger=logging.getLogger("edittrace.server"),
            error_handler=server.report_server_error,
        )
    except SystemExit as exiting:
        return int(exiting.code or 0)
    finally:
        # The editor went away without ``exit`` (crash, closed pipe): keep what we have.
        await server.close("disconnected")
    return exit_code[0] if exit_code else 0
