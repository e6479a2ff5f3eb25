"""Speed and memory benches: each prints its figures, the last line the one its goal names.

Run one from the repo root as a module, e.g. `python -m bench.train_overhead`. The machinery
they share with the tests (servers, browsers, the sample) is in `harness`.
"""
