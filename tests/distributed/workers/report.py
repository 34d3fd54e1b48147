"""What every worker uses to hand its findings back: one JSON line per call, appended to this
rank's own file in the folder the test named (ranks share one stdout, where lines can interleave)."""

import json
import os
from pathlib import Path


def report(rank: int, **values) -> None:
    folder = Path(os.environ["CHAINRULE_TEST_RESULTS"])
    with open(folder / f"rank{rank}.jsonl", "a", encoding="utf-8") as file:
        file.write(json.dumps(values) + "\n")
