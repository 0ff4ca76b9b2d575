"""``python -m ooo``: the ``ooo`` command (:mod:`ooo.cli`), where the console script is not on PATH."""

import sys

from ooo.cli import main

sys.exit(main())
