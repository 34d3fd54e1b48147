"""Schedules as training loops use them, against PyTorch: ReduceLROnPlateau driven by a scripted
metric, OneCycleLR cycling SGD's momentum and Adam's beta1, whole training runs with zero_grad,
hand-set learning rates, groups added mid-run, step(epoch), and the warnings PyTorch gives."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

torch = pytest.importorskip("torch")


def _params(lib):
    if lib is torch:
        return [torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)]
    return [cr.zeros(2, requires_grad=True), cr.zeros(1, requires_grad=True)]


def _optimizer(lib, kind="sgd", lrs=(0.1, 0.03)):
    p = _params(lib)
    groups = [{"params": [p[0]], "lr": lrs[0]}, {"params": [p[1]], "lr": lrs[1]}]
    if kind == "adam":
        return lib.optim.Adam(groups, lr=lrs[0], betas=(0.9, 0.99))
    if kind == "adagrad":
        return lib.optim.Adagrad(groups, lr=lrs[0])
    return lib.optim.SGD(groups, lr=lrs[0], momentum=0.9)


# --- ReduceLROnPlateau ------------------------------------------------------------------------
METRICS = [1.0, 0.8, 0.7, 0.69, 0.695, 0.7, 0.68, 0.68, 0.679, 0.7, 0.71, 0.65, 0.65, 0.65, 0.66, 0.6,
           0.601, 0.6, 0.6, 0.59, 0.62, 0.63, 0.64, 0.65, 0.58, 0.58, 0.58, 0.58, 0.57, 0.58]

PLATEAU = [
    {"patience": 2},
    {"patience": 0, "factor": 0.5},
    {"mode": "max", "factor": 0.5, "patience": 1, "threshold": 0.01},
    {"threshold_mode": "abs", "threshold": 0.02, "patience": 1, "cooldown": 2},
    {"factor": 0.5, "patience": 0, "min_lr": [0.01, 0.001]},
    {"factor": 0.3, "patience": 1, "min_lr": 0.02, "eps": 1e-3},
    {"mode": "max", "threshold_mode": "abs", "threshold": 0.0, "patience": 3, "cooldown": 1},
]


def _plateau_run(lib, options, metrics, tensor_metric=False):
    optimizer = _optimizer(lib)
    scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **options)
    sign = -1.0 if options.get("mode") == "max" else 1.0
    record = []
    for value in metrics:
        optimizer.step()
        metric = lib.tensor(sign * value, dtype=lib.float64) if tensor_metric else sign * value
        scheduler.step(metric)
        record.append(scheduler.get_last_lr() + [scheduler.best, scheduler.num_bad_epochs,
                                                 scheduler.cooldown_counter])
    return np.array(record, dtype=np.float64), scheduler, optimizer


@pytest.mark.parametrize("number", range(len(PLATEAU)))
def test_reduce_lr_on_plateau_matches_torch(number):
    ours, _, _ = _plateau_run(cr, PLATEAU[number], METRICS, tensor_metric=number % 2 == 1)
    theirs, _, _ = _plateau_run(torch, PLATEAU[number], METRICS)
    np.testing.assert_allclose(ours, theirs, rtol=1e-15)
    assert ours[-1, 0] < ours[0, 0]   # it did cut the lr


def test_reduce_lr_on_plateau_resumes_from_a_saved_state(tmp_path):
    options = PLATEAU[3]
    full, _, _ = _plateau_run(cr, options, METRICS)
    _, scheduler, optimizer = _plateau_run(cr, options, METRICS[:12])
    cr.save({"scheduler": scheduler.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "p.crz")
    checkpoint = cr.load(tmp_path / "p.crz")
    optimizer2 = _optimizer(cr)
    scheduler2 = optim.lr_scheduler.ReduceLROnPlateau(optimizer2, **options)
    optimizer2.load_state_dict(checkpoint["optimizer"])
    scheduler2.load_state_dict(checkpoint["scheduler"])
    for epoch, value in enumerate(METRICS[12:], start=12):
        scheduler2.step(value)
        np.testing.assert_array_equal(scheduler2.get_last_lr(), full[epoch, :2])
    fresh = optim.lr_scheduler.ReduceLROnPlateau(_optimizer(cr))   # best = inf until the first metric
    cr.save(fresh.state_dict(), tmp_path / "fresh.crz")
    assert cr.load(tmp_path / "fresh.crz")["best"] == np.inf


def test_reduce_lr_on_plateau_with_a_group_added_later():
    for lib in (cr, torch):
        optimizer = _optimizer(lib)
        scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, min_lr=0.001)
        optimizer.add_param_group({"params": [_params(lib)[0]], "lr": 0.5})
        scheduler.step(1.0)
        scheduler.step(2.0)
        assert [round(lr, 12) for lr in scheduler.get_last_lr()] == [0.01, 0.003, 0.05]
        listed = lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, min_lr=[0.0] * 3)
        optimizer.add_param_group({"params": [_params(lib)[1]]})
        listed.step(1.0)
        with pytest.raises(RuntimeError):
            listed.step(2.0)


# --- OneCycleLR and momentum ------------------------------------------------------------------
ONE_CYCLE = [
    ("sgd", {"max_lr": [0.5, 0.2], "total_steps": 30}),
    ("sgd", {"max_lr": 0.4, "total_steps": 30, "anneal_strategy": "linear", "three_phase": True,
             "base_momentum": [0.8, 0.7], "max_momentum": 0.9}),
    ("adam", {"max_lr": 0.01, "total_steps": 30, "pct_start": 0.4}),
    ("adam", {"max_lr": [0.01, 0.02], "epochs": 3, "steps_per_epoch": 10, "three_phase": True,
              "base_momentum": 0.5, "max_momentum": 0.95, "div_factor": 5.0}),
]


def _one_cycle_run(lib, kind, options):
    optimizer = _optimizer(lib, kind)
    scheduler = lib.optim.lr_scheduler.OneCycleLR(optimizer, **options)
    key = "betas" if kind == "adam" else "momentum"
    record = []
    for _ in range(30):
        momenta = [g[key][0] if kind == "adam" else g[key] for g in optimizer.param_groups]
        record.append(scheduler.get_last_lr() + momenta)
        optimizer.step()
        scheduler.step()
    if kind == "adam":   # only beta1 cycles
        assert [g["betas"][1] for g in optimizer.param_groups] == [0.99, 0.99]
    return np.array(record)


@pytest.mark.parametrize("number", range(len(ONE_CYCLE)))
def test_one_cycle_cycles_lr_and_momentum_like_torch(number):
    kind, options = ONE_CYCLE[number]
    ours, theirs = _one_cycle_run(cr, kind, options), _one_cycle_run(torch, kind, options)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=1e-16)
    assert ours[:, 2].min() < ours[0, 2]   # the momentum really moved


def test_one_cycle_refuses_to_step_past_the_end_and_an_optimizer_without_momentum():
    for lib in (cr, torch):
        optimizer = _optimizer(lib)
        scheduler = lib.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=3)
        for _ in range(3):
            optimizer.step()
            scheduler.step()
        with pytest.raises(ValueError, match="(?i)tried to step 4 times"):
            scheduler.step()
        with pytest.raises(ValueError, match="momentum"):
            lib.optim.lr_scheduler.OneCycleLR(_optimizer(lib, "adagrad"), max_lr=0.1, total_steps=3)


# --- whole training runs ------------------------------------------------------------------------
RNG = np.random.default_rng(5)
X, Y = RNG.normal(size=(24, 3)), RNG.normal(size=(24, 1))
W0, B0 = RNG.normal(size=(3, 1)), RNG.normal(size=(1,))


def _train(lib, make, epochs=6, batch=6, set_to_none=True, per_batch=False):
    dtype = torch.float64 if lib is torch else cr.float64
    w, b = lib.tensor(W0, dtype=dtype, requires_grad=True), lib.tensor(B0, dtype=dtype, requires_grad=True)
    optimizer, scheduler = make(lib, [w, b])
    x, y = lib.tensor(X, dtype=dtype), lib.tensor(Y, dtype=dtype)
    history = []
    for _ in range(epochs):
        epoch_loss = 0.0
        for start in range(0, len(X), batch):
            optimizer.zero_grad(set_to_none=set_to_none)
            loss = lib.nn.functional.mse_loss(x[start:start + batch] @ w + b, y[start:start + batch])
            loss.backward()
            optimizer.step()
            epoch_loss += float(loss.detach())
            if per_batch:
                scheduler.step()
        if isinstance(scheduler, lib.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(epoch_loss)
        elif not per_batch:
            scheduler.step()
        history.append(np.concatenate([w.detach().numpy().ravel(), b.detach().numpy().ravel(),
                                       [g["lr"] for g in optimizer.param_groups]]))
    return np.array(history)


def _sgd_one_cycle(lib, params):
    optimizer = lib.optim.SGD(params, lr=0.1, momentum=0.9)
    return optimizer, lib.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.2, total_steps=24)


def _adam_plateau(lib, params):
    optimizer = lib.optim.Adam(params, lr=0.3)
    schedule = lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=0, threshold=0.05)
    return optimizer, schedule


def _adamw_sequential(lib, params):
    optimizer, schedules = lib.optim.AdamW(params, lr=0.1), lib.optim.lr_scheduler
    warmup = schedules.LinearLR(optimizer, start_factor=0.2, total_iters=2)
    decay = schedules.ExponentialLR(optimizer, gamma=0.7)
    return optimizer, schedules.SequentialLR(optimizer, [warmup, decay], milestones=[2])


def _adagrad_warm_restarts(lib, params):
    optimizer = lib.optim.Adagrad(params, lr=0.5)
    return optimizer, lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=2, T_mult=2)


def _rmsprop_lambda(lib, params):
    optimizer = lib.optim.RMSprop(params, lr=0.05, momentum=0.5)
    return optimizer, lib.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 1 / (1 + epoch))


RUNS = {"sgd_one_cycle_per_batch": (_sgd_one_cycle, True), "adam_plateau": (_adam_plateau, False),
        "adamw_sequential": (_adamw_sequential, False),
        "adagrad_warm_restarts": (_adagrad_warm_restarts, False), "rmsprop_lambda": (_rmsprop_lambda, False)}


@pytest.mark.parametrize("set_to_none", [True, False])
@pytest.mark.parametrize("name", sorted(RUNS))
def test_training_runs_with_schedules_match_torch(name, set_to_none):
    make, per_batch = RUNS[name]
    ours = _train(cr, make, set_to_none=set_to_none, per_batch=per_batch)
    theirs = _train(torch, make, set_to_none=set_to_none, per_batch=per_batch)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    assert len(set(ours[:, -1])) > 1   # the lr really changed


# --- hand-set learning rates, groups added later, step(epoch), warnings -------------------------
CHAINABLE = {
    "step": lambda s, o: s.StepLR(o, step_size=3, gamma=0.5),
    "exponential": lambda s, o: s.ExponentialLR(o, gamma=0.9),
    "multistep": lambda s, o: s.MultiStepLR(o, milestones=[4, 8], gamma=0.3),
    "cosine": lambda s, o: s.CosineAnnealingLR(o, T_max=6),
    "linear": lambda s, o: s.LinearLR(o, start_factor=0.5, total_iters=8),
}


def _edited_run(lib, make):
    optimizer = _optimizer(lib)
    scheduler = make(lib.optim.lr_scheduler, optimizer)
    record = []
    for epoch in range(12):
        if epoch == 5:
            optimizer.param_groups[0]["lr"] = 0.5   # by hand, mid-schedule
        if epoch == 7:
            optimizer.add_param_group({"params": [_params(lib)[0]], "lr": 0.2})
        optimizer.step()
        scheduler.step()
        record.append(scheduler.get_last_lr() + [0.0] * (3 - len(optimizer.param_groups)))
    return np.array(record)


@pytest.mark.parametrize("name", sorted(CHAINABLE))
def test_a_hand_set_lr_and_a_new_group_carry_on_as_in_torch(name):
    np.testing.assert_allclose(_edited_run(cr, CHAINABLE[name]), _edited_run(torch, CHAINABLE[name]),
                               rtol=1e-15)


def test_a_schedule_with_one_value_per_group_refuses_a_new_group_as_torch_does():
    for lib in (cr, torch):
        optimizer = _optimizer(lib)
        scheduler = lib.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 0.5)
        optimizer.add_param_group({"params": [_params(lib)[0]]})
        optimizer.step()
        with pytest.raises(ValueError):
            scheduler.step()


CLOSED_FORM = ["step", "exponential", "multistep", "cosine", "linear"]


@pytest.mark.parametrize("name", CLOSED_FORM)
def test_step_with_an_epoch_uses_the_closed_form_and_warns_as_torch(name):
    record = {}
    for lib in (cr, torch):
        optimizer = _optimizer(lib)
        scheduler = CHAINABLE[name](lib.optim.lr_scheduler, optimizer)
        optimizer.step()
        values = []
        for epoch in (3, 9, 4, 0, 7):
            with pytest.warns(UserWarning, match="epoch parameter in `scheduler.step\\(\\)`"):
                scheduler.step(epoch)
            values.append(scheduler.get_last_lr())
        record[lib] = np.array(values)
    np.testing.assert_allclose(record[cr], record[torch], rtol=1e-14)


def test_warm_restarts_with_fractional_epochs_match_torch():
    record = {}
    for lib in (cr, torch):
        optimizer = _optimizer(lib)
        scheduler = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=2, T_mult=3,
                                                                       eta_min=0.01)
        values = []
        for epoch in range(9):
            for batch in range(4):
                optimizer.step()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    scheduler.step(epoch + batch / 4)
                values.append(scheduler.get_last_lr())
        record[lib] = np.array(values)
    np.testing.assert_allclose(record[cr], record[torch], rtol=1e-14)


def test_the_warnings_pytorch_gives():
    for lib in (cr, torch):
        optimizer = _optimizer(lib)
        scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=2)
        with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
            scheduler.step()
        with pytest.warns(UserWarning, match="get_last_lr"):
            scheduler.get_lr()
    optimizer = _optimizer(cr)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2)
    optimizer.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()


def test_bad_arguments():
    optimizer = _optimizer(cr)
    schedules = optim.lr_scheduler
    with pytest.raises(ValueError, match="factor"):
        schedules.ReduceLROnPlateau(optimizer, factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        schedules.ReduceLROnPlateau(optimizer, mode="lowest")
    with pytest.raises(ValueError, match="min_lrs"):
        schedules.ReduceLROnPlateau(optimizer, min_lr=[0.1])
    with pytest.raises(ValueError, match="total_steps"):
        schedules.OneCycleLR(optimizer, max_lr=0.1)
    with pytest.raises(ValueError, match="pct_start"):
        schedules.OneCycleLR(optimizer, max_lr=0.1, total_steps=10, pct_start=1)
    with pytest.raises(ValueError, match="max_lr must have the same length"):
        schedules.OneCycleLR(optimizer, max_lr=[0.1], total_steps=10)
    with pytest.raises(ValueError, match="T_0"):
        schedules.CosineAnnealingWarmRestarts(optimizer, T_0=0)
    with pytest.raises(ValueError, match="start_factor"):
        schedules.LinearLR(optimizer, start_factor=0.0)
    with pytest.raises(ValueError, match="lr_lambdas"):
        schedules.LambdaLR(optimizer, [lambda e: 1.0])
    with pytest.raises(ValueError, match="milestone"):
        schedules.SequentialLR(optimizer, [schedules.StepLR(optimizer, 2), schedules.StepLR(optimizer, 3)],
                               milestones=[])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        schedules.SequentialLR(optimizer, [schedules.ReduceLROnPlateau(optimizer)], [])
