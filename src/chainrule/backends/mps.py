"""``torch.backends.mps``: Apple's GPU backend is never available to chainrule."""


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False
