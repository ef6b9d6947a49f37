"""`serve --prefill-gpus P` without a prefill layout of its own: a P that is not a whole number of the replica's
accelerators is named (hL63's walk).

`serve llama3-70b --tp 8 --gpus 12 --prefill-gpus 4` said "--gpus 12 is not divisible by TP x PP x attention DP =
8": the decode pool (12 - 4 = 8) is whole, the prefill pool of 4 is not, and the line named neither --prefill-gpus
nor the flags (--prefill-tp, ...) that give the prefill pool a layout of its own."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from infraplan.cli.main import main
from infraplan.errors import InputError
from infraplan.serving.serving_api import estimate_serving

BASE = ["serve", "llama3-70b", "--system", "dgx-h100-superpod", "--tp", "8", "--dtype", "fp8", "--rate", "2",
        "--requests", "10", "--input-len", "300", "--output-len", "20"]


@pytest.mark.parametrize(("gpus", "prefill"), [("12", "4"), ("8", "4"), ("20", "12")])
def test_a_prefill_pool_of_part_of_a_replica_is_named(gpus: str, prefill: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*BASE, "--gpus", gpus, "--prefill-gpus", prefill]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"--prefill-gpus {prefill} is not a multiple of the replica's 8 GPUs" in err and "--prefill-tp" in err


def test_a_whole_prefill_pool_with_a_partial_total_still_names_gpus(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*BASE, "--gpus", "12", "--prefill-gpus", "8"]) == 2
    assert "--gpus 12 is not divisible by TP x PP x attention DP = 8" in capsys.readouterr().err


def test_the_prefill_pools_own_layout_still_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*BASE, "--gpus", "12", "--prefill-gpus", "4", "--prefill-tp", "4", "--json"]) == 0
    assert '"disaggregated": true' in capsys.readouterr().out


@settings(max_examples=25, deadline=None)
@given(tp=st.sampled_from([2, 4, 8]), decode_replicas=st.integers(1, 3), prefill=st.integers(1, 15))
def test_any_partial_prefill_pool_names_prefill_gpus(tp: int, decode_replicas: int, prefill: int) -> None:
    """Whatever the decode pool, a prefill pool that is not whole replicas of the shared layout is the one named."""
    assume(prefill % tp)
    with pytest.raises(InputError, match=f"--prefill-gpus {prefill} is not a multiple of the replica's {tp} GPUs"):
        estimate_serving("llama3-70b", "dgx-h100-superpod", decode_replicas * tp + prefill, tp=str(tp), dtype="fp8",
                         rate=2.0, requests=10, input_len=300, output_len=20, prefill_gpus=prefill)
