"""``torch.utils.data.distributed``: DistributedSampler, each rank's share of a dataset."""

from ...data.distributed import DistributedSampler

__all__ = ["DistributedSampler"]
