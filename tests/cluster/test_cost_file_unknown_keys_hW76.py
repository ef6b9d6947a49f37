"""hW (session 76): a cost file's unknown keys are each named, with a did-you-mean, as a catalog file's are.

`train ... --tokens 1T --costs c.yaml` with `electricity_usd_per_kwh: 0.05` and a second unknown key said
"invalid cost file 'c.yaml': electricity_usd_per_kwh: Extra inputs are not permitted": the key it takes
(`electricity_usd_per_mwh`) unnamed, the other unknown key unsaid until the first was fixed. `load_cost_overrides`
now words its refusal by `catalog.file_checks.problem_text`, the catalog files' rule (every problem; an unknown key's
closest field).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.cli import main

TRAIN = ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "64", "--tp", "1", "--seq-len", "8192",
         "--global-batch", "512", "--tokens", "1T", "--costs"]


def test_each_unknown_key_is_named_with_the_closest_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("electricity_usd_per_kwh: 0.05\nbogus_key: 3\n")
    assert main([*TRAIN, str(path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"infraplan: error: invalid cost file {str(path)!r}: electricity_usd_per_kwh: Extra inputs are "
                   "not permitted (did you mean electricity_usd_per_mwh?); bogus_key: Extra inputs are not "
                   "permitted\n"), err


def test_a_bad_value_keeps_its_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("pue: abc\n")
    assert main(["facility", "--accelerator", "h100-sxm", "--count", "8", "--costs", str(path)]) == 2
    assert capsys.readouterr().err == (f"infraplan: error: invalid cost file {str(path)!r}: pue: Input should be a "
                                       "valid number, unable to parse string as a number\n")
