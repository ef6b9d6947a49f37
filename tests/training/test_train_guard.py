"""One plan, one answer: a single estimate beyond the best published MFU carries search's flag and reason."""

from __future__ import annotations

from infraplan.catalog.published_mfu import published_mfu_ceiling
from infraplan.sweep.functions import train_batch
from infraplan.training.estimate import estimate_training
from infraplan.training.results import TrainingEstimate
from infraplan.training.search import search_plans


def test_llama3_8b_on_8_h100_is_flagged_with_its_ceilings_source() -> None:
    r = estimate_training("llama3-8b", "dgx-h100-superpod", 8, seq_len=8192, global_batch=128, dtype="bf16")
    ceiling = published_mfu_ceiling(r.accelerator, r.stack, "bf16")
    assert ceiling is not None and r.mfu > ceiling.mfu  # 0.64 predicted over 0.43 published
    assert r.beyond_published_mfu
    assert r.beyond_published_mfu_reason is not None
    assert ceiling.source in r.beyond_published_mfu_reason and f"{ceiling.mfu:.1%}" in r.beyond_published_mfu_reason
    assert "ranked" not in r.beyond_published_mfu_reason  # a single estimate is not ranked


def test_a_plan_below_its_ceiling_is_not_flagged() -> None:
    r = estimate_training("llama3-8b", "dgx-h100-superpod", 32, tp=8, seq_len=2048, global_batch=4, zero=2,
                          dtype="bf16")
    ceiling = published_mfu_ceiling(r.accelerator, r.stack, "bf16")
    assert ceiling is not None and r.mfu < ceiling.mfu
    assert not r.beyond_published_mfu and r.beyond_published_mfu_reason is None


def test_train_and_search_give_one_answer_for_each_plan() -> None:
    result = search_plans("llama3-8b", "dgx-h100-superpod", 8, 8192, 128, dtype="bf16", top=100_000)
    within = [row for row in result.top if not row.beyond_published_mfu]
    beyond = [row for row in result.top if row.beyond_published_mfu]
    assert within and beyond  # both kinds of plan, each asked both ways (the best few and the last few)
    for row in within[:4] + within[-4:] + beyond[:4] + beyond[-4:]:
        c = row.config
        single = estimate_training("llama3-8b", "dgx-h100-superpod", c.gpus, tp=c.tp, pp=c.pp, dp=c.dp, cp=c.cp,
                                   ep=c.ep, etp=c.etp, vpp=c.vpp, seq_len=c.seq_len, global_batch=c.global_batch,
                                   micro_batch=c.micro_batch, recompute=c.recompute, zero=c.zero, dtype=c.dtype,
                                   attention=c.attention, order=c.order, sequence_parallel=c.sequence_parallel,
                                   schedule=c.schedule, stack=result.stack)
        assert single.beyond_published_mfu == row.beyond_published_mfu
        if row.beyond_published_mfu:  # search's reason is the estimate's, then its ranking
            assert single.beyond_published_mfu_reason is not None and row.beyond_published_mfu_reason is not None
            assert row.beyond_published_mfu_reason.startswith(single.beyond_published_mfu_reason + "; ranked")


def test_the_batched_sweep_flags_each_point_as_estimate_training_does() -> None:
    common = {"model": "llama3-8b", "system": "dgx-h100-superpod", "dtype": "bf16"}
    points = [{**common, "gpus": 8, "seq_len": 8192, "global_batch": 128},
              {**common, "gpus": 32, "tp": 8, "seq_len": 2048, "global_batch": 4, "zero": 2}]
    batched = train_batch(points)
    singles = [estimate_training(**p) for p in points]  # type: ignore[arg-type]
    assert [s.beyond_published_mfu for s in singles] == [True, False]
    for got, single in zip(batched, singles, strict=True):
        assert isinstance(got, TrainingEstimate)
        assert got.beyond_published_mfu == single.beyond_published_mfu
        assert got.beyond_published_mfu_reason == single.beyond_published_mfu_reason
