"""hU45 (session 42): keys read by nothing, words that say GPU where there is none (validation/notes/
product_review_tried.md, section "hU45 (session 42)"); every test fails on the tree before the fix (HEAD 1cea3e6).

1. A service field its kind does not read (a recsys / image / video service's `stack`, a training run's `growth`,
   a video service's `model`, ...) was accepted and ignored in `plan` and `fleet-mix` files: now one line naming
   the kinds that read it (exit 2; the web 400). A dumped spec (`compare --vary`) still loads: defaults are not asked.
2. `train --system msvp` (and search, serve, serve-plan, reliability, facility) listed the CPU presets among the
   known names, which they then refuse; `network` takes CPUs and keeps listing them.
3. `network`'s wiring notes and fabric errors said "20,736-GPU domain" on MTIA.
4. `collective` said "8 GPUs of xeon-8480"; `reliability` on an MTIA rack "GPUs held" and, in its notes, "the
   72-GPU scale-up domain", "applied per GPU" (the rate's own node keeps "8-GPU": Llama 3's H100 nodes).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from tests.cli.conftest import CliRun

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "examples" / "plan-minimal.yaml"

PLAN_BASE = {"name": "t", "phases": [{"name": "2025", "year": 2025}],
             "pools": [{"name": "h100", "device": "h100-sxm", "site": "ohio"}],
             "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}]}
RECSYS = {"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": "10M", "latency_slo": "10ms"}
VIDEO = {"name": "ingest", "kind": "video", "daily_hours": 100}
IMAGE = {"name": "images", "kind": "image", "rate": 1}
TRAINING = {"name": "pretrain", "kind": "training", "model": "llama3-8b", "tokens": "1T", "gpus": 64}


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[│┃]", " ", text))


def _write(tmp_path: Path, data: dict[str, object], name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(("service", "key", "value", "readers"), [
    (RECSYS, "stack", "vllm", "training and llm"),
    (IMAGE, "stack", "vllm", "training and llm"),
    (VIDEO, "stack", "vllm", "training and llm"),
    (TRAINING, "growth", {"2025": 2}, "llm, recsys, image and video"),
    (VIDEO, "model", "dlrm-low", "training, llm, recsys and image"),
    (RECSYS, "workload", "chat", "llm and image"),
    (IMAGE, "ttft_slo", "2s", "llm"),
    (RECSYS, "ladder", 3, "video"),
    (VIDEO, "seq_len", 4096, "training"),
])
def test_plan_refuses_a_service_field_its_kind_does_not_read(cli: CliRun, tmp_path: Path, service: dict[str, object],
                                                             key: str, value: object, readers: str) -> None:
    path = _write(tmp_path, {**PLAN_BASE, "services": [{**service, key: value}]})
    code, out, err = cli(["plan", str(path), "--json"])
    assert code == 2 and out == ""
    assert err.count("\n") == 1, err
    assert f"{key} is read by {readers} services only" in err and f"{service['kind']} service does not read it" in err


@pytest.mark.parametrize(("service", "key", "value", "readers"), [
    (VIDEO, "stack", "vllm", "llm"),
    (RECSYS, "stack", "vllm", "llm"),
    (RECSYS, "dtypes", ["fp8"], "llm"),
    (VIDEO, "latency_slo", "10ms", "recsys"),
    (RECSYS, "codec", "h265", "video"),
])
def test_fleet_mix_refuses_a_service_field_its_kind_does_not_read(cli: CliRun, tmp_path: Path,
                                                                  service: dict[str, object], key: str, value: object,
                                                                  readers: str) -> None:
    path = _write(tmp_path, {"services": [{**service, key: value}], "pools": [{"name": "x", "device": "xeon-8480"}]})
    code, out, err = cli(["fleet-mix", str(path), "--json"])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and f"{key} is read by {readers} services only" in err, err


def test_the_web_answers_400_for_a_recsys_services_stack() -> None:
    from fastapi.testclient import TestClient

    from infraplan.web.app import create_app

    spec = yaml.safe_load(PLAN.read_text())
    spec["services"][0]["stack"] = "vllm"
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        got = client.post("/api/plan", json={"scenario": {"spec": spec}})
    assert got.status_code == 400, got.text
    assert "stack is read by training and llm services only" in got.json()["detail"]


def test_a_dumped_spec_with_every_kind_still_loads() -> None:
    """`compare --vary` re-validates `model_dump()`, which carries every default (video's ladder, training's
    seq_len, llm's dtypes): a default is not a key the user set."""
    from infraplan.planning.compare import varied
    from infraplan.planning.scenario_spec import ScenarioSpec

    llm = {"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 1}
    spec = ScenarioSpec.model_validate({**PLAN_BASE, "services": [RECSYS, VIDEO, IMAGE, TRAINING, llm]})
    assert varied(spec, "pue", 1.3).policy.pue == 1.3
    with pytest.raises(ValueError, match="ladder is read by video services only"):
        ScenarioSpec.model_validate({**PLAN_BASE, "services": [{**RECSYS, "ladder": 3}]})


# wse-3: a name of no preset (msvp was, until hH66 gave a video transcoder its own line: test_video_device_named_hH66)
@pytest.mark.parametrize("args", [
    ["train", "llama3-8b", "--system", "wse-3", "--gpus", "8", "--tp", "1", "--pp", "1", "--seq-len", "2048",
     "--global-batch", "8"],
    ["search", "llama3-8b", "--system", "wse-3", "--gpus", "8", "--seq-len", "2048", "--global-batch", "8"],
    ["serve", "llama3-8b", "--system", "wse-3", "--gpus", "8", "--workload", "chat", "--rate", "1"],
    ["serve-plan", "llama3-8b", "--system", "wse-3", "--workload", "chat", "--rate", "1"],
    ["reliability", "--system", "wse-3", "--gpus", "8"],
    ["facility", "--system", "wse-3"],
])
def test_an_unknown_system_lists_no_cpu_where_the_command_refuses_cpus(cli: CliRun, args: list[str]) -> None:
    code, _, err = cli(args)
    assert code == 2 and "unknown system or accelerator 'wse-3'; known: " in err
    known = err.split("known: ", 1)[1]
    assert "h100-sxm" in known and "mtia-400" in known and "gb200-nvl72" in known
    assert "xeon-8480" not in known and "epyc-9654" not in known


def test_network_takes_cpus_and_keeps_listing_them(cli: CliRun) -> None:
    code, _, err = cli(["network", "wse-3"])
    assert code == 2 and "xeon-8480" in err.split("known: ", 1)[1]
    code, _, err = cli(["train", "llama3-8b", "--system", "xeon-8480", "--gpus", "8", "--tp", "1", "--pp", "1",
                        "--seq-len", "2048", "--global-batch", "8"])
    assert code == 2 and "xeon-8480 is a CPU; LLM training needs an accelerator" in err


def test_network_wiring_notes_and_errors_say_the_device_word(cli: CliRun) -> None:
    code, out, err = cli(["network", "mtia-400", "--gpus", "20736"])
    assert code == 0, err
    assert "per 20,736-accelerator domain" in _flat(out) and "-GPU" not in _flat(out)
    code, out, err = cli(["network", "meta-genai-roce-24k"])
    assert code == 0 and "per 24,576-GPU domain" in _flat(out)  # a GPU system keeps its word
    # a partial spine domain builds as whole domains since hN55 (test_partial_pod_hN55.py), said in the same word
    code, out, err = cli(["network", "mtia-400", "--gpus", "24480"])
    assert code == 0 and "24,480 accelerators end in a partial 1,296-accelerator spine domain" in _flat(out), err
    code, _, err = cli(["network", "mtia-400", "--gpus", "24481"])
    assert code == 2 and "24,481 accelerators is not a multiple of the 4-accelerator node" in err


def test_collective_and_reliability_say_the_device_word(cli: CliRun) -> None:
    code, out, err = cli(["collective", "all-reduce", "--system", "xeon-8480", "--gpus", "8", "--bytes", "1GB"])
    assert code == 0 and "on 8 CPUs of xeon-8480" in _flat(out), err
    code, out, err = cli(["collective", "all-reduce", "--system", "tpu-v6e", "--gpus", "64", "--bytes", "1GB"])
    assert code == 0 and "on 64 TPUs of tpu-v6e" in _flat(out), err
    code, _, err = cli(["collective", "all-reduce", "--system", "mtia-400", "--gpus", "1", "--bytes", "1GB"])
    assert code == 2 and "a collective needs at least 2 accelerators, got 1" in err
    code, out, err = cli(["reliability", "--system", "mtia-400-rack", "--gpus", "72"])
    flat = _flat(out)
    assert code == 0 and "accelerators held 72 in 1 domain of 72" in flat and "GPUs held" not in flat, err
    notes = " ".join(out.split("goodput of accelerators held", 1)[1].split())
    assert "the 72-accelerator scale-up domain spans 18 servers" in notes and "72 accelerators; " in notes
    assert "counted on 8-GPU nodes and is applied per accelerator" in notes  # the rate's node: Llama 3's H100s
    code, out, _ = cli(["reliability", "--system", "meta-genai-roce-24k", "--gpus", "16384"])
    assert code == 0 and "GPUs held 16,384" in _flat(out) and "the 16,384-GPU job holds" in _flat(out)
