"""``python -m yarnlab.figures NAME --inputs ... --out PREFIX``."""

import sys

from yarnlab.figures.cli import main

sys.exit(main())
