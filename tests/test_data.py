"""Data loading: the real sample, the local reader's edge cases, and Keras' download path."""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from cifar_core import data as D
from cifar_core.constants import CLASS_NAMES


def write_folder(folder: Path, rows: int = 7, *, str_keys: bool = False, **overrides) -> Path:
    """A tiny CIFAR-10 python-layout folder with `rows` rows per batch (hand-made pixels)."""
    folder.mkdir(parents=True, exist_ok=True)

    def key(k: str):
        return k if str_keys else k.encode()

    meta = {key("label_names"): [n if str_keys else n.encode() for n in CLASS_NAMES]}
    (folder / D.META_FILE).write_bytes(pickle.dumps(overrides.get("meta", meta)))
    for i, name in enumerate((*D.TRAIN_BATCHES, D.TEST_BATCH)):
        pixels = np.full((rows, 3072), i, dtype=np.uint8)
        pixels[:, 1024:2048] = 100  # the green plane
        batch = {key("data"): pixels, key("labels"): [r % 10 for r in range(rows)]}
        batch.update(overrides.get(name, {}))
        (folder / name).write_bytes(pickle.dumps(batch))
    return folder


def test_real_sample_loads_as_uint8(sample_data):
    assert sample_data.x_train.shape == (5085, 32, 32, 3)
    assert sample_data.x_test.shape == (1017, 32, 32, 3)
    assert sample_data.x_train.dtype == np.uint8
    assert sample_data.y_train.min() == 0 and sample_data.y_train.max() == 9
    assert sample_data.class_names == CLASS_NAMES
    # every class is present in the sample (83–120 per batch, says its README)
    assert np.bincount(sample_data.y_train, minlength=10).min() >= 5 * 83
    assert not sample_data.x_train.flags.writeable


def test_real_sample_pixels_are_channel_last(cifar_dir):
    raw = pickle.loads((cifar_dir / "data_batch_1").read_bytes(), encoding="bytes")
    images, labels = D.parse_batch((cifar_dir / "data_batch_1").read_bytes(), "data_batch_1")
    first = raw[b"data"][0]
    assert images[0, 0, 0, 0] == first[0]  # red of the top-left pixel
    assert images[0, 0, 0, 1] == first[1024]  # green
    assert images[0, 0, 1, 2] == first[2048 + 1]  # blue of the second pixel in row 0
    assert labels[0] == raw[b"labels"][0]


def test_any_row_count_and_str_keys(tmp_path):
    data = D.load_local(write_folder(tmp_path / "c", rows=3, str_keys=True))
    assert data.x_train.shape == (15, 32, 32, 3)
    assert data.x_test.shape == (3, 32, 32, 3)
    assert (data.x_train[..., 1] == 100).all()


def test_parent_folder_and_tarball(tmp_path):
    write_folder(tmp_path / "parent" / "cifar-10-batches-py")
    assert len(D.load_local(tmp_path / "parent").x_train) == 35
    tarball = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(tmp_path / "parent" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    data = D.load_local(tarball)
    assert data.x_test.shape == (7, 32, 32, 3)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"data_batch_2": {b"data": np.zeros((7, 100), np.uint8)}},
            "data_batch_2: 'data' must have shape",
        ),
        (
            {"data_batch_3": {b"data": np.zeros((7, 3072), np.float32)}},
            "data_batch_3: 'data' must be uint8",
        ),
        ({"test_batch": {b"labels": [12] * 7}}, "test_batch: labels must be 0–9"),
        ({"data_batch_1": {b"labels": [1, 2]}}, "data_batch_1: 7 images but labels"),
        (
            {"meta": {b"label_names": [b"a"] * 10}},
            "batches.meta: expected the 10 CIFAR-10 class names",
        ),
    ],
)
def test_invalid_files_are_named_in_the_error(tmp_path, overrides, expected):
    folder = write_folder(tmp_path / "bad", **overrides)
    with pytest.raises(D.DataError, match=expected):
        D.load_local(folder)


