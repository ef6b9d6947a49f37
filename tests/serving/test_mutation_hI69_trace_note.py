"""hI69's mutation wave on hS68's `serve_inputs.trace_rows_note`: `--requests N` past a trace's rows is said, in
the request count's own number; without a trace (the fixed or workload requests are always N) nothing is."""

from __future__ import annotations

from infraplan.serving.serve_inputs import trace_rows_note


def test_the_trace_note_by_hand() -> None:
    assert trace_rows_note("t.csv", 5, 1) == ("--requests 5: the trace holds 1 request, and the run is those "
                                              "(--requests N reads a trace's first N rows and adds none)")
    assert "--requests 2,000: the trace holds 3 requests, and" in (trace_rows_note("t.csv", 2000, 3) or "")
    assert trace_rows_note("t.csv", 5, 5) is None and trace_rows_note("t.csv", None, 3) is None
    assert trace_rows_note(None, 5, 1) is None  # no trace: `--requests` is the count generated
