"""chainrule.testing.assert_close (torch.testing.assert_close under ``chainrule run``): the same
verdict as PyTorch's on tensors, numbers, sequences and mappings, with its default tolerances per
dtype, and a message that says how many elements differ and where."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.testing import assert_close

CASES = [  # (name, actual, expected, keywords) written once for both libraries as f(M)
    ("equal", lambda M: (M.tensor([1.0, 2.0]), M.tensor([1.0, 2.0])), {}),
    ("float32_within_default", lambda M: (M.tensor([1.0, 2.0]), M.tensor([1.0, 2.0 + 2e-6])), {}),
    ("float32_outside_default", lambda M: (M.tensor([1.0, 2.0]), M.tensor([1.0, 2.0 + 1e-4])), {}),
    ("float64_tighter", lambda M: (M.tensor([1.0], dtype=M.float64),
                                   M.tensor([1.0 + 1e-6], dtype=M.float64)), {}),
    ("given_tolerances", lambda M: (M.tensor([1.0, 2.0]), M.tensor([1.0, 2.1])), {"rtol": 0.1, "atol": 0.0}),
    ("dtype_differs", lambda M: (M.tensor([1.0]), M.tensor([1.0], dtype=M.float64)), {}),
    ("dtype_unchecked", lambda M: (M.tensor([1.0]), M.tensor([1.0], dtype=M.float64)),
     {"check_dtype": False}),
    ("shape_differs", lambda M: (M.tensor([1.0, 2.0]), M.tensor([[1.0, 2.0]])), {}),
    ("nan", lambda M: (M.tensor([math.nan]), M.tensor([math.nan])), {}),
    ("nan_equal", lambda M: (M.tensor([math.nan]), M.tensor([math.nan])), {"equal_nan": True}),
    ("inf", lambda M: (M.tensor([math.inf, -math.inf]), M.tensor([math.inf, -math.inf])), {}),
    ("inf_sign", lambda M: (M.tensor([math.inf]), M.tensor([-math.inf])), {}),
    ("integers_exact", lambda M: (M.tensor([1, 2]), M.tensor([1, 3])), {}),
    ("bools", lambda M: (M.tensor([True, False]), M.tensor([True, False])), {}),
    ("numbers", lambda M: (1.0, 1.0 + 1e-9), {}),
    ("numbers_far", lambda M: (1.0, 1.5), {}),
    ("ints", lambda M: (1, 2), {}),
    ("lists", lambda M: ([M.tensor(1.0), 2], [M.tensor(1.0), 2]), {}),
    ("lists_differ", lambda M: ([M.tensor(1.0), 2], [M.tensor(1.0), 3]), {}),
    ("dicts_differ", lambda M: ({"a": M.tensor([1.0])}, {"a": M.tensor([2.0])}), {}),
    ("dict_keys", lambda M: ({"a": M.tensor([1.0])}, {"b": M.tensor([1.0])}), {}),
    ("requires_grad_ignored", lambda M: (M.tensor([1.0], requires_grad=True), M.tensor([1.0])), {}),
]


def verdict(M, build, keywords):
    actual, expected = build(M)
    check = M.testing.assert_close if M is not cr else assert_close
    try:
        check(actual, expected, **keywords)
    except AssertionError:
        return "differ"
    except TypeError:
        return "refused"
    return "close"


@pytest.mark.parametrize("name, build, keywords", CASES, ids=[c[0] for c in CASES])
def test_the_verdict_is_pytorchs(name, build, keywords):
    torch = pytest.importorskip("torch")
    assert verdict(cr, build, keywords) == verdict(torch, build, keywords)


def test_the_message_counts_the_mismatches_and_names_the_largest():
    with pytest.raises(AssertionError) as caught:
        assert_close(cr.tensor([[1.0, 2.0], [3.0, 4.0]]), cr.tensor([[1.0, 2.0], [3.0, 5.0]]))
    assert str(caught.value).splitlines() == [
        "Tensor-likes are not close!", "", "Mismatched elements: 1 / 4 (25.0%)",
        "Greatest absolute difference: 1.0 at index (1, 1) (up to 1e-05 allowed)",
        "Greatest relative difference: 0.2 at index (1, 1) (up to 1.3e-06 allowed)"]


def test_the_failing_item_of_a_container_is_named():
    with pytest.raises(AssertionError, match=r"The failure occurred for item \['weights'\]\[1\]"):
        assert_close({"weights": [cr.zeros(2), cr.ones(2)]}, {"weights": [cr.zeros(2), cr.zeros(2)]})


def test_msg_replaces_or_rewrites_the_message():
    with pytest.raises(AssertionError, match="^custom$"):
        assert_close(cr.zeros(1), cr.ones(1), msg="custom")
    with pytest.raises(AssertionError, match=r"^step 3: Tensor-likes are not close!"):
        assert_close(cr.zeros(1), cr.ones(1), msg=lambda text: "step 3: " + text)


def test_tolerances_come_in_pairs():
    with pytest.raises(ValueError, match="got no atol"):
        assert_close(cr.zeros(1), cr.zeros(1), rtol=1e-3)


def test_arrays_compare_like_tensors_and_mixed_types_are_refused():
    assert_close(np.zeros(3), np.zeros(3))
    with pytest.raises(TypeError, match="No comparison pair"):
        assert_close(cr.zeros(2), [0.0, 0.0])
