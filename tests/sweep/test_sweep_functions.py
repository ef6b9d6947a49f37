"""The sweepable functions: batched `train` equals single estimates; rows flatten every output field."""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.sweep.functions import check_arguments, input_columns, run_batch, train_batch
from infraplan.sweep.results import flatten, flatten_result
from infraplan.training.estimate import estimate_training


def _points() -> list[dict]:
    return [dict(model="llama3-8b", system=system, gpus=gpus, tp=tp, pp=pp, vpp=vpp, recompute=recompute,
                 seq_len=2048, global_batch=64)
            for system in ("dgx-h100-superpod", "dgx-a100-superpod") for gpus in (8, 64) for tp in (1, 8)
            for pp in (1, 4) for vpp in (1, None) for recompute in ("none", "full")]


def test_batched_train_equals_estimate_training_point_by_point() -> None:
    points = _points() + [dict(model="llama3-8b", system="dgx-h100-superpod", gpus=8, tp=3, seq_len=2048,
                               global_batch=64), dict(model="no-such-model", system="dgx-h100-superpod", gpus=8)]
    outcomes = train_batch(points)
    failures = 0
    for point, outcome in zip(points, outcomes, strict=True):
        try:
            expected = estimate_training(**point)
        except InputError as exc:
            failures += 1
            assert isinstance(outcome, InputError) and str(outcome) == str(exc)
            continue
        assert not isinstance(outcome, BaseException), outcome
        assert outcome.model_dump() == expected.model_dump()
    assert 2 <= failures < len(points) // 2


def test_flattened_rows_hold_every_output_field() -> None:
    result = estimate_training("llama3-8b", "dgx-h100-superpod", 8, tp=8, seq_len=2048, global_batch=8)
    row = flatten_result(result)
    assert row == flatten(result.model_dump(mode="json"))
    assert row["breakdown_s__compute"] > 0 and row["config__tp"] == 8 and isinstance(row["notes"], str)
    leaves = len(flatten(result.model_dump(mode="json")))
    assert len(row) == leaves


def test_a_failing_point_records_one_line_and_the_batch_goes_on() -> None:
    rows = run_batch("sweep_helpers:slow_square", [("a", {"x": 2, "delay_s": 0}), ("b", {"x": -1, "delay_s": 0})],
                     seed=5)
    assert rows[0]["square"] == 9 and rows[0]["error"] is None and rows[0]["in_x"] == 2
    assert rows[1]["error"] == "InputError: x must be >= 0, got -1" and "square" not in rows[1]


def test_unknown_arguments_and_functions_are_refused_before_running() -> None:
    with pytest.raises(InputError, match="takes no argument 'gpu'"):
        check_arguments("train", ["model", "gpu"])
    with pytest.raises(InputError, match="unknown sweep function"):
        check_arguments("trian", [])
    check_arguments("campus", ["power", "accelerator", "electricity_price"])
    with pytest.raises(InputError, match="needs argument 'bytes'"):
        check_arguments("collective", ["op", "system", "gpus"])


def test_a_result_field_named_seed_does_not_collide_with_the_sweep_columns(tmp_path) -> None:
    from infraplan.sweep.runner import run_sweep
    from infraplan.sweep.store import load_table

    rows = run_batch("collective", [("k", {"op": "all-reduce", "system": "dgx-h100-superpod", "gpus": 8,
                                           "bytes": "1MiB", "seed": 7})], seed=0)
    assert rows[0]["key"] == "k" and "seed" in rows[0] and rows[0]["busbw_bytes_per_s"] > 0
    spec = {"function": "collective", "seed": 4, "batch_size": 2, "axes": {"gpus": [8, 16]},
            "fixed": {"op": "all-reduce", "system": "dgx-h100-superpod", "bytes": 4096}}
    run_sweep(spec, tmp_path / "c", workers=1, progress=False)
    table = load_table(tmp_path / "c")
    assert table.column("sweep_seed").to_pylist() == [4, 4] and "seed" in table.column_names


def test_unit_less_arguments_become_input_columns_named_with_their_unit() -> None:
    """campus `power` (W, '100MW' parsed) and `electricity_price` ($/MWh) are `in_power_w` and
    `in_electricity_price_usd_per_mwh`; a custom function's arguments keep their own names."""
    rows = run_batch("campus", [("a", {"power": "100MW", "accelerator": "h100-sxm", "electricity_price": 40}),
                                ("b", {"power": "lots", "accelerator": "h100-sxm"})], seed=0)
    assert rows[0]["error"] is None and rows[0]["in_power_w"] == 1e8
    assert rows[0]["in_electricity_price_usd_per_mwh"] == 40 and rows[0]["in_accelerator"] == "h100-sxm"
    assert "in_power" not in rows[0] and "in_electricity_price" not in rows[0]
    assert rows[1]["in_power_w"] is None and rows[1]["error"]  # unparseable: null, the error says why
    assert input_columns({"power": 5, "rate": 2}, "sweep_helpers:slow_square") == {"in_power": 5, "in_rate": 2}
    assert input_columns({"rate": 2, "ttft_slo": 0.5}, "serve") == {"in_rate_per_s": 2, "in_ttft_slo_s": 0.5}


def test_a_query_naming_an_input_column_by_its_old_name_gets_one_line_naming_the_new_one(tmp_path) -> None:
    from infraplan.sweep.query import query_results
    from infraplan.sweep.runner import run_sweep

    spec = {"function": "campus", "fixed": {"accelerator": "h100-sxm"},
            "axes": [{"product": {"power": ["100MW", "200MW"], "electricity_price": [40, 80]}}]}
    run_sweep(spec, tmp_path / "out", workers=1, progress=False)
    ok = query_results(tmp_path / "out", "SELECT in_power_w, in_electricity_price_usd_per_mwh FROM results")
    assert sorted(ok.rows) == [[1e8, 40], [1e8, 80], [2e8, 40], [2e8, 80]]
    with pytest.raises(InputError) as err:
        query_results(tmp_path / "out", "SELECT * FROM results WHERE in_electricity_price > 50")
    assert str(err.value) == ("--sql: column in_electricity_price is now in_electricity_price_usd_per_mwh (sweep "
                              "input columns carry their unit in the name)")
    with pytest.raises(InputError, match="--pareto: column in_power is now in_power_w"):
        query_results(tmp_path / "out", pareto="in_power,capex_usd")
