"""chainrule.distributed in this process, which never starts MPI: what fails (and how clearly)
before a process group exists or without MPI installed, the launch command, the bucket layout,
and SyncBatchNorm, which is BatchNorm until there is more than one rank."""

import sys

import numpy as np
import pytest

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn
from chainrule.distributed import launch, process_group
from chainrule.nn.parallel import DistributedDataParallel
from chainrule.nn.parallel.buckets import FIRST_BUCKET_BYTES, assign_buckets


def test_importing_the_package_does_not_start_mpi():
    assert "chainrule.distributed" in sys.modules and not dist.is_initialized()
    assert process_group._World.comm is None


def test_without_mpi4py_init_says_what_to_install_in_one_line(monkeypatch):
    monkeypatch.setattr(process_group._World, "MPI", None)
    monkeypatch.setitem(sys.modules, "mpi4py", None)          # import mpi4py -> ImportError
    with pytest.raises(dist.DistributedError) as error:
        dist.init_process_group("mpi")
    message = str(error.value)
    assert "\n" not in message
    assert "pip install chainrule[distributed]" in message and "apt-get install openmpi-bin" in message
    assert not dist.is_initialized()


@pytest.mark.parametrize("call", [
    lambda: dist.get_rank(), lambda: dist.get_world_size(), lambda: dist.barrier(),
    lambda: dist.all_reduce(cr.ones(2)), lambda: dist.broadcast(cr.ones(2), 0),
    lambda: dist.all_gather([cr.ones(2)], cr.ones(2)), lambda: dist.destroy_process_group(),
    lambda: DistributedDataParallel(nn.Linear(2, 2)), lambda: cr.utils.data.DistributedSampler(range(3)),
])
def test_before_init_process_group_every_call_says_to_call_it(call):
    with pytest.raises(dist.DistributedError, match="init_process_group"):
        call()


def test_bad_arguments_are_refused_before_mpi_starts():
    with pytest.raises(cr.ArgumentError, match="backend 'nccl' is not available.*MPI"):
        dist.init_process_group("nccl")
    with pytest.raises(cr.ArgumentError, match="timeout must be positive"):
        dist.init_process_group("mpi", timeout=0)
    with pytest.raises(cr.ArgumentError, match="expected a Tensor"):
        dist.all_reduce(np.ones(2))
    with pytest.raises(cr.DTypeError, match="float16"):
        dist.all_reduce(cr.ones(2, dtype=cr.float16))
    with pytest.raises(cr.ArgumentError, match="op must be a ReduceOp"):
        dist.all_reduce(cr.ones(2), op="sum")


def test_sizes_that_disagree_with_mpiruns_are_refused(monkeypatch):
    check = process_group._check_launch
    check(4, 1, -1, -1)
    with pytest.raises(dist.DistributedError, match=r"world_size=2\) but mpirun started 4"):
        check(4, 1, 2, -1)
    with pytest.raises(dist.DistributedError, match="rank=0\\) but MPI made this process rank 1"):
        check(4, 1, -1, 0)
    monkeypatch.setenv("WORLD_SIZE", "8")
    with pytest.raises(dist.DistributedError, match="WORLD_SIZE=8 in the environment but MPI sees 1"):
        check(1, 0, -1, -1)


def test_reduce_op_has_torchs_names():
    assert [repr(getattr(dist.ReduceOp, n)) for n in ("SUM", "AVG", "MAX")] == \
        ["<ReduceOp.SUM>", "<ReduceOp.AVG>", "<ReduceOp.MAX>"]


def test_the_mpirun_command_for_open_mpi_and_for_mpich(monkeypatch):
    monkeypatch.setattr(launch, "find_mpirun", lambda: "/usr/bin/mpirun")
    monkeypatch.setattr(launch, "_is_open_mpi", lambda path: True)
    command = launch.mpirun_command(3, ["python", "train.py"])
    assert command[0] == "/usr/bin/mpirun" and command[-4:] == ["-n", "3", "python", "train.py"]
    assert "--oversubscribe" in command
    monkeypatch.setattr(launch, "_is_open_mpi", lambda path: False)
    assert launch.mpirun_command(2, ["x"]) == ["/usr/bin/mpirun", "-n", "2", "x"]
    monkeypatch.setattr(launch, "find_mpirun", lambda: None)
    with pytest.raises(dist.DistributedError, match="no mpirun or mpiexec.*apt-get install openmpi-bin"):
        launch.mpirun_command(2, ["x"])


def test_a_rank_knows_mpirun_started_it():
    assert launch.launched_by_mpirun({"OMPI_COMM_WORLD_SIZE": "2"})
    assert launch.launched_by_mpirun({"PMI_SIZE": "2"})
    assert not launch.launched_by_mpirun({"PATH": "/usr/bin"})


# --- buckets ----------------------------------------------------------------------------------
def test_buckets_take_parameters_in_reverse_order_one_dtype_each_within_the_cap():
    params = [cr.zeros(1000), cr.zeros(10), cr.zeros(1000, dtype=cr.float64), cr.zeros(300_000),
              cr.zeros(10)]                                   # 4 KB, 40 B, 8 KB, 1.2 MB, 40 B
    # the first bucket holds at most 1 MB, so the 1.2 MB parameter opens the next one
    assert assign_buckets(params, 25 * 2**20) == [[4], [3, 1, 0], [2]]
    assert assign_buckets(params, 2000) == [[4], [3], [2], [1], [0]]
    assert assign_buckets(params, 5000) == [[4], [3], [2], [1, 0]]


def test_the_first_bucket_is_small_so_that_communication_starts_early():
    params = [cr.zeros(2**17) for _ in range(4)]                # 512 KB each
    buckets = assign_buckets(params, 25 * 2**20)
    assert buckets == [[3, 2], [1, 0]] and FIRST_BUCKET_BYTES == 2**20


# --- SyncBatchNorm ----------------------------------------------------------------------------
def test_sync_batchnorm_without_a_group_is_batchnorm():
    x = cr.randn(8, 3, 4, dtype=cr.float64)
    plain, synced = nn.BatchNorm1d(3).double(), nn.SyncBatchNorm(3, dtype=cr.float64)
    np.testing.assert_array_equal(plain(x).numpy(), synced(x).numpy())
    np.testing.assert_array_equal(plain.running_var.numpy(), synced.running_var.numpy())


def test_convert_sync_batchnorm_keeps_the_parameters_and_copies_the_statistics():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4, momentum=None),
                          nn.Sequential(nn.Flatten(), nn.Linear(4, 2), nn.BatchNorm1d(2, affine=False)))
    model(cr.randn(5, 1, 3, 3))
    model.eval()
    weight = model[1].weight
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert converted is model
    assert isinstance(model[1], nn.SyncBatchNorm) and isinstance(model[2][2], nn.SyncBatchNorm)
    assert model[1].weight is weight and model[1].momentum is None and model[2][2].weight is None
    assert not model[1].training
    assert int(model[1].num_batches_tracked.item()) == 1
    assert "SyncBatchNorm(4, eps=1e-05, momentum=None" in repr(model)
    with pytest.raises(cr.ShapeError, match="expected 2D or 3D or 4D or 5D input"):
        nn.SyncBatchNorm(4)(cr.ones(4))


def test_save_on_rank0_without_a_group_is_an_atomic_save(tmp_path):
    path = tmp_path / "model.crz"
    assert dist.save_on_rank0({"w": cr.ones(2)}, path) is True
    assert cr.load(path)["w"].tolist() == [1.0, 1.0]
    assert [p.name for p in tmp_path.iterdir()] == ["model.crz"]
