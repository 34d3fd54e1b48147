"""Data-parallel training over MPI (2 and 3 ranks on this machine): N ranks on 1/N of each global
batch take the same steps as one process on the whole batch, to float64 rounding; SyncBatchNorm
matches BatchNorm on the global batch; the all-reduces start while backward is still running."""

import pytest
from mpi_helpers import results, run_ranks
from tests.conftest import needs_mpi

pytestmark = needs_mpi
TOLERANCE = 1e-10


@pytest.fixture(scope="module", params=[2, 3], ids=["2 ranks", "3 ranks"])
def trained(request):
    """One mpirun per rank count runs every training case (workers/ddp_training.py)."""
    found = results(run_ranks(request.param, "ddp_training.py"))
    assert sorted(found) == list(range(request.param))
    return found


@pytest.mark.parametrize("case", ["sgd", "adam"])
def test_ranks_on_shares_of_the_batch_take_the_steps_of_one_process_on_the_whole_batch(trained, case):
    assert trained[0][case] < TOLERANCE     # 20 steps, float64, ranks started from different weights


def test_no_sync_accumulates_locally_and_the_next_backward_averages_the_sums(trained):
    assert trained[0]["no_sync"] < TOLERANCE


def test_find_unused_parameters_lets_two_heads_take_turns(trained):
    assert trained[0]["find_unused_parameters"] < TOLERANCE   # the idle head keeps .grad None


@pytest.mark.parametrize("case", ["sync_batchnorm_1d", "sync_batchnorm_2d"])
def test_sync_batchnorm_matches_batchnorm_on_the_global_batch(trained, case):
    assert trained[0][case] < TOLERANCE     # parameters and running statistics


def test_plain_batchnorm_normalises_each_rank_alone_so_it_differs(trained):
    assert trained[0]["batchnorm_per_rank"] > 1e-3


def test_every_rank_ends_with_the_same_parameters(trained):
    for key in trained[0]:
        if key.endswith("_digest"):
            for rank in trained:
                assert trained[rank][key] == trained[0][key], (key, rank)


def test_the_first_bucket_is_all_reduced_while_backward_is_still_walking_the_earlier_layers():
    found = results(run_ranks(2, "ddp_overlap.py"))
    for record in found.values():
        events = record["events"]
        assert events.count("Iallreduce") == record["buckets"] == 8
        first_sent = events.index("Iallreduce")
        # the walk reaches layer 1 (whose weight and bias VJPs have not run yet) after 6 buckets left
        assert first_sent < events.index("reached layer 3") < events.index("reached layer 1")
        assert events[:events.index("reached layer 1")].count("Iallreduce") == 6, events
        assert record["first_allreduce_before_return_s"] > 0
