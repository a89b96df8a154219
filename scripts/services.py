"""Private servers for tests and benchmarks: each in its own temporary folder, on its own port, stopped after.

Nothing here touches a system-wide server. A PostgreSQL cluster is made with
Debian's ``initdb`` in a fresh folder and started with ``pg_ctl`` on a free
loopback port; when we run as root (a CI container) the cluster runs as the
unprivileged ``postgres`` user, since PostgreSQL refuses to run as root.

Used two ways:

* ``python scripts/services.py -- pytest tests`` starts the servers, exports
  their URLs (``DREAMREEL_TEST_DATABASE_URL``), runs the command and stops them
  (``make test`` does this);
* ``with postgres_cluster() as url:`` from a test fixture or a benchmark, when
  no URL was exported.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

TEST_DATABASE_URL = "DREAMREEL_TEST_DATABASE_URL"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's binaries (Debian keeps them out of PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run `make test` (it installs Debian's postgresql) "
                           "or `apt-get install -y postgresql`.")
    return Path(found[-1]).parent


def _as_server_user() -> tuple[list[str], pwd.struct_passwd | None]:
    """The command prefix that drops root to ``postgres`` (nothing when we are not root)."""
    if os.geteuid() != 0:
        return [], None
    account = pwd.getpwnam("postgres")
    return ["runuser", "-u", "postgres", "--"], account


@contextlib.contextmanager
def postgres_cluster(database: str = "dreamreel", settings: dict[str, str] | None = None) -> Iterator[str]:
    """A fresh PostgreSQL cluster holding an empty ``database``; yields its URL and removes it all afterwards.

    ``settings`` are server parameters (``postgresql.conf`` names) on top of the defaults below.
    """
    binaries = postgres_bin()
    prefix, account = _as_server_user()
    folder = Path(tempfile.mkdtemp(prefix="dreamreel-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    if account is not None:
        for path in (folder, sockets):
            os.chown(path, account.pw_uid, account.pw_gid)
    port = free_port()

    def run(*args: object) -> None:
        subprocess.run([*prefix, *map(str, args)], check=True, capture_output=True, text=True)

    try:
        run(binaries / "initdb", "-D", data, "-U", "dreamreel", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        settings = {"listen_addresses": "127.0.0.1", "max_connections": "200", "shared_buffers": "256MB",
                    **(settings or {})}
        options = f"-p {port} -k {sockets} " + " ".join(f"-c {name}={value}" for name, value in settings.items())
        run(binaries / "pg_ctl", "-D", data, "-l", folder / "server.log", "-o", options, "-w", "start")
        try:
            run(binaries / "createdb", "-h", "127.0.0.1", "-p", port, "-U", "dreamreel", database)
            yield f"postgresql://dreamreel@127.0.0.1:{port}/{database}"
        finally:
            run(binaries / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
    except subprocess.CalledProcessError as e:
        log = folder / "server.log"
        raise RuntimeError(f"{e.cmd[len(prefix)]} failed: {e.stderr}\n"
                           f"{log.read_text() if log.exists() else ''}") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str]) -> int:
    """Start the servers, run the command after ``--`` with their URLs in its environment, stop them."""
    command = argv[argv.index("--") + 1:] if "--" in argv else argv
    with postgres_cluster() as url:
        started = time.monotonic()
        print(f"PostgreSQL for the tests: {url}", flush=True)
        code = subprocess.call(command, env={**os.environ, TEST_DATABASE_URL: url})
        print(f"(servers stopped after {time.monotonic() - started:.0f} s)", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
