"""A light client of Streamlit's own protocol: one app session without a browser.

Thirty Chromium tabs on 2 cores measure Chromium; thirty of these measure the server. Each
`StClient` is one Streamlit session, talking to `ws://host:port/_stcore/stream` exactly as the
frontend of the installed Streamlit (1.67; read from its static/js bundle and checked against
the frames a real Chromium tab sends, captured with Playwright) does:

* Before the socket, GET /_stcore/health and /_stcore/host-config (the frontend's ping).
* Socket: subprotocol "streamlit", no Origin and no cookies: the server only checks XSRF
  (`server.enableXsrfProtection`) when a browser sends an Origin, and then only to read the
  auth cookie; an app session needs neither. permessage-deflate is offered, as Chromium
  does; the server accepts it only with `server.enableWebsocketCompression` (default off),
  so neither a tab nor this client gets compressed frames.
* The first BackMsg is `rerun_script` with empty widget_states, `page_name` = the URL path
  ("train"; "" for home), the query string, and context_info (timezone, locale, url, …); no
  page_script_hash. Later reruns send the current page's script hash: with st.navigation
  that is `Navigation.page_script_hash` (NewSession's is app.py's own hash, and sending it
  lands on the default page).
* A click is a full `rerun_script` whose widget_states hold `trigger_value: true` for the
  button's widget id (the element id ending in "-<key>", e.g. "$$ID-…-train_start"), plus
  the widget values this client set; a widget inside a fragment sends that fragment_id.
  The real frontend sends the current value of EVERY widget on the page with each rerun;
  this client sends only those it set: the server keeps the others in its session state, so
  the script sees the same values (the bench checks the config the run was trained with).
* `st.fragment(run_every=…)`: the server sends a ForwardMsg `auto_rerun {interval,
  fragment_id}` in each full run that draws the fragment; the FRONTEND then sends, every
  `interval` seconds on a fixed timer (setInterval, whether or not a run is in progress),
  `rerun_script {fragment_id, is_auto_rerun: true, page_script_hash, …}`. The timers stop on
  `stop_auto_rerun`, and all of them on the NewSession of a full run (the fragment, if still
  drawn, re-registers itself in that run). This client does the same, so it polls like a tab.
* ForwardMsg cache: a delta of ≥ `global.minCachedMessageSize` (10 kB) is flagged
  `metadata.cacheable`; the frontend keeps it by hash and lists the hashes it holds in
  `cached_message_hashes` of every rerun; the server then sends a `ref_hash` message instead
  of a delta the client already has. Entries expire after `max_cached_message_age` (2)
  finished runs without use (for a fragment run: only entries of that fragment). A client
  that reports no cache simply gets every message in full (more bytes, the same script work);
  this one keeps the cache like the frontend and resolves `ref_hash` messages from it.
* Images (`st.image`) arrive as /media/… URLs that the browser GETs; so does this client,
  once per URL. Static files (the frontend's JS/CSS, fetched once per tab) are not fetched.

The client keeps the page as a tree of elements by delta path (document order), removes
stale ones when a run finishes as the frontend does, and counts messages and bytes each way.

    async with StClient(base_url, "train") as c:        # connects, opens /train
        await c.wait_rendered()
        await c.click("train_start")
        t = await c.wait_for(lambda c: c.find(type="metric", text="Test accuracy"))
        print(c.stats)

`timed` measures what a student waits for after an action: from the click or the slider move
until the server finished the run it asked for, e.g.

    rotate = c.set_widget("aug_rotation_range", double_array_value={"data": [15.0]})
    seconds = await c.timed(rotate)                     # a slider sends a list of floats

`run_in_loop` runs many clients from synchronous code (e.g. next to Playwright's sync API).

`TabFrames` counts a Chromium tab's websocket frames (Playwright) the way `Stats` counts this
client's, to compare the two. Evidence that the client loads the server like a tab:
`python -m bench.st_client_check`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from google.protobuf.message import Message
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

T = TypeVar("T")

STREAM_PATH = "/_stcore/stream"
FINISHED = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_SUCCESSFULLY")
FRAGMENT_FINISHED = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_FRAGMENT_RUN_SUCCESSFULLY")
EARLY_FOR_RERUN = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_EARLY_FOR_RERUN")
DEFAULT_MAX_CACHED_AGE = 2  # global.maxCachedMessageAge; NewSession.config overrides it
CONTEXT = {"timezone": "UTC", "timezone_offset": 0, "locale": "en-US", "color_scheme": "light"}
TEXT_FIELDS = ("body", "label", "text", "title", "caption")


class ClientError(RuntimeError):
    """The session could not do what was asked (no such widget, connection lost, timeout)."""


@dataclass
class Node:
    """One element or block of the page, at its delta path."""

    path: tuple[int, ...]
    kind: str  # "element", "block" or "transient"
    type: str  # e.g. "markdown", "progress", "vega_lite_chart", "flex_container"
    proto: Message | None  # the Element (or Block) message
    fragment_id: str
    run_id: str

    @property
    def inner(self) -> Message | None:
        """The element's own message, e.g. the Markdown of a markdown element."""
        return getattr(self.proto, self.type) if self.proto is not None and self.type else None

    @property
    def text(self) -> str:
        """What a student reads on it: body / label / text / value (joined)."""
        inner = self.inner
        if inner is None:
            return ""
        parts = []
        for name in (*TEXT_FIELDS, "value") if self.type == "metric" else TEXT_FIELDS:
            if name in inner.DESCRIPTOR.fields_by_name:
                value = getattr(inner, name)
                if isinstance(value, str) and value:
                    parts.append(value)
        if self.type == "imgs":
            parts += [img.caption for img in inner.imgs if img.caption]
        return "\n".join(parts)

    @property
    def widget_id(self) -> str:
        inner = self.inner
        if inner is not None and "id" in inner.DESCRIPTOR.fields_by_name:
            return str(inner.id)
        return ""


