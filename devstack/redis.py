"""A throwaway Redis (Debian's ``redis-server``) for the production-shaped stack: Celery's broker.

``redis-server`` on 127.0.0.1 and a free port, its data and log in a temporary directory;
:meth:`Redis.stop` ends it and removes the directory. It keeps Redis's own defaults, as the
compose file's ``redis`` image does: RDB snapshots, written again at a clean shutdown, so a
:meth:`Redis.restart` (SIGTERM, then the same command) finds the queues as they were, as a
restarted container does with its ``/data`` volume.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from devstack.stack import end_group, free_port

SERVER = "/usr/bin/redis-server"


class Redis:
    def __init__(self) -> None:
        self.root: Path | None = None
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Celery's ``broker_url`` (database 0, as the compose file's)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30) -> Redis:
        if not Path(SERVER).exists():
            raise RuntimeError(f"no {SERVER}: run scripts/setup-system.sh")
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="ooo-redis-"))
            self.port = free_port()
        log = open(self.root / "redis.log", "ab")  # noqa: SIM115 - the child holds it
        with log:
            self.proc = subprocess.Popen(
                [SERVER, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.root),
                 "--daemonize", "no", "--protected-mode", "yes"],
                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, cwd=self.root, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        import redis

        deadline = time.monotonic() + timeout
        while True:
            client = self.client()
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                pass
            finally:
                client.close()
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.root / "redis.log").read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"Redis did not start:\n{log}")
            time.sleep(0.1)

    def client(self):  # -> redis.Redis
        """A client of this server (redis-py, the broker's client library)."""
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def queued(self, queue: str = "default") -> int:
        """Messages waiting in a Celery queue, not yet taken by a worker: kombu keeps a queue as a Redis
        list of its name, and one more list per priority step (``<queue>\\x06\\x16<step>``)."""
        client = self.client()
        try:
            return sum(client.llen(key) for key in client.scan_iter(match=f"{queue}*") if client.type(key) == b"list")
        finally:
            client.close()

    def restart(self, down: float = 0, grace: float = 20) -> None:
        """A clean restart: SIGTERM (Redis saves its snapshot), ``down`` seconds without it (a container
        restarting), then the same server on the same port and directory."""
        self._end(grace)
        time.sleep(down)
        self.start()

    def _end(self, grace: float) -> None:
        if self.proc is None:
            return
        end_group(self.proc, signal.SIGTERM, grace)
        self.proc = None

    def stop(self, grace: float = 20) -> None:
        self._end(grace)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> Redis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
