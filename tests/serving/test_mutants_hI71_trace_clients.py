"""Mutation wave on `serve --trace` with `--concurrency` (hI, session 71): one client replays a trace's lengths in a
closed loop as much as four do, so its arrivals go unused and the answer says so (`serve_inputs.trace_clients_note`).
The mutant id is hI71's NOTE's."""

from __future__ import annotations

from infraplan.serving.serve_inputs import trace_clients_note


def test_one_client_is_a_closed_loop_too() -> None:
    """hI71 TR1: `--concurrency 1` sends each request when the last one ends: the arrival_s column is not used."""
    note = trace_clients_note("trace.csv", 1)
    assert note is not None
    assert note.startswith("--concurrency 1 with --trace: the trace's lengths are sent by 1 client,")
    assert trace_clients_note(None, 4) is None and trace_clients_note("trace.csv", 0) is None
