"""Checkpoints in data-parallel training: one writer, an atomic file, and everyone waits for it.

Every rank holds the same parameters after each step, so one copy is enough, and N processes
writing one path at once would race. The pattern:

    dist.save_on_rank0({"model": model.module.state_dict(), "optimizer": optimizer.state_dict(),
                        "epoch": epoch}, "checkpoint.crz")

- only rank 0 writes; ``cr.save`` writes to a temporary file beside the target, flushes it to
  disk and renames it over the target, so a crash (or an MPI_Abort) mid-write leaves the previous
  checkpoint whole, never half a file;
- then every rank waits at a barrier, so that no rank reads the file (to resume, or to evaluate)
  before it is complete;
- save ``model.module.state_dict()`` (the unwrapped model) to load it later without DDP.

To resume, every rank loads the same file: ``state = cr.load(path)`` and
``model.load_state_dict(state["model"])`` (before wrapping, or into ``model.module``).
"""

from __future__ import annotations

from ..serialization import save
from .collectives import barrier
from .process_group import get_rank, is_initialized


def save_on_rank0(obj, path) -> bool:
    """``cr.save(obj, path)`` on rank 0 only, then a barrier; True on the rank that wrote.

    Without a process group (a plain single-process run) it just saves."""
    if not is_initialized():
        save(obj, path)
        return True
    wrote = get_rank() == 0
    if wrote:
        save(obj, path)
    barrier()
    return wrote
