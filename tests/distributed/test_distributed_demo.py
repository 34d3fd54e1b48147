"""`chainrule distributed-demo`: it starts mpirun itself, trains the digits MLP on 2 ranks and
prints each rank's throughput; without MPI it says, in one line, what to install."""

import re
import sys

import pytest
from mpi_helpers import run_job
from tests.conftest import needs_mpi

from chainrule.cli import main
from chainrule.distributed import demo


@needs_mpi
def test_two_ranks_train_the_digits_and_report_each_ranks_throughput():
    pytest.importorskip("sklearn")
    job = run_job([sys.executable, "-m", "chainrule", "distributed-demo", "--ranks", "2", "--epochs", "2"],
                  timeout=300)
    assert job.returncode == 0, job.stdout
    out = job.stdout
    assert "2 ranks × batch 32 = global batch 64" in out
    for rank in (0, 1):
        found = re.search(rf"^rank {rank}: ([\d,]+) samples in [\d.]+ s = [\d,]+ samples/s \((\d+) steps\)",
                          out, re.MULTILINE)       # 674 digits per rank, 22 batches of 32, 2 epochs
        assert found and found.group(1) == "1,348" and found.group(2) == "44", out
    assert re.search(r"all 2 ranks: [\d,]+ samples/s together; test accuracy [\d.]+% \(450 digits\); "
                     r"parameters identical on every rank: yes", out), out
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", out).group(1))
    assert accuracy > 80.0


def test_without_an_mpi_launcher_it_names_the_package_in_one_line(monkeypatch, capsys):
    monkeypatch.setattr(demo, "launched_by_mpirun", lambda: False)
    monkeypatch.setattr(demo.process_group, "is_available", lambda: True)
    monkeypatch.setattr(demo, "find_mpirun", lambda: None)
    assert main(["distributed-demo"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("chainrule distributed-demo: error:")
    assert "apt-get install openmpi-bin libopenmpi-dev" in err


def test_without_mpi4py_it_names_the_extra(monkeypatch, capsys):
    monkeypatch.setattr(demo, "launched_by_mpirun", lambda: False)
    monkeypatch.setattr(demo.process_group, "is_available", lambda: False)
    assert main(["distributed-demo", "--ranks", "3"]) == 1
    assert "pip install chainrule[distributed]" in capsys.readouterr().err


def test_bad_flags_are_one_line_usage_errors(capsys):
    with pytest.raises(SystemExit) as done:
        main(["distributed-demo", "--ranks", "0"])
    assert done.value.code == 2
    assert "--ranks" in capsys.readouterr().err
