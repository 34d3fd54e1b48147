"""One playground session: its settings, data, network, optimiser, and the training itself.

The HTTP layer never touches the model; it calls these methods, each under the session's lock,
so a training slice and a state request never see a half-made update. Training advances in
small slices (``advance``) driven by the trainer thread in ``sessions.py``, so one session can
never hog the server, and a step request only queues epochs rather than blocking.
"""

from __future__ import annotations

import threading
import time

import numpy as np

import chainrule as cr
from chainrule import nn

from ..locale import N_, normalise
from . import network as N
from .datasets import Dataset, features
from .settings import DATA_FIELDS, LIVE_FIELDS, N_SAMPLES, is_regression, validate_settings

HISTORY_LIMIT = 2000   # epochs of loss / gradient-norm history kept (older points are thinned)


def _thin(rows: list, limit: int) -> list:
    """At most ``limit`` rows, evenly spaced, always keeping the last."""
    if len(rows) <= limit:
        return list(rows)
    stride = len(rows) / limit
    picked = [rows[int(i * stride)] for i in range(limit - 1)]
    return picked + [rows[-1]]


class Session:
    def __init__(self, session_id: str, settings: dict | None = None, lang: str = "en"):
        self.id = session_id
        self.lang = normalise(lang)   # the language of the state's words and the explanations
        self.lock = threading.RLock()
        self.settings = validate_settings({} if settings is None else settings)
        self.playing = False
        self.pending_epochs = 0
        self.version = 0
        self.data_version = 0
        self.last_seen = time.monotonic()
        self.error = None
        self.state_cache = None     # (version, JSON bytes, monotonic time built): see snapshot.py
        self.state_wanted = False   # a reader asked for the state since the trainer last built it
        self._new_data()
        self._new_network()

    # --- building -------------------------------------------------------------------------
    def _new_data(self) -> None:
        s = self.settings
        self.dataset = Dataset(s["dataset"], N_SAMPLES, s["noise"], s["train_ratio"], s["seed"])
        self.data_version += 1
        self._refresh_inputs()

    def _refresh_inputs(self) -> None:
        names = self.settings["features"]
        self.train_x = cr.from_numpy(features(self.dataset.train_points, names))
        self.test_x = cr.from_numpy(features(self.dataset.test_points, names))
        self.train_y = cr.from_numpy(self.dataset.train_labels)
        self.test_y = cr.from_numpy(self.dataset.test_labels)

    def _new_network(self) -> None:
        self.model = N.build_model(self.settings)
        self.linears = N.linear_layers(self.model)
        self.optimizer = N.make_optimizer(self.model, self.settings)
        self.rng = np.random.default_rng(self.settings["seed"])
        self.epoch = 0
        self.order, self.cursor = None, 0
        self.history = []        # [epoch, train loss, test loss]
        self.norm_history = []   # [epoch, ‖∂L/∂W‖ per layer...]
        self._epoch_norms = []
        self.last_grads = None   # the last batch's gradients, for the gradient view
        self.last_step = None    # what the last step needs to be replayed (see replay.py)
        self.steps = 0           # optimiser steps taken
        self.probe_example = 0   # the training example the explanation panel shows
        self.error = None
        self._record_losses()

    def touch(self) -> None:
        self.last_seen = time.monotonic()

    # --- commands from the page -----------------------------------------------------------
    def update_settings(self, changes: dict) -> None:
        """Apply validated changes; keep the trained weights when only live fields changed."""
        new = validate_settings(changes, self.settings)
        changed = {k for k in new if new[k] != self.settings[k]}
        old_features = self.settings["features"]
        self.settings = new
        if changed & DATA_FIELDS:
            self._new_data()
        elif new["features"] != old_features:
            self._refresh_inputs()
        if changed - LIVE_FIELDS:
            self._new_network()
        elif "optimizer" in changed:
            self.optimizer = N.make_optimizer(self.model, new)
        elif "learning_rate" in changed:
            for group in self.optimizer.param_groups:
                group["lr"] = new["learning_rate"]
        self.version += 1

    def set_language(self, lang: str) -> None:
        """Speak ``lang`` from now on; the network, the data and the training go on untouched."""
        self.lang = normalise(lang)
        self.version += 1

    def play(self) -> None:
        self.playing = True
        self.version += 1

    def pause(self) -> None:
        self.playing = False
        self.pending_epochs = 0
        self.version += 1

    def queue_epochs(self, epochs: int) -> None:
        self.pending_epochs = min(self.pending_epochs + epochs, 1000)
        self.version += 1

    def reset(self) -> None:
        self.playing = False
        self.pending_epochs = 0
        self._new_network()
        self.version += 1

    def regenerate(self) -> None:
        """New points: a new seed, the same network (freshly initialised, as the data changed)."""
        self.settings = dict(self.settings, seed=int(self.rng.integers(0, 2**31 - 1)))
        self._new_data()
        self._new_network()
        self.version += 1

    @property
    def wants_training(self) -> bool:
        return (self.playing or self.pending_epochs > 0) and self.error is None

    # --- training ---------------------------------------------------------------------------
    def advance(self, budget_seconds: float) -> None:
        """Train for about ``budget_seconds`` (at least one batch), finishing epochs as it goes."""
        deadline = time.perf_counter() + budget_seconds
        while self.wants_training:
            if self._train_batch():
                if self.pending_epochs > 0:
                    self.pending_epochs -= 1
            if time.perf_counter() >= deadline:
                break
        self.version += 1

    def _train_batch(self) -> bool:
        """One optimiser step on the next batch; True when it completed an epoch."""
        n = len(self.train_y)
        size = min(self.settings["batch_size"], n)
        if self.order is None:
            self.order, self.cursor = self.rng.permutation(n), 0
        batch = self.order[self.cursor:self.cursor + size]
        self.cursor += size
        if len(batch) > 1 or not self.settings["batch_norm"]:  # batch norm needs two examples
            self._step(batch)
        if self.cursor < n:
            return False
        self.order = None
        self.epoch += 1
        self._finish_epoch()
        return True

    def _step(self, batch: np.ndarray) -> None:
        """One optimiser step. The page shows the gradients the optimiser stepped with (after the
        penalty and clipping); the gradient-norm chart the unclipped ones. ``last_step`` keeps the
        weights from before the step, so an explanation can replay it exactly."""
        s = self.settings
        self.model.train()
        before = {name: p._data.copy() for name, p in self.model.named_parameters()}
        x = cr.from_numpy(self.train_x._data[batch])
        y = cr.from_numpy(self.train_y._data[batch])
        outputs = N.forward_layers(self.model, x, keep_grads=True)
        loss = N.data_loss(outputs[-1], y, is_regression(s))
        extra = N.penalty(self.model, s["regularization"], s["reg_rate"])
        objective = loss if extra is None else loss + extra
        self.optimizer.zero_grad()
        objective.backward()
        raw_weight_grads = [layer.weight.grad._data.copy() for layer in self.linears]
        if s["clip_norm"] > 0:
            nn.utils.clip_grad_norm_(self.model.parameters(), s["clip_norm"])
        self.steps += 1
        self.last_step = {"batch": np.array(batch), "params": before, "settings": dict(s),
                          "step": self.steps, "epoch": self.epoch + 1}
        self.last_grads = {
            "weights": [layer.weight.grad._data.copy() for layer in self.linears],
            "biases": [layer.bias.grad._data.copy() for layer in self.linears],
            "neurons": [o.grad._data.sum(axis=0) if o.grad is not None else np.zeros(o.shape[1])
                        for o in outputs],
        }
        self.optimizer.step()
        self._epoch_norms.append([float(np.linalg.norm(g)) for g in raw_weight_grads])
        if not np.isfinite(loss._data):
            self.error = N_("the loss became NaN or infinite; reset, and lower the learning rate")
            self.playing = False

    def _finish_epoch(self) -> None:
        if self._epoch_norms:
            means = np.mean(np.array(self._epoch_norms, dtype=np.float64), axis=0)
            self.norm_history.append([self.epoch] + [float(v) for v in means])
            self._epoch_norms = []
        self._record_losses()
        if len(self.history) > HISTORY_LIMIT:
            self.history = _thin(self.history, HISTORY_LIMIT // 2)
        if len(self.norm_history) > HISTORY_LIMIT:
            self.norm_history = _thin(self.norm_history, HISTORY_LIMIT // 2)

    def evaluate(self, x: cr.Tensor, y: cr.Tensor) -> float:
        if len(y) == 0:
            return float("nan")
        self.model.eval()
        with cr.no_grad():
            output = self.model(x)
            value = float(N.data_loss(output, y, is_regression(self.settings)).item())
        self.model.train()
        return value

    def _record_losses(self) -> None:
        train, test = self.evaluate(self.train_x, self.train_y), self.evaluate(self.test_x, self.test_y)
        self.history.append([self.epoch, train, test])
