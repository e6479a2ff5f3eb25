"""Edge cases of cifar_core.data: exact error messages, the official pickles, tarball members,
Keras' download and cache (offline: the real sample in Keras' cache layout), the shared copy."""

from __future__ import annotations

import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest

from cifar_core import data as D
from cifar_core.constants import CLASS_NAMES
from tests.test_data import write_folder

LAYOUT = (
    "batches.meta, data_batch_1, data_batch_2, data_batch_3, data_batch_4, data_batch_5 "
    "and test_batch"
)


def rows(n: int = 7) -> np.ndarray:
    return np.zeros((n, 3072), np.uint8)


# --- broken files: the operator's message names the file and what is wrong -------------------


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("data_batch_1", {b"data": rows()}, "data_batch_1: the key 'labels' is missing."),
        ("data_batch_3", {b"labels": [0] * 7}, "data_batch_3: the key 'data' is missing."),
        ("data_batch_2", [1, 2, 3], "data_batch_2: expected a dict, found list."),
        (
            "test_batch",
            {b"data": rows(), b"labels": np.zeros(7)},
            "test_batch: labels must be integers, found dtype float64.",
        ),
        (
            "data_batch_5",
            {b"data": rows(), b"labels": [0, 1, 2, 3, 4, 5, 10]},
            "data_batch_5: labels must be 0–9, found values from 0 to 10.",
        ),
        (
            D.META_FILE,
            {b"names": list(CLASS_NAMES)},
            "batches.meta: the key 'label_names' is missing.",
        ),
        (D.META_FILE, ("airplane",), "batches.meta: expected a dict, found tuple."),
    ],
    ids=[
        "no-labels",
        "no-data",
        "not-a-dict",
        "float-labels",
        "label-10",
        "no-names",
        "meta-tuple",
    ],
)
def test_broken_files_are_named_with_what_is_wrong(tmp_path, name, content, expected):
    folder = write_folder(tmp_path / "c")
    (folder / name).write_bytes(pickle.dumps(content))
    with pytest.raises(D.DataError) as info:
        D.load_local(folder)
    assert str(info.value) == expected
    assert info.value.student == D.STUDENT_READ_FAILED


def test_a_damaged_meta_file_is_named(tmp_path):
    folder = write_folder(tmp_path / "c")
    (folder / D.META_FILE).write_bytes(b"\x80\x04 damaged")
    with pytest.raises(
        D.DataError, match=r"^batches\.meta: cannot be read as a CIFAR-10 pickle \("
    ):
        D.load_local(folder)


# --- the official files are Python 2 pickles --------------------------------------------------


class Python2Pickler(pickle._Pickler):  # type: ignore[name-defined]
    """Writes bytes as Python 2 `str` (BINSTRING), like the cPickle files on the CIFAR site."""

    dispatch = pickle._Pickler.dispatch.copy()  # type: ignore[attr-defined]

    def save_py2_str(self, obj: bytes) -> None:
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def python2_pickle(obj) -> bytes:
    out = io.BytesIO()
    Python2Pickler(out, protocol=2).dump(obj)
    return out.getvalue()


def test_official_python2_pickles_load(tmp_path, cifar_dir, sample_data):
    # The real sample, re-written as the dataset's authors wrote it (protocol 2, pixels and
    # keys as Python 2 str): only pickle's encoding="bytes" reads those pixel bytes.
    folder = tmp_path / "official"
    folder.mkdir()
    for name in (D.META_FILE, *D.TRAIN_BATCHES, D.TEST_BATCH):
        content = pickle.loads((cifar_dir / name).read_bytes(), encoding="bytes")
        raw = python2_pickle(content)
        assert pickle.BINSTRING in raw[:64] or pickle.SHORT_BINSTRING in raw[:64]
        (folder / name).write_bytes(raw)
    data = D.load_local(folder)
    np.testing.assert_array_equal(data.x_train, sample_data.x_train)
    np.testing.assert_array_equal(data.y_test, sample_data.y_test)
    assert data.class_names == CLASS_NAMES
    assert data.source == f"local files in {folder}"


# --- tarballs: only regular files are read ----------------------------------------------------


