"""harness/st_client.py: the light Streamlit client behaves like the frontend it stands in for.

Message handling is checked on hand-made ForwardMsgs (no server); one slow test opens the
Train page of the real app over the websocket.
"""

from __future__ import annotations

import asyncio

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from harness.st_client import FINISHED, FRAGMENT_FINISHED, ClientError, ForwardMsgCache, StClient


class FakeSocket:
    """Records what the client sends."""

    def __init__(self) -> None:
        self.sent: list[BackMsg] = []

    async def send(self, payload: bytes) -> None:
        msg = BackMsg()
        msg.ParseFromString(payload)
        self.sent.append(msg)


def new_session(run: str, fragments: tuple[str, ...] = (), page_hash: str = "main") -> ForwardMsg:
    msg = ForwardMsg()
    msg.metadata.run.script_run_id = run
    msg.metadata.run.fragment_ids.extend(fragments)
    msg.new_session.page_script_hash = page_hash
    msg.new_session.config.max_cached_message_age = 2
    return msg


def markdown(path: tuple[int, ...], body: str, fragment: str = "") -> ForwardMsg:
    msg = ForwardMsg()
    msg.metadata.delta_path.extend(path)
    msg.delta.new_element.markdown.body = body
    if fragment:
        msg.delta.fragment_id = fragment
    return msg


def finished(run: str, fragments: tuple[str, ...] = ()) -> ForwardMsg:
    msg = ForwardMsg()
    msg.metadata.run.script_run_id = run
    msg.metadata.run.fragment_ids.extend(fragments)
    msg.script_finished = FRAGMENT_FINISHED if fragments else FINISHED
    return msg


def feed(client: StClient, *msgs: ForwardMsg) -> None:
    for msg in msgs:  # as the reader does
        client._handle(msg)
        client._check_waiters()


def test_page_tree_in_document_order_and_stale_elements_dropped_like_the_frontend():
    c = StClient("http://x", "train")
    feed(c, new_session("r1"), markdown((0, 1), "second"), markdown((0, 0), "first"))
    feed(c, markdown((0, 2), "live", fragment="f"), finished("r1"))
    assert c.texts() == ["first", "second", "live"] and c.idle
    # a fragment run redraws only its own elements; stale ones of that fragment go
    feed(
        c,
        new_session("r2", ("f",)),
        markdown((0, 2), "live 2", fragment="f"),
        finished("r2", ("f",)),
    )
    assert c.texts() == ["first", "second", "live 2"]
    # a full run that no longer draws (0, 1) drops it when it finishes
    feed(c, new_session("r3"), markdown((0, 0), "first"), markdown((0, 2), "end"))
    assert "second" in c.texts()  # still on screen while the run goes on
    feed(c, finished("r3"))
    assert c.texts() == ["first", "end"]


def test_navigation_sets_the_page_hash_that_later_reruns_send():
    c = StClient("http://x", "train")
    nav = ForwardMsg()
    nav.navigation.page_script_hash = "train-hash"
    feed(c, new_session("r1", page_hash="app-hash"), nav, new_session("r2", page_hash="app-hash"))
    assert c.page_script_hash == "train-hash"


def test_cache_reports_big_messages_resolves_references_and_expires_unused_ones():
    c = StClient("http://x", "train")
    big = markdown((0, 0), "x" * 100)
    big.hash, big.metadata.cacheable = "h1", True
    feed(c, new_session("r1"), big, finished("r1"))
    assert c.cache.hashes() == ["h1"]
    ref = ForwardMsg()
    ref.ref_hash = "h1"
    ref.metadata.delta_path.extend([0, 3])
    feed(c, new_session("r2"), ref, finished("r2"))
    assert c.find(type="markdown")[0].path == (0, 3) and c.stats.refs_in == 1
    for run in ("r3", "r4", "r5"):  # age > max_cached_message_age (2) without use
        feed(c, new_session(run), finished(run))
    assert c.cache.hashes() == []


def test_cache_fragment_runs_age_only_their_own_entries():
    cache = ForwardMsgCache()
    for hash_, fragment in (("a", ""), ("b", "f")):
        msg = markdown((0, 0), "x", fragment=fragment)
        msg.hash, msg.metadata.cacheable = hash_, True
        cache.maybe_cache(msg)
    for _ in range(3):
        cache.increment_run_count(2, ["f"])
    assert cache.hashes() == ["a"]


