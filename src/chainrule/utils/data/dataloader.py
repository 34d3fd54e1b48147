"""``torch.utils.data.dataloader``: DataLoader and the collate functions it uses by default."""

from ...data.collate import default_collate, default_convert
from ...data.dataloader import DataLoader, get_worker_info

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]
