"""hU59 (session 59): a refusal's count takes its noun in the right number (`units.counted`). hW59 read "PP 16,
VPP 1, 1 micro-batches per step" in the DualPipe refusal; the interleave note (`stage_split`), the block-recompute
refusal's layers per chunk and the uneven-experts note's ranks took the same plural at 1. The CLI test failed at the
base tree ("1 micro-batches"), the units test with an ImportError."""

from __future__ import annotations

from tests.cli.conftest import CliRun

from infraplan.units import counted


def test_counted_says_one_noun_and_many_nouns() -> None:
    assert counted(1, "micro-batch", "micro-batches") == "1 micro-batch"
    assert counted(16, "micro-batch", "micro-batches") == "16 micro-batches"
    assert counted(0, "layer") == "0 layers" and counted(1_024, "rank") == "1,024 ranks"
    assert counted(1, "rank") == "1 rank"


def test_the_dualpipe_refusal_says_one_micro_batch(cli: CliRun) -> None:
    code, out, err = cli(["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "16", "--pp", "16",
                          "--schedule", "dualpipe", "--global-batch", "1", "--seq-len", "2048"])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "PP 16, VPP 1, 1 micro-batch per step (global batch 1 / (DP 1 x micro-batch 1))" in err
    assert "1 micro-batches" not in err
    code, _, err = cli(["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "16", "--pp", "16",
                        "--schedule", "dualpipe", "--global-batch", "16", "--seq-len", "2048"])
    assert code == 2 and "16 micro-batches per step" in err
