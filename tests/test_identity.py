"""Whose runs: the per-browser key (format, validation, hash, label) and the run store's owners.

Core tests, no Streamlit and no training: the key is user input (a cookie), so only its exact
shape passes; owners.json is an untrusted file like every other file of a run.
"""

from __future__ import annotations

import json
import re

import pytest

from cifar_core import identity as I
from cifar_core import runs as R
from cifar_core.training import TrainConfig, TrainingJob
from tests.test_runs import make_run, settle

RUN_ID = "20260101-080000-aaaaaa"


# --- The key ------------------------------------------------------------------------------------


def test_a_new_key_is_random_url_safe_and_valid():
    keys = {I.new_key() for _ in range(50)}
    assert len(keys) == 50
    for key in keys:
        assert I.valid_key(key) == key and len(key) == 32
        assert re.fullmatch(r"[A-Za-z0-9_-]+", key)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        42,
        b"A" * 32,
        ["A" * 32],
        "A" * 31,  # one short
        "A" * 33,  # one long
        "A" * 31 + "=",  # base64 padding is not URL-safe token output
        "A" * 31 + ".",
        "A" * 31 + " ",
        " " + "A" * 31,
        "A" * 31 + "\n",  # re.match's $ would let a trailing newline through
        "A" * 30 + '";',  # a quote could break out of the cookie script
        "A" * 31 + "é",
        "Ａ" * 32,  # full-width letters are letters to str.isalnum, not to the key
        "A" * 10_000,
    ],
)
def test_anything_but_the_exact_key_shape_is_refused(value):
    assert I.valid_key(value) is None


def test_the_owner_hash_is_one_way_stable_and_refuses_a_bad_key():
    key = I.new_key()
    owner = I.owner_hash(key)
    assert owner == I.owner_hash(key) and I.valid_owner_hash(owner) == owner
    assert key not in owner and len(owner) == 32
    assert I.owner_hash(I.new_key()) != owner
    with pytest.raises(ValueError):
        I.owner_hash("not a key")


def test_the_label_is_anonymous_stable_and_readable():
    owner = I.owner_hash(I.new_key())
    label = I.owner_label(owner)
    assert label == I.owner_label(owner)
    assert re.fullmatch(r"Student [A-HJKMNP-Z2-9]{4}", label)
    labels = {I.owner_label(I.owner_hash(I.new_key())) for _ in range(30)}
    assert len(labels) >= 29  # a class of 30 almost never shares one
    assert I.owner_label("../../etc/passwd") == "Unknown student"
    assert I.owner_label("A" * 32) == "Unknown student"  # upper-case hex is not a hash


def test_the_cookie_is_long_lived_lax_and_site_wide():
    key = I.new_key()
    text = I.cookie_assignment(key)
    assert text.startswith(f"{I.COOKIE_NAME}={key};")
    assert "; Path=/" in text and "; SameSite=Lax" in text and "Secure" not in text
    max_age = int(re.search(r"Max-Age=(\d+)", text).group(1))
    assert max_age >= 365 * 24 * 3600
    assert I.cookie_assignment(key, secure=True).endswith("; Secure")
    with pytest.raises(ValueError):
        I.cookie_assignment('x"; alert(1); "')


# --- The run store's owners ---------------------------------------------------------------------


def owned(store: R.RunStore) -> tuple[frozenset[str], str, str]:
    (info,) = store.list_runs()
    return info.owners, info.owner_problem, info.status


def test_a_run_without_owners_is_nobodys(tmp_store):
    make_run(tmp_store, RUN_ID)  # as saved before runs had owners
    assert owned(tmp_store) == (frozenset(), "", "finished")


def test_owners_are_merged_and_listed(tmp_store):
    make_run(tmp_store, RUN_ID)
    alice, bob = (I.owner_hash(I.new_key()) for _ in range(2))
    tmp_store.add_owners(RUN_ID, [alice])
    tmp_store.add_owners(RUN_ID, [bob, alice])  # bob joins; alice again changes nothing
    assert owned(tmp_store) == (frozenset({alice, bob}), "", "finished")
    saved = json.loads((tmp_store.path(RUN_ID) / R.OWNERS_FILE).read_text())
    assert saved == {"owners": sorted([alice, bob])}
    key = I.new_key()
    tmp_store.add_owners(RUN_ID, [I.owner_hash(key)])
    assert key not in (tmp_store.path(RUN_ID) / R.OWNERS_FILE).read_text()  # never the raw key


