"""The gradient of x[indices] and of an embedding adds repeated rows up (indexing._add_rows,
sorted rows summed by np.add.reduceat): the same as np.add.at for any index shape, negative
indices (-1 and n-1 are one row), empty indices, 1-D and 3-D tables."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.indexing import scatter_add_array


@pytest.mark.parametrize("table_shape, index", [
    ((5, 3), np.array([0, 4, 0, -1, 2, -5])),
    ((7, 2, 3), np.array([[1, 1, 6], [-1, 0, 1]])),
    ((4,), np.array([3, -1, 0, 0])),
    ((6, 2), np.array([], dtype=np.int64)),
    ((65, 8), np.random.default_rng(0).integers(0, 65, size=(16, 64))),
])
def test_rows_add_up_as_numpy_add_at(table_shape, index):
    values = np.random.default_rng(1).standard_normal(index.shape + table_shape[1:])
    expected = np.zeros(table_shape)
    np.add.at(expected, (index,), values)
    ours = scatter_add_array(values, table_shape, (index,))
    np.testing.assert_allclose(ours, expected, rtol=1e-14, atol=1e-14)


def test_embedding_and_indexing_gradients_count_repeats():
    table = cr.zeros(4, 2, requires_grad=True)
    looked_up = table[cr.tensor([[3, -1], [0, 3]])].sum()
    embedded = cr.nn.functional.embedding(cr.tensor([0, 0]), table).sum()
    (looked_up + embedded).backward()
    assert table.grad.tolist() == [[3, 3], [0, 0], [0, 0], [3, 3]]
