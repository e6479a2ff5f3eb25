"""Bench: a classroom at once — N students open the app, K of them press Train.

`python -m bench.classroom_load [--sessions 20] [--train-sessions 10] [--train-size N]
[--epochs N] [--timeout-min M]` runs harness.classroom_load.run_load once: `streamlit run`
with the real CIFAR-10 sample and an empty runs folder, N sessions as browser contexts of one
headless Chromium, K of them pressing Train (half with identical settings, half with their
own seed), the others idle on the lesson's pages (see harness/classroom_load.py for how it
watches them).

Prints a per-session table and summary lines; the last line is
`lost=<runs requested but not finished or saved> errors=<n> peak_rss_mb=<server peak>`.
Bounded: at most MAX_SESSIONS sessions and a global deadline; always closes the browser and
stops the server.
"""

from __future__ import annotations

import argparse

from cifar_core import constants as C
from harness.classroom_load import report, run_load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--train-sessions", type=int, default=10)
    parser.add_argument("--timeout-min", type=float, default=30.0)
    # The Train page's defaults: what a class presses (a 300-image, 1-epoch run is 2 batches).
    parser.add_argument("--train-size", type=int, default=C.DEFAULT_TRAIN_SIZE)
    parser.add_argument("--epochs", type=int, default=C.DEFAULT_EPOCHS)
    args = parser.parse_args()
    result = run_load(
        sessions=args.sessions,
        train_sessions=args.train_sessions,
        timeout_min=args.timeout_min,
        train_size=args.train_size,
        epochs=args.epochs,
        log=lambda line: print(line, flush=True),
    )
    report(result, log=lambda line: print(line, flush=True))


if __name__ == "__main__":
    main()
