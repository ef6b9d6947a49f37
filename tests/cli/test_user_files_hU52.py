"""hU (session 52): a first-time user adds hardware by writing files (validation/notes/product_review_tried.md).

1. An accelerator file written from scratch met its required fields one run at a time (the first of pydantic's errors
   only): eight runs for `memory_type`, then `efficiency`, then each of its seven required keys. A typo'd key
   (`tdp_watts`) was reported as "tdp_w: Field required", never naming the key written; a stack file's `cuda_graph`
   as "Extra inputs are not permitted" with no hint.
2. A figure written without its unit ran as the base unit: `memory_bytes: 96` (96 GB meant) gave `train` "95.5 GiB
   of 96 B (fits: NO)", exit 0; `scale_out_bandwidth_bytes_per_s: 400` (400 Gb/s) 400 B/s.
3. A system file with "1:7 above each pod" written on the top tier (`oversubscription: 7` on the tier spanning all
   GPUs) was priced 1:1 without a word: `network` printed "core 1:1" and an all-to-all over all 24,576 GPUs took
   the same 12.1 ms as the non-blocking file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.cli.conftest import CliRun

H20: dict[str, object] = {
    "display_name": "H20-like test part", "vendor": "test", "kind": "gpu", "source": "test figures",
    "peak_flops_per_s": {"bf16": 148e12, "fp8": 296e12}, "memory_bytes": "96GB",
    "memory_bandwidth_bytes_per_s": "4TB/s", "memory_type": "HBM3", "tdp_w": "400W",
    "scale_up_bandwidth_bytes_per_s": "450GB/s", "scale_out_bandwidth_bytes_per_s": "400Gbps",
    "efficiency": {"matmul_max_fraction": {"bf16": 0.7}, "attention_max_fraction": 0.5,
                   "memory_bandwidth_fraction": 0.88, "compute_units": 78, "kernel_overhead_s": 4e-6,
                   "scale_up_collective_efficiency": 0.8, "source": "test"},
}
CLUSTER: dict[str, object] = {
    "display_name": "test cluster", "source": "test", "accelerator": "h100-sxm", "total_accelerators": 2048,
    "node": {"accelerators_per_node": 8, "scale_up_domain": 8, "nics_per_node": 8,
             "nic_bandwidth_bytes_per_s": "400Gbps"},
    "network": {"kind": "roce", "collective_efficiency": 0.9, "tiers": [
        {"name": "leaf", "group_size": 256, "switch_radix": 64},
        {"name": "spine", "group_size": 1024, "switch_radix": 64},
        {"name": "core", "group_size": 2048, "switch_radix": 64}]},
}


def _write(tmp_path: Path, name: str, data: dict[str, object]) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_every_missing_field_of_an_accelerator_file_is_named_in_one_line(cli: CliRun, tmp_path: Path) -> None:
    bare = {k: v for k, v in H20.items() if k not in ("memory_type", "efficiency")}
    bare["efficiency"] = {"matmul_max_fractoin": {"bf16": 0.7}}
    code, _, err = cli(["catalog", "accelerators", _write(tmp_path, "bare.yaml", bare)])
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    for field in ("memory_type", "efficiency.matmul_max_fraction", "efficiency.attention_max_fraction",
                  "efficiency.compute_units", "efficiency.kernel_overhead_s", "efficiency.source"):
        assert field in err  # before: only "memory_type: Field required"
    assert "efficiency.matmul_max_fractoin: Extra inputs are not permitted (did you mean matmul_max_fraction?)" in err


def test_a_typo_d_key_is_named_with_the_field_it_may_mean(cli: CliRun, tmp_path: Path) -> None:
    typo = {("tdp_watts" if k == "tdp_w" else k): v for k, v in H20.items()}
    code, _, err = cli(["catalog", "accelerators", _write(tmp_path, "typo.yaml", typo)])
    assert code == 2
    assert "tdp_w: Field required; tdp_watts: Extra inputs are not permitted (did you mean tdp_w?)" in err
    stack = _write(tmp_path, "stack.yaml", {"display_name": "s", "extends": "nemo-26.04", "source": "s",
                                            "cuda_graph": False})
    code, _, err = cli(["train", "llama3-8b", "--system", "h100-sxm", "--gpus", "8", "--tp", "1", "--pp", "1",
                        "--seq-len", "4096", "--global-batch", "64", "--stack", stack])
    assert code == 2
    assert "cuda_graph: Extra inputs are not permitted (did you mean cuda_graphs?)" in err


def test_a_figure_without_its_unit_is_refused_not_priced_in_the_base_unit(cli: CliRun, tmp_path: Path) -> None:
    good = _write(tmp_path, "good.yaml", H20)
    assert cli(["catalog", "accelerators", good])[0] == 0
    for field, bare, said in (("memory_bytes", 96, "96 B is below the 1 MiB"),
                              ("memory_bandwidth_bytes_per_s", 4, "4 B/s is below the 1 MB/s"),
                              ("scale_out_bandwidth_bytes_per_s", 400, "400 B/s is below the 1 MB/s")):
        code, _, err = cli(["train", "llama3-8b", "--system", _write(tmp_path, f"{field}.yaml", {**H20, field: bare}),
                            "--gpus", "8", "--tp", "1", "--pp", "1", "--seq-len", "4096", "--global-batch", "64"])
        assert code == 2, field  # before: exit 0, "95.5 GiB of 96 B (fits: NO ...)"
        assert f"{field}: {said}" in err and "a unit left out" in err
    peaks = {**H20, "peak_flops_per_s": {"bf16": 148, "fp8": 296e12}}
    code, _, err = cli(["catalog", "accelerators", _write(tmp_path, "peak.yaml", peaks)])
    assert code == 2 and "peak_flops_per_s.bf16: 148 FLOP/s is below the 1 GFLOP/s" in err
    no_sram = {**H20, "sram_bytes": 0, "host_link_bandwidth_bytes_per_s": 0}  # 0: no figure, as before
    assert cli(["catalog", "accelerators", _write(tmp_path, "zero.yaml", no_sram)])[0] == 0


def test_oversubscription_on_the_top_tier_is_refused_naming_the_tier_below(cli: CliRun, tmp_path: Path) -> None:
    network: dict[str, Any] = dict(CLUSTER["network"])  # type: ignore[call-overload]
    tiers = network["tiers"]
    top = {**CLUSTER, "network": {**network, "tiers": [*tiers[:2], {**tiers[2], "oversubscription": 7}]}}
    code, _, err = cli(["network", _write(tmp_path, "top.yaml", top)])
    assert code == 2  # before: exit 0, "core ... 1:1"
    assert "network tier 'core' is the top tier" in err and "(the tier below: 'spine')" in err
    pod = {**CLUSTER, "network": {**network, "tiers": [tiers[0], {**tiers[1], "oversubscription": 7}, tiers[2]]}}
    code, out, _ = cli(["network", _write(tmp_path, "pod.yaml", pod), "--json"])
    assert code == 0
    assert "spine" in out


def test_a_sweep_spec_reads_the_files_it_names_beside_it(cli: CliRun, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """4. A sweep spec naming `hw/part.yaml` beside it failed every point ("no such file") unless run from its
    folder, where a plan or fleet-mix spec reads its pool files beside it."""
    folder = tmp_path / "study"
    (folder / "hw").mkdir(parents=True)
    _write(folder / "hw", "part.yaml", H20)
    (folder / "s.yaml").write_text("function: facility\nfixed: {count: 64}\n"
                                   "axes:\n  - product: {accelerator: [h100-sxm, hw/part.yaml]}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, _, err = cli(["sweep", str(folder / "s.yaml"), "--out", str(tmp_path / "out"), "--workers", "1", "--json"])
    assert code == 0, err
    code, out, err = cli(["results", str(tmp_path / "out"), "--sql",
                          "SELECT in_accelerator, error FROM results ORDER BY in_accelerator", "--json"])
    assert code == 0, err
    rows = json.loads(out)["rows"]
    assert [row[1] for row in rows] == [None, None]  # before: "InputError: no such file: hw/part.yaml"
    assert sorted(row[0] for row in rows) == sorted(["h100-sxm", str(folder / "hw" / "part.yaml")])
    code, out, err = cli(["sweep", str(folder / "s.yaml"), "--out", str(tmp_path / "out"), "--workers", "1"])
    assert code == 0, err
    assert "(local, 1 worker)" in " ".join(out.split())  # was "(local, 1 workers)"


GEMMA2_9B = {  # google/gemma-2-9b config.json (transformers 4.42), as a user brings it: 21 of 42 layers slide
    "architectures": ["Gemma2ForCausalLM"], "attn_logit_softcapping": 50.0, "cache_implementation": "hybrid",
    "final_logit_softcapping": 30.0, "head_dim": 256, "hidden_act": "gelu_pytorch_tanh",
    "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 3584, "intermediate_size": 14336,
    "max_position_embeddings": 8192, "model_type": "gemma2", "num_attention_heads": 16, "num_hidden_layers": 42,
    "num_key_value_heads": 8, "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06, "rope_theta": 10000.0,
    "sliding_window": 4096, "torch_dtype": "float32", "vocab_size": 256000,
}


def test_a_windowed_model_that_fits_its_weights_is_not_told_its_weights_exceed_memory(
        cli: CliRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """5. Gemma 2 9B on one H100, 16 clients: "weights 17.2 GiB + workspace and reserve 4.2 GiB per GPU = 21.4 GiB
    exceed the usable 79.6 GiB": false (21.4 < 79.6); the sliding layers' windows held for the 2,048-sequence batch
    cap took the cache. Its `cache_implementation` key (generation's cache class) was "not understood".
    Since hW (session 52) the windows are held for the 16 clients and the run fits (tests/cli/
    test_window_hold_hW52.py); the message is checked here under the cap's hold (the toggle off)."""
    from infraplan.serving import kv_pool_window

    monkeypatch.setattr(kv_pool_window, "RUNNING_WINDOWS", False)
    config = tmp_path / "gemma2.json"
    config.write_text(json.dumps(GEMMA2_9B))
    code, out, err = cli(["serve", str(config), "--system", "h100-sxm", "--gpus", "1", "--input-len", "7000",
                          "--output-len", "500", "--concurrency", "16", "--json"])
    assert code == 0, err
    answer = json.loads(out)
    why = answer["why"]
    assert answer["fits"] is False
    assert "exceed the usable" not in why
    assert "sliding-window layers' windows (4,096 tokens) held for 2,048 sequences" in why
    assert "cache_implementation" not in err


def test_a_plan_spec_reads_its_services_model_file_beside_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """6. A plan spec with `model: cfg/m.json` beside it: its pools' files were read beside it, its model from the
    working directory ("infraplan: error: no such file: cfg/m.json")."""
    from infraplan.planning.scenario_spec import load_scenario

    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "m.json").write_text((Path(__file__).parents[2] / "src/infraplan/catalog/models/"
                                              "llama3-8b.json").read_text())
    spec = tmp_path / "plan.yaml"
    spec.write_text("name: p\nphases: [{name: '2026', year: 2026}]\nservices:\n"
                    "  - {name: chat, kind: llm, model: cfg/m.json, rate: 5, workload: chat}\n"
                    "pools:\n  - {name: h100, device: h100-sxm, site: s}\nsites:\n  - {name: s, power: 1MW}\n")
    monkeypatch.chdir(tmp_path.parent)
    assert load_scenario(spec).services[0].model == str(tmp_path / "cfg" / "m.json")


