"""The Blackwell set's vLLM 0.15.1 and 0.19.0 rows run vLLM's default async scheduling (session 53, hB).

Read in the releases' wheels (validation/release_stacks.py docstring): `SchedulerConfig.async_scheduling` defaults to
None and resolves to True unless a non-EAGLE drafter or an executor without support is configured (vllm 0.15.1
config/vllm.py:589-622, 0.19.0 :755-788), with two batches in flight (multiproc_executor.py / uniproc_executor.py
`max_concurrent_batches`). Before this mapping those rows ran the synchronous vllm-0.x profile. The unversioned vLLM
rows name no release and stay on it.
"""

from __future__ import annotations

from infraplan.serving.request_intake import schedules_ahead
from infraplan.validation import release_stacks as rs
from infraplan.validation import serving_blackwell as sb


def _vllm_rows(version: str) -> list[dict[str, str]]:
    return [r for r in sb.sampled_rows(1)[0] if r["backend"] == "vllm" and r["backend_version"] == version]


def test_vllm_releases_with_async_default_schedule_ahead() -> None:
    for version, rows in (("0.15.1", 71), ("0.17.0", 51), ("0.19.0", 12)):
        scored = _vllm_rows(version)
        assert len(scored) == rows, version  # the set's scored rows of the release (Kimi-K2.5, GPT-OSS-120B)
        for row in scored:
            assert rs.release_stack(row).endswith("vllm-0.16.yaml"), row["id"]
            assert schedules_ahead(sb.deployment(row).stack), row["id"]


def test_unversioned_vllm_rows_keep_the_synchronous_profile() -> None:
    rows = _vllm_rows("")
    assert rows  # the 2026-04-06 Llama-3.1-70B / GPT-OSS campaigns: no release named, nothing read
    assert not any(schedules_ahead(sb.deployment(r).stack) for r in rows)


def test_async_scheduling_moves_the_first_token_not_the_decode() -> None:
    """The schedule-ahead lag shifts first token and finish alike (`serving.request_intake.lagged`): the 0.15.1
    Kimi-K2.5 int4 rows' TTFT rises (their measured TTFT is under-predicted), TPOT stays."""
    row = next(r for r in _vllm_rows("0.15.1") if r["precision"] == "int4")
    with_lag = sb.run_row(row)
    sync = dict(rs.RELEASE_STACKS)
    try:
        del rs.RELEASE_STACKS["vllm-0.15.1"]
        without = sb.run_row(row)
    finally:
        rs.RELEASE_STACKS.clear()
        rs.RELEASE_STACKS.update(sync)
    assert with_lag["ttft_s"] > without["ttft_s"]
    assert abs(with_lag["tpot_s"] / without["tpot_s"] - 1.0) < 1e-9
