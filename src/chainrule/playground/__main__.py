"""``python -m chainrule.playground``: the same as ``chainrule playground``."""

import sys

from .launch import main

sys.exit(main())
