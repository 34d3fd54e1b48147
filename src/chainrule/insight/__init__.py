"""Tools that make learning visible: gradcheck, explain, gradient-flow diagnostics, pictures.

``plots`` (matplotlib) and ``graph`` rendering need optional extras; import
``chainrule.insight.plots`` yourself when you want pictures.
"""

from .explain import explain
from .gradcheck import GradcheckError, gradcheck

__all__ = ["GradcheckError", "explain", "gradcheck"]
