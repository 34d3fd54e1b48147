"""Collectives on tensors, in place, with PyTorch's names (``torch.distributed``'s functions).

    all_reduce(t, op=ReduceOp.SUM)   every rank's t becomes  op(t_0, t_1, ..., t_{N-1})
                                     (SUM; AVG = SUM / N; MAX; MIN; PRODUCT), elementwise
    broadcast(t, src=0)              every rank's t becomes rank src's t
    all_gather(tensor_list, t)       tensor_list[r] becomes rank r's t, on every rank
    barrier()                        returns once every rank has called it

Each is an MPI non-blocking collective (``Iallreduce``, ``Ibcast``, ``Iallgather``,
``Ibarrier``) followed by a wait with a deadline (process_group.wait_all); ``async_op=True``
returns a ``Work`` to ``wait()`` on later instead. Every rank must call the same collectives in
the same order, as with any MPI program. These change ``t``'s values outside the graph (no
gradient flows through them; ``chainrule.distributed.functional.all_reduce`` is the
differentiable one).
"""

from __future__ import annotations

import json

from ..backend import np
from ..errors import ArgumentError, DTypeError
from ..tensor import Tensor
from .process_group import _World, check_group, require_group, wait_all


class ReduceOp:
    """How ``all_reduce`` combines the ranks' values: ``ReduceOp.SUM``, ``AVG``, ``MAX``, ``MIN``,
    ``PRODUCT`` (PyTorch's names)."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"<ReduceOp.{self.name}>"


ReduceOp.SUM, ReduceOp.AVG, ReduceOp.MAX = ReduceOp("SUM"), ReduceOp("AVG"), ReduceOp("MAX")
ReduceOp.MIN, ReduceOp.PRODUCT = ReduceOp("MIN"), ReduceOp("PRODUCT")
_MPI_OPS = {"SUM": "SUM", "AVG": "SUM", "MAX": "MAX", "MIN": "MIN", "PRODUCT": "PROD"}


class Work:
    """An operation in flight (``async_op=True``): ``wait()`` finishes it, ``is_completed()`` asks."""

    def __init__(self, requests: list, finish, what: str):
        self._requests, self._finish, self._what, self._done = requests, finish, what, False

    def is_completed(self) -> bool:
        return self._done or bool(_World.MPI.Request.Testall(self._requests))

    def wait(self, timeout=None) -> bool:
        """Finish the operation; ``timeout`` (a timedelta or seconds) overrides the group's."""
        if not self._done:
            seconds = timeout.total_seconds() if hasattr(timeout, "total_seconds") else timeout
            wait_all(self._requests, self._what, seconds)
            self._done = True
            if self._finish is not None:
                self._finish()
        return True


