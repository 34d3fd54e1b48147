"""``python -m chainrule``: the same command as ``chainrule``."""

import sys

from .cli import main

sys.exit(main())
