"""chainrule.utils.data has torch.utils.data's module paths, and every name is chainrule.data's object."""

import importlib

import pytest

import chainrule as cr

PATHS = {
    "chainrule.utils.data": ["DataLoader", "Dataset", "IterableDataset", "TensorDataset", "Subset",
                             "ConcatDataset", "ChainDataset", "StackDataset", "random_split", "Sampler",
                             "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
                             "WeightedRandomSampler", "BatchSampler", "default_collate", "default_convert",
                             "get_worker_info"],
    "chainrule.utils.data.dataloader": ["DataLoader", "default_collate", "default_convert",
                                        "get_worker_info"],
    "chainrule.utils.data.dataset": ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
                                     "ChainDataset", "StackDataset", "random_split"],
    "chainrule.utils.data.sampler": ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
                                     "WeightedRandomSampler", "BatchSampler"],
    "chainrule.utils.data._utils.collate": ["default_collate", "default_convert", "collate",
                                            "default_collate_fn_map", "collate_tensor_fn"],
}


@pytest.mark.parametrize("module", list(PATHS))
def test_torch_module_paths_hold_chainrule_data_objects(module):
    loaded = importlib.import_module(module)
    for name in PATHS[module]:
        home = importlib.import_module("chainrule.data.collate") if module.endswith("collate") else cr.data
        assert getattr(loaded, name) is getattr(home, name), f"{module}.{name}"


def test_torch_style_imports():
    from chainrule.utils.data import DataLoader, Dataset, TensorDataset, random_split  # noqa: F401
    from chainrule.utils.data.dataloader import DataLoader as Loader
    from chainrule.utils.data.sampler import WeightedRandomSampler
    assert Loader is cr.data.DataLoader and WeightedRandomSampler is cr.data.WeightedRandomSampler
    assert cr.utils.data.default_collate is cr.utils.data._utils.collate.default_collate
    assert cr.utils.data.get_worker_info() is None
    assert cr.data.make_moons is not None     # the generated problems stay in chainrule.data


def test_every_public_torch_name_we_promise_exists():
    torch_data = pytest.importorskip("torch.utils.data")
    not_here = {"DFIterDataPipe", "DataChunk", "IterDataPipe", "MapDataPipe", "DistributedSampler",
                "_DatasetKind", "argument_validation", "functional_datapipe",
                "guaranteed_datapipes_determinism", "non_deterministic", "runtime_validation",
                "runtime_validation_disabled"}
    missing = [name for name in torch_data.__all__
               if name not in not_here and not hasattr(cr.utils.data, name)]
    assert missing == []
