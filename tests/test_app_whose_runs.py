"""AppTest of whose runs a student sees: their own and the shared runs they joined, nobody else's.

Several sessions in this process with different per-browser keys (as different students'
browsers) and one runs folder. The runs are written straight into the store (no training):
what is tested is the listing, on every page that lists runs, and the path by which a
session that joins a shared run becomes one of its owners.
"""

from __future__ import annotations

import json

import pytest

import cifar_core.training.queue as jobs_module
from cifar_core.identity import new_key, owner_hash
from cifar_core.runs import OWNERS_FILE, RESULT_FILE, RunStore
from cifar_core.training import TrainingJob
from cifar_core.training.monitor import FINISHED
from cifar_core.training.queue import JobManager, wait_for
from tests.conftest import open_app
from tests.test_runs import full_result, make_run
from ui.common import JOB_KEY, OWNER_KEY

ALICE_RUN = "20260101-080000-aaaaaa"
BOB_RUN = "20260101-090000-bbbbbb"
SHARED_RUN = "20260101-100000-cccccc"
OLD_RUN = "20260101-110000-dddddd"  # saved before runs had owners: the newest of all


@pytest.fixture()
def classroom(app_env):
    """Alice's and Bob's keys; a run of each, one they share, and one from before owners."""
    store = RunStore(app_env)
    alice, bob = new_key(), new_key()
    for hour, (run_id, keys) in enumerate(
        [(ALICE_RUN, [alice]), (BOB_RUN, [bob]), (SHARED_RUN, [alice, bob]), (OLD_RUN, [])]
    ):
        make_run(store, run_id, created=1_767_254_400.0 + 3600 * hour)
        if keys:
            store.add_owners(run_id, [owner_hash(k) for k in keys])
    return alice, bob


def student(key: str, page: str):
    at = open_app(page, session_state={OWNER_KEY: key})
    assert not at.exception, at.exception
    return at


def offered(at, key: str) -> list[str] | None:
    """The run ids a run picker offers, in its order (None: the page shows no such picker).

    AppTest gives a select box's options as their labels; every run's label is distinct here
    (its creation time), so the store's labels map them back to ids.
    """
    boxes = [box for box in at.selectbox if box.key == key]
    if not boxes:
        return None
    ids = {info.label: info.run_id for info in RunStore().list_runs()}
    return [ids[label] for label in boxes[0].options]


def train_runs(at) -> list[str] | None:
    return offered(at, "train_run_picker")


def test_each_student_sees_their_runs_and_the_shared_one_never_anothers(classroom):
    alice, bob = classroom
    at = student(alice, "pages/train.py")
    assert train_runs(at) == [SHARED_RUN, ALICE_RUN]  # newest first; OLD_RUN is newer still
    assert at.selectbox(key="train_run_picker").value == SHARED_RUN
    assert train_runs(student(bob, "pages/train.py")) == [SHARED_RUN, BOB_RUN]

    # Bias & privacy: "Which of your saved runs?" offers only hers.
    at = student(alice, "pages/bias_privacy.py")
    assert offered(at, "bp_run") == [SHARED_RUN, ALICE_RUN]

    # Shallow vs deep: both pickers offer only Bob's runs (the verdict's seeds come from them).
    at = student(bob, "pages/shallow_vs_deep.py")
    assert offered(at, "svd_run_a") == offered(at, "svd_run_b") == [SHARED_RUN, BOB_RUN]


def test_a_new_student_and_a_run_from_before_owners(classroom):
    newcomer = new_key()
    at = student(newcomer, "pages/train.py")
    assert train_runs(at) is None
    assert any("No saved runs yet" in c.value for c in at.caption)
    at = student(newcomer, "pages/bias_privacy.py")
    assert offered(at, "bp_run") is None
    at = student(newcomer, "pages/shallow_vs_deep.py")
    assert offered(at, "svd_run_a") is None
    assert any("No finished runs to compare yet" in i.value for i in at.info)


class InstantJob(TrainingJob):
    """A job that "trains" at once: its folder, owners and result as a real job saves them."""

    def _run(self) -> None:
        self.run_id = self.store.new_run_id()
        self.store.create(self.run_id, self.config.to_dict())
        self._save_owners()
        self.monitor.set_run_id(self.run_id)
        self.store.write_json(self.run_id, RESULT_FILE, full_result(0.5))
        self.store.set_status(self.run_id, FINISHED)
        self.monitor.set_status(FINISHED)


def test_joining_a_shared_run_makes_it_the_joiners_too(app_env, monkeypatch):
    monkeypatch.setattr(jobs_module, "_shared_manager", JobManager(1))
    monkeypatch.setattr(jobs_module, "TrainingJob", InstantJob)
    alice, bob, carol = new_key(), new_key(), new_key()
    first = student(alice, "pages/train.py")
    first.button(key="train_start").click().run()
    job = first.session_state[JOB_KEY]
    assert wait_for(job, 30) and job.monitor.snapshot().status == FINISHED
    first.run()
    assert len(train_runs(first)) == 1

    second = student(bob, "pages/train.py")  # the same default settings: the same run
    assert train_runs(second) is None  # not his before he asks for it
    second.button(key="train_start").click().run()
    assert not second.exception, second.exception
    assert second.session_state[JOB_KEY] is job
    assert any("you joined that run" in t.value for t in second.toast)
    assert len(train_runs(second)) == 1 and train_runs(second) == train_runs(first)

    owners = json.loads((app_env / job.run_id / OWNERS_FILE).read_text())["owners"]
    assert sorted(owners) == sorted([owner_hash(alice), owner_hash(bob)])
    assert alice not in json.dumps(owners) and bob not in json.dumps(owners)  # hashes only
    assert train_runs(student(carol, "pages/train.py")) is None  # a third student: not hers