@dataclass
class Stats:
    """What went over the socket (and HTTP) for one session."""

    msgs_in: int = 0
    bytes_in: int = 0
    msgs_out: int = 0
    bytes_out: int = 0
    full_reruns: int = 0  # rerun BackMsgs without fragment id (open, clicks)
    auto_reruns: int = 0  # fragment reruns sent on the auto-rerun timer
    runs_finished: int = 0  # script runs the server finished for us (full + fragment)
    fragment_runs: int = 0
    refs_in: int = 0  # ref_hash messages (resolved from the cache)
    media_gets: int = 0
    media_bytes: int = 0
    by_type: dict[str, int] = field(default_factory=dict)

    def copy(self) -> Stats:
        return Stats(**{**self.__dict__, "by_type": dict(self.by_type)})

    def minus(self, other: Stats) -> Stats:
        """Counts since `other` (an earlier copy)."""
        diff = {k: v - getattr(other, k) for k, v in self.__dict__.items() if k != "by_type"}
        types = {k: v - other.by_type.get(k, 0) for k, v in self.by_type.items()}
        return Stats(**diff, by_type={k: v for k, v in types.items() if v})


class ForwardMsgCache:
    """The frontend's ForwardMessageCache: cacheable messages by hash, aged by finished runs."""

    def __init__(self) -> None:
        self.messages: dict[str, tuple[ForwardMsg, int, str]] = {}  # hash → msg, run, fragment
        self.run_count = 0

    def maybe_cache(self, msg: ForwardMsg) -> None:
        if msg.WhichOneof("type") == "ref_hash" or not msg.metadata.cacheable or not msg.hash:
            return
        if self.get(msg.hash) is None:
            fragment = msg.delta.fragment_id if msg.HasField("delta") else ""
            self.messages[msg.hash] = (msg, self.run_count, fragment)

    def get(self, hash_: str) -> ForwardMsg | None:
        """The cached message (and, as the frontend does, mark it used in this run)."""
        entry = self.messages.get(hash_)
        if entry is None:
            return None
        self.messages[hash_] = (entry[0], self.run_count, entry[2])
        return entry[0]

    def increment_run_count(self, max_age: int, fragment_ids: list[str]) -> None:
        self.run_count += 1
        for hash_, (_msg, run, fragment) in list(self.messages.items()):
            if fragment_ids and (not fragment or fragment not in fragment_ids):
                continue
            if self.run_count - run > max_age:
                del self.messages[hash_]

    def hashes(self) -> list[str]:
        return list(self.messages)


