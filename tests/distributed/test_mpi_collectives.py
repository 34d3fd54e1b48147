"""torch.distributed's collectives on 3 ranks started by mpirun (no environment variables set by
the test): all_reduce with every ReduceOp, broadcast, all_gather, barrier, async work, the
differentiable all-reduce, DistributedSampler's defaults from the group, and save_on_rank0."""

import pytest
from mpi_helpers import results, run_ranks
from tests.conftest import needs_mpi

import chainrule as cr

pytestmark = needs_mpi
RANKS = 3


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    checkpoint = tmp_path_factory.mktemp("mpi") / "checkpoint.crz"
    found = results(run_ranks(RANKS, "collectives.py", checkpoint))
    assert sorted(found) == list(range(RANKS))
    return found, checkpoint


def test_init_needs_no_environment_variables_under_mpirun(ranks):
    found, _ = ranks
    for record in found.values():
        assert record["initialized"] and record["world"] == RANKS and record["backend"] == "mpi"
        assert record["initialized_after_destroy"] is False


@pytest.mark.parametrize("op, expected", [
    ("SUM", [6.0, -12.0, 9.0]), ("AVG", [2.0, -4.0, 3.0]), ("MAX", [3.0, -2.0, 3.0]),
    ("MIN", [1.0, -6.0, 3.0]), ("PRODUCT", [6.0, -48.0, 27.0]),
])
def test_all_reduce_combines_every_rank_in_place(ranks, op, expected):
    found, _ = ranks       # rank r holds [r+1, -2(r+1), 3]
    assert all(record[f"all_reduce_{op}"] == expected for record in found.values())


def test_all_reduce_of_integers_and_of_a_transposed_view(ranks):
    found, _ = ranks
    total = sum(r + 1 for r in range(RANKS))              # rank r sends arange(12).reshape(3, 4).T * (r+1)
    transposed = [[total * (4 * row + col) for row in range(3)] for col in range(4)]
    for record in found.values():
        assert record["all_reduce_int64"] == [3, 30] and record["all_reduce_int64_dtype"] == "int64"
        assert record["all_reduce_transposed"] == transposed
        assert record["async_wait"] is True


def test_broadcast_all_gather_and_barrier(ranks):
    found, _ = ranks
    for record in found.values():
        assert record["broadcast_from_last"] == [[RANKS - 1.0] * 2] * 2
        assert record["all_gather"] == [[r, r * r] for r in range(RANKS)]


def test_the_differentiable_all_reduce_sums_forward_and_sums_gradients_backward(ranks):
    found, _ = ranks
    total = sum(r + 1 for r in range(RANKS))            # y = sum_r (r+1) x,  L_r = (r+1) sum(y)
    for rank, record in found.items():
        assert record["differentiable_value"] == [total * 1.0, total * 2.0]
        assert record["differentiable_grad"] == [(rank + 1) * total] * 2


def test_distributed_sampler_takes_its_rank_and_world_from_the_group(ranks):
    found, _ = ranks
    shards = [found[rank]["sampler"] for rank in range(RANKS)]
    assert [s[:2] for s in shards] == [[RANKS, r] for r in range(RANKS)]
    assert sorted(i for s in shards for i in s[2]) == sorted(list(range(10)) + [0, 1])   # 2 padded


def test_save_on_rank0_writes_once_and_every_rank_reads_it_after_the_barrier(ranks):
    found, checkpoint = ranks
    assert [found[r]["wrote_checkpoint"] for r in range(RANKS)] == [True, False, False]
    assert all(record["checkpoint_after_barrier"] == 0 for record in found.values())
    assert cr.load(checkpoint)["step"] == 7
    assert [p.name for p in checkpoint.parent.iterdir()] == ["checkpoint.crz"]    # no temporary left
