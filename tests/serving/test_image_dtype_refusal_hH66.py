"""An image run in a dtype its part lacks names the part's missing peak, not the dtype rule it met.

hH66's walk: `serve sd-v1.5-512 --workload image-generation --system mtia-v2 --dtype fp8` said "image generation runs
in bf16 or fp8 (where mtia-v2 supports it), got fp8": fp8 is one of the two, MTIA v2 lists no fp8 peak.
"""

from __future__ import annotations

import pytest

from infraplan.cli import main

IMAGE = ["serve", "sd-v1.5-512", "--workload", "image-generation", "--gpus", "1", "--rate", "1", "--requests", "50"]


def _refusal(capsys: pytest.CaptureFixture[str], system: str, dtype: str) -> str:
    code = main([*IMAGE, "--system", system, "--dtype", dtype])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize(("system", "lists"), [("mtia-v2", "fp16, bf16, int8"), ("mtia-v1", "fp16, int8")])
def test_fp8_on_a_part_without_an_fp8_peak(capsys: pytest.CaptureFixture[str], system: str, lists: str) -> None:
    err = _refusal(capsys, system, "fp8")
    assert f"{system} has no fp8 peak (it lists {lists}): image generation on it runs in bf16" in err
    assert "got fp8" not in err


def test_a_dtype_images_never_run_in_is_still_the_rule(capsys: pytest.CaptureFixture[str]) -> None:
    err = _refusal(capsys, "b200", "nvfp4")
    assert "image generation runs in bf16 or fp8 (where the part has an fp8 peak), got nvfp4" in err
