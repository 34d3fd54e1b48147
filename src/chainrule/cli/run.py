"""``chainrule run script.py [args]``: a PyTorch script, unchanged, with chainrule as torch
(chainrule.torch_compat). ``parser.split_run_arguments`` has already kept the script's own
arguments away from chainrule's parser."""

from __future__ import annotations

from chainrule.torch_compat import run_script


def run(args) -> int:
    return run_script(args.script, args.script_args, args.traceback)