def test_an_error_band_counts_its_cases_with_thousands_separated(capsys: pytest.CaptureFixture[str]) -> None:
    """7. The serving bands' basis read "residuals of 1970 serving cases ... 89% of hopper's 1253 cases" where every
    other count in the answer is separated ("1,970")."""
    from tests.cli.conftest import cli_json

    answer = cli_json(capsys, "serve llama3-8b --system h100-sxm --gpus 1 --input-len 128 --output-len 16 "
                              "--concurrency 1 --requests 20")
    basis = answer["error_band"]["basis"] + answer["ttft_error_band"]["basis"]
    assert re.search(r"residuals of \d,\d{3} serving", basis), basis
    assert not re.search(r"\d{4,} (serving|cases)", basis), basis


def test_a_pool_of_an_unpriced_accelerator_file_names_the_file_s_price_fields(tmp_path: Path) -> None:
    """8. A plan pool of a user's accelerator file without a price was told only "give price_usd_per_device"; the
    file's own `price_usd` / `price_source` (which every command reads) was not named."""
    from infraplan.planning.device_money import missing_price

    why = missing_price("h20", _write(tmp_path, "h20.yaml", H20), None)
    assert why is not None and "or price_usd and price_source in its accelerator file" in why
    priced = _write(tmp_path, "p.yaml", {**H20, "price_usd": 15000, "price_source": "test"})
    assert missing_price("h20", priced, None) is None


