"""Run as N ranks: data-parallel training against one process on the global batch (float64).

Each rank starts from its own random weights (DDP must replace them with rank 0's), trains on
its 1/N of every global batch, and rank 0 also trains the reference model alone on the whole
batch. Reported by rank 0: the largest parameter difference for SGD (momentum), Adam, gradient
accumulation with no_sync(), a model whose two heads take turns (find_unused_parameters), and
SyncBatchNorm against BatchNorm (1d and 2d) -- and plain BatchNorm, which normalises each rank's
share alone and so must differ; by every rank: a digest of its parameters, the same on all.
"""

import numpy as np
from report import report

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn, optim
from chainrule.nn.parallel import DistributedDataParallel as DDP

STEPS, GLOBAL_BATCH = 20, 12


def mlp(seed: int) -> nn.Module:
    cr.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3)).double()


def bn_mlp(seed: int) -> nn.Module:
    cr.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)).double()


def bn_cnn(seed: int) -> nn.Module:
    """No bias before the BatchNorm: its true gradient is 0, so its computed one is rounding noise,
    which Adam (dividing by that noise's own size) would turn into steps of ~1e-11 that differ."""
    cr.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 4, 3, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 3 * 3, 3)).double()


class TwoHeads(nn.Module):
    """A body and two heads, of which each step uses one: the other gets no gradient."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(6, 16), nn.Tanh())
        self.heads = nn.ModuleList([nn.Linear(16, 3), nn.Linear(16, 3)])
        self.step = 0

    def forward(self, x):
        return self.heads[self.step % 2](self.body(x))


def two_heads(seed: int) -> nn.Module:
    cr.manual_seed(seed)
    return TwoHeads().double()


def batch(step: int, image: bool = False):
    rng = np.random.default_rng(1000 + step)
    shape = (GLOBAL_BATCH, 2, 5, 5) if image else (GLOBAL_BATCH, 6)
    return cr.tensor(rng.normal(size=shape)), cr.tensor(rng.integers(0, 3, GLOBAL_BATCH))


def share(tensor, rank: int, world: int):
    size = tensor.shape[0] // world
    return tensor[rank * size:(rank + 1) * size]


def train(model, make_optimizer, rank, world, image=False, micro_batches=1, distributed=True, ddp=None):
    """STEPS steps; distributed: this rank's share of each batch through DDP, else the whole."""
    net = DDP(model, **(ddp or {})) if distributed else model
    optimizer = make_optimizer(net.parameters())
    for step in range(STEPS):
        if isinstance(model, TwoHeads):
            model.step = step
        optimizer.zero_grad()
        for micro in range(micro_batches):
            x, y = batch(step * micro_batches + micro, image)
            if distributed:
                x, y = share(x, rank, world), share(y, rank, world)
            last = micro == micro_batches - 1
            if distributed and not last:
                with net.no_sync():
                    nn.functional.cross_entropy(net(x), y).backward()
            else:
                nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
    return model


def largest_difference(model, reference) -> float:
    ours = dict(model.state_dict())
    theirs = dict(reference.state_dict())
    assert ours.keys() == theirs.keys()
    return max(float(np.max(np.abs(ours[k].numpy().astype(np.float64) - theirs[k].numpy())))
               for k in ours)


def digest(model) -> list:
    return [float(p.double().sum().item()) for p in model.parameters()]


def main():
    dist.init_process_group(backend="mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    cases = {
        "sgd": (mlp, lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), {}),
        "adam": (mlp, lambda ps: optim.Adam(ps, lr=0.01), {}),
        "no_sync": (mlp, lambda ps: optim.SGD(ps, lr=0.1), {"micro_batches": 2}),
        "find_unused_parameters": (two_heads, lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                                   {"ddp": {"find_unused_parameters": True}}),
        "batchnorm_per_rank": (bn_mlp, lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), {}),
        "sync_batchnorm_1d": (bn_mlp, lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), {}),
        "sync_batchnorm_2d": (bn_cnn, lambda ps: optim.Adam(ps, lr=0.01), {"image": True}),
    }
    for name, (build, make_optimizer, options) in cases.items():
        model = build(seed=rank)            # different on every rank until DDP broadcasts rank 0's
        if name.startswith("sync_batchnorm"):
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        train(model, make_optimizer, rank, world, **options)
        report(rank, **{f"{name}_digest": digest(model)})
        if rank == 0:
            options.pop("ddp", None)
            reference = train(build(seed=0), make_optimizer, rank, world, distributed=False, **options)
            report(rank, **{name: largest_difference(model, reference)})
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
