"""A throwaway PostgreSQL server for the test session, from the system's server binaries.

``start()`` makes a cluster in a temporary folder (``initdb`` with trust authentication),
starts it on a free port of 127.0.0.1 with its socket in that folder, creates the database
``test`` and returns the server; ``stop()`` stops it and removes the folder.  As root (CI),
the server runs as the ``postgres`` system user, since PostgreSQL refuses to run as root.

Importable without pytest: ``python tests/pg_server.py`` starts one and prints its DSN until
interrupted, for trying things by hand.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = ("PostgreSQL server binaries (initdb, pg_ctl) were not found: install them "
                "with 'apt-get install postgresql' (Debian/Ubuntu), or point the tests at a "
                "server with RULEKIT_TEST_POSTGRES_DSN=postgresql://user@host:port/db")


class NoServerBinaries(RuntimeError):
    """initdb and pg_ctl are not installed."""


def server_bindir() -> Path:
    """The folder of ``initdb`` and ``pg_ctl``: ``PG_BINDIR``, the PATH, or Debian's layout."""
    chosen = os.environ.get("PG_BINDIR")
    if chosen:
        return Path(chosen)
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name)
                   if Path(p).parent.parent.name.isdigit() else 0)
    if not found:
        raise NoServerBinaries(INSTALL_HINT)
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    folder: Path
    port: int
    bindir: Path
    user: str | None  # the system user the server runs as, when started as root

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/test"

    def _run(self, *argv: str) -> None:
        command = list(argv)
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                              check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n"
                               f"{done.stdout}{done.stderr}")

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"),
                      "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def start(tries: int = 3) -> Server:
    """Make, start and return a throwaway server (see the module docstring).  A start that
    fails (another process took the free port first, a slow machine) is tried again."""
    bindir = server_bindir()
    for attempt in range(tries):
        try:
            return _start(bindir)
        except RuntimeError:
            if attempt == tries - 1:
                raise
    raise AssertionError("unreachable")


def _start(bindir: Path) -> Server:
    folder = Path(tempfile.mkdtemp(prefix="rulekit-pg-"))
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    server = Server(folder, free_port(), bindir, user)
    try:
        server._run(str(bindir / "initdb"), "-D", str(folder / "data"), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        options = (f"-c listen_addresses=127.0.0.1 -p {server.port} -k {folder}"
                   " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                   " -c max_connections=300")
        server._run(str(bindir / "pg_ctl"), "-D", str(folder / "data"), "-o", options,
                    "-l", str(folder / "server.log"), "-w", "-t", "60", "start")
        server._run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(server.port),
                    "-U", "postgres", "test")
    except Exception as exc:
        log = folder / "server.log"
        detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        try:
            server.stop()
        except Exception:
            shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"the throwaway PostgreSQL did not start: {exc}\n{detail}") from None
    return server


if __name__ == "__main__":
    import time

    made = start()
    print(made.dsn, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        made.stop()
