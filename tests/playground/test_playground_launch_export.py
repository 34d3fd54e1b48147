"""The launcher without the extra, and the exports: the save file loads into the rebuilt network."""

import socket
import subprocess
import sys

import pytest

import chainrule as cr
from chainrule.playground import launch
from chainrule.playground.network import build_model


def test_missing_extra_prints_one_line_and_fails(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # importing it now raises ImportError
    assert launch.serve() != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install chainrule[playground]" in err


def test_exported_model_loads_into_the_network_the_code_builds(client, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the exported script saves its own file
    settings = {"hidden": [4, 4], "residual": True, "batch_norm": True, "activation": "relu"}
    sid = client.post("/api/sessions", json={"settings": settings}).json()["id"]
    client.post(f"/api/sessions/{sid}/step", json={"epochs": 2})
    blob = client.get(f"/api/sessions/{sid}/export/model")
    assert blob.status_code == 200
    path = tmp_path / "model.crt"
    path.write_bytes(blob.content)
    state = client.get(f"/api/sessions/{sid}/state").json()
    model = build_model(state["settings"])
    model.load_state_dict(cr.load(str(path)))
    code = client.get(f"/api/sessions/{sid}/export/code").text
    assert "nn.Residual(nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.ReLU()))" in code
    namespace = {}
    exec(compile(code.replace("for epoch in range(", "for epoch in range(0 * "), "train.py", "exec"),
         namespace)  # rebuild only (no epochs), in a scratch directory
    namespace["model"].load_state_dict(cr.load(str(path)))


# --- the command line: bad ports, busy ports, the allowed hosts -----------------------------------
def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "chainrule", "playground", *args], capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("args", [["--port", "99999"], ["--port", "-1"], ["--port", "http"],
                                  ["--max-sessions", "0"], ["--host", "no-such-host.invalid"],
                                  ["--host", "10.255.255.1"]])
def test_bad_ports_and_hosts_print_one_line_and_exit_2(args):
    result = run_cli(*args)
    assert result.returncode == 2, result
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "http://" not in result.stdout


def test_a_busy_port_says_so_and_suggests_another_before_any_url():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("--port", str(port))
    assert result.returncode == 1
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and f"port {port}" in line and "taken" in line
    assert "--port 0" in line and "Traceback" not in line
    assert result.stdout == ""   # no URL was announced


def test_free_port_near_skips_the_taken_one():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(launch.BindError, match=r"try --port \d+ \(free now\) or --port 0"):
            launch.bind("127.0.0.1", port)
        near = launch.free_port_near("127.0.0.1", port - 1)
        assert near is not None and near != port


def test_serve_announces_the_real_port_and_answers_its_host(monkeypatch, capsys):
    """--host 127.0.0.2 (a loopback address that is not in the default list) and --port 0."""
    uvicorn = pytest.importorskip("uvicorn")
    from starlette.testclient import TestClient

    captured = {}

    def fake_run(self, sockets=None):
        captured["app"], captured["port"] = self.config.app, sockets[0].getsockname()[1]
        captured["limits"] = self.config.http
    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    assert launch.serve(host="127.0.0.2", port=0) == 0
    port = captured["port"]
    assert port != 0 and f"http://127.0.0.2:{port}/" in capsys.readouterr().out
    assert captured["limits"].max_connections >= 128
    with TestClient(captured["app"], base_url=f"http://127.0.0.2:{port}") as client:
        assert client.get("/").status_code == 200
        assert client.post("/api/sessions", json={}).status_code == 201
        assert client.get("/", headers={"host": "evil.example"}).status_code == 400


def test_page_url_brackets_ipv6_and_shows_loopback_for_wildcards():
    assert launch.page_url("::1", 8000) == "http://[::1]:8000/"
    assert launch.page_url("0.0.0.0", 8000) == "http://127.0.0.1:8000/"
    assert launch.page_url("localhost", 0) == "http://localhost:0/"
