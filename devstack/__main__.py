"""``python -m devstack``: the demo (``scripts/demo.sh`` runs it after setup)."""

import sys

from devstack.demo import demo

sys.exit(demo())