@pytest.mark.parametrize("kind", ["directory", "symlink"])
def test_a_tarball_member_that_is_not_a_file_counts_as_missing(tmp_path, kind):
    folder = write_folder(tmp_path / "cifar-10-batches-py")
    (folder / D.TEST_BATCH).unlink()
    tarball = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
        member = tarfile.TarInfo("cifar-10-batches-py/test_batch")
        if kind == "directory":
            member.type = tarfile.DIRTYPE
        else:  # a link to another member: never followed
            member.type, member.linkname = tarfile.SYMTYPE, "data_batch_1"
        tar.addfile(member)
    with pytest.raises(D.DataError) as info:
        D.load_local(tarball)
    assert str(info.value) == f"{tarball}: the archive has no test_batch. It must hold {LAYOUT}."


def test_tarball_source_is_named(tmp_path):
    folder = write_folder(tmp_path / "cifar-10-batches-py")
    tarball = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    data = D.load_local(tarball)
    assert data.source == f"local files in {tarball}" and len(data.x_train) == 35


# --- Keras' download and cache, offline --------------------------------------------------------


def copy_sample(cifar_dir: Path, target: Path) -> Path:
    """The real sample's six files copied into target (writable, unlike the shared sample)."""
    target.mkdir(parents=True)
    for source in cifar_dir.iterdir():
        (target / source.name).write_bytes(source.read_bytes())
    return target


