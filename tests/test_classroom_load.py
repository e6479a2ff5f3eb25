"""A small classroom in real browsers: several sessions at once, some pressing Train, none lost.

The reduced form of `python -m bench.classroom_load` (run it for the full 20-student figures).
"""

from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api")

from harness.classroom_load import report, run_load  # noqa: E402

SESSIONS = 6
TRAINERS = 4  # 2 on identical settings (same seed), 2 with their own seed
PEAK_RSS_LIMIT_MB = 2500  # generous: Community Cloud allows 690 MB–2.7 GB


@pytest.mark.browser
@pytest.mark.slow
def test_six_sessions_four_trainings_nothing_lost_no_errors():
    lines: list[str] = []
    result = run_load(
        sessions=SESSIONS,
        train_sessions=TRAINERS,
        timeout_min=6,
        train_size=200,
        epochs=1,
        log=lines.append,
    )
    report(result, log=lines.append)
    summary = "\n".join(lines)

    assert result.lost == 0, summary
    assert result.errors == 0, summary
    assert result.peak_rss_mb < PEAK_RSS_LIMIT_MB, summary
    trainers = result.train_sessions
    assert len(trainers) == TRAINERS and all(s.accuracy.endswith("%") for s in trainers), summary
    # Every requested config was saved as a finished run (identical ones may share one).
    assert {s.seed for s in trainers} <= result.saved_seeds, summary
