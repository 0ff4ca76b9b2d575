"""``python -m sandbox``: serve every API on loopback until interrupted."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import signal
import threading
from pathlib import Path

from ooo.team import load_team
from sandbox.core import SandboxServer, connection_env, make_sandbox, parse_faults


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=8090, help="0 picks a free port")
    parser.add_argument("--team", help="team file to seed from (default: the sample team)")
    parser.add_argument("--anchor", type=dt.date.fromisoformat, help="date to seed around (default: today)")
    parser.add_argument("--env-file", type=Path, help="write AIRFLOW_CONN_* exports for the connections here")
    parser.add_argument("--faults", default=os.environ.get("SANDBOX_FAULTS"),
                        help='faults on every API, as JSON: \'{"rate": 0.3, "seed": 1}\' (kinds: all by default; '
                             "env SANDBOX_FAULTS)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s sandbox %(levelname)s %(message)s")

    server = SandboxServer(make_sandbox(load_team(args.team), args.anchor), port=args.port)
    if args.faults:
        given = json.loads(args.faults)
        seed = given.pop("seed", None)
        try:
            server.sandbox.set_faults(parse_faults(given), seed)
        except ValueError as exc:
            parser.error(f"--faults: {exc}")
    if args.env_file:
        env = connection_env(server.sandbox.connections())
        args.env_file.parent.mkdir(parents=True, exist_ok=True)
        args.env_file.write_text("".join(f"export {k}={json.dumps(v)}\n" for k, v in env.items()))
        args.env_file.chmod(0o600)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    logging.info("serving %s on %s", ", ".join(server.sandbox.apis), server.url)
    stop.wait()
    server.stop()


if __name__ == "__main__":
    main()
