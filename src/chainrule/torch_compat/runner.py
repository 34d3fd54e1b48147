"""``chainrule run script.py [args]``: run a PyTorch script, unchanged, on chainrule.

The script runs as ``python script.py args`` would run it: ``__name__ == "__main__"``,
``sys.argv == [script.py, *args]``, its folder first on ``sys.path``; only ``import torch``
differs (hook.py). The exit status is the script's. When the script reaches a PyTorch name
chainrule lacks, one line names it (``torch.nn.functional.grid_sample is not supported by
chainrule yet``) and the status is 1; ``--traceback`` shows where. A missing method or attribute
of a chainrule object (``x.stft(...)`` on a Tensor) is reported the same way, by its torch name.
Any other error prints Python's traceback, starting at the script's own frames.
"""

from __future__ import annotations

import os
import runpy
import sys
import traceback
from pathlib import Path

from ..locale import _
from .hook import UnsupportedTorchAPI, torch_as_chainrule

TORCH_PACKAGES = {  # where a chainrule class lives -> the torch spelling of its package
    "chainrule.tensor": "torch", "chainrule.nn": "torch.nn", "chainrule.optim.lr_scheduler":
    "torch.optim.lr_scheduler", "chainrule.optim": "torch.optim", "chainrule.data": "torch.utils.data",
    "chainrule.utils.data": "torch.utils.data", "chainrule.utils.tensorboard": "torch.utils.tensorboard",
    "chainrule.device": "torch", "chainrule.backend": "torch",
}


def torch_name_of_missing_attribute(err: AttributeError) -> str | None:
    """``torch.Tensor.stft`` for an AttributeError raised by a chainrule object of a chainrule
    class (not a script's own subclass, whose missing attribute is the script's bug)."""
    obj, name = getattr(err, "obj", None), getattr(err, "name", None)
    if obj is None or not name:
        return None
    cls = obj if isinstance(obj, type) else type(obj)
    module = getattr(cls, "__module__", "") or ""
    for prefix, torch_package in sorted(TORCH_PACKAGES.items(), key=lambda item: -len(item[0])):
        if module == prefix or module.startswith(prefix + "."):
            return f"{torch_package}.{cls.__name__}.{name}"
    return None


def _script_frames(tb, script: str):
    """The traceback from the script's first frame on (runpy's and ours left out)."""
    start = tb
    while start is not None and os.path.abspath(start.tb_frame.f_code.co_filename) != script:
        start = start.tb_next
    return start if start is not None else tb


def run_script(script, args=(), show_traceback: bool = False) -> int:
    """Run ``script`` with ``args`` under the torch hook; the exit status."""
    path = os.path.abspath(str(script))
    if not Path(path).is_file():
        print(_("chainrule run: {script}: no such file").format(script=script), file=sys.stderr)
        return 2
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [str(script), *args]
    sys.path.insert(0, os.path.dirname(path))
    try:
        with torch_as_chainrule():
            runpy.run_path(path, run_name="__main__")
        return 0
    except SystemExit as stop:
        return _exit_status(stop.code)
    except UnsupportedTorchAPI as err:
        return _unsupported(err.api, err, path, show_traceback)
    except AttributeError as err:
        api = torch_name_of_missing_attribute(err)
        if api is None:
            return _crashed(err, path)
        return _unsupported(api, err, path, show_traceback)
    except KeyboardInterrupt:
        print(_("chainrule run: interrupted"), file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the script's own error, shown as Python would
        return _crashed(err, path)
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path


def _exit_status(code) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _unsupported(api: str, err: BaseException, path: str, show_traceback: bool) -> int:
    if show_traceback:
        traceback.print_exception(type(err), err, _script_frames(err.__traceback__, path))
    print(_("chainrule run: {api} is not supported by chainrule yet").format(api=api), file=sys.stderr)
    return 1


def _crashed(err: BaseException, path: str) -> int:
    traceback.print_exception(type(err), err, _script_frames(err.__traceback__, path))
    return 1
