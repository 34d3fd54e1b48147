"""``torch.utils.data`` under chainrule: the classes of ``chainrule.data`` at PyTorch's module paths.

    from chainrule.utils.data import DataLoader, Dataset, TensorDataset, random_split
    from chainrule.utils.data.sampler import WeightedRandomSampler
    from chainrule.utils.data.dataloader import default_collate
    from chainrule.utils.data.distributed import DistributedSampler

Every name here is the same object as in ``chainrule.data`` (one implementation, two paths).
DataLoader reads in the calling process (no worker processes), see its docstring.
"""

from ...data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    DistributedSampler,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    StackDataset,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    get_worker_info,
    random_split,
)
from . import _utils, dataloader, dataset, distributed, sampler

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset",
           "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler", "default_collate",
           "default_convert", "get_worker_info", "random_split", "_utils", "dataloader", "dataset",
           "distributed", "sampler"]
