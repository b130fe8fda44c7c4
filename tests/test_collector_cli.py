"""`edittrace collector token ...` and `serve` as a user runs them: real processes, real files."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from edittrace.protocol import Ack, Batch, Event, Hello, decode_frame, encode_frame
from tests.support.collector import EDITTRACE, RunningCollector, bearer


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EDITTRACE, *args], capture_output=True, text=True, check=False)


def test_token_create_prints_the_token_alone_and_list_never_shows_it(tmp_path: Path) -> None:
    db = str(tmp_path / "c.sqlite")
    created = run("collector", "token", "create", "ann", "--db", db)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert created.stdout == token + "\n" and len(token) >= 40 and " " not in token
    researcher = run("collector", "token", "create", "rita", "--researcher", "--db", db)
    listed = run("collector", "token", "list", "--db", db)
    assert listed.returncode == 0
    assert token not in listed.stdout and researcher.stdout.strip() not in listed.stdout
    lines = {line.split()[0]: line.split() for line in listed.stdout.splitlines()[1:]}
    assert lines["ann"][1] == "contractor" and lines["rita"][1] == "researcher"
    assert lines["ann"][-1] == "-"  # not revoked

    again = run("collector", "token", "create", "ann", "--db", db)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert again.stdout == "" and "Traceback" not in again.stderr

    assert run("collector", "token", "revoke", "ann", "--db", db).returncode == 0
    listed = run("collector", "token", "list", "--db", db)
    ann = next(line for line in listed.stdout.splitlines() if line.startswith("ann "))
    assert ann.split()[-1] != "-"


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["token", "revoke", "nobody"], 1, "no token named"),
        (["token", "list", "--db", "/nonexistent/c.sqlite"], 1, "no database"),
        (["token", "create"], 2, "Missing argument"),
        (["serve", "--port", "99999"], 2, "99999"),
        (["serve", "--certfile", "/nonexistent.pem"], 2, "does not exist"),
        (["serve", "--db", "{tmp}"], 2, "is a directory"),
        (["token", "list", "--db", "{tmp}/garbage.sqlite"], 1, "cannot open the database"),
    ],
)
def test_bad_input_is_a_clear_message_not_a_traceback(
    tmp_path: Path, args: list[str], code: int, says: str
) -> None:
    (tmp_path / "garbage.sqlite").write_bytes(b"not a database, not at all " * 100)
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    if "--db" not in args:
        args = [*args, "--db", str(tmp_path / "c.sqlite")]
    if args[:2] == ["token", "revoke"]:
        run("collector", "token", "create", "ann", "--db", str(tmp_path / "c.sqlite"))
    result = run("collector", *args)
    assert result.returncode == code, result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr


async def test_revoked_token_is_refused_by_the_running_collector(
    collector: RunningCollector,
) -> None:
    token = collector.token("ann")
    session = str(uuid.uuid4())
    async with connect(collector.url, additional_headers=bearer(token)) as ws:
        await ws.send(encode_frame(Hello(sessions=(session,), client_name="t", client_version="1")))
        decode_frame(await ws.recv())
        await ws.send(encode_frame(Batch(session, (Event(1, "doc.save", 1, {"uri": "f:///a"}),))))
        assert decode_frame(await asyncio.wait_for(ws.recv(), 20)) == Ack(session, 1)
    collector.cli("token", "revoke", "ann")
    with pytest.raises(InvalidStatus) as refused:
        await connect(collector.url, additional_headers=bearer(token))
    assert refused.value.response.status_code == 401
    assert b"revoked token" in refused.value.response.body


def test_serve_creates_a_local_token_once_and_prints_how_to_connect(tmp_path: Path) -> None:
    first = RunningCollector(tmp_path / "c.sqlite")
    first.start()
    try:
        printed = "".join(first.output)
        assert f"EDITTRACE_COLLECTOR_URL={first.url}" in printed
        token = next(
            line.split("=", 1)[1].strip()
            for line in first.output
            if line.startswith("  EDITTRACE_TOKEN=")
        )
        listed = first.cli("token", "list").stdout
        assert listed.splitlines()[1].split()[:2] == ["local", "contractor"]
        assert token not in listed
    finally:
        first.kill()
    seen = len(first.output)
    first.start()  # tokens exist now: none is created or printed again
    try:
        again = "".join(first.output[seen:])
        assert "listening on" in again and "was created" not in again
        assert len(first.cli("token", "list").stdout.splitlines()) == 2
    finally:
        first.kill()
