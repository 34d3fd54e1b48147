"""Summary protocol buffers for TensorBoard, built with the ``tensorboard`` package's own classes.

Each function returns one ``Summary`` (or several, for hparams) that a ``SummaryWriter`` wraps in
an ``Event`` and appends to an event file. Nothing here hand-writes protobuf bytes.

    scalar      a ``simple_value`` (TensorBoard's Scalars tab), or a 0-d tensor with new_style=True
    histogram   a ``HistogramProto``: min, max, count, sum, sum of squares, and buckets; bucket i
                counts the values v with  limit[i-1] < v <= limit[i]  (only right edges are stored,
                so the first stored bucket is an empty one carrying the left edge of the data)
    text        a string tensor for the Text plugin, under the tag ``<tag>/text_summary``
    hparams     the three summaries of the HParams plugin: experiment (which hyperparameters and
                metrics exist), session start (this run's values) and session end
"""

from __future__ import annotations

import math

from google.protobuf import struct_pb2  # protobuf's Value/ListValue, as the HParams protos use them
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.plugins.scalar import metadata as scalar_metadata
from tensorboard.plugins.text import metadata as text_metadata
from tensorboard.util import tensor_util

from ...backend import np
from ...errors import ArgumentError


def _values(values, what: str) -> np.ndarray:
    """Tensors, arrays, numbers and lists as a flat float64 array."""
    try:
        return np.asarray(getattr(values, "_data", values), dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ArgumentError(f"{what}: needs numbers (a tensor, an array or a Python number), "
                        f"got {type(values).__name__}") from None


def as_number(value, what: str) -> float:
    """A Python float from a number, a NumPy scalar or a one-element tensor/array."""
    array = _values(value, what)
    if array.size != 1:
        raise ArgumentError(f"{what}: needs a single number, got {array.size} values "
                         f"(shape {np.shape(getattr(value, '_data', value))})")
    return float(array[0])


def scalar(tag: str, value, new_style: bool = False, double_precision: bool = False) -> Summary:
    number = as_number(value, f"add_scalar({tag!r})")
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=number)])
    dtype = np.float64 if double_precision else np.float32
    tensor = tensor_util.make_tensor_proto(np.asarray(number, dtype=dtype))
    meta = scalar_metadata.create_summary_metadata(display_name="", description="")
    return Summary(value=[Summary.Value(tag=tag, tensor=tensor, metadata=meta)])


def tensorflow_bins() -> np.ndarray:
    """TensorBoard's default bucket edges: 0 and +-1e-12 * 1.1^k up to 1e20 (about 1,500 edges),
    fine near zero and relatively even in log scale everywhere else."""
    count = math.ceil(math.log(1e20 / 1e-12) / math.log(1.1))
    positive = 1e-12 * 1.1 ** np.arange(count)
    positive = positive[positive < 1e20]
    return np.concatenate([-positive[::-1], [0.0], positive])


