"""``torch.backends.cudnn``: flags scripts set (kept, without effect) and "not available"."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version():
    return None