def test_only_owner_hashes_can_be_recorded(tmp_store):
    make_run(tmp_store, RUN_ID)
    with pytest.raises(ValueError):
        tmp_store.add_owners(RUN_ID, [I.new_key()])  # the raw key, not its hash
    assert not (tmp_store.path(RUN_ID) / R.OWNERS_FILE).exists()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"owners": "abc"}', "owners.json: \"owners\" is 'abc', not a list"),
        (b'{"owners": [42]}', 'owners.json: "owners" holds 42, not an owner hash'),
        (b'{"owners": ["../x"]}', "owners.json: \"owners\" holds '../x', not an owner hash"),
        (b'{"owners": [null]}', 'owners.json: "owners" holds None, not an owner hash'),
        (b'["0123456789abcdef0123456789abcdef"]', "owners.json holds a list, not an object"),
        (b'{"owners": [', "owners.json is not valid JSON, cut short or garbled"),
        (b"\xff\xfe", "owners.json is not UTF-8 text (bad byte at 0)"),
        (b"", "owners.json is empty"),
    ],
)
def test_a_bad_owners_file_makes_the_run_nobodys_not_damaged(tmp_store, content, problem):
    make_run(tmp_store, RUN_ID)
    (tmp_store.path(RUN_ID) / R.OWNERS_FILE).write_bytes(content)
    owners, owner_problem, status = owned(tmp_store)
    assert owners == frozenset() and status == "finished"  # its results are fine
    assert owner_problem.startswith(problem)
    assert tmp_store.load(RUN_ID).result["test_accuracy"] == 0.5  # still opens
    # Joining replaces the bad file (it counted as nobody's anyway).
    alice = I.owner_hash(I.new_key())
    tmp_store.add_owners(RUN_ID, [alice])
    assert owned(tmp_store)[:2] == (frozenset({alice}), "")


def test_an_owners_folder_or_a_damaged_run_never_breaks_the_list(tmp_store):
    make_run(tmp_store, RUN_ID)
    alice = I.owner_hash(I.new_key())
    tmp_store.add_owners(RUN_ID, [alice])
    (tmp_store.path(RUN_ID) / R.CONFIG_FILE).write_text("{")  # the run itself is damaged
    owners, _problem, status = owned(tmp_store)
    assert status == R.DAMAGED and owners == {alice}  # its owner still sees it, as damaged
    (tmp_store.path(RUN_ID) / R.OWNERS_FILE).unlink()
    (tmp_store.path(RUN_ID) / R.OWNERS_FILE).mkdir()
    owners, owner_problem, _status = owned(tmp_store)
    assert owners == frozenset() and owner_problem == "owners.json is a folder, not a file"


def test_a_changed_owners_file_is_read_again(tmp_store):
    make_run(tmp_store, RUN_ID)
    settle(tmp_store.path(RUN_ID))
    assert owned(tmp_store)[0] == frozenset()  # cached now
    alice = I.owner_hash(I.new_key())
    tmp_store.add_owners(RUN_ID, [alice])
    assert owned(tmp_store)[0] == {alice}


def test_a_job_records_its_owners_with_its_folder_and_after(tmp_store, sample_data):
    job = TrainingJob(
        TrainConfig(model="shallow", train_size=200, epochs=1), sample_data, tmp_store
    )
    alice, bob = (I.owner_hash(I.new_key()) for _ in range(2))
    job.add_owner(alice)  # asked while queued: no folder yet
    job.run_id = RUN_ID
    tmp_store.create(RUN_ID, job.config.to_dict())
    job._save_owners()  # what the job does right after creating its folder
    job.add_owner(bob)  # joined while running (or after)
    assert owned(tmp_store)[0] == {alice, bob}
