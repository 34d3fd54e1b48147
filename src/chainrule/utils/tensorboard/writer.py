"""SummaryWriter: PyTorch's ``torch.utils.tensorboard.SummaryWriter``, writing real event files.

The files are written by the ``tensorboard`` package's own ``EventFileWriter`` (the TFRecord
framing, CRCs and the background flush thread are TensorBoard's), so ``tensorboard --logdir runs``
shows them as it shows PyTorch's.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime

from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from . import summary as make


class FileWriter:
    """One event file in ``log_dir``: wraps summaries in Events (with step and wall time) and hands
    them to TensorBoard's ``EventFileWriter``, which writes them in the background."""

    def __init__(self, log_dir, max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = ""):
        self.event_writer = EventFileWriter(str(log_dir), max_queue, flush_secs, filename_suffix)

    def get_logdir(self) -> str:
        return self.event_writer.get_logdir()

    def add_event(self, event, step=None, walltime=None) -> None:
        event.wall_time = time.time() if walltime is None else float(walltime)
        if step is not None:
            event.step = int(getattr(step, "_data", step))
        self.event_writer.add_event(event)

    def add_summary(self, summary, global_step=None, walltime=None) -> None:
        self.add_event(Event(summary=summary), global_step, walltime)

    def flush(self) -> None:
        self.event_writer.flush()

    def close(self) -> None:
        self.event_writer.close()


class SummaryWriter:
    """Log scalars, histograms, text and hyperparameters for TensorBoard, as PyTorch's SummaryWriter.

        from chainrule.utils.tensorboard import SummaryWriter
        with SummaryWriter() as writer:                    # logs to runs/<date>_<host>
            for step in range(100):
                writer.add_scalar("loss/train", loss.item(), step)
                writer.add_histogram("fc1.weight", model.fc1.weight, step)
        # then: tensorboard --logdir runs

    log_dir          where the event files go (default ``runs/<Mon>DD_HH-MM-SS_<host><comment>``)
    comment          appended to the default log_dir (ignored when log_dir is given)
    purge_step       TensorBoard drops events of a crashed earlier run from this step on
    max_queue        events held in memory before a write;  flush_secs: seconds between flushes
    filename_suffix  appended to the event file's name

    Values may be chainrule tensors, NumPy arrays or Python numbers. Needs the optional
    ``tensorboard`` package (``pip install chainrule[tensorboard]``); TensorFlow is not needed.
    chainrule has add_scalar, add_scalars, add_histogram, add_text and add_hparams; PyTorch's
    add_image, add_figure, add_graph, add_embedding ... are not here.
    """

    def __init__(self, log_dir=None, comment: str = "", purge_step=None, max_queue: int = 10,
                 flush_secs: int = 120, filename_suffix: str = ""):
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer = None
        self.all_writers = None
        self._get_file_writer()

    def _get_file_writer(self) -> FileWriter:
        """The writer of ``log_dir``, opened again (a new event file) after ``close()``."""
        if self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                self.file_writer.add_event(Event(file_version="brain.Event:2"), self.purge_step)
                self.file_writer.add_event(Event(session_log=SessionLog(status=SessionLog.START)),
                                           self.purge_step)
                self.purge_step = None
        return self.file_writer

    def get_logdir(self) -> str:
        return self.log_dir

    def add_scalar(self, tag: str, scalar_value, global_step=None, walltime=None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        """One number (a float, or a one-element tensor such as ``loss``) at ``global_step``."""
        self._get_file_writer().add_summary(make.scalar(tag, scalar_value, new_style, double_precision),
                                            global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step=None, walltime=None) -> None:
        """Several numbers drawn in one chart: ``add_scalars('loss', {'train': 0.3, 'val': 0.4}, step)``.

        As in PyTorch, each key gets its own run directory ``<log_dir>/<main_tag>_<key>`` and the
        value is logged there under ``main_tag``.
        """
        writer = self._get_file_writer()
        for tag, value in tag_scalar_dict.items():
            run = os.path.join(writer.get_logdir(), f"{main_tag.replace('/', '_')}_{tag}")
            if run not in self.all_writers:
                self.all_writers[run] = FileWriter(run, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers[run].add_summary(make.scalar(main_tag, value), global_step, walltime)

    def add_histogram(self, tag: str, values, global_step=None, bins="tensorflow", walltime=None,
                      max_bins=None) -> None:
        """The distribution of ``values`` (any shape; a weight tensor, its gradient, activations).

        ``bins='tensorflow'`` uses TensorBoard's default exponential buckets; a count, an edge
        array or a NumPy rule name ('auto', 'fd', ...) goes to ``numpy.histogram``.
        """
        summary = make.histogram(tag, values, bins, max_bins)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_text(self, tag: str, text_string: str, global_step=None, walltime=None) -> None:
        """A string (Markdown in TensorBoard's Text tab), stored under ``<tag>/text_summary``."""
        self._get_file_writer().add_summary(make.text(tag, text_string), global_step, walltime)

    def add_hparams(self, hparam_dict: dict, metric_dict: dict, hparam_domain_discrete=None, run_name=None,
                    global_step=None) -> None:
        """One run's hyperparameters and final metrics for TensorBoard's HParams tab.

            writer.add_hparams({'lr': 0.01, 'batch_size': 64}, {'hparam/accuracy': 0.93})

        As in PyTorch, they go to a sub-run ``<log_dir>/<run_name>`` (default: the current time),
        with each metric also logged there as a scalar.
        """
        summaries = make.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        run = os.path.join(self._get_file_writer().get_logdir(), run_name or str(time.time()))
        with SummaryWriter(log_dir=run) as run_writer:
            for proto in summaries:
                run_writer.file_writer.add_summary(proto, global_step)
            for tag, value in metric_dict.items():
                run_writer.add_scalar(tag, value, global_step)

    def flush(self) -> None:
        """Write everything pending to disk now."""
        for writer in (self.all_writers or {}).values():
            writer.flush()

    def close(self) -> None:
        """Flush and close the event files; logging again afterwards opens a new file."""
        for writer in (self.all_writers or {}).values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __getattr__(self, name: str):
        if name.startswith("add_"):
            raise AttributeError(f"SummaryWriter.{name} is not in chainrule; it has add_scalar, add_scalars, "
                                 "add_histogram, add_text and add_hparams")
        raise AttributeError(f"'SummaryWriter' object has no attribute {name!r}")
