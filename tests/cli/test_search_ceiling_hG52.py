"""`search` says the published-MFU ceiling of each precision it searched and what it ranked after the best, in its
JSON and its text, as a single search and a scaling curve (hG52, session 47; hU61 found the answer naming neither
the ceiling nor whether it chose the best plan)."""

from __future__ import annotations

import pytest
from tests.cli.conftest import CliRun, cli_json

SEARCH = ["search", "llama3-8b", "--gpus", "64", "--seq-len", "8192", "--global-batch", "512", "--top", "1"]


def test_the_json_and_the_text_name_the_ceiling_and_the_plans_ranked_after(
        cli: CliRun, capsys: pytest.CaptureFixture[str]) -> None:
    """GB200 in bf16: Blackwell's fp8 share as a fallback, with its source; the count and the fastest plan ranked
    after the best, in the text as in the JSON (the fastest is the unguarded search's best)."""
    args = [*SEARCH, "--system", "gb200", "--dtype", "bf16"]
    (ceiling,) = cli_json(capsys, args)["mfu_ceilings"]
    assert (ceiling["family"], ceiling["figure_dtype"], ceiling["lookup"], ceiling["fallback"]) == \
        ("blackwell", "fp8", "own_other_precision", True)
    free = cli_json(capsys, [*args, "--no-mfu-guard"])
    assert ceiling["ranked_after_count"] > 0
    assert ceiling["fastest_ranked_after_step_time_s"] == free["best"]["step_time_s"]
    code, out, _ = cli(args)
    text = " ".join(out.split())
    assert code == 0
    assert (f"MFU ceiling bf16: {ceiling['mfu'] * 100:.1f} % (causal half of the scores) from blackwell fp8, stack "
            f"class {ceiling['stack_class']}, FALLBACK, no blackwell bf16 figure") in text
    assert " ".join(ceiling["source"].split()) in text
    assert f"ranked {ceiling['ranked_after_count']:,} faster plans after the best, the fastest " in text
    code, out, _ = cli([*args, "--no-mfu-guard"])
    assert code == 0 and "flags only (not ranking)" in " ".join(out.split())


def test_a_scaling_curve_names_the_ceiling_once_and_each_point_that_it_held(
        cli: CliRun, capsys: pytest.CaptureFixture[str]) -> None:
    args = [*SEARCH[:3], "32,64", *SEARCH[4:], "--system", "dgx-h100-superpod", "--dtype", "fp8"]
    points = cli_json(capsys, args)["scaling"]
    assert all(len(p["mfu_ceilings"]) == 1 for p in points)
    code, out, _ = cli(args)
    text = " ".join(out.split())
    assert code == 0 and text.count("MFU ceiling fp8: 37.1 % (causal half of the scores) from hopper fp8") == 1
    for p in points:
        (c,) = p["mfu_ceilings"]
        said = f"{p['gpus']:,} GPUs: the fp8 ceiling ranked {c['ranked_after_count']:,} faster plan"
        assert (said in text) == (c["ranked_after_count"] > 0)
    assert any(p["mfu_ceilings"][0]["ranked_after_count"] > 0 for p in points)
