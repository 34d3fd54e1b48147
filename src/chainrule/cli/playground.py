"""``chainrule playground``: the neural-network playground in the browser (chainrule.playground;
its flags are ``playground.launch.add_arguments``). The server itself -- Starlette and uvicorn,
an optional extra -- is loaded by ``launch.serve`` when it starts."""

from __future__ import annotations

from chainrule.playground import launch


def run(args) -> int:
    return launch.serve(args.host, args.port, args.open, args.max_sessions, lang=args.lang)
