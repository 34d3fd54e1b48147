"""`import chainrule` loads the engine and nn only; the rest arrives on first use, unchanged."""

import importlib
import subprocess
import sys

import pytest

import chainrule as cr


def test_import_loads_only_the_engine_and_nn():
    code = ("import sys, chainrule; print(sorted(m for m in sys.modules if m.startswith('chainrule.') "
            "and m.count('.') == 1))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for lazy in ("insight", "serialization", "optim", "data", "utils", "playground", "cli"):
        assert f"'chainrule.{lazy}'" not in loaded
    assert "'chainrule.nn'" in loaded and "'chainrule.autograd'" in loaded


@pytest.mark.parametrize("name,module", [
    ("explain", "chainrule.insight.explain"), ("gradcheck", "chainrule.insight.gradcheck"),
    ("GradcheckError", "chainrule.insight.gradcheck"), ("save", "chainrule.serialization"),
    ("load", "chainrule.serialization"),
])
def test_lazy_names_are_the_real_objects(name, module):
    assert getattr(cr, name) is getattr(importlib.import_module(module), name)
    assert name in dir(cr)


def test_lazy_subpackages_and_unknown_names():
    from chainrule import optim
    assert cr.optim is optim and cr.optim.SGD.__name__ == "SGD"
    assert cr.data.make_moons and cr.utils.data.DataLoader is cr.data.DataLoader
    assert cr.insight.GradientFlow.__name__ == "GradientFlow"
    with pytest.raises(AttributeError, match="no attribute 'no_such_thing'"):
        cr.no_such_thing  # noqa: B018
