"""``chainrule run`` maps torch's data-parallel modules (``torch.nn.parallel``, its
``distributed`` file, ``torch.utils.data.distributed``) and ``torch.autograd.forward_ad``: a DDP
script runs unchanged under ``mpirun ... chainrule run``, and a forward-mode script gives
torch's numbers. ``torch.autograd.functional`` stays refused by name: chainrule.func has
torch.func's signatures (``vjp(f, *primals)`` returning a function), not its
(``vjp(func, inputs, v)`` returning the product), so mapping one onto the other would be wrong."""

import json
import re
import runpy
import sys
import textwrap

import numpy as np
import pytest
from tests.conftest import needs_mpi
from tests.distributed.mpi_helpers import run_job

import chainrule as cr
from chainrule.cli import main
from chainrule.distributed.launch import mpirun_command
from chainrule.forward_ad import UnpackedDualTensor
from chainrule.nn.parallel import DistributedDataParallel
from chainrule.torch_compat import UnsupportedTorchAttribute, torch_as_chainrule


def script(tmp_path, code: str) -> str:
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    return str(path)


def test_torchs_paths_of_ddp_and_the_distributed_sampler_are_chainrules():
    with torch_as_chainrule():
        import torch
        import torch.nn.parallel.distributed as ddp_file
        from torch.nn.parallel import DistributedDataParallel as DDP
        from torch.utils.data import DistributedSampler as Sampler
        from torch.utils.data.distributed import DistributedSampler

        assert DDP is ddp_file.DistributedDataParallel is DistributedDataParallel
        assert torch.nn.parallel.DistributedDataParallel is DistributedDataParallel
        assert DistributedSampler is Sampler is cr.data.DistributedSampler
        with pytest.raises(UnsupportedTorchAttribute, match="^torch.nn.parallel.DataParallel is not"):
            _ = torch.nn.parallel.DataParallel


DDP_SCRIPT = """
    import torch
    import torch.distributed as dist
    import torch.nn as nn
    from torch.nn.parallel import DistributedDataParallel as DDP
    from torch.utils.data import DataLoader, TensorDataset
    from torch.utils.data.distributed import DistributedSampler

    def train(model, loader):
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    data = TensorDataset(torch.arange(48.0, dtype=torch.float64).reshape(16, 3).sin(),
                         torch.arange(16.0, dtype=torch.float64).reshape(16, 1).cos())
    torch.manual_seed(rank)                   # each rank starts elsewhere: DDP copies rank 0's weights
    model = DDP(nn.Linear(3, 1).double())
    sampler = DistributedSampler(data, shuffle=False)    # rank r reads samples r, r + world, ...
    train(model, DataLoader(data, batch_size=2, sampler=sampler))
    torch.manual_seed(0)                      # one process on the whole batch, from rank 0's start
    alone = nn.Linear(3, 1).double()
    train(alone, DataLoader(data, batch_size=2 * world))
    gap = max((a - b).abs().max().item() for a, b in zip(model.module.parameters(), alone.parameters()))
    print(f"rank {rank}/{world} samples {len(sampler)} gap {gap:.3e}", flush=True)
    dist.destroy_process_group()
"""


@needs_mpi
def test_a_ddp_script_runs_unchanged_on_two_ranks_and_matches_one_process(tmp_path):
    path = script(tmp_path, DDP_SCRIPT)
    job = run_job(mpirun_command(2, [sys.executable, "-m", "chainrule", "run", path]), timeout=180)
    assert job.returncode == 0, job.stdout
    lines = sorted(re.findall(r"rank (\d)/(\d) samples (\d+) gap (\S+)", job.stdout))
    assert [line[:3] for line in lines] == [("0", "2", "8"), ("1", "2", "8")], job.stdout
    assert all(float(line[3]) < 1e-12 for line in lines), job.stdout


FORWARD_AD_SCRIPT = """
    import json
    import torch
    import torch.autograd.forward_ad as fwAD

    x = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=torch.float64)
    u = torch.tensor([[1.0, 0.0, -2.0], [0.5, 3.0, 1.0]], dtype=torch.float64)
    w = torch.tensor([[0.2, -0.4], [1.0, 0.3], [-0.6, 0.8]], dtype=torch.float64)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, u)
        y = torch.tanh(dual @ w).exp() * dual.sum(dim=1, keepdim=True)
        primal, tangent = fwAD.unpack_dual(y)
        plain = fwAD.unpack_dual(x)
    level = fwAD.enter_dual_level()
    z = fwAD.make_dual(x, u, level=level).sin().pow(2).mean()
    z_tangent = fwAD.unpack_dual(z, level=level).tangent
    fwAD.exit_dual_level(level=level)
    print(json.dumps({"primal": primal.tolist(), "tangent": tangent.tolist(), "z": z_tangent.item(),
                      "plain_has_no_tangent": plain.tangent is None, "kind": type(plain).__name__}))
"""


def test_a_forward_ad_script_gives_torchs_numbers(tmp_path, capsys):
    pytest.importorskip("torch")
    path = script(tmp_path, FORWARD_AD_SCRIPT)
    runpy.run_path(path, run_name="__main__")           # PyTorch 2.13 itself
    expected = json.loads(capsys.readouterr().out)
    assert main(["run", path]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["plain_has_no_tangent"] and got["kind"] == expected["kind"] == "UnpackedDualTensor"
    for key in ("primal", "tangent", "z"):
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-12, atol=1e-12, err_msg=key)


def test_forward_ad_answers_only_for_torchs_names_and_functional_is_refused_by_name():
    with torch_as_chainrule():
        import torch.autograd.forward_ad as fwAD

        assert fwAD.UnpackedDualTensor is UnpackedDualTensor
        assert set(dir(fwAD)) >= {"dual_level", "make_dual", "unpack_dual", "enter_dual_level"}
        with pytest.raises(UnsupportedTorchAttribute, match="^torch.autograd.forward_ad.propagate is"):
            _ = fwAD.propagate                  # chainrule's machinery is not a torch name
        with pytest.raises(ImportError, match="^torch.autograd.functional.jacobian is not supported"):
            from torch.autograd.functional import jacobian  # noqa: F401