def test_backmsgs_match_what_the_frontend_sends():
    async def scenario() -> list[BackMsg]:
        c = StClient("http://127.0.0.1:1", "train", query_string="a=1")
        c._ws = FakeSocket()
        await c._send_rerun(page_name="train", first=True)
        nav = ForwardMsg()
        nav.navigation.page_script_hash = "train-hash"
        button = ForwardMsg()
        button.metadata.delta_path.extend([0, 8])
        button.delta.new_element.button.id = "$$ID-abc-train_start"
        feed(c, new_session("r1"), nav, button, finished("r1"))
        await c.click("train_start")
        auto = ForwardMsg()
        auto.auto_rerun.interval, auto.auto_rerun.fragment_id = 0.05, "frag"
        feed(c, auto)
        await asyncio.sleep(0.13)  # two ticks of the fragment's timer
        feed(c, new_session("r2"))  # a full run stops every timer, as in the frontend
        await asyncio.sleep(0.1)
        return c._ws.sent

    first, click, *autos = asyncio.run(scenario())
    r = first.rerun_script
    assert r.page_name == "train" and not r.page_script_hash and r.query_string == "a=1"
    assert first.rerun_script.HasField("widget_states") and not r.widget_states.widgets
    assert r.context_info.url == "http://127.0.0.1:1/train?a=1"
    r = click.rerun_script
    assert r.page_script_hash == "train-hash" and not r.fragment_id and not r.is_auto_rerun
    [state] = r.widget_states.widgets
    assert state.id == "$$ID-abc-train_start" and state.trigger_value
    assert len(autos) == 2
    assert all(a.rerun_script.fragment_id == "frag" and a.rerun_script.is_auto_rerun for a in autos)
    assert all(not a.rerun_script.widget_states.widgets for a in autos)  # triggers are one-shot


def test_timed_waits_for_the_run_the_action_asked_for_and_reports_page_exceptions():
    async def scenario() -> tuple[float, BackMsg, str]:
        c = StClient("http://x", "augmentation_lab")
        c._ws = FakeSocket()
        slider = ForwardMsg()
        slider.metadata.delta_path.extend([0, 1])
        slider.delta.new_element.slider.id = "$$ID-abc-aug_rotation_range"
        feed(c, new_session("r1"), slider, finished("r1"))
        move = c.set_widget("aug_rotation_range", double_array_value={"data": [15.0]})
        task = asyncio.create_task(c.timed(move, timeout=5))
        await asyncio.sleep(0.05)
        feed(c, new_session("f1", ("frag",)), finished("f1", ("frag",)))  # a poll: not it
        assert not task.done()
        feed(c, new_session("r2"), slider, finished("r2"))
        seconds = await task
        raised = ForwardMsg()
        raised.metadata.delta_path.extend([0, 2])
        raised.delta.new_element.exception.type = "ValueError"
        task = asyncio.create_task(c.timed(c.set_widget("aug_rotation_range"), timeout=5))
        await asyncio.sleep(0.05)
        feed(c, new_session("r3"), raised)
        try:
            await task
        except ClientError as exc:
            return seconds, c._ws.sent[0], str(exc)
        raise AssertionError("no ClientError for the page's exception")

    seconds, sent, error = asyncio.run(scenario())
    assert 0.04 < seconds < 1
    [state] = sent.rerun_script.widget_states.widgets
    assert list(state.double_array_value.data) == [15.0]
    assert "ValueError" in error


@pytest.mark.slow
def test_opens_the_train_page_of_the_real_app_over_the_websocket(tmp_path):
    from harness.browser import streamlit_process
    from harness.sample import sample_dir

    async def open_train(base_url: str) -> StClient:
        async with StClient(base_url, "train") as c:
            await c.wait_rendered(120)
            return c

    env = {"CIFAR10_DIR": str(sample_dir()), "CIFAR_RUNS_DIR": str(tmp_path / "runs")}
    with streamlit_process(env) as (base_url, _proc):
        c = asyncio.run(open_train(base_url))
    assert not c.errors and not c.exceptions, (c.errors, c.exceptions)
    assert c.find(type="heading")[0].text.startswith("Train")
    assert c.find(key="train_start") and c.stats.msgs_in > 10 and c.stats.full_reruns == 1