def test_the_flow_explanation_separates_its_link_counts() -> None:
    """9. `collective all-to-all --sim flow` on the 24,576-GPU file: "the busiest spine link carries 56 flows where
    the 7680 spine links in use average 32.5" (every other count in the answer is separated)."""
    from infraplan.network.flow_explain import PhaseComparison, difference_reason

    phase = PhaseComparison(name="all-to-all", steps=1, flow_bandwidth_s=11.46e-3, flow_latency_s=0.0,
                            analytical_bandwidth_s=7.1e-3, analytical_latency_s=0.0, flow_tier="spine",
                            busiest_link_flows=1056.0, mean_link_flows=32.5, links_in_use=7680)
    why = difference_reason(11.46e-3, 7.1e-3, [phase], "spine", 1)
    assert why is not None and "carries 1,056 flows where the 7,680 spine links in use average 32.5" in why


def test_a_hardware_or_stack_file_given_as_the_model_is_named(cli: CliRun, tmp_path: Path) -> None:
    """10. `train hw/part.yaml ...` (the part file in the model's place) warned that all 15 of its keys were "not
    understood", then "model config 'part' lacks hidden_size, num_hidden_layers, num_attention_heads"."""
    plan = ["--system", "h100-sxm", "--gpus", "8", "--tp", "1", "--pp", "1", "--seq-len", "4096",
            "--global-batch", "64"]
    stack = _write(tmp_path, "s.yaml", {"display_name": "s", "extends": "nemo-26.04", "source": "s"})
    for path, kind in ((_write(tmp_path, "part.yaml", H20), "an accelerator file (efficiency, peak_flops_per_s"),
                       (_write(tmp_path, "sys.yaml", CLUSTER), "a system file (network, node, total_accelerators)"),
                       (stack, "a stack file")):
        code, _, err = cli(["train", path, *plan])
        assert code == 2
        assert f"is {kind}" in err and "not a Hugging Face config.json" in err
        assert "not understood" not in err and len(err.strip().splitlines()) == 1


def test_more_gpus_than_a_system_of_a_user_part_names_the_part_file_not_a_preset(cli: CliRun, tmp_path: Path) -> None:
    """11. A system file of a user's part, asked for more GPUs: "(the accelerator preset h20 takes any count)", but
    `--system h20` is no preset (refused as unknown); the part's file is what takes any count."""
    part = _write(tmp_path, "part.yaml", H20)
    system = _write(tmp_path, "sys.yaml", {**CLUSTER, "accelerator": part})
    code, _, err = cli(["train", "llama3-8b", "--system", system, "--gpus", "2049", "--tp", "1", "--pp", "1",
                        "--seq-len", "4096", "--global-batch", "2049"])
    assert code == 2
    assert "system sys has 2,048 accelerators (its accelerator's file, part, as --system takes any count)" in err
