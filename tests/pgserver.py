"""A throwaway PostgreSQL server for tests and benchmarks (Debian `postgresql` binaries).

`PgServer.start()` runs initdb in a fresh temporary directory and starts `postgres` on a port the
OS chose, with its unix socket in that directory; `stop()` ends it by its PID and removes the
directory. As root the server runs as the `postgres` OS user (PostgreSQL refuses to run as root).

    with pgserver() as pg:           # or the `pg_server` fixture of an area's conftest
        url = pg.create_database("t1")   # postgresql://sigap@127.0.0.1:PORT/t1
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

SUPERUSER = "sigap"


def postgres_bindir() -> Path | None:
    """The newest installed PostgreSQL server binaries, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=_version)
    return Path(found[-1]).parent if found else None


def _version(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """One PostgreSQL cluster in a temporary directory; `url` names its `sigap` database."""

    def __init__(self, bindir: Path, *, fsync: bool = False) -> None:
        self.bindir = bindir
        self.fsync = fsync
        self.dir = Path(tempfile.mkdtemp(prefix="sigap-pg-"))
        self.data = self.dir / "data"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)

    @property
    def url(self) -> str:
        return self.url_for("sigap")

    def url_for(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        subprocess.run(
            args,
            check=True,
            capture_output=True,
            user="postgres" if self._as_postgres else None,
            cwd=self.dir,
        )

    def start(self) -> PgServer:
        """initdb (first time only), then start the server and wait until it accepts connections."""
        if not self.data.exists():
            self._run(
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            )
            first = True
        else:
            first = False
        for attempt in range(5):
            # a restart keeps its port (clients hold the URL); else, or if taken, a fresh one
            if attempt or not self.port:
                self.port = _free_port()
            self.process = subprocess.Popen(
                [
                    str(self.bindir / "postgres"),
                    "-D",
                    str(self.data),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.dir),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"fsync={'on' if self.fsync else 'off'}",
                    "-c",
                    "max_connections=200",
                ],
                stdout=subprocess.DEVNULL,
                stderr=open(self.dir / "postgres.log", "ab"),  # noqa: SIM115 - owned by the child
                user="postgres" if self._as_postgres else None,
                cwd=self.dir,
            )
            if self._wait_ready():
                break
            self._end(signal.SIGKILL)
        else:
            raise RuntimeError(f"PostgreSQL did not start; see {self.dir / 'postgres.log'}")
        if first:
            self.create_database("sigap")
        return self

    def _wait_ready(self, timeout: float = 30.0) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            ready = subprocess.run(
                [
                    str(self.bindir / "pg_isready"),
                    "-q",
                    "-h",
                    str(self.dir),
                    "-p",
                    str(self.port),
                    "-U",
                    SUPERUSER,
                ],
                check=False,
            )
            if ready.returncode == 0:
                return True
            time.sleep(0.1)
        return False

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL (as a user writes it: postgresql://...)."""
        self._run(
            str(self.bindir / "createdb"), "-h", str(self.dir), "-p", str(self.port),
            "-U", SUPERUSER, name,
        )  # fmt: skip
        return self.url_for(name)

    def stop(self) -> None:
        """Fast shutdown (SIGINT) of the server this object started; the data directory stays."""
        self._end(signal.SIGINT)

    def kill(self) -> None:
        """Kill -9 the postmaster (a crash); `start()` recovers the same data directory."""
        self._end(signal.SIGKILL)

    def _end(self, sig: signal.Signals) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.kill(self.process.pid, sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if sig == signal.SIGKILL:
            # children of a killed postmaster exit on their own once they notice; give them time
            # so that the shared memory is free for the next start
            time.sleep(0.5)
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def pgserver(*, fsync: bool = False) -> Iterator[PgServer]:
    """A started throwaway server, stopped and removed afterwards (also after a failure)."""
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries not found; install Debian's postgresql")
    server = PgServer(bindir, fsync=fsync)
    try:
        yield server.start()
    finally:
        server.cleanup()