def test_missing_and_corrupt_files(tmp_path):
    folder = write_folder(tmp_path / "c")
    (folder / "data_batch_4").unlink()
    with pytest.raises(D.DataError, match="data_batch_4: file not found"):
        D.load_local(folder)
    (folder / "data_batch_4").write_bytes(b"not a pickle")
    with pytest.raises(D.DataError, match="data_batch_4: cannot be read"):
        D.load_local(folder)
    with pytest.raises(D.DataError, match="does not exist"):
        D.load_local(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(D.DataError, match="CIFAR10_DIR"):
        D.load_local(tmp_path / "empty")
    (tmp_path / "junk.tar.gz").write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(D.DataError, match="not a readable .tar.gz"):
        D.load_local(tmp_path / "junk.tar.gz")


def test_failed_download_names_the_offline_option(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    assert D.needs_download()

    def offline():
        raise OSError("[Errno -3] Temporary failure in name resolution")

    with pytest.raises(D.DataError) as info:
        D.load_keras(downloader=offline)
    message = str(info.value)  # for whoever runs the server: the raw error and the setting
    assert "Downloading CIFAR-10" in message and "name resolution" in message
    assert "CIFAR10_DIR" in message
    student = info.value.student  # for the page: neutral, nothing a student cannot act on
    assert "download" in student and "internet" in student
    assert "CIFAR10_DIR" not in student and "Errno" not in student
    assert "Offline? Whoever runs the app can set `CIFAR10_DIR`" in D.describe_source()


def test_a_failed_first_load_is_logged_for_the_operator(tmp_path, monkeypatch, caplog):
    # The default downloader is looked up when called, so replacing it reaches shared_data.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    monkeypatch.setattr(D, "_shared", {})
    calls = []

    def offline():
        calls.append(1)
        raise OSError("[Errno -2] Name or service not known")

    monkeypatch.setattr(D, "_keras_download", offline)
    with caplog.at_level("ERROR", logger="cifar_core.data"), pytest.raises(D.DataError):
        D.shared_data()
    assert calls == [1]
    (record,) = [r for r in caplog.records if r.name == "cifar_core.data"]
    assert record.levelname == "ERROR"
    assert "CIFAR10_DIR unset" in record.getMessage() and "[Errno -2]" in record.getMessage()
    assert "set the environment variable CIFAR10_DIR" in record.getMessage()
    assert not D.shared_data_ready()  # nothing half-loaded is kept: the next visit tries again


def test_local_file_errors_tell_students_only_to_ask(tmp_path):
    folder = write_folder(tmp_path / "c")
    (folder / "test_batch").unlink()
    with pytest.raises(D.DataError) as info:
        D.load_local(folder)
    assert "test_batch: file not found" in str(info.value)
    assert info.value.student == D.STUDENT_READ_FAILED
    assert "test_batch" not in info.value.student


def test_keras_download_result_is_used(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    x = np.zeros((4, 32, 32, 3), np.uint8)
    y = np.arange(4, dtype=np.uint8).reshape(-1, 1)  # Keras returns (N, 1) labels
    data = D.load_keras(downloader=lambda: ((x, y), (x[:2], y[:2])))
    assert data.y_train.tolist() == [0, 1, 2, 3] and data.y_test.shape == (2,)


def test_keras_cache_is_read_without_downloading(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    write_folder(D.keras_cache_folder())
    assert D.is_keras_cached() and not D.needs_download()

    def must_not_download():
        raise AssertionError("downloaded although the cache exists")

    assert len(D.load_keras(downloader=must_not_download).x_train) == 35


def test_load_cifar10_uses_env_and_is_read_only(cifar_dir, monkeypatch):
    monkeypatch.setenv("CIFAR10_DIR", str(cifar_dir))
    data = D.load_cifar10()
    assert not data.x_test.flags.writeable
    with pytest.raises(ValueError):
        data.x_test[0, 0, 0, 0] = 1
    assert str(cifar_dir) in D.describe_source()
