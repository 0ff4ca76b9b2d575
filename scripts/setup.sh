#!/usr/bin/env bash
# Sets the project up on a fresh machine, and is a quick no-op on a set-up one:
# a project-local .venv, uv (from PyPI) inside it, the pinned requirements under the
# project's full pin list (constraints.txt), and the `ooo` package installed editable.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
UV_VERSION=0.13.9

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
if [ "$(.venv/bin/uv --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  echo "setup: installing uv $UV_VERSION into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
.venv/bin/uv pip install --quiet --python .venv/bin/python \
  -r requirements.txt -r requirements-dev.txt -c constraints.txt -e .
