"""SummaryWriter writes event files that TensorBoard's own reader (EventAccumulator) reads back."""

import importlib
import os
import sys

import numpy as np
import pytest

import chainrule as cr

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.plugins.hparams import metadata as hparams_metadata  # noqa: E402

from chainrule.utils.tensorboard import SummaryWriter  # noqa: E402


def _read(log_dir):
    accumulator = EventAccumulator(str(log_dir), size_guidance={"tensors": 0, "scalars": 0, "histograms": 0})
    accumulator.Reload()
    return accumulator


def test_scalars_round_trip_with_steps_and_wall_times(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        for step in range(5):
            writer.add_scalar("loss/train", cr.tensor(1.0 / (step + 1)), step)
        writer.add_scalar("lr", np.float64(0.1), 7, walltime=1234.5)
        writer.add_scalar("accuracy", 0.875)
    events = _read(tmp_path)
    assert set(events.Tags()["scalars"]) == {"loss/train", "lr", "accuracy"}
    losses = events.Scalars("loss/train")
    assert [e.step for e in losses] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose([e.value for e in losses], [1, 1 / 2, 1 / 3, 1 / 4, 1 / 5], rtol=1e-6)
    (lr,) = events.Scalars("lr")
    assert lr.step == 7 and lr.wall_time == 1234.5 and lr.value == pytest.approx(0.1)
    assert events.Scalars("accuracy")[0].value == 0.875


def test_new_style_scalars_are_tensors(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_scalar("x", 2.5, 1, new_style=True, double_precision=True)
    (event,) = _read(tmp_path).Tensors("x")
    assert event.step == 1 and event.tensor_proto.double_val == [2.5]


def test_add_scalars_writes_one_run_per_key_as_torch(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        for step in range(3):
            writer.add_scalars("loss/all", {"train": 1.0 - step / 10, "val": 2.0}, step)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["loss_all_train", "loss_all_val"]
    train = _read(tmp_path / "loss_all_train").Scalars("loss/all")
    assert [round(e.value, 6) for e in train] == [1.0, 0.9, 0.8]
    assert [e.value for e in _read(tmp_path / "loss_all_val").Scalars("loss/all")] == [2.0] * 3


def test_histograms_round_trip_and_match_torchs_buckets(tmp_path):
    values = np.random.default_rng(0).normal(size=1000)
    with SummaryWriter(tmp_path) as writer:
        writer.add_histogram("weights", cr.tensor(values, dtype=cr.float64), 3)
        writer.add_histogram("few", np.arange(10.0), 4, bins=5)
    events = _read(tmp_path)
    histogram = events.Histograms("weights")[0]
    assert histogram.step == 3
    value = histogram.histogram_value
    assert value.num == 1000 and sum(value.bucket) == 1000
    assert value.min == values.min() and value.max == values.max()
    assert value.sum == pytest.approx(values.sum()) and value.sum_squares == pytest.approx(values @ values)
    few = events.Histograms("few")[0].histogram_value
    assert list(few.bucket_limit) == [0.0, 1.8, 3.6, 5.4, 7.2, 9.0] and list(few.bucket) == [0, 2, 2, 2, 2, 2]

    torch = pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter
    with TorchWriter(tmp_path / "torch") as writer:
        writer.add_histogram("weights", torch.from_numpy(values), 3)
    theirs = _read(tmp_path / "torch").Histograms("weights")[0].histogram_value
    assert list(value.bucket) == list(theirs.bucket)
    np.testing.assert_allclose(value.bucket_limit, theirs.bucket_limit, rtol=1e-12)


def test_histogram_max_bins_and_bad_values(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_histogram("merged", np.arange(100.0), 0, bins=50, max_bins=8)
        with pytest.raises(ValueError, match="empty"):
            writer.add_histogram("none", np.zeros(0))
        with pytest.raises(ValueError, match="NaN or Inf"):
            writer.add_histogram("nan", np.array([1.0, np.nan]))
        with pytest.raises(ValueError, match="single number"):
            writer.add_scalar("vector", cr.ones(3))
        with pytest.raises(TypeError, match="needs numbers"):
            writer.add_scalar("text", "abc")
    merged = _read(tmp_path).Histograms("merged")[0].histogram_value
    assert len(merged.bucket) <= 8 + 1 and sum(merged.bucket) == 100


def test_text_and_hparams(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_text("notes", "lr **0.1**", 2)
        writer.add_hparams({"lr": 0.1, "batch_size": 64, "optimizer": "adam", "nesterov": True, "skip": None},
                           {"hparam/accuracy": 0.93}, hparam_domain_discrete={"optimizer": ["adam", "sgd"]},
                           run_name="trial")
    (text,) = _read(tmp_path).Tensors("notes/text_summary")
    assert text.step == 2 and text.tensor_proto.string_val == [b"lr **0.1**"]
    run = _read(tmp_path / "trial")
    assert run.Scalars("hparam/accuracy")[0].value == pytest.approx(0.93)
    content = run.SummaryMetadata(hparams_metadata.SESSION_START_INFO_TAG).plugin_data.content
    start = hparams_metadata.parse_session_start_info_plugin_data(content)
    assert start.hparams["lr"].number_value == 0.1 and start.hparams["batch_size"].number_value == 64
    assert start.hparams["optimizer"].string_value == "adam" and start.hparams["nesterov"].bool_value is True
    assert "skip" not in start.hparams
    experiment = hparams_metadata.parse_experiment_plugin_data(
        run.SummaryMetadata(hparams_metadata.EXPERIMENT_TAG).plugin_data.content)
    assert [info.name for info in experiment.hparam_infos] == ["lr", "batch_size", "optimizer", "nesterov"]
    assert [m.name.tag for m in experiment.metric_infos] == ["hparam/accuracy"]
    with SummaryWriter(tmp_path / "bad") as writer, pytest.raises(TypeError):
        writer.add_hparams([("lr", 0.1)], {})


def test_default_log_dir_comment_reopen_and_missing_methods(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1", flush_secs=1)
    (run,) = os.listdir("runs")
    assert run.endswith("_lr0.1") and writer.get_logdir() == os.path.join("runs", run)
    writer.add_scalar("a", 1.0, 0)
    writer.flush()
    assert _read(writer.get_logdir()).Scalars("a")[0].value == 1.0
    writer.close()
    writer.add_scalar("a", 2.0, 1)       # logging after close opens a new event file
    writer.close()
    assert [e.value for e in _read(writer.get_logdir()).Scalars("a")] == [1.0, 2.0]
    assert len(os.listdir(writer.get_logdir())) == 2
    with pytest.raises(AttributeError, match="add_graph is not in chainrule"):
        writer.add_graph(None)


def test_purge_step_makes_tensorboard_drop_a_crashed_runs_later_steps(tmp_path):
    for order, (purge_step, steps, value) in enumerate([(None, range(10), 1.0), (5, (5, 6), 2.0)]):
        with SummaryWriter(tmp_path / "writing", purge_step=purge_step) as writer:
            for step in steps:
                writer.add_scalar("a", value, step)
        (written,) = (tmp_path / "writing").iterdir()   # file names sort by time: make the order certain
        written.rename(tmp_path / f"events.out.tfevents.000000000{order}.run")
        (tmp_path / "writing").rmdir()
    events = _read(tmp_path).Scalars("a")
    assert [(e.step, e.value) for e in events] == [(s, 1.0) for s in range(5)] + [(5, 2.0), (6, 2.0)]


def test_a_missing_tensorboard_names_the_extra(monkeypatch):
    for name in [m for m in sys.modules if m.startswith("chainrule.utils.tensorboard")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[tensorboard\]'"):
        importlib.import_module("chainrule.utils.tensorboard")
