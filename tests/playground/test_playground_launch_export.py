"""The launcher without the extra, and the exports: the save file loads into the rebuilt network."""

import sys

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
