"""DLRM inference: preset shapes, placement and spill, batch/SLO behaviour, bounds, power and the CLI contract."""

from __future__ import annotations

import json

import numpy as np
import pytest

from infraplan.catalog import load_accelerator
from infraplan.catalog.inference_loader import list_inference_presets, load_recsys_model, load_recsys_profile
from infraplan.catalog.recsys_schemas import RecsysModel
from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.recsys.estimate import estimate_recsys, evaluate_batches

PRESETS = ["dlrm-low", "dlrm-medium", "dlrm-high", "mlperf-dlrm-dcnv2"]


def custom_model(rows: float, count: int = 10, pooling: float = 10.0, dim: int = 128) -> RecsysModel:
    return RecsysModel.model_validate({
        "name": "custom", "display_name": "custom", "source": "test", "dense_features": 64,
        "tables": [{"count": count, "rows": rows, "dim": dim, "pooling": pooling}], "embedding_dtype": "int8",
        "row_overhead_bytes": 8, "bottom_mlp": [256, dim], "interaction": {"kind": "dot"}, "top_mlp": [512, 1],
        "dtype": "fp16", "default_batch": 256})


def run(capsys, args):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", PRESETS)
def test_presets_load_with_sources(name: str) -> None:
    m = load_recsys_model(name)
    assert m.source.strip() and m.notes.strip()
    assert set(PRESETS) <= set(list_inference_presets("recsys model"))


@pytest.mark.parametrize(("name", "low", "high"), [
    ("dlrm-low", 15e6, 50e6),        # MTIA 2i LC1-LC2: 15-50 MFLOPS/sample
    ("dlrm-medium", 91e6, 105e6),    # LC4-LC5
    ("dlrm-high", 940e6, 1.1e9),     # HC3-HC4
])
def test_presets_span_the_published_complexity_classes(name: str, low: float, high: float) -> None:
    assert low <= load_recsys_model(name).flops_per_sample() <= high


def test_mlperf_dcnv2_shape_matches_the_reference() -> None:
    m = load_recsys_model("mlperf-dlrm-dcnv2")
    assert m.num_tables == 26 and m.lookups_per_sample() == 214
    assert m.embedding_bytes() == pytest.approx(204_184_588 * 128 * 2)  # sum of the 26 row counts, fp16 rows
    assert m.interaction_width() == 27 * 128
    # the DCN layers (3 x two rank-512 GEMMs on 3456 wide) dominate the dense FLOPs
    dcn = sum(2 * k * n for part, k, n in m.gemms() if part == "interaction")
    assert dcn == 3 * 2 * 2 * 3456 * 512


def test_latency_grows_with_batch_and_throughput_saturates() -> None:
    acc = load_accelerator("mtia-v1")
    arrays = evaluate_batches(load_recsys_model("dlrm-medium"), acc, load_recsys_profile("mtia-v1"),
                              2 ** np.arange(13))
    assert np.all(np.diff(arrays["latency_s"]) > 0)
    assert arrays["qps"][-1] > 10 * arrays["qps"][0]  # fixed costs amortise over the batch


def test_breakdown_adds_up_to_latency() -> None:
    r = estimate_recsys("dlrm-high", "a100-80gb", batch=512)
    assert sum(r.breakdown_s.values()) == pytest.approx(r.latency_s)
    assert r.qps_per_w == pytest.approx(r.qps / r.power_w)


@pytest.mark.parametrize("slo", [0.005, 0.02, 0.1])
def test_slo_search_meets_the_slo_and_tighter_slos_never_help(slo: float) -> None:
    r = estimate_recsys("dlrm-high", "mtia-v2", latency_slo_s=slo)
    looser = estimate_recsys("dlrm-high", "mtia-v2", latency_slo_s=slo * 2)
    if r.meets_slo:
        assert r.latency_s <= slo
    assert looser.qps >= r.qps


def test_mtia_keeps_small_dense_weights_in_sram_gpus_do_not() -> None:
    low = estimate_recsys("dlrm-low", "mtia-v1")
    assert low.placement["sram"].dense_fraction == pytest.approx(1.0)
    assert "sram" not in estimate_recsys("dlrm-low", "a100-80gb").placement
    high = estimate_recsys("dlrm-high", "mtia-v1")  # 1 GB of dense weights: most of them stream from LPDDR
    assert high.placement["device"].dense_fraction > 0.8


