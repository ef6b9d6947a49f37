"""catalog/validated_lengths.yaml is the longest sequence of the cases behind each kind's band (hU59): recomputed
here from the validation cases themselves, so a longer case scored without updating the file fails."""

from __future__ import annotations

from infraplan.catalog.answer_bands import validated_lengths
from infraplan.catalog.data_files import validation_rows
from infraplan.catalog.error_bands import load_residuals
from infraplan.validation.runner import load_cases


def test_the_training_length_is_the_longest_banded_case() -> None:
    lengths = {c["id"]: int(c["plan"]["seq_len"]) for c in load_cases()}
    lengths |= {r["id"]: int(r["seq_len"]) for r in validation_rows("frontier_training.csv") if r["seq_len"]}
    banded = {r.id for r in load_residuals("training")}
    assert banded and banded <= set(lengths)  # every case behind the band has a length here
    assert validated_lengths()["training"].tokens == max(lengths[i] for i in banded) == 8192


def test_the_serving_length_is_the_longest_measured_row() -> None:
    rows = [r for name in ("serving_measured_hopper.csv", "serving_measured_hopper_moe.csv",
                           "serving_measured_hopper_disagg.csv") for r in validation_rows(name)]
    longest = max(int(float(r["isl"])) + int(float(r["osl"])) for r in rows)
    assert validated_lengths()["serving"].tokens == longest == 10000
