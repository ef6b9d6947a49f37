"""Review of hC53's text helpers (hL, session 53): hand mutants that survived hC's tests (the e-notation branch of
`seconds_in_text`'s pattern, `typed_part`'s path test and its shell quoting), now killed."""

from __future__ import annotations

from infraplan.cli.commands._output import seconds_in_text
from infraplan.planning.training_run import typed_part


def test_seconds_in_text_converts_e_notation_and_leaves_other_numbers() -> None:
    # `f"{x:.3g} s"` writes 1.5e+03 s (steady_state.short_run_note's window of a long run): the whole figure is one
    # duration, not "1.5e+03" read as 1.5 with a stray exponent
    assert seconds_in_text("arrive over 1.5e+03 s, under 4") == "arrive over 25 min, under 4"
    assert seconds_in_text("TPOT p99 0.0355 s over") == "TPOT p99 35.5 ms over"
    assert seconds_in_text("H100 s and 5 steps") == "H100 s and 5 steps"  # a name's digits, not a duration
    assert seconds_in_text("1,500 s") == "1,500 s"  # grouped digits are left as written, not read as 500 s


def test_typed_part_names_a_file_as_typed_and_quoted_and_a_preset_by_its_name() -> None:
    assert typed_part("x1", "./my parts/x1.yaml") == "'./my parts/x1.yaml'"  # a shell reads it back as one word
    assert typed_part("x1", "/tmp/x1.yaml") == "/tmp/x1.yaml"
    assert typed_part("h100-sxm", "H100-SXM") == "h100-sxm"  # a preset typed in another case: the catalog's name
    assert typed_part("h100-sxm", None) == "h100-sxm"
