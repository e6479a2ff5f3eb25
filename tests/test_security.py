"""Security: uploads are only ever decoded as images, limits hold, ids and settings are safe."""

from __future__ import annotations

import pickle
import tomllib

import numpy as np
import pytest

from cifar_core.constants import MAX_UPLOAD_MB
from cifar_core.images import ImageDecodeError, decode_image
from cifar_core.runs import RunStore, RunStoreError
from tests.conftest import REPO


class Boom:
    """Unpickling this would run code; decoding must never get there."""

    def __reduce__(self):
        return (pytest.fail, ("an uploaded pickle was unpickled",))


def test_a_pickle_upload_is_refused_without_unpickling():
    payload = pickle.dumps({"data": np.zeros(3), "evil": Boom()})
    with pytest.raises(ImageDecodeError, match="not an image"):
        decode_image(payload)


def test_a_keras_model_upload_is_refused(trained_store):
    run = trained_store.load(trained_store.list_runs()[0].run_id)
    with pytest.raises(ImageDecodeError):
        decode_image(run.read_bytes("model.keras"))  # a zip, not an image: never loaded


def test_oversized_uploads_are_refused_and_capped_in_config():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB  # Streamlit refuses bigger files
    with pytest.raises(ImageDecodeError, match="the limit is 10 MB"):
        decode_image(b"\x89PNG" + b"\0" * (MAX_UPLOAD_MB * 2**20 + 1))


def test_server_settings_keep_protections_on():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"].get("enableXsrfProtection", True) is True
    assert config["browser"]["gatherUsageStats"] is False


@pytest.mark.parametrize(
    "bad", ["../../etc", "..", "/tmp", "20260101-080000-abcdef/../x", "a" * 300]
)
def test_run_ids_cannot_escape_the_store(tmp_path, bad):
    store = RunStore(tmp_path / "runs")
    with pytest.raises(RunStoreError):
        store.load(bad)


def test_no_secrets_in_the_repo():
    tracked = [p for p in REPO.rglob("*") if p.is_file() and ".git" not in p.parts]
    assert not [p for p in tracked if p.name in ("secrets.toml", ".env", "credentials.json")]
