"""``chainrule explain``: the forward and backward pass of an expression written out node by node,
the lesson's L = (w*x - y)**2 at w=2, x=3, y=10 unless ``--expr`` says otherwise."""

from __future__ import annotations

import chainrule as cr
from chainrule.backend import np
from chainrule.insight.expression import ExpressionError, bind, build, parse_assignments

from .parser import LESSON_EXPRESSION, LESSON_VALUES, LESSON_WRT, UsageError


def run(args) -> int:
    """The lesson's example unless --expr is given; --set changes some values and keeps the rest.
    An expression or value the grammar refuses is a usage error (one line, status 2)."""
    lesson = args.expr is None
    expression = LESSON_EXPRESSION if lesson else args.expr
    try:
        defaults = parse_assignments(LESSON_VALUES) if lesson else None
        values = bind(expression, parse_assignments(args.set), defaults)
        wrt = args.wrt if args.wrt is not None else (LESSON_WRT if lesson else None)
        with np.errstate(all="ignore"):
            result = build(expression, values, wrt)
            print(cr.explain(result, style=args.style, mode=args.mode), end="")
    except ExpressionError as err:
        raise UsageError(err) from None
    return 0
