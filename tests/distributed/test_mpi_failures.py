"""Bad set-ups end the job with a clear message instead of hanging: models that differ between
ranks, a parameter that never gets a gradient, a rank that raises, a rank that stops answering,
a rank whose process exits."""

from mpi_helpers import results, run_ranks
from tests.conftest import needs_mpi

pytestmark = needs_mpi


def test_a_model_that_differs_between_ranks_is_refused_on_every_rank_before_any_broadcast():
    found = results(run_ranks(3, "failures.py", "mismatch"))
    expected = ("the model differs between ranks: rank 0 has parameter '0.weight' (16, 6) float32 where "
                "rank 1 has parameter '0.weight' (17, 6) float32")
    assert sorted(found) == [0, 1, 2]
    assert all(expected in record["error"] for record in found.values())


def test_a_parameter_that_gets_no_gradient_is_named_at_the_next_forward():
    found = results(run_ranks(2, "failures.py", "unused"))
    for record in found.values():
        assert "these parameters received no gradient: spare.weight, spare.bias" in record["error"]
        assert "find_unused_parameters=True" in record["error"]


def test_an_exception_on_one_rank_aborts_every_rank():
    job = run_ranks(3, "failures.py", "raise", timeout=120)    # the others wait in an all-reduce
    assert job.returncode != 0
    # (the traceback above it is written in pieces, which mpirun may interleave with its own banner)
    assert ("rank 1 stopped with an uncaught RuntimeError (rank 1 fails on purpose); aborting all 3 ranks"
            in job.stdout)
    assert "did not finish within" not in job.stdout
    assert not any(record.get("finished") for record in job.results.values())


def test_a_rank_that_stops_answering_makes_the_others_time_out_and_abort():
    job = run_ranks(2, "failures.py", "hang", timeout=120)     # the stuck rank would sleep 600 s
    assert job.returncode != 0
    assert ("rank 0: DistributedDataParallel's gradient all-reduce (1 bucket(s)) did not finish within 3 s"
            in job.stdout)
    assert "aborting all 2 ranks" in job.stdout


def test_a_rank_whose_process_exits_ends_the_job():
    job = run_ranks(3, "failures.py", "exit", timeout=120)
    assert job.returncode != 0
    assert not any(record.get("finished") for record in job.results.values())
