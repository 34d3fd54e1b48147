"""The playground's second download: the trained weights as a .safetensors file that chainrule
and PyTorch both load (the API route, and the link on the page in a real browser)."""

import time

import numpy as np
import pytest
from tests.conftest import needs_chromium

import chainrule as cr
from chainrule.serialization import safetensors_format

pytest.importorskip("safetensors")
pytest.importorskip("starlette", reason="the playground extra (starlette) is not installed")
pytest.importorskip("httpx", reason="httpx (for Starlette's TestClient) is not installed")

from starlette.testclient import TestClient  # noqa: E402

from chainrule.playground.network import build_model  # noqa: E402
from chainrule.playground.server import create_app  # noqa: E402
from chainrule.playground.sessions import SessionStore  # noqa: E402


@pytest.fixture
def client():
    with TestClient(create_app(SessionStore(max_sessions=4, idle_seconds=60)),
                    base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def _trained_session(client):
    settings = {"hidden": [4, 3], "batch_norm": True, "activation": "tanh"}
    sid = client.post("/api/sessions", json={"settings": settings}).json()["id"]
    client.post(f"/api/sessions/{sid}/step", json={"epochs": 2})
    deadline = time.monotonic() + 60           # the steps run on the trainer thread: wait until done
    while client.get(f"/api/sessions/{sid}/state").json()["epoch"] < 2:
        assert time.monotonic() < deadline, "the two epochs did not finish"
        time.sleep(0.05)
    return sid


def test_the_safetensors_download_holds_the_same_weights_as_the_native_one(client, tmp_path):
    sid = _trained_session(client)
    response = client.get(f"/api/sessions/{sid}/export/safetensors")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"] == 'attachment; filename="playground_model.safetensors"'
    (tmp_path / "model.safetensors").write_bytes(response.content)
    (tmp_path / "model.crt").write_bytes(client.get(f"/api/sessions/{sid}/export/model").content)
    ours, native = cr.load(tmp_path / "model.safetensors"), cr.load(tmp_path / "model.crt")
    assert set(ours) == set(native) and any(key.endswith("num_batches_tracked") for key in ours)
    for key in native:
        np.testing.assert_array_equal(ours[key].numpy(), native[key].numpy(), err_msg=key, strict=True)
    model = build_model(client.get(f"/api/sessions/{sid}/state").json()["settings"])
    model.load_state_dict(ours)


def test_pytorch_reads_the_download(client, tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    sid = _trained_session(client)
    path = tmp_path / "model.safetensors"
    path.write_bytes(client.get(f"/api/sessions/{sid}/export/safetensors").content)
    state = safetensors_torch.load_file(str(path))
    assert state["0.0.weight"].dtype.is_floating_point and state["0.0.weight"].shape[0] == 4


def test_without_the_package_the_route_answers_501_naming_it(client, monkeypatch):
    sid = _trained_session(client)
    monkeypatch.setattr(safetensors_format, "safetensors_numpy", None)
    response = client.get(f"/api/sessions/{sid}/export/safetensors")
    assert response.status_code == 501
    assert "pip install" in response.json()["error"]
    assert client.get(f"/api/sessions/{sid}/export/model").status_code == 200


def test_unknown_export_names_the_three(client):
    sid = _trained_session(client)
    response = client.get(f"/api/sessions/{sid}/export/onnx")
    assert response.status_code == 404 and "model, safetensors or code" in response.json()["error"]


@needs_chromium
def test_the_page_offers_the_safetensors_download(tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    from tests.playground.playground_helpers import LiveServer, checked_page, chromium_context, wait_js

    with LiveServer(max_sessions=2) as server, chromium_context(playwright_api) as context, \
            checked_page(context) as page:
        page.goto(f"{server.url}/?hidden=3")
        page.wait_for_selector(".node canvas")
        wait_js(page, "document.body.dataset.epoch !== undefined")
        with page.expect_download() as download:
            page.click("#export_safetensors")
        assert download.value.suggested_filename == "playground_model.safetensors"
        loaded = cr.load(download.value.path())
        assert "0.0.weight" in loaded or "0.weight" in loaded