class StClient:
    """One Streamlit session over the websocket, behaving like the frontend (see module doc).

    Args:
        base_url: "http://127.0.0.1:<port>".
        url_path: the page to open, as in the browser's URL ("train"; "" for home).
        query_string: the URL's query string without "?".
        follow_auto_reruns: answer `auto_rerun` like a tab (False: a session that never polls).
        fetch_media: GET the /media/ URLs of images, as a browser does.
        name: for messages.
    """

    def __init__(
        self,
        base_url: str,
        url_path: str = "",
        *,
        query_string: str = "",
        follow_auto_reruns: bool = True,
        fetch_media: bool = True,
        name: str = "client",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.url_path = url_path.strip("/")
        self.query_string = query_string
        self.follow_auto_reruns = follow_auto_reruns
        self.fetch_media = fetch_media
        self.name = name
        self.stats = Stats()
        self.nodes: dict[tuple[int, ...], Node] = {}
        self.cache = ForwardMsgCache()
        self.session_id = ""
        self.page_script_hash = ""
        self.run_id = ""
        self.fragment_ids_this_run: list[str] = []
        self.script_running = False
        self.full_runs_done = 0  # full script runs finished successfully
        self.runs_done: dict[str, int] = {}  # successful finishes by scope: "" full, else fragment
        self._asked_scope = ""  # the scope of the last rerun this client asked for (not auto)
        self.last_finish = -1
        self.max_cached_age = DEFAULT_MAX_CACHED_AGE
        self.widget_values: dict[str, WidgetState] = {}  # values this client set
        self.exceptions: list[str] = []
        self.errors: list[str] = []
        self.extensions = ""  # the negotiated websocket extensions
        self._ws: Any = None
        self._reader: asyncio.Task | None = None
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}  # fragment → interval, task
        self._media_seen: set[str] = set()
        self._media_tasks: set[asyncio.Task] = set()
        self._waiters: list[tuple[Callable[[StClient], Any], asyncio.Future]] = []
        self._closed = False
        self._navigation_seen = False

    # --- connection -------------------------------------------------------------------------

    async def __aenter__(self) -> StClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def page_url(self) -> str:
        query = f"?{self.query_string}" if self.query_string else ""
        return f"{self.base_url}/{self.url_path}{query}"

    async def connect(self, timeout: float = 30.0) -> None:
        """Ping the server as the frontend does, open the socket, request the page's first run."""
        from websockets.asyncio.client import connect

        for endpoint in ("health", "host-config"):
            await asyncio.to_thread(self._get, f"{self.base_url}/_stcore/{endpoint}")
        ws_url = "ws" + self.base_url[len("http") :] + STREAM_PATH
        self._ws = await connect(
            ws_url,
            subprotocols=["streamlit"],
            compression="deflate",  # Chromium offers permessage-deflate too
            max_size=None,
            ping_interval=None,  # the server pings; the library answers
            open_timeout=timeout,
            proxy=None,
        )
        self.extensions = self._ws.response.headers.get("Sec-WebSocket-Extensions", "")
        self._reader = asyncio.create_task(self._read_loop(), name=f"{self.name}-reader")
        await self._send_rerun(page_name=self.url_path, first=True)

    async def close(self) -> None:
        """Stop the timers and close the socket (the server then ends the session)."""
        self._closed = True
        for _, task in self._timers.values():
            task.cancel()
        self._timers.clear()
        for task in list(self._media_tasks):
            task.cancel()
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(), 5)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        self._fail_waiters(ClientError(f"{self.name}: closed"))

    # --- what the page shows ------------------------------------------------------------------

    def elements(self) -> list[Node]:
        """Every element and block of the page, in document order."""
        return [self.nodes[p] for p in sorted(self.nodes)]

    def find(
        self, type: str | None = None, text: str | None = None, key: str | None = None
    ) -> list[Node]:  # noqa: A002
        """Elements of a type (e.g. "progress"), whose text contains `text`, with widget `key`."""
        return [
            n
            for n in self.elements()
            if n.kind == "element"
            and (type is None or n.type == type)
            and (text is None or text in n.text)
            and (key is None or n.widget_id.endswith(f"-{key}"))
        ]

    def texts(self) -> list[str]:
        return [n.text for n in self.elements() if n.text]

    def section(self, heading: str, until: str | None = None) -> list[Node]:
        """Elements after the main-area heading that starts with `heading`, up to `until`."""
        out, inside = [], False
        for node in self.elements():
            if node.path[:1] != (0,):
                continue
            if node.type == "heading":
                if node.text.startswith(heading):
                    inside = True
                    continue
                if inside and until is not None and node.text.startswith(until):
                    break
            if inside:
                out.append(node)
        return out

    @property
    def idle(self) -> bool:
        """A full run finished and nothing runs now (what `stApp` "notRunning" means)."""
        return self.full_runs_done > 0 and not self.script_running

    # --- waiting ----------------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[StClient], Any], timeout: float = 60.0) -> float:
        """Wait until predicate(self) is true (checked after every message); returns time.time().

        Raises:
            ClientError: on timeout or a lost connection.
        """
        if predicate(self):
            return time.time()
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        entry = (predicate, future)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            shown = " | ".join(t.replace("\n", " ")[:80] for t in self.texts()[-6:])
            raise ClientError(
                f"{self.name}: timed out after {timeout:.0f} s; running={self.script_running} "
                f"errors={self.errors} exceptions={self.exceptions}; page ends: {shown}"
            ) from None
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    async def wait_rendered(self, timeout: float = 120.0) -> float:
        """Until the first full run of the page finished (the page is on screen)."""
        return await self.wait_for(lambda c: c.idle, timeout)

    async def timed(self, action: Awaitable[Any], timeout: float = 120.0) -> float:
        """Seconds from `action` (a click or set_widget) until the run it asked for finished.

        That run is the next successful finish of the same scope: the full page, or the widget's
        fragment when the widget is in one (a fixed-rate auto rerun of that very fragment
        finishing first would count). The clock starts before the BackMsg is sent.

        Raises:
            ClientError: on timeout, a lost connection, or an exception the page drew meanwhile.
        """
        done, exceptions = dict(self.runs_done), len(self.exceptions)
        start = time.time()
        await action
        scope = self._asked_scope
        end = await self.wait_for(
            lambda c: (
                c.runs_done.get(scope, 0) > done.get(scope, 0) or len(c.exceptions) > exceptions
            ),
            timeout,
        )
        if len(self.exceptions) > exceptions:
            raise ClientError(f"{self.name}: the page raised: {self.exceptions[exceptions:]}")
        return end - start

    def _check_waiters(self) -> None:
        now = time.time()
        for predicate, future in list(self._waiters):
            if future.done():
                continue
            try:
                if predicate(self):
                    future.set_result(now)
            except Exception as exc:  # noqa: BLE001 — a predicate bug goes to the waiter
                future.set_exception(exc)

    def _fail_waiters(self, exc: Exception) -> None:
        for _, future in self._waiters:
            if not future.done():
                future.set_exception(exc)

    # --- acting -----------------------------------------------------------------------------

    async def click(self, key: str) -> float:
        """Press the button with this key; returns time.time() when the BackMsg was sent."""
        node = self._widget(key)
        if getattr(node.inner, "disabled", False):
            shown = " | ".join(t.replace("\n", " ")[:100] for t in self.texts()[-4:])
            raise ClientError(f"{self.name}: the button {key!r} is disabled; page ends: {shown}")
        trigger = WidgetState(id=node.widget_id, trigger_value=True)
        await self._send_rerun(extra=[trigger], fragment_id=node.fragment_id)
        return time.time()

    async def set_widget(self, key: str, **value: Any) -> None:
        """Set a widget's value, e.g. set_widget("train_seed", int_value=7); reruns like a change."""
        node = self._widget(key)
        state = WidgetState(id=node.widget_id, **value)
        self.widget_values[node.widget_id] = state
        await self._send_rerun(fragment_id=node.fragment_id)

    def _widget(self, key: str) -> Node:
        found = [n for n in self.find(key=key) if n.widget_id]
        if not found:
            raise ClientError(f"{self.name}: no widget with key {key!r} on the page")
        return found[0]

    async def _send_rerun(
        self,
        *,
        page_name: str = "",
        fragment_id: str = "",
        auto: bool = False,
        extra: list[WidgetState] = (),
        first: bool = False,
    ) -> None:
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.widget_states.SetInParent()  # the frontend always sends the (maybe empty) field
        if not first:
            rerun.widget_states.widgets.extend(self.widget_values.values())
            rerun.widget_states.widgets.extend(extra)
        rerun.query_string = self.query_string
        if first:
            rerun.page_name = page_name
        else:
            rerun.page_script_hash = self.page_script_hash
        if fragment_id:
            rerun.fragment_id = fragment_id
        rerun.is_auto_rerun = auto
        if not auto:
            self._asked_scope = fragment_id
        rerun.cached_message_hashes.extend(self.cache.hashes())
        info = rerun.context_info
        for name, value in CONTEXT.items():
            setattr(info, name, value)
        info.url = self.page_url
        info.is_embedded = False
        payload = msg.SerializeToString()
        if auto:
            self.stats.auto_reruns += 1
        elif not fragment_id:
            self.stats.full_reruns += 1
        self.stats.msgs_out += 1
        self.stats.bytes_out += len(payload)
        await self._ws.send(payload)

    # --- receiving --------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for payload in self._ws:
                if isinstance(payload, str):
                    payload = payload.encode()
                self.stats.msgs_in += 1
                self.stats.bytes_in += len(payload)
                msg = ForwardMsg()
                msg.ParseFromString(payload)
                self._handle(msg)
                self._check_waiters()
        except ConnectionClosed as exc:
            if not self._closed:
                self.errors.append(f"connection closed by the server: {exc}")
        except Exception as exc:  # noqa: BLE001 — reported, the bench goes on with the others
            self.errors.append(f"reader failed: {type(exc).__name__}: {exc}")
        finally:
            if not self._closed:
                self._fail_waiters(ClientError(f"{self.name}: connection lost: {self.errors}"))

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type") or "?"
        self.stats.by_type[kind] = self.stats.by_type.get(kind, 0) + 1
        self.cache.maybe_cache(msg)
        if kind == "ref_hash":
            self.stats.refs_in += 1
            cached = self.cache.get(msg.ref_hash)
            if cached is None:
                self.errors.append(f"cached ForwardMsg MISS {msg.ref_hash}")
                return
            full = ForwardMsg()
            full.CopyFrom(cached)
            full.metadata.CopyFrom(msg.metadata)
            msg, kind = full, full.WhichOneof("type")
        if kind == "new_session":
            self._on_new_session(msg)
        elif kind == "session_status_changed":
            self.script_running = msg.session_status_changed.script_is_running
        elif kind == "delta":
            self._apply_delta(msg)
        elif kind == "script_finished":
            self._on_script_finished(msg)
        elif kind == "auto_rerun":
            self._on_auto_rerun(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fragment in msg.stop_auto_rerun.fragment_ids:
                self._stop_timer(fragment)
        elif kind == "navigation":
            # st.navigation: the page this session is on (NewSession carries app.py's hash)
            self._navigation_seen = True
            if msg.navigation.page_script_hash:
                self.page_script_hash = msg.navigation.page_script_hash
        elif kind == "page_not_found":
            self.errors.append(f"page not found: {msg.page_not_found.page_name!r}")

    def _on_new_session(self, msg: ForwardMsg) -> None:
        new = msg.new_session
        self.run_id = msg.metadata.run.script_run_id
        self.fragment_ids_this_run = list(msg.metadata.run.fragment_ids)
        if new.HasField("initialize"):
            self.session_id = new.initialize.session_id
            self.script_running = new.initialize.session_status.script_is_running
        if new.page_script_hash and not self._navigation_seen:
            self.page_script_hash = new.page_script_hash  # the page, unless st.navigation says
        if new.HasField("config") and new.config.max_cached_message_age:
            self.max_cached_age = new.config.max_cached_message_age
        if not self.fragment_ids_this_run:  # a full run: the frontend drops every timer
            for fragment in list(self._timers):
                self._stop_timer(fragment)

    def _apply_delta(self, msg: ForwardMsg) -> None:
        path = tuple(msg.metadata.delta_path)
        delta = msg.delta
        which = delta.WhichOneof("type")
        if which == "new_element":
            element = delta.new_element
            # a new element replaces whatever was at its path, children included
            for other in [p for p in self.nodes if p[: len(path)] == path and p != path]:
                del self.nodes[other]
            node = Node(path, "element", element.WhichOneof("type") or "", element,
                        delta.fragment_id, self.run_id)  # fmt: skip
            self.nodes[path] = node
            if node.type == "exception":
                self.exceptions.append(f"{node.inner.type}: {node.inner.message}"[:300])
            elif node.type == "imgs" and self.fetch_media:
                for img in node.inner.imgs:
                    self._fetch_media(img.url)
        elif which == "add_block":
            block = delta.add_block
            self.nodes[path] = Node(path, "block", block.WhichOneof("type") or "", block,
                                    delta.fragment_id, self.run_id)  # fmt: skip
        elif which == "new_transient":
            self.nodes[path] = Node(path, "transient", "", None, delta.fragment_id, self.run_id)

    def _on_script_finished(self, msg: ForwardMsg) -> None:
        status = msg.script_finished
        if status in (FINISHED, FRAGMENT_FINISHED):
            fragments = list(msg.metadata.run.fragment_ids)
            run = msg.metadata.run.script_run_id or self.run_id
            # clearStaleNodes: what this run did not draw again disappears
            for path, node in list(self.nodes.items()):
                if node.run_id != run and (not fragments or node.fragment_id in fragments):
                    del self.nodes[path]
            self.cache.increment_run_count(self.max_cached_age, fragments)
            self.stats.runs_finished += 1
            for scope in fragments or [""]:
                self.runs_done[scope] = self.runs_done.get(scope, 0) + 1
            if status == FINISHED:
                self.full_runs_done += 1
            else:
                self.stats.fragment_runs += 1
        self.last_finish = status

    # --- auto reruns (st.fragment(run_every=…)) ------------------------------------------

    def _on_auto_rerun(self, fragment_id: str, interval: float) -> None:
        if not self.follow_auto_reruns or self._closed:
            return
        current = self._timers.get(fragment_id)
        if current is not None and current[0] == interval:
            return  # the frontend keeps a running timer with the same interval
        self._stop_timer(fragment_id)
        task = asyncio.create_task(self._auto_rerun_timer(fragment_id, interval))
        self._timers[fragment_id] = (interval, task)

    def stop_polling(self) -> None:
        """Stop answering auto reruns from now on (a tab left open in the background, frozen)."""
        self.follow_auto_reruns = False
        for fragment in list(self._timers):
            self._stop_timer(fragment)

    def _stop_timer(self, fragment_id: str) -> None:
        entry = self._timers.pop(fragment_id, None)
        if entry is not None:
            entry[1].cancel()

    async def _auto_rerun_timer(self, fragment_id: str, interval: float) -> None:
        # setInterval: a fixed period from the moment the timer was set, not from each run
        start = time.monotonic()
        for tick in itertools.count(1):
            await asyncio.sleep(max(0.0, start + tick * interval - time.monotonic()))
            try:
                await self._send_rerun(fragment_id=fragment_id, auto=True)
            except Exception as exc:  # noqa: BLE001
                self.errors.append(f"auto rerun failed: {type(exc).__name__}: {exc}")
                return

    # --- media ------------------------------------------------------------------------------

    def _fetch_media(self, url: str) -> None:
        if not url or url in self._media_seen:
            return
        self._media_seen.add(url)
        full = urllib.parse.urljoin(self.base_url + "/", url.lstrip("/"))
        task = asyncio.create_task(asyncio.to_thread(self._get, full, True))
        self._media_tasks.add(task)
        task.add_done_callback(self._media_tasks.discard)

    def _get(self, url: str, media: bool = False) -> None:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                size = len(response.read())
        except OSError as exc:
            self.errors.append(f"GET {url}: {exc}")
            return
        if media:
            self.stats.media_gets += 1
            self.stats.media_bytes += size


# --- running clients from synchronous code ------------------------------------------------------


class LoopThread:
    """An asyncio loop in a daemon thread; `run(coro)` from any other thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="st-clients", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        async def _cancel_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.run(_cancel_rest(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        if not self.thread.is_alive():
            self.loop.close()


@contextlib.contextmanager
def run_in_loop() -> Iterator[LoopThread]:
    """A LoopThread for the block; everything still running on it is cancelled after."""
    loop = LoopThread()
    try:
        yield loop
    finally:
        loop.close()


# --- a Chromium tab's frames, counted like a client's -------------------------------------------


class TabFrames:
    """Counts a Chromium page's websocket frames (Playwright events), like Stats does."""

    def __init__(self, page: Any) -> None:
        self.msgs_in = self.bytes_in = self.msgs_out = self.fragment_runs = self.refs_in = 0
        self.cached_reported = 0
        page.on("websocket", self._on_socket)

    def _on_socket(self, ws: Any) -> None:
        ws.on("framereceived", self._received)
        ws.on("framesent", self._sent)

    def _received(self, payload: bytes | str) -> None:
        data = payload if isinstance(payload, bytes) else payload.encode()
        self.msgs_in += 1
        self.bytes_in += len(data)
        msg = ForwardMsg()
        msg.ParseFromString(data)
        if msg.WhichOneof("type") == "script_finished" and msg.script_finished == FRAGMENT_FINISHED:
            self.fragment_runs += 1
        elif msg.WhichOneof("type") == "ref_hash":
            self.refs_in += 1

    def _sent(self, payload: bytes | str) -> None:
        self.msgs_out += 1
        back = BackMsg()
        back.ParseFromString(payload if isinstance(payload, bytes) else payload.encode())
        if back.WhichOneof("type") == "rerun_script":
            self.cached_reported = len(back.rerun_script.cached_message_hashes)

    def counts(self) -> tuple[int, int, int, int, int]:
        return self.msgs_in, self.bytes_in, self.msgs_out, self.fragment_runs, self.refs_in
