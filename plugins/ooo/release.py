"""The release serving this process: each run's log and plan name it (design §8).

Kept out of the package's ``__init__``, which stays empty: a long-lived process that imported the
package before a release (a Celery worker reads ``ooo.celery_config`` at start; its task processes
are forked from it) keeps its ``ooo`` module, while the modules it never imported (this one
included) are read afresh by every task, from the release deployed now.
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

__version__ = "0.1.0"


@cache
def code_version() -> str:
    """The release serving this process (design §8: each run's log says which code served it)."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "-C", str(here), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"ooo-pipelines {__version__}" + (f" ({sha})" if sha else "")
