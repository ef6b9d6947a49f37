"""hM77 mutation wave on hL76's weight-format tie line (`serving.capacity_space.format_tie_note`): the `serve` line
it names prices the other format, the one not chosen."""

from __future__ import annotations

from infraplan.serving.capacity_space import format_tie_note


def test_the_line_names_serve_of_the_format_not_chosen() -> None:
    (line,) = format_tie_note({"gpus": 1, "dtype": "bf16"}, [{"gpus": 1, "dtype": "fp8"}, {"gpus": 2, "dtype": "int4"}])
    assert line.startswith("fp8 weights also meet the SLOs on 1 GPU in the search's probes")
    assert "bf16 chosen" in line and "`serve --dtype fp8` prices its latency" in line
    assert "int4" not in line
