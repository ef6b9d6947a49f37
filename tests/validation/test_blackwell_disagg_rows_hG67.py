"""The proposed GB200 / GB300 disaggregated set (hG67): what its rows' columns are, and one row run."""

from infraplan.validation import serving_blackwell_disagg as blackwell


def _row(row_id: str) -> dict[str, str]:
    return next(r for r in blackwell.load_rows() if r["id"] == row_id)


def test_every_row_is_an_inferencex_record_with_the_adapters_batches() -> None:
    rows = blackwell.load_rows()
    assert len(rows) == 172
    assert all(r["silicon_data_source"].startswith("db-dump/") and "workflow_run_id=" in r["silicon_data_source"]
               for r in rows)
    # prefill 1 and decode = clients / (workers x DP) on every row: the adapter's derivation, not an engine setting
    assert all(blackwell.adapter_batches(r) for r in rows)


def test_one_deployment_is_swept_over_decode_batches_1_to_141() -> None:
    sweeps = blackwell.config_sweeps(blackwell.load_rows())
    assert sweeps["237"] == [1, 2, 4, 8, 16, 32, 64, 141]
    assert sum(len(batches) > 1 for batches in sweeps.values()) >= 30


def test_the_same_deployment_with_and_without_a_slot_wait() -> None:
    # config 388 (GB200, 4 decode workers of TP8): 96 clients start decoding at once, 192 wait ~0.44 of a request
    calm = _row("dsr1_gb200_trtllm_fp4_disagg_1024x1024_c96_cfg388")
    waited = _row("dsr1_gb200_trtllm_fp4_disagg_1024x1024_c192_cfg388")
    assert blackwell.wait_fraction(calm) < 0.05
    assert 0.4 < blackwell.wait_fraction(waited) < 0.5
    assert sum(blackwell.wait_fraction(r) > blackwell.WAIT_FRACTION for r in blackwell.load_rows()) == 37


def test_a_low_load_row_runs_on_its_nvl72_system() -> None:
    row = _row("dsr1_gb200_trtllm_fp4_disagg_1024x1024_c4_cfg237")
    assert blackwell.why_not(row) is None
    predicted = blackwell.run_row(row)
    assert abs(predicted["tpot_s"] * 1e3 / float(row["silicon_tpot_ms"]) - 1.0) < 0.15


def test_the_constant_baseline() -> None:
    base = blackwell.constant_baseline()
    assert 1.2 < base["ttft_s"] < 1.4 and 0.011 < base["tpot_s"] < 0.012
    assert base["ttft_s_mean_abs_error"] > 1.4


def test_the_report_splits_off_the_rows_with_a_measured_slot_wait() -> None:
    rows = [_row("dsr1_gb200_trtllm_fp4_disagg_1024x1024_c96_cfg388"),
            _row("dsr1_gb200_trtllm_fp4_disagg_1024x1024_c192_cfg388")]
    out = blackwell.report(rows)
    assert out["rows"] == 2 and out["rows_without_slot_wait"] == 1 and not out["not_fitting"]
    # the calm row within 60 % (model 0.46 s vs 0.31 s measured); the waited one far under (0.54 s vs 4.79 s)
    assert out["ttft_mean_abs_error_without_slot_wait"] < 0.6 < out["ttft_mean_abs_error"]
