"""``python -m cluster`` works like ``cpnsim``."""

import sys

from cluster.cli import main

sys.exit(main())
