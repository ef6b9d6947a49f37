"""The CLI refusals added by the ML-systems engineer's training review (helper hA, session 33): one line on stderr,
exit 2, naming the values that broke the rule. Each test failed before its fix."""

from __future__ import annotations

import pytest

TRAIN = ["train", "llama3-8b", "--system", "dgx-h100-superpod"]


@pytest.mark.parametrize(("args", "wanted"), [
    # Megatron-Core's sequence-parallel scatter: the sequence must split over TP x CP (before: priced)
    (["--gpus", "8", "--tp", "8", "--seq-len", "4100", "--global-batch", "8"],
     ["TP 8 x CP 1 = 8", "nearest valid sequence lengths: 4,096, 4,104"]),
    # DualPipe.step asserts num_chunks >= 2 x num_ranks (before: 6 micro-batches on PP 4 were priced)
    (["--gpus", "32", "--tp", "8", "--pp", "4", "--schedule", "dualpipe", "--seq-len", "4096", "--global-batch", "6"],
     ["at least 2 PP", "6 micro-batches per step"]),
])
def test_review_refusals_are_one_line_with_exit_2(cli, args: list[str], wanted: list[str]) -> None:
    code, out, err = cli([*TRAIN, *args])
    assert code == 2 and not out.strip() and err.count("\n") == 1, err
    assert all(w in err for w in wanted), err


def test_an_odd_sequence_without_cp_or_sp_is_priced(cli) -> None:
    """CP 1 and TP 1: no rule splits the sequence (before: "not divisible by 2 x CP", exit 2)."""
    code, out, err = cli([*TRAIN, "--gpus", "8", "--seq-len", "4095", "--global-batch", "8", "--json"])
    assert code == 0 and '"seq_len": 4095' in out, err
