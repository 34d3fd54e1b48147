"""Tools that make learning visible: gradcheck, explain, gradient-flow diagnostics, pictures,
and check_manual_grads (a backward pass written by hand, checked against autograd).

``chainrule.insight.plots`` (matplotlib) and ``chainrule.insight.graph`` rendering (Graphviz)
use optional extras and are imported by name when wanted, so ``import chainrule`` stays light.
"""

from .explain import explain
from .explanation import Explanation
from .flow import Finding, FlowReport, GradientFlow
from .gradcheck import GradcheckError, gradcheck
from .manual_grads import ManualGradReport, check_manual_grads

__all__ = ["Explanation", "Finding", "FlowReport", "GradcheckError", "GradientFlow", "ManualGradReport",
           "check_manual_grads", "explain", "gradcheck"]
