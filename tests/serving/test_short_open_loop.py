"""`serve --rate` says when its arrivals span fewer than serve-plan's STEADY_SPANS mean end-to-end latencies.

Found on a published MLPerf Server row (hO, session 53, validation/notes/out_of_sample_s53/serving_oos.py): Llama 2
70B fp8 on 8 H200 at 100 requests/s read 100 % SLO attainment on 2,000 requests (20 s of arrivals, mean latency
14 s) where the steady state is overloaded (20,000 requests: 17.6 %). Without the note the answer said nothing.
"""

from __future__ import annotations

import numpy as np

from infraplan.serving.serving_api import estimate_serving
from infraplan.serving.steady_state import STEADY_SPANS, short_run_note


def test_note_below_steady_spans_latencies_names_the_requests_needed():
    arrivals = np.linspace(0.0, 20.0, 2001)  # 2,000 gaps of 10 ms: 100 requests/s over 20 s
    (note,) = short_run_note(arrivals, {"e2e_s": {"mean": 14.0}})
    assert "under 4 mean end-to-end latencies (14 s)" in note
    assert f"--requests {int(np.ceil(STEADY_SPANS * 14.0 * 100)) + 1:,} or more" in note  # 4 x 14 s x 100 /s
    assert "41%" in note  # E / (W + E) = 14 / 34


def test_no_note_for_a_long_run_one_request_arrivals_at_once_or_no_latency():
    assert short_run_note(np.linspace(0.0, 200.0, 2001), {"e2e_s": {"mean": 14.0}}) == []  # 200 s >= 4 x 14 s
    assert short_run_note(np.zeros(1), {"e2e_s": {"mean": 14.0}}) == []
    assert short_run_note(np.zeros(100), {"e2e_s": {"mean": 14.0}}) == []  # offline / closed loop: all at t = 0
    assert short_run_note(np.linspace(0.0, 1.0, 10), {"fits": False}) == []  # does not fit: no latencies


def test_serve_rate_run_shorter_than_its_latencies_is_said_and_a_long_one_is_not():
    kw = dict(dtype="fp8", input_len=1000, output_len=500)
    short = estimate_serving("llama3-8b", "dgx-h100-superpod", 1, rate=40.0, requests=200, **kw)
    assert any(w.startswith("open loop: the 200 requests arrive over") for w in short.warnings), short.warnings
    light = estimate_serving("llama3-8b", "dgx-h100-superpod", 1, rate=1.0, requests=200, **kw)
    assert not any(w.startswith("open loop:") for w in light.warnings), light.warnings
    closed = estimate_serving("llama3-8b", "dgx-h100-superpod", 1, concurrency=8, requests=80, **kw)
    assert not any(w.startswith("open loop:") for w in closed.warnings), closed.warnings


def test_a_long_runs_note_writes_its_seconds_without_e_notation():
    """A long-output run (e2e mean 1,320 s) over 1,234 s of arrivals: .3g wrote "1.23e+03 s" into the JSON and web
    note (review hL, session 53); the note writes figures as every other note does (`units.significant_text`)."""
    (note,) = short_run_note(np.linspace(0.0, 1234.0, 101), {"e2e_s": {"mean": 1320.0}})
    assert "arrive over 1,234 s" in note and "latencies (1,320 s)" in note and "e+" not in note
