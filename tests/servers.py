"""Real Redis and PostgreSQL servers for the tests, started on free local ports in temporary folders.

The servers come from the machine (Debian's redis-server and postgresql, which `.ci/run`
installs). Where they are missing the tests that need them are skipped, unless
REQUIRE_SERVERS=1 (set by `.ci/run`), which makes a missing server a failure.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    """Return a TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def missing(what: str) -> None:
    """Skip the test for want of a server, or fail when CI promised one."""
    if os.environ.get("REQUIRE_SERVERS") == "1":
        pytest.fail(f"{what} is not installed, and REQUIRE_SERVERS=1")
    pytest.skip(f"{what} is not installed (bash .ci/run installs it)")


def _wait_port(port: int, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


class RedisServer:
    """A redis-server process that can be stopped and started again on the same port."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            missing("redis-server")
        self.binary = str(binary)
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server (no persistence: a test's state only)."""
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", str(self.folder)]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(self.port)

    def stop(self) -> None:
        """Stop the server."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def dump(self) -> bytes:
        """Return every key and string value, for looking for what must not be there."""
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            parts: list[bytes] = []
            for key in client.keys("*"):
                parts.append(_raw(key))
                if client.type(key) == b"string":
                    parts.append(_raw(client.get(key) or b""))
            return b"\n".join(parts)
        finally:
            client.close()


def _raw(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def _postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


class PostgresServer:
    """A PostgreSQL cluster in a temporary folder, on a free port, that can be stopped and started."""

    def __init__(self) -> None:
        bin_dir = _postgres_bin()
        if bin_dir is None:
            missing("PostgreSQL (initdb)")
        assert bin_dir is not None
        self.bin = bin_dir
        # Its own folder in /tmp: as another user it could not enter pytest's (mode 0700, root's).
        self.folder = Path(tempfile.mkdtemp(prefix="embassy-bot-pg-"))
        self.data = self.folder / "pgdata"
        self.port = free_port()
        self.url = f"postgresql://bot@127.0.0.1:{self.port}/bot"
        # PostgreSQL refuses to run as root: as root, run it as the postgres user Debian's package made.
        self.user = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError:
                missing("a postgres user to run PostgreSQL as (running as root)")
        self._init()

    def _run(self, *command: str) -> None:
        done = subprocess.run(
            list(command), check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, user=self._uid()
        )
        if done.returncode:
            raise RuntimeError(f"{Path(command[0]).name} failed: {done.stderr.decode(errors='replace')}")

    def _uid(self) -> int | None:
        return self.user.pw_uid if self.user is not None else None

    def _init(self) -> None:
        if self.user is not None:
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "bot", "--auth=trust", "-E", "UTF8")
        self.start()
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "bot", "bot")

    def start(self) -> None:
        """Start the server on its port."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-l",
                  str(self.folder / "log"), "start")  # fmt: skip

    def stop(self) -> None:
        """Stop the server at once (open connections are cut)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def query(self, sql: str) -> list[tuple[object, ...]]:
        """Return the rows of a query."""
        import psycopg

        with psycopg.connect(self.url) as connection:
            return list(connection.execute(sql).fetchall())


@contextmanager
def redis_server(folder: Path) -> Iterator[RedisServer]:
    """Run a Redis server for the duration of the block."""
    folder.mkdir(parents=True, exist_ok=True)
    server = RedisServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Run a PostgreSQL server for the duration of the block; remove its folder after."""
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)