def _tensor(value, what: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise ArgumentError(f"{what}: expected a Tensor, got {type(value).__name__}")
    if value._data.dtype.kind not in "fiu" or value._data.dtype == np.float16:
        raise DTypeError(f"{what}: MPI cannot reduce or send {value.dtype} tensors here (use float32, "
                         "float64 or an integer dtype)")
    return value


def _contiguous(tensor: Tensor) -> np.ndarray:
    """The tensor's array if MPI can use its memory directly, else a contiguous copy."""
    array = tensor._data
    return array if array.flags.c_contiguous and array.flags.writeable else np.ascontiguousarray(array)


def _store(tensor: Tensor, array: np.ndarray) -> None:
    """Put the received values into the tensor (a no-op copy when MPI wrote into its memory)."""
    if array is not tensor._data:
        tensor._data[...] = array
    tensor._version += 1


def _run(requests, finish, what: str, async_op: bool):
    work = Work(requests, finish, what)
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(tensor: Tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Combine ``tensor`` across ranks, in place: afterwards every rank holds the same result."""
    tensor = _tensor(tensor, "all_reduce")
    what = f"all_reduce({op!r}) of a {tuple(tensor.shape)} tensor"
    if not isinstance(op, ReduceOp):
        raise ArgumentError(f"all_reduce: op must be a ReduceOp (ReduceOp.SUM, AVG, MAX, MIN, PRODUCT), "
                            f"got {op!r}")
    if op.name == "AVG" and tensor._data.dtype.kind != "f":
        raise DTypeError(f"all_reduce: ReduceOp.AVG needs a floating-point tensor, got {tensor.dtype}")
    comm, MPI = require_group("all_reduce"), _World.MPI
    check_group(group, "all_reduce")
    buffer = _contiguous(tensor)
    request = comm.Iallreduce(MPI.IN_PLACE, buffer, op=getattr(MPI, _MPI_OPS[op.name]))

    def finish():
        if op.name == "AVG":
            buffer[...] /= _World.size
        _store(tensor, buffer)
    return _run([request], finish, what, async_op)


def broadcast(tensor: Tensor, src: int = 0, group=None, async_op: bool = False, group_src=None):
    """Every rank's ``tensor`` becomes rank ``src``'s (shapes and dtypes must agree)."""
    src = src if group_src is None else group_src
    what = f"broadcast from rank {src}"
    tensor = _tensor(tensor, what)
    comm = require_group("broadcast")
    check_group(group, "broadcast")
    if not isinstance(src, (int, np.integer)) or not 0 <= src < _World.size:
        raise ArgumentError(f"broadcast: src must be a rank 0..{_World.size - 1}, got {src!r}")
    buffer = _contiguous(tensor)
    request = comm.Ibcast(buffer, root=int(src))
    return _run([request], lambda: _store(tensor, buffer), what, async_op)


def all_gather(tensor_list: list, tensor: Tensor, group=None, async_op: bool = False):
    """``tensor_list[r]`` becomes rank r's ``tensor`` (a list of world-size tensors of its shape)."""
    what = "all_gather"
    tensor = _tensor(tensor, what)
    comm = require_group(what)
    check_group(group, what)
    if not isinstance(tensor_list, (list, tuple)) or len(tensor_list) != _World.size:
        got = len(tensor_list) if isinstance(tensor_list, (list, tuple)) else repr(tensor_list)
        raise ArgumentError(f"all_gather: tensor_list must hold one tensor per rank ({_World.size}), "
                            f"got {got}")
    for i, out in enumerate(tensor_list):
        if not isinstance(out, Tensor) or out.shape != tensor.shape or out.dtype != tensor.dtype:
            got = getattr(out, "shape", out)
            raise ArgumentError(f"all_gather: tensor_list[{i}] must be a {tuple(tensor.shape)} "
                                f"{tensor.dtype} tensor like the one sent, got {got!r}")
    received = np.empty((_World.size,) + tuple(tensor.shape), dtype=tensor._data.dtype)
    request = comm.Iallgather(np.ascontiguousarray(tensor._data), received)

    def finish():
        for out, values in zip(tensor_list, received):
            _store(out, values)
    return _run([request], finish, what, async_op)


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Wait until every rank has reached this call."""
    comm = require_group("barrier")
    check_group(group, "barrier")
    return _run([comm.Ibarrier()], None, "barrier", async_op)


def all_gather_json(value, what: str) -> list:
    """Every rank's ``value`` (anything JSON can write), as a list indexed by rank: lengths first,
    then the bytes (Iallgather, Iallgatherv). chainrule's own checks use it (model signatures)."""
    comm, MPI = require_group(what), _World.MPI
    payload = np.frombuffer(json.dumps(value).encode("utf-8"), dtype=np.uint8)
    lengths = np.empty(_World.size, dtype=np.int64)
    request = comm.Iallgather(np.array([payload.size], dtype=np.int64), lengths)
    wait_all([request], what)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    received = np.empty(int(lengths.sum()), dtype=np.uint8)
    request = comm.Iallgatherv(payload, [received, lengths.tolist(), offsets.tolist(), MPI.BYTE])
    wait_all([request], what)
    return [json.loads(received[start:start + size].tobytes().decode("utf-8"))
            for start, size in zip(offsets.tolist(), lengths.tolist())]
