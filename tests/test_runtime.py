"""The process-wide switches PyTorch scripts set first (chainrule.runtime): kept and read back,
bad values answered as PyTorch answers them, and set_num_threads reaching NumPy's BLAS."""

import pytest

import chainrule as cr
from chainrule import runtime


@pytest.fixture(autouse=True)
def _restore():
    saved = dict(runtime._settings)
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=None):   # put the BLAS pool back afterwards
        yield
    runtime._settings.update(saved)


def test_settings_are_kept_and_read_back():
    assert cr.get_float32_matmul_precision() == "highest"
    cr.set_float32_matmul_precision("high")
    assert cr.get_float32_matmul_precision() == "high"
    assert not cr.are_deterministic_algorithms_enabled()
    cr.use_deterministic_algorithms(True, warn_only=True)
    assert cr.are_deterministic_algorithms_enabled() and cr.is_deterministic_algorithms_warn_only_enabled()
    cr.set_num_interop_threads(3)
    assert cr.get_num_interop_threads() == 3


def test_bad_values_meet_pytorchs_answer():
    with pytest.warns(UserWarning, match="'fast' is not one of 'highest', 'high', 'medium'"):
        cr.set_float32_matmul_precision("fast")
    assert cr.get_float32_matmul_precision() == "highest"
    for bad in (0, -2, 1.5, True):
        with pytest.raises(cr.ArgumentError, match="set_num_threads expects a positive integer"):
            cr.set_num_threads(bad)


def test_set_num_threads_limits_numpys_blas():
    from threadpoolctl import threadpool_info

    cr.set_num_threads(1)
    assert cr.get_num_threads() == 1
    assert all(pool["num_threads"] == 1 for pool in threadpool_info() if pool["user_api"] == "blas")


def test_the_backends_switches_of_nanogpt_are_there():
    cr.backends.cuda.matmul.allow_tf32 = True
    assert cr.backends.cuda.matmul.allow_tf32 is True
    cr.backends.cuda.matmul.allow_tf32 = False
    assert cr.backends.cuda.is_built() is False and cr.backends.cudnn.is_available() is False