def histogram(tag: str, values, bins="tensorflow", max_bins: int | None = None) -> Summary:
    """``bins``: 'tensorflow' (TensorBoard's default edges), a count, an edge array, or any NumPy
    rule ('auto', 'fd', ...); ``max_bins`` merges neighbouring buckets until at most that many."""
    where = f"add_histogram({tag!r})"
    data = _values(values, where)
    if data.size == 0:
        raise ArgumentError(f"{where}: the values are empty")
    if not np.isfinite(data).all():
        bad = int((~np.isfinite(data)).sum())
        raise ArgumentError(f"{where}: the values hold NaN or Inf ({bad} of {data.size})")
    edges_rule = tensorflow_bins() if isinstance(bins, str) and bins == "tensorflow" else bins
    counts, edges = np.histogram(data, bins=edges_rule)
    if max_bins is not None and len(counts) > max_bins:
        group = -(-len(counts) // max_bins)
        padded = np.concatenate([counts, np.zeros(-len(counts) % group, dtype=counts.dtype)])
        counts = padded.reshape(-1, group).sum(axis=1)
        edges = np.append(edges[:-1:group], edges[-1])
    filled = np.flatnonzero(counts)
    if filled.size == 0:
        raise ArgumentError(f"{where}: every value lies outside the bins {edges[0]:g} .. {edges[-1]:g}")
    first, last = int(filled[0]), int(filled[-1])
    limits = edges[first:last + 2]                              # left edge of the data, then right edges
    bucket = np.concatenate([[0], counts[first:last + 1]])      # an empty bucket ending at that left edge
    proto = HistogramProto(min=float(data.min()), max=float(data.max()), num=float(data.size),
                           sum=float(data.sum()), sum_squares=float(data @ data),
                           bucket_limit=limits.tolist(), bucket=bucket.astype(np.float64).tolist())
    return Summary(value=[Summary.Value(tag=tag, histo=proto)])


def text(tag: str, text_string: str) -> Summary:
    tensor = tensor_util.make_tensor_proto([str(text_string).encode("utf-8")], shape=(1,))
    meta = text_metadata.create_summary_metadata(display_name=None, description=None)
    return Summary(value=[Summary.Value(tag=f"{tag}/text_summary", metadata=meta, tensor=tensor)])


def _hparam_value(name: str, value):
    """The struct Value and the HParams data type of one hyperparameter value."""
    if isinstance(value, (bool, np.bool_)):
        return struct_pb2.Value(bool_value=bool(value)), api_pb2.DATA_TYPE_BOOL
    if isinstance(value, str):
        return struct_pb2.Value(string_value=value), api_pb2.DATA_TYPE_STRING
    try:
        return struct_pb2.Value(number_value=as_number(value, name)), api_pb2.DATA_TYPE_FLOAT64
    except (TypeError, ValueError):
        raise ArgumentError(f"add_hparams: hyperparameter {name!r} = {value!r}; a value must be an "
                            "int, float, str, bool or one-element tensor") from None


def _plugin_summary(tag: str, **content) -> Summary:
    meta = hparams_metadata.create_summary_metadata(plugin_data_pb2.HParamsPluginData(**content))
    return Summary(value=[Summary.Value(tag=tag, metadata=meta, tensor=hparams_metadata.NULL_TENSOR)])


def hparams(hparam_dict: dict, metric_dict: dict, hparam_domain_discrete: dict | None = None) -> tuple:
    """(experiment, session_start, session_end) summaries; ``metric_dict``'s keys are the scalar
    tags the HParams tab reads the metrics from."""
    if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
        raise ArgumentError("add_hparams: hparam_dict and metric_dict should be dictionaries")
    domains = hparam_domain_discrete or {}
    if not isinstance(domains, dict):
        raise ArgumentError("add_hparams: hparam_domain_discrete should be a dictionary")
    infos, start = [], plugin_data_pb2.SessionStartInfo()
    for name, value in hparam_dict.items():
        if value is None:
            continue
        proto_value, kind = _hparam_value(name, value)
        start.hparams[name].CopyFrom(proto_value)
        info = api_pb2.HParamInfo(name=name, type=kind)
        if name in domains:
            if not isinstance(domains[name], list):
                raise ArgumentError(f"add_hparams: hparam_domain_discrete[{name!r}] should be a list")
            info.domain_discrete.CopyFrom(struct_pb2.ListValue(
                values=[_hparam_value(name, choice)[0] for choice in domains[name]]))
        infos.append(info)
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=tag)) for tag in metric_dict]
    experiment = api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics)
    end = plugin_data_pb2.SessionEndInfo(status=api_pb2.STATUS_SUCCESS)
    return (_plugin_summary(hparams_metadata.EXPERIMENT_TAG, experiment=experiment),
            _plugin_summary(hparams_metadata.SESSION_START_INFO_TAG, session_start_info=start),
            _plugin_summary(hparams_metadata.SESSION_END_INFO_TAG, session_end_info=end))
