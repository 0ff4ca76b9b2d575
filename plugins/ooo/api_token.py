"""A task's login to Airflow's REST API, kept for the next task: one password check, not one per task.

Every task of an absence writes its run's note through the REST API, and a login costs the API server
a password check (a deliberately slow hash under the FAB auth manager). So the token a login gives (a
JWT, valid for ``[api_auth] jwt_expiration_time``, a day by default) is kept in a file per user and
server under ``AIRFLOW_HOME``: mode 600 in a directory of mode 700, written whole (a process reading it
meanwhile finds the old token or the new one), never used when others could read it, nor within
:data:`TOKEN_MARGIN_S` of its expiry. The token is never logged, nor put in an XCom; a token the
server refuses is forgotten (``ooo.airflow_api`` signs in again).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import stat
import time
from pathlib import Path

log = logging.getLogger(__name__)

#: A kept token this close to its expiry (seconds) is not used: a login costs less than a refusal.
TOKEN_MARGIN_S = 300


def token_cache_path(base_url: str, username: str, home: str | os.PathLike[str] | None = None) -> Path:
    """Where processes of ``username`` keep their login to ``base_url``: one file per user and server,
    in a directory only its owner can enter under ``AIRFLOW_HOME``."""
    home = home or os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow"
    digest = hashlib.sha256(f"{base_url.rstrip('/')}\n{username}".encode()).hexdigest()[:32]
    return Path(home) / ".ooo-tokens" / f"{digest}.jwt"


def token_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT (Unix seconds), read without checking the signature (the server
    does); None when the token has none or is not a JWT."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


def read_token(path: Path, margin_s: float = TOKEN_MARGIN_S) -> str | None:
    """The token kept at ``path``, if it is ours alone and not about to expire."""
    try:
        st = path.stat()
        if st.st_uid != os.getuid() or st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("Not using the Airflow token kept in %s: other users may read it", path)
            return None
        token = path.read_text().strip()
    except OSError:
        return None
    expiry = token_expiry(token)
    return token if expiry is not None and expiry - time.time() > margin_s else None


def keep_token(path: Path, token: str) -> None:
    """Keep ``token`` at ``path`` for the next process (mode 600, in a 700 directory; written whole,
    so a process reading it meanwhile finds the old token or the new one)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        part = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token)
        os.replace(part, path)
    except OSError as exc:  # not kept: the next process signs in, that is all
        log.debug("Could not keep the Airflow token in %s: %s", path.parent, exc.strerror)


def forget_token(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
