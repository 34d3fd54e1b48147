"""Tools that make learning visible: gradcheck, explain, gradient-flow diagnostics, pictures.

``chainrule.insight.plots`` (matplotlib) and ``chainrule.insight.graph`` rendering (Graphviz)
use optional extras and are imported by name when wanted, so ``import chainrule`` stays light.
"""

from .explain import explain
from .flow import Finding, FlowReport, GradientFlow
from .gradcheck import GradcheckError, gradcheck

__all__ = ["Finding", "FlowReport", "GradcheckError", "GradientFlow", "explain", "gradcheck"]
