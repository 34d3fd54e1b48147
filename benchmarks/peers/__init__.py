"""One module per library. Each defines ``version() -> str`` and ``build(workload, problem)``,
which returns ``step() -> float``: one training step (forward, backward, optimiser update) that
returns the loss. A module raises ``Infeasible`` when the library cannot run a workload."""


class Infeasible(Exception):
    """This library cannot run this workload (the message says why)."""


PEERS = ("chainrule", "compiled", "numpy", "torch", "torch-compiled", "autograd", "micrograd", "tinygrad")
