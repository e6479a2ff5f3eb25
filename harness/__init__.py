"""The machinery the tests and the benches share; never imported by the app.

* `harness.sample` — where the real CIFAR-10 sample is ($CIFAR10_DIR, else
  ../shared/cifar10-sample/cifar-10-batches-py next to the repo);
* `harness.fullsize` — a full-size (50,000 + 10,000) tiling of that sample, in a temporary
  folder;
* `harness.browser` — a real `streamlit run` server on a free port and Debian's headless
  Chromium (Playwright), with the server's memory;
* `harness.st_client` — a light client of Streamlit's own websocket protocol (a session
  without a browser), and `TabFrames`, the same counts for a Chromium tab;
* `harness.classroom_load` — the classroom load runner (`run_load`, `report`): N browser
  sessions, K of them pressing Train;
* `harness.proc` — CPU and memory readings of processes from Linux /proc;
* `harness.measure` — a bench process's own peak memory, alternating repeated measurements
  and their spread.

Tests import it as `from harness.browser import …`; benches run from the repo root as
`python -m bench.<name>` and import it the same way.
"""
