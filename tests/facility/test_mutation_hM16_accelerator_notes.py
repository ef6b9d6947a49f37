"""Mutation wave on hF42's borrowed-rate note and hN42's accelerator-file embodied carbon (hM16, session 42): tests
that kill the survivors of hand mutations of `facility.failure_rate_notes.failure_rate_accelerator_note` /
`rate_preset_accelerator` and `catalog.hardware_costs.accelerator_embodied_kg`.

From the catalog's own data, read by hand: reliability.yaml's `measured_on` (epoch-h100 and llama3-h100 on h100-sxm)
and its `component_mix.failure_rates` ([llama3-h100]: Llama 3 Table 5's cause mix is of that rate alone);
hardware_costs.yaml's H100 embodied figure (320 kg, the hN42 CLI test's).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.hardware_costs import accelerator_embodied_kg
from infraplan.catalog.loader import load_accelerator
from infraplan.catalog.reliability_loader import FailureRate, load_reliability
from infraplan.facility.failure_rate_notes import failure_rate_accelerator_note


def test_a_rate_that_does_not_say_where_it_was_counted_gets_no_note() -> None:
    """A user's rate file without `measured_on`: nothing is known to be borrowed, so no line (on any part)."""
    mine = FailureRate(failures_per_1000_node_days=5.0, accelerators_per_node=8, source="a user's count")
    assert failure_rate_accelerator_note("gb200", "mine", mine) is None
    assert failure_rate_accelerator_note("h100-sxm", "mine", mine) is None


def test_a_borrowed_rate_without_a_cause_mix_names_the_rate_alone() -> None:
    """epoch-h100 on a GB200: borrowed per GPU; Llama 3 Table 5's cause mix belongs to llama3-h100 only, so the line
    says the rate "is used" and names no cause mix; llama3-h100's line names both."""
    rates = load_reliability().failure_rates
    note = failure_rate_accelerator_note("gb200", "epoch-h100", rates["epoch-h100"])
    assert note is not None and "cause mix" not in note
    assert note.endswith("so h100-sxm's rate per GPU is used (ASSUMPTION [U])")
    note = failure_rate_accelerator_note("gb200", "llama3-h100", rates["llama3-h100"])
    assert note is not None and "rate per GPU and its cause mix (Llama 3 Table 5) are used" in note


def test_a_what_if_file_over_the_h100_is_on_the_h100s_rate(tmp_path: Path) -> None:
    """A what-if file extending h100-sxm is an H100 for the rate (its preset): no borrowed-rate line; one over the
    B200 borrows the H100's."""
    h100 = tmp_path / "h100-faster.yaml"
    h100.write_text("extends: h100-sxm\nmemory_bandwidth_bytes_per_s: 4TB/s\n")
    b200 = tmp_path / "b200-faster.yaml"
    b200.write_text("extends: b200\nmemory_bandwidth_bytes_per_s: 9TB/s\n")
    rate = load_reliability().failure_rates["llama3-h100"]
    assert failure_rate_accelerator_note(str(h100), "llama3-h100", rate) is None
    note = failure_rate_accelerator_note(str(b200), "llama3-h100", rate)
    assert note is not None and "not b200:" in note


def test_an_accelerator_file_stating_zero_embodied_carbon_is_taken_at_zero(tmp_path: Path) -> None:
    """A file's own figure is its answer even at 0 kg (a stated figure, not a missing one); the preset's is 320 kg."""
    path = tmp_path / "h100-zero.yaml"
    path.write_text("extends: h100-sxm\nembodied_kgco2e_per_accelerator: 0\nembodied_source: 'ASSUMPTION: a test'\n")
    assert accelerator_embodied_kg(load_accelerator("h100-sxm")) == pytest.approx(320.0)
    assert accelerator_embodied_kg(load_accelerator(str(path))) == 0.0
