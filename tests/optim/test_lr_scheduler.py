"""StepLR and CosineAnnealingLR give PyTorch's learning rates epoch by epoch."""

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


SCHEDULES = {
    "step": lambda s, o: s.StepLR(o, step_size=7),
    "step_gamma": lambda s, o: s.StepLR(o, step_size=3, gamma=0.5),
    "cosine": lambda s, o: s.CosineAnnealingLR(o, T_max=10),
    "cosine_eta_min": lambda s, o: s.CosineAnnealingLR(o, T_max=13, eta_min=0.001),
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


@pytest.mark.parametrize("name", ["step", "cosine"])
def test_state_dict_round_trip_resumes(name, tmp_path):
    full, _, _ = _lr_sequence(cr, SCHEDULES[name], epochs=20)
    _, scheduler, optimizer = _lr_sequence(cr, SCHEDULES[name], epochs=8)
    cr.save({"scheduler": scheduler.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "s.crz")
    checkpoint = cr.load(tmp_path / "s.crz")

    params = [cr.zeros(2, requires_grad=True), cr.zeros(1, requires_grad=True)]
    optimizer2 = optim.SGD([{"params": [params[0]]}, {"params": [params[1]]}], lr=0.5)
    optimizer2.load_state_dict(checkpoint["optimizer"])
    scheduler2 = SCHEDULES[name](optim.lr_scheduler, optimizer2)
    scheduler2.load_state_dict(checkpoint["scheduler"])
    assert scheduler2.get_last_lr() == list(full[8])
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