@pytest.fixture()
def offline_keras(tmp_path, monkeypatch, cifar_dir):
    """An empty KERAS_HOME, no CIFAR10_DIR, no shared copy yet, and a stand-in for Keras'
    download: it "unpacks" the real sample where Keras would and returns the arrays the way
    keras.datasets.cifar10.load_data() does (channels-last views, (N, 1) uint8 labels).
    Yields the list of download calls."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    monkeypatch.setattr(D, "_shared", {})
    calls: list[int] = []

    def batch(folder: Path, name: str):
        content = pickle.loads((folder / name).read_bytes(), encoding="bytes")
        x = content[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return x, np.array(content[b"labels"], np.uint8).reshape(-1, 1)

    def keras_like_download():
        calls.append(1)
        cache = copy_sample(cifar_dir, D.keras_cache_folder())
        parts = [batch(cache, name) for name in D.TRAIN_BATCHES]
        x_train = np.concatenate([x for x, _ in parts])
        y_train = np.concatenate([y for _, y in parts])
        return (x_train, y_train), batch(cache, D.TEST_BATCH)

    monkeypatch.setattr(D, "_keras_download", keras_like_download)
    return calls


def assert_is_the_sample(data: D.Cifar10, sample: D.Cifar10) -> None:
    for got, want in zip(D._arrays(data)[:4], D._arrays(sample)[:4], strict=True):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype and got.shape == want.shape and got.flags.c_contiguous
    assert data.class_names == CLASS_NAMES


def test_first_use_downloads_through_keras_then_reads_its_cache(offline_keras, sample_data):
    home = D.keras_home()
    cache = home / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    assert D.keras_cache_folder() == cache
    assert D.needs_download() and not D.is_keras_cached()
    assert D.describe_source() == (
        f"Keras' download (~170 MB, once, on first use; then cached in `{home}`). "
        "Offline? Whoever runs the app can set `CIFAR10_DIR` (below)."
    )
    first = D.load_keras()
    assert offline_keras == [1]
    assert_is_the_sample(first, sample_data)
    assert first.y_train.dtype == np.int64 and first.y_train.shape == (5085,)
    assert first.source == f"Keras' download (keras.datasets.cifar10), cached in {home}"
    # The next start finds the cache: no download, same data.
    assert D.is_keras_cached() and not D.needs_download()
    assert D.describe_source() == f"Keras' cached download in `{cache}`."
    again = D.load_keras()
    assert offline_keras == [1]
    assert_is_the_sample(again, sample_data)
    assert again.source == f"Keras' cache in {cache}"


def test_keras_home_defaults_to_dot_keras_in_the_home_folder(
    offline_keras, tmp_path, monkeypatch, cifar_dir, sample_data
):
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "student"))
    assert D.keras_home() == tmp_path / "student" / ".keras"
    cache = tmp_path / "student/.keras/datasets/cifar-10-batches-py-target/cifar-10-batches-py"
    copy_sample(cifar_dir, cache)  # a download from an earlier run
    data = D.load_keras()
    assert offline_keras == []
    assert_is_the_sample(data, sample_data)
    assert data.source == f"Keras' cache in {cache}"


def test_a_failed_download_tells_the_operator_the_error_and_the_offline_setting(offline_keras):
    def offline():
        raise OSError("[Errno -3] Temporary failure in name resolution")

    with pytest.raises(D.DataError) as info:
        D.load_keras(downloader=offline)
    assert str(info.value) == (
        "Downloading CIFAR-10 (~170 MB) through Keras failed: OSError: [Errno -3] Temporary "
        "failure in name resolution. Check the server's internet connection, or work offline: "
        "download cifar-10-python.tar.gz once from https://www.cs.toronto.edu/~kriz/cifar.html, "
        "and set the environment variable CIFAR10_DIR to the .tar.gz file or to its unpacked "
        "'cifar-10-batches-py' folder."
    )
    assert info.value.student == D.STUDENT_DOWNLOAD_FAILED


# --- CIFAR10_DIR wins over Keras; the one shared copy ------------------------------------------


def test_cifar10_dir_is_used_and_nothing_is_downloaded(offline_keras, monkeypatch, cifar_dir):
    monkeypatch.setenv("CIFAR10_DIR", f"  {cifar_dir}  ")  # stray spaces from a .env file
    assert D.configured_dir() == str(cifar_dir)
    assert not D.needs_download() and not D.is_keras_cached()
    data = D.load_cifar10()
    assert offline_keras == [] and not D.is_keras_cached()
    assert data.source == f"local files in {cifar_dir}"
    assert len(data.x_train) == 5085 and not data.y_train.flags.writeable


def test_shared_data_is_loaded_once_per_source(offline_keras, monkeypatch, cifar_dir, tmp_path):
    monkeypatch.setenv("CIFAR10_DIR", str(cifar_dir))
    assert not D.shared_data_ready()
    first = D.shared_data()
    assert D.shared_data_ready()
    assert D.shared_data() is first  # no second load, every session shares one object
    assert first.source == f"local files in {cifar_dir}" and not first.x_train.flags.writeable
    # Another CIFAR10_DIR (a test, or a restart with another setting) gets its own data;
    # only one data set is kept in memory.
    other = write_folder(tmp_path / "other")
    monkeypatch.setenv("CIFAR10_DIR", str(other))
    assert not D.shared_data_ready()
    second = D.shared_data()
    assert len(second.x_train) == 35 and D.shared_data() is second
    assert list(D._shared) == [str(other)]
    assert offline_keras == []


def test_a_bad_cifar10_dir_is_logged_with_the_setting(offline_keras, monkeypatch, tmp_path, caplog):
    missing = tmp_path / "nowhere"
    monkeypatch.setenv("CIFAR10_DIR", str(missing))
    with caplog.at_level("ERROR", logger="cifar_core.data"), pytest.raises(D.DataError):
        D.shared_data()
    (record,) = [r for r in caplog.records if r.name == "cifar_core.data"]
    assert record.getMessage() == (
        f"CIFAR-10 could not be loaded (CIFAR10_DIR={missing}): "
        f"{missing}: does not exist. Check the CIFAR10_DIR setting."
    )
    assert not D.shared_data_ready() and offline_keras == []


class _Gadget:
    """A pickle that would run a command when loaded with plain pickle.load."""

    def __reduce__(self):
        import os

        return (os.system, ("echo pwned > /dev/null",))


@pytest.mark.parametrize("where", ["data", "labels"])
def test_a_tampered_batch_cannot_run_code(tmp_path, where):
    from tests.test_data import write_folder

    folder = write_folder(tmp_path / "cifar")
    batch = pickle.loads((folder / D.TRAIN_BATCHES[0]).read_bytes())
    batch[where.encode()] = _Gadget()
    (folder / D.TRAIN_BATCHES[0]).write_bytes(pickle.dumps(batch))
    with pytest.raises(D.DataError, match=r"refusing `(posix|nt|os)\.system`"):
        D.load_local(folder)
