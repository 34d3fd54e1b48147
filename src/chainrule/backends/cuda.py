"""``torch.backends.cuda``: the switches scripts flip before training (nanoGPT's
``torch.backends.cuda.matmul.allow_tf32 = True``), kept without effect; CUDA is not built in."""

from types import SimpleNamespace

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)


def is_built() -> bool:
    return False


def flash_sdp_enabled() -> bool:
    return False


def mem_efficient_sdp_enabled() -> bool:
    return False


def math_sdp_enabled() -> bool:
    return True
