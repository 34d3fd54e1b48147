"""Every schedule gives PyTorch's learning rates epoch by epoch (two parameter groups with different
starting lrs, 40 epochs), resumes from a saved state, and refuses bad arguments."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

torch = pytest.importorskip("torch")


def _lr_sequence(library, make_scheduler, epochs=40, lrs=(0.1, 0.03)):
    if library is torch:
        params = [torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)]
    else:
        params = [cr.zeros(2, requires_grad=True), cr.zeros(1, requires_grad=True)]
    optimizer = library.optim.SGD([{"params": [params[0]], "lr": lrs[0]},
                                   {"params": [params[1]], "lr": lrs[1]}], lr=lrs[0], momentum=0.9)
    scheduler = make_scheduler(library.optim.lr_scheduler, optimizer)
    sequence = [scheduler.get_last_lr()]
    for _ in range(epochs):
        optimizer.step()
        scheduler.step()
        sequence.append(scheduler.get_last_lr())
        assert [g["lr"] for g in optimizer.param_groups] == sequence[-1]
    return np.array(sequence, dtype=np.float64), scheduler, optimizer


def _decay(epoch):
    return 0.95 ** epoch


class _Warmup:
    """A callable object: LambdaLR saves its attributes (not a plain function's)."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.epochs)


SCHEDULES = {
    "step": lambda s, o: s.StepLR(o, step_size=7),
    "step_gamma": lambda s, o: s.StepLR(o, step_size=3, gamma=0.5),
    "cosine": lambda s, o: s.CosineAnnealingLR(o, T_max=10),
    "cosine_eta_min": lambda s, o: s.CosineAnnealingLR(o, T_max=13, eta_min=0.001),
    "lambda": lambda s, o: s.LambdaLR(o, _decay),
    "lambda_per_group": lambda s, o: s.LambdaLR(o, [_Warmup(6), lambda epoch: 1 / (1 + 0.3 * epoch)]),
    "multiplicative": lambda s, o: s.MultiplicativeLR(o, lambda epoch: 0.97 if epoch % 2 else 0.9),
    "multistep": lambda s, o: s.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.5),
    "exponential": lambda s, o: s.ExponentialLR(o, gamma=0.9),
    "constant": lambda s, o: s.ConstantLR(o, factor=0.25, total_iters=7),
    "linear_warmup": lambda s, o: s.LinearLR(o, start_factor=0.2, total_iters=10),
    "linear_decay": lambda s, o: s.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=25),
    "polynomial": lambda s, o: s.PolynomialLR(o, total_iters=30, power=2.0),
    "warm_restarts": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=7),
    "warm_restarts_mult": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001),
    "onecycle_cos": lambda s, o: s.OneCycleLR(o, max_lr=[0.5, 0.2], total_steps=41),
    "onecycle_linear_three_phase": lambda s, o: s.OneCycleLR(o, max_lr=0.4, total_steps=45,
                                                             anneal_strategy="linear", three_phase=True),
    "onecycle_epochs": lambda s, o: s.OneCycleLR(o, max_lr=0.3, epochs=5, steps_per_epoch=9, pct_start=0.25,
                                                 div_factor=10.0, final_div_factor=100.0,
                                                 cycle_momentum=False),
    "sequential": lambda s, o: s.SequentialLR(o, [s.LinearLR(o, start_factor=0.1, total_iters=5),
                                                  s.CosineAnnealingLR(o, T_max=20)], milestones=[5]),
    "sequential_three": lambda s, o: s.SequentialLR(o, [s.ConstantLR(o, factor=0.5, total_iters=3),
                                                        s.ExponentialLR(o, gamma=0.8),
                                                        s.StepLR(o, step_size=4)], milestones=[4, 15]),
    "chained": lambda s, o: s.ChainedScheduler([s.ExponentialLR(o, gamma=0.95), s.StepLR(o, 10, gamma=0.5)]),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_lr_sequence_matches_torch(name):
    ours, _, _ = _lr_sequence(cr, SCHEDULES[name])
    theirs, _, _ = _lr_sequence(torch, SCHEDULES[name])
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15)


def test_step_lr_closed_form():
    sequence, _, _ = _lr_sequence(cr, SCHEDULES["step_gamma"], epochs=9, lrs=(1.0, 1.0))
    expected = [0.5 ** (epoch // 3) for epoch in range(10)]
    np.testing.assert_allclose(sequence[:, 0], expected)


def test_cosine_reaches_eta_min_at_t_max():
    sequence, _, _ = _lr_sequence(cr, SCHEDULES["cosine_eta_min"], epochs=13)
    assert sequence[-1, 0] == pytest.approx(0.001)
    assert sequence[0, 0] == 0.1


@pytest.mark.parametrize("name", ["step", "cosine", "lambda_per_group", "multistep", "linear_warmup",
                                  "warm_restarts_mult", "onecycle_cos", "sequential", "chained"])
def test_state_dict_round_trip_resumes(name, tmp_path):
    """A checkpoint's usual order: build the optimizer and the schedule, then load both states."""
    full, _, _ = _lr_sequence(cr, SCHEDULES[name], epochs=20)
    _, scheduler, optimizer = _lr_sequence(cr, SCHEDULES[name], epochs=8)
    cr.save({"scheduler": scheduler.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "s.crz")
    checkpoint = cr.load(tmp_path / "s.crz")

    params = [cr.zeros(2, requires_grad=True), cr.zeros(1, requires_grad=True)]
    optimizer2 = optim.SGD([{"params": [params[0]], "lr": 0.1}, {"params": [params[1]], "lr": 0.03}], lr=0.5,
                           momentum=0.9)
    scheduler2 = SCHEDULES[name](optim.lr_scheduler, optimizer2)
    optimizer2.load_state_dict(checkpoint["optimizer"])
    scheduler2.load_state_dict(checkpoint["scheduler"])
    assert scheduler2.get_last_lr() == list(full[8])
    optimizer2.step()
    for epoch in range(9, 21):
        scheduler2.step()
        np.testing.assert_allclose(scheduler2.get_last_lr(), full[epoch], rtol=1e-15)


def test_bad_arguments():
    optimizer = optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match="Optimizer"):
        optim.lr_scheduler.StepLR(object(), step_size=1)
    with pytest.raises(ValueError, match="step_size"):
        optim.lr_scheduler.StepLR(optimizer, step_size=0)
    with pytest.raises(ValueError, match="T_max"):
        optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=0)
