"""Tools that make learning visible: gradcheck, explain, gradient-flow diagnostics, pictures."""

from .gradcheck import GradcheckError, gradcheck

__all__ = ["GradcheckError", "gradcheck"]
