"""The CLI contract: JSON keys, human output with units, one-line errors with exit code 2."""

from __future__ import annotations

import json

import pytest

LLAMA_16K = ["train", "llama3-405b", "--system", "meta-genai-roce-24k", "--gpus", "16384", "--tp", "8", "--pp", "16",
             "--vpp", "8", "--seq-len", "8192", "--global-batch", "2048", "--zero", "3"]
TRAIN_KEYS = {"step_time_s", "tokens_per_s", "tokens_per_s_per_gpu", "model_tflops_per_gpu", "mfu", "hfu",
              "memory_per_gpu_bytes", "fits", "breakdown_s", "config"}
BREAKDOWN_KEYS = {"compute", "tp_comm", "cp_comm", "ep_comm", "pp_bubble", "pp_comm", "dp_comm_exposed",
                  "optimizer", "other", "host_exposed"}  # host_exposed out of other (hK58)


def test_train_json_has_the_contract_keys(cli):
    code, out, _ = cli([*LLAMA_16K, "--json"])
    assert code == 0
    data = json.loads(out)
    assert set(data) >= TRAIN_KEYS
    assert set(data["breakdown_s"]) == BREAKDOWN_KEYS
    assert data["config"]["dp"] == 16384 // (8 * 16)  # --dp defaults to N/(T*P*C)
    assert data["tokens_per_s"] == pytest.approx(2048 * 8192 / data["step_time_s"])
    assert sum(data["breakdown_s"].values()) == pytest.approx(data["step_time_s"])


def test_train_human_output_carries_units(cli):
    code, out, _ = cli(LLAMA_16K)
    assert code == 0
    for unit in ("tokens/s", "FLOP/s", "GiB", " s", "%"):
        assert unit in out


def test_model_from_a_path_works(cli, tmp_path):
    config = {"model_type": "mistral", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
              "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 32000,
              "max_position_embeddings": 32768}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    code, out, _ = cli(["train", str(path), "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8",
                        "--seq-len", "4096", "--global-batch", "16", "--json"])
    assert code == 0
    assert json.loads(out)["fits"] is True


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["train", "llama3-40b", "--system", "meta-rsc", "--gpus", "8", "--seq-len", "2048", "--global-batch", "8"],
         "did you mean"),
        (["train", "llama3-8b", "--system", "meta-rsc", "--gpus", "16", "--tp", "8", "--dp", "1", "--seq-len",
          "2048", "--global-batch", "8"], "not --gpus 16"),
        (["train", "llama3-8b", "--system", "meta-rsc", "--gpus", "3", "--tp", "3", "--seq-len", "2048",
          "--global-batch", "3"], "not divisible by TP"),
        (["train", "llama3-405b", "--system", "meta-genai-roce-24k", "--gpus", "128", "--tp", "8", "--pp", "16",
          "--vpp", "9", "--seq-len", "8192", "--global-batch", "16"], "exceeds the model's 126 layers"),
        (["train", "llama3-8b", "--system", "meta-rsc", "--gpus", "8", "--seq-len", "2048", "--global-batch", "12"],
         "not divisible by DP x micro-batch"),
        (["train", "llama3-8b", "--system", "meta-rsc", "--gpus", "99999", "--seq-len", "2048", "--global-batch",
          "8"], "has 16,000 accelerators"),
        (["train", "llama3-8b", "--system", "meta-rsc", "--gpus", "8", "--seq-len", "2048", "--global-batch", "8",
          "--dtype", "fp8"], "no fp8"),
        (["train", "llama3-8b", "--system", "meta-rsc", "--gpus", "eight", "--seq-len", "2048", "--global-batch",
          "8"], "--gpus"),
        (["search", "llama3-8b", "--system", "meta-rsc", "--gpus", "1:8:x1", "--seq-len", "2048", "--global-batch",
          "8"], "expected N"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, args, needle):
    code, out, err = cli(args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert needle in err


def test_malformed_model_file_is_exit_2(cli, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"hidden_size": [1')
    code, _, err = cli(["train", str(path), "--system", "meta-rsc", "--gpus", "8", "--seq-len", "2048",
                        "--global-batch", "8"])
    assert code == 2
    assert "malformed" in err and len(err.strip().splitlines()) == 1


def test_plan_that_does_not_fit_is_not_an_error(cli):
    code, out, _ = cli(["train", "llama3-405b", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8",
                        "--seq-len", "8192", "--global-batch", "8", "--json"])
    assert code == 0
    data = json.loads(out)
    assert data["fits"] is False
    assert data["memory_overflow_term"] in data["memory_breakdown_bytes"]


def test_search_json_contract_and_no_feasible_plan(cli):
    code, out, _ = cli(["search", "llama3-405b", "--system", "dgx-h100-superpod", "--gpus", "8",
                        "--seq-len", "8192", "--global-batch", "64", "--dtype", "bf16", "--json"])
    assert code == 0
    data = json.loads(out)
    assert data["best"] is None and "does not fit" in data["reason"]
    assert {"top", "evaluated_count", "feasible_count", "wall_time_s", "configs_per_s"} <= set(data)
    assert data["evaluated_count"] > 0 and data["feasible_count"] == 0


def test_search_scaling_curve_writes_a_plot(cli, tmp_path):
    plot = tmp_path / "scaling.html"
    code, out, _ = cli(["search", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8,16",
                        "--seq-len", "4096", "--global-batch", "64", "--plot", str(plot), "--json"])
    assert code == 0
    data = json.loads(out)
    assert [p["gpus"] for p in data["scaling"]] == [8, 16]
    assert plot.read_text().lower().count("plotly") > 0


def test_train_with_tokens_adds_the_whole_run(cli):
    code, out, _ = cli([*LLAMA_16K, "--tokens", "15.6T", "--json"])
    assert code == 0
    data = json.loads(out)
    for key in ("time_to_train_s", "goodput", "job_mttf_s", "checkpoint_interval_s", "gpu_hours", "energy_mwh",
                "co2_t", "cost_usd"):
        assert data[key] > 0, key
    compute_only = 15.6e12 / data["tokens_per_s"]
    assert data["time_to_train_s"] == pytest.approx(compute_only / data["goodput"])
    assert 0.5 < data["goodput"] < 1.0
    assert data["gpu_hours"] == pytest.approx(16384 * data["time_to_train_s"] / 3600)


def test_fleet_mix_and_plan_read_a_video_service_alike(cli, tmp_path):
    # one service model (planning.scenario_spec.InferenceServiceSpec): fleet-mix reads `daily_hours: 50k` with
    # units, as a scenario does; before the merge it took plain numbers only
    outputs = []
    for hours in ("50k", "50000"):
        spec = tmp_path / f"fleet-{hours}.yaml"
        spec.write_text(f"services:\n  - {{name: ingest, kind: video, daily_hours: {hours}}}\n"
                        "pools:\n  - {name: msvp, device: msvp}\n")
        code, out, err = cli(["fleet-mix", str(spec), "--json"])
        assert code == 0, err
        outputs.append(json.loads(out))
    assert outputs[0] == outputs[1]
    assert outputs[0]["assignment"][0]["served"] >= 50_000 / 24
    bad = tmp_path / "fleet-bad.yaml"
    bad.write_text("services:\n  - {name: ingest, kind: video, daily_hours: -3}\n"
                   "pools:\n  - {name: msvp, device: msvp}\n")
    code, _, err = cli(["fleet-mix", str(bad)])
    assert code == 2 and "services.0.daily_hours" in err and len(err.strip().splitlines()) == 1