def test_tables_beyond_device_memory_spill_to_host_and_bind_the_link() -> None:
    m = custom_model(rows=1.15e8)  # 10 x 1.15e8 x 136 B = 156 GB > 115 GB usable LPDDR on MTIA v2 (+48 GB host)
    r = estimate_recsys(m, "mtia-v2")
    assert r.placement["host"].used_bytes > 0
    assert r.bound == "host-link"
    fits = estimate_recsys(custom_model(rows=5.0e7), "mtia-v2")
    assert fits.placement["host"].used_bytes == 0 and fits.qps > r.qps


def test_tables_beyond_every_tier_name_sizes_and_capacities() -> None:
    with pytest.raises(InputError) as info:
        estimate_recsys(custom_model(rows=4.0e8), "mtia-v1")  # 544 GB
    msg = str(info.value)
    assert "544 GB" in msg and "LPDDR5" in msg and "SRAM" in msg and "host DRAM" in msg and "\n" not in msg


def test_cpu_has_no_host_link_and_runs_bf16() -> None:
    r = estimate_recsys("dlrm-medium", "xeon-8480")
    assert r.breakdown_s["host_link"] == 0 and r.bound != "host-link"
    assert r.dtype == "bf16"  # the Xeon lists no fp16 peak


def test_newer_generations_are_faster() -> None:
    for model in ("dlrm-low", "dlrm-medium"):
        assert estimate_recsys(model, "mtia-v2").qps > estimate_recsys(model, "mtia-v1").qps
        assert estimate_recsys(model, "h100-sxm").qps > estimate_recsys(model, "a100-80gb").qps


def test_accelerator_without_profile_uses_the_default() -> None:
    r = estimate_recsys("dlrm-low", "b200")
    assert r.profile.startswith("default") and r.qps > 0


def test_cli_json_contract_and_determinism(capsys) -> None:
    args = ["recsys", "dlrm-medium", "--accelerator", "mtia-v1", "--latency-slo", "20ms", "--json"]
    code, out, _ = run(capsys, args)
    assert code == 0
    data = json.loads(out)
    assert {"qps", "latency_s", "power_w", "qps_per_w", "bound"} <= set(data)
    assert data["bound"] in {"compute", "memory", "host-link"}
    assert data["meets_slo"] is True and data["latency_s"] <= 0.02
    assert run(capsys, args)[1] == out


def test_cli_human_output_has_units(capsys) -> None:
    code, out, _ = run(capsys, ["recsys", "dlrm-low", "--accelerator", "a100-80gb", "--batch", "256"])
    assert code == 0
    for unit in ("QPS", " W", "QPS/W", "FLOP", "GiB"):
        assert unit in out
    assert "µs" in out or "ms" in out


def test_model_from_a_file(capsys, tmp_path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(json.dumps(custom_model(rows=1e6).model_dump()))
    code, out, _ = run(capsys, ["recsys", str(path), "--accelerator", "mtia-v2", "--json"])
    assert code == 0 and json.loads(out)["qps"] > 0


@pytest.mark.parametrize(("args", "needle"), [
    (["recsys", "dlrm-hi", "--accelerator", "mtia-v1"], "did you mean"),
    (["recsys", "dlrm-low", "--accelerator", "mtia-v9"], "unknown accelerator"),
    (["recsys", "dlrm-low", "--accelerator", "mtia-v1", "--latency-slo", "fast"], "cannot read duration"),
    (["recsys", "dlrm-low", "--accelerator", "mtia-v1", "--batch", "0"], "--batch"),
    (["recsys", "dlrm-high", "--accelerator", "mtia-v1", "--batch", "99999999"], "activations"),
])
def test_cli_bad_input_is_one_line_exit_2(capsys, args, needle) -> None:
    code, out, err = run(capsys, args)
    assert code == 2 and out == ""
    assert needle in err and err.count("\n") == 1


def test_cli_capacity_error_exit_2(capsys, tmp_path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(json.dumps(custom_model(rows=4.0e8).model_dump()))
    code, _, err = run(capsys, ["recsys", str(path), "--accelerator", "mtia-v1"])
    assert code == 2 and "does not fit mtia-v1" in err and "GB" in err


@pytest.mark.parametrize("name", list_inference_presets("recsys profile"))
def test_device_profiles_load_and_name_catalog_accelerators(name: str) -> None:
    profile = load_recsys_profile(name)
    assert profile.source.strip()
    assert any(t.name == "device" for t in profile.tiers)
    if name != "default":
        load_accelerator(name)  # raises if the profile names no catalog accelerator
