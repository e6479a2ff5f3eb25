"""A minimal Streamlit browser stand-in: one session over the real websocket, no Chromium.

It speaks the same protocol as the frontend (BackMsg / ForwardMsg protobufs on
/_stcore/stream), so a test can drive a real `streamlit run` server from several "tabs" at
once and time each script run on the server's side, without a browser using the 2 CPU
cores that the server needs. It does what a tab does that matters for timing: open a page,
set a widget, press a button, and rerun a `run_every` fragment when the server asks.

    async with StreamlitSession(base_url, "augmentation_lab") as lab:
        await lab.run()                                        # the first run of the page
        seconds = await lab.set_widget("aug_rotation_range", 15.0)
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINISHED = ForwardMsg.FINISHED_SUCCESSFULLY
FRAGMENT_FINISHED = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
RUN_TIMEOUT_S = 120.0


class ScriptError(RuntimeError):
    """The page raised or failed to compile (the server's message is attached)."""


class StreamlitSession:
    """One browser tab's session, driven over the websocket.

    Args:
        base_url: "http://127.0.0.1:<port>" of a running `streamlit run`.
        page: the page's url path, e.g. "augmentation_lab" ("" for the home page).
        follow_fragments: rerun `st.fragment(run_every=…)` fragments as a browser would.
    """

    def __init__(self, base_url: str, page: str = "", *, follow_fragments: bool = True) -> None:
        self.url = base_url.replace("http://", "ws://") + "/_stcore/stream"
        self.page = page
        self.follow_fragments = follow_fragments
        self.page_script_hash = ""
        self.widget_ids: dict[str, str] = {}  # user key → widget id (from the elements seen)
        self.widget_kinds: dict[str, str] = {}  # user key → element type ("slider", …)
        self.elements: list[Any] = []  # the elements of the latest run, in arrival order
        self.errors: list[str] = []
        self._states: dict[str, WidgetState] = {}  # what this tab sends with each rerun
        self._finished: asyncio.Queue[int] = asyncio.Queue()
        self._fragments: dict[str, asyncio.Task] = {}
        self._ws: Any = None
        self._reader: asyncio.Task | None = None

    async def __aenter__(self) -> StreamlitSession:
        self._ws = await websockets.connect(
            self.url, subprotocols=["streamlit"], max_size=None, open_timeout=60
        )
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in [*self._fragments.values(), self._reader]:
            if task is not None:
                task.cancel()
        with contextlib.suppress(Exception):
            await self._ws.close()

    # --- what a tab does ---

    async def run(self, timeout: float = RUN_TIMEOUT_S) -> float:
        """Run the page (a full rerun); returns the seconds until the server finished it."""
        return await self._rerun(timeout=timeout)

    async def set_widget(self, key: str, value: float, timeout: float = RUN_TIMEOUT_S) -> float:
        """Move the slider/number widget with user key `key` to `value`; seconds to finish."""
        state = WidgetState(id=self.widget_ids[key])
        if self.widget_kinds[key] == "slider":  # sliders send a list (one value or a range)
            state.double_array_value.data.append(value)
        else:
            state.double_value = value
        self._states[state.id] = state
        return await self._rerun(timeout=timeout)

    async def click(self, key: str, timeout: float = RUN_TIMEOUT_S) -> float:
        """Press the button with user key `key`; seconds until that run finished."""
        trigger = WidgetState(id=self.widget_ids[key], trigger_value=True)
        return await self._rerun(extra=[trigger], timeout=timeout)

    def text(self) -> str:
        """The markdown, alerts and captions of the latest run, joined (for assertions)."""
        parts = []
        for element in self.elements:
            kind = element.WhichOneof("type")
            if kind in ("markdown", "alert", "heading"):
                parts.append(getattr(element, kind).body)
        return "\n".join(parts)

    # --- the protocol ---

    async def _rerun(
        self, *, extra: list[WidgetState] = (), fragment_id: str = "", timeout: float
    ) -> float:
        msg = BackMsg()
        state = msg.rerun_script
        state.page_script_hash = self.page_script_hash
        state.page_name = self.page if not self.page_script_hash else ""
        state.fragment_id = fragment_id
        state.is_auto_rerun = bool(fragment_id)
        state.widget_states.widgets.extend([*self._states.values(), *extra])
        while not self._finished.empty():
            self._finished.get_nowait()
        if not fragment_id:
            self.elements = []
        start = time.perf_counter()
        await self._ws.send(msg.SerializeToString())
        wanted = FRAGMENT_FINISHED if fragment_id else FINISHED
        while True:
            status = await asyncio.wait_for(self._finished.get(), timeout)
            if self.errors:
                raise ScriptError("\n".join(self.errors))
            if status == wanted:
                return time.perf_counter() - start

    async def _read(self) -> None:
        async for raw in self._ws:
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self.page_script_hash = msg.new_session.page_script_hash
            elif kind == "navigation":  # st.navigation says which page actually ran
                self.page_script_hash = msg.navigation.page_script_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self._element(msg.delta.new_element)
            elif kind == "session_event" and msg.session_event.HasField(
                "script_compilation_exception"
            ):
                self.errors.append(str(msg.session_event.script_compilation_exception))
            elif kind == "auto_rerun" and self.follow_fragments:
                fragment, every = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
                if fragment not in self._fragments:
                    self._fragments[fragment] = asyncio.create_task(self._tick(fragment, every))
            elif kind == "stop_auto_rerun":
                for fragment in msg.stop_auto_rerun.fragment_ids:
                    task = self._fragments.pop(fragment, None)
                    if task is not None:
                        task.cancel()
            elif kind == "script_finished":
                self._finished.put_nowait(msg.script_finished)

    def _element(self, element: Any) -> None:
        self.elements.append(element)
        kind = element.WhichOneof("type")
        if kind == "exception":
            self.errors.append(f"{element.exception.type}: {element.exception.message}")
        widget_id = getattr(getattr(element, kind, None), "id", "") if kind else ""
        # Widget ids embed the user key: "$$ID-<hash>-<key>".
        if isinstance(widget_id, str) and widget_id.startswith("$$ID-"):
            key = widget_id.split("-", 2)[2]
            self.widget_ids[key], self.widget_kinds[key] = widget_id, kind

    async def _tick(self, fragment_id: str, every: float) -> None:
        # A browser reruns the fragment every `every` seconds while the page is open; it
        # sends the request only when no other run of this tab is in flight.
        while True:
            await asyncio.sleep(every)
            msg = BackMsg()
            state = msg.rerun_script
            state.page_script_hash = self.page_script_hash
            state.fragment_id = fragment_id
            state.is_auto_rerun = True
            state.widget_states.widgets.extend(self._states.values())
            await self._ws.send(msg.SerializeToString())
