"""``python -m chainrule.cli``: the same command as ``chainrule``."""

import sys

from . import main

sys.exit(main())
