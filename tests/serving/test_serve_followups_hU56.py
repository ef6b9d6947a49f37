"""Serving follow-ups of the session-44 reviews (hU56): SLO attainment without an SLO, serve-plan's power, the part's
device word in the fit message, native MXFP4 on MTIA 400 / 450 (which list mxfp8, not fp8), and TP across scale-up
domains said as `train` says it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from tests.cli.conftest import cli_json

from infraplan.catalog import load_accelerator
from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.network.collective_algorithms import custom_all_reduce_time
from infraplan.network.collectives import collective_time
from infraplan.ops.precision import RECIPES
from infraplan.serving.format_precision import serving_precision

FIXED = ["--offline", "--input-len", "200", "--output-len", "20", "--requests", "40"]


def _serve(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["serve", *args])
    out, err = capsys.readouterr()
    return code, out, err


# 1. slo_attainment: null (nothing to attain) where no SLO was given, not a vacuous 1.0


def test_slo_attainment_metric_is_null_without_an_slo(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["serve", "llama3-8b", "--system", "h100-sxm", "--gpus", "1", *FIXED]
    none = cli_json(capsys, base)
    assert none["slo"] == {"ttft_s": None, "tpot_s": None} and none["slo_attainment"] is None
    assert none["warnings"] == []  # no "only 0 % meet the SLO" either
    # the same run with an SLO every request meets (TTFT <= 1 h) and one none meets (TPOT <= 1 ns): 1 and 0
    met = cli_json(capsys, [*base, "--ttft-slo", "3600s"])  # bare 3600: refused (hF46)
    missed = cli_json(capsys, [*base, "--tpot-slo", "1e-9"])
    assert met["slo_attainment"] == 1.0 and missed["slo_attainment"] == 0.0
    assert met["tpot_s"] == none["tpot_s"] == missed["tpot_s"]  # an SLO only reads the run
    code, out, _ = _serve(capsys, *base[1:])
    assert code == 0 and re.search(r"SLO attainment\s*│\s*- \(no SLO", out) and "100.0 %" not in out


def test_image_slo_attainment_metric_is_null_without_an_slo(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """An image workload without `e2e_slo_s` printed "SLO attainment 100.0 %" (diffusion's vacuous 1.0)."""
    preset = Path("src/infraplan/catalog/workloads/image-generation.yaml").read_text()
    assert "e2e_slo_s: 5.0" in preset
    workload = tmp_path / "images-no-slo.yaml"
    workload.write_text(preset.replace("e2e_slo_s: 5.0", ""))
    base = ["serve", "sd-v1.5-512", "--system", "h100-sxm", "--gpus", "1", "--offline", "--requests", "32"]
    none = cli_json(capsys, [*base, "--workload", str(workload)])
    given = cli_json(capsys, [*base, "--workload", str(workload), "--ttft-slo", "3600s"])  # bare 3600: refused (hF46)
    assert none["slo"] == {"e2e_s": None} and none["slo_attainment"] is None and given["slo_attainment"] == 1.0
    code, out, _ = _serve(capsys, *base[1:], "--workload", str(workload))
    assert code == 0 and "- (no SLO: --ttft-slo (the image" in out and "100.0 %" not in out


# 2. serve-plan's `serve` block carries the power `serve` of its own line gives (same question two ways)


@pytest.mark.parametrize("plan", [
    "llama3-8b --system mtia-400-rack --rate 20 --workload chat --stack vllm-0.x",
    "llama3-8b --system dgx-h100-superpod --rate 10 --workload chat",
])
def test_serve_plan_power_is_serve_of_its_command(plan: str, capsys: pytest.CaptureFixture[str]) -> None:
    answer = cli_json(capsys, ["serve-plan", *shlex.split(plan)])
    assert answer["feasible"]
    served = cli_json(capsys, shlex.split(answer["serve_command"])[1:])
    power = answer["serve"]["power_w_per_gpu"]  # was absent (null)
    assert power == served["power_w_per_gpu"]
    acc = Cluster.resolve(shlex.split(plan)[2]).accelerator
    # the plan's J/token and steady rate are `serve`'s of its line (hJ57: J/token is at the steady served rate, so
    # it no longer equals the whole run's mean power over the whole run's tokens/s)
    for key in ("joules_per_token", "steady_output_tokens_per_s", "usd_per_million_tokens"):
        assert answer["serve"][key] == served[key]
    assert answer["serve"]["joules_per_token"] * answer["serve"]["output_tokens_per_s"] < power * answer["gpus"]
    assert 0.0 < power < acc.tdp_w + 2000.0  # the part's TDP plus at most a host share
    capsys.readouterr()
    assert main(["serve-plan", *shlex.split(plan)]) == 0
    assert f"{power:,.0f} W" in capsys.readouterr().out


# 3. the fit message says the part's word ("per GPU" on an MTIA read wrong)


@pytest.mark.parametrize(("system", "word"), [("mtia-400", "accelerator"), ("h100-sxm", "GPU")])
def test_fit_message_note_takes_the_parts_device_word(system: str, word: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    data = cli_json(capsys, ["serve", "llama3-405b", "--system", system, "--gpus", "1", "--stack", "vllm-0.x",
                             *FIXED])
    assert not data["fits"] and f"GiB per {word} = " in data["why"]
    assert ("per GPU" in data["why"]) == (word == "GPU")
    code, out, err = _serve(capsys, "llama3-8b", "--system", system, "--gpus", "2", "--prefill-gpus", "3",
                            "--stack", "vllm-0.x", *FIXED)  # the pools' refusal too
    assert code == 2 and not out and f"the replica's 1 {word}s and leave decode {word}s" in err


# 4. native mxfp4 x mxfp8 on a part that lists mxfp8 and no fp8 (MTIA 400 / 450), and no refusal loop


@pytest.mark.parametrize("part", ["mtia-400", "mtia-450"])
def test_mxfp4_native_on_mtia_at_its_mxfp8_rate(part: str, capsys: pytest.CaptureFixture[str]) -> None:
    acc = load_accelerator(part)
    assert acc.supports("mxfp4") and acc.supports("mxfp8") and not acc.supports("fp8")
    prec = serving_precision(acc, "mxfp4")  # was InputError "no fp8 tensor-core rate"
    # mxfp4 weights x mxfp8 activations at the 8-bit rate the part has: its mxfp8 peak x its mxfp8 fraction
    assert prec.rate == acc.peak("mxfp8") * acc.efficiency.matmul_max_fraction["mxfp8"]
    assert prec.rate == RECIPES["mxfp8"].gemm_flops_per_s(acc) == serving_precision(acc, "mxfp8").rate
    data = cli_json(capsys, ["serve", "llama3-8b", "--system", part, "--gpus", "1", "--dtype", "mxfp4",
                             "--stack", "sglang-0.x", *FIXED])
    assert data["fits"] and data["deployment"]["weight_format"].startswith("mxfp4 native")
    assert "at the mxfp8 rate" in data["deployment"]["weight_format"]
    mx8 = cli_json(capsys, ["serve", "llama3-8b", "--system", part, "--gpus", "1", "--dtype", "mxfp8",
                            "--stack", "sglang-0.x", *FIXED])
    # the same GEMM rate, 0.53 B weights against 1.03 B: decode (weight reads) is faster in mxfp4
    assert data["tpot_s"]["p50"] < mx8["tpot_s"]["p50"]


def test_mxfp4_on_gpus_keeps_the_fp8_rate() -> None:
    for part in ("b200", "mi355x"):  # fp8 listed: the rate as before (mxfp8 peak = fp8 peak there anyway)
        acc = load_accelerator(part)
        assert serving_precision(acc, "mxfp4").rate == RECIPES["fp8"].gemm_flops_per_s(acc)
    h100 = load_accelerator("h100-sxm")  # no mxfp4 tensor cores: weight-only, bf16 activations
    assert serving_precision(h100, "mxfp4").act_bytes == 2.0


def test_a_refused_format_offers_only_formats_that_run_mxfp4(capsys: pytest.CaptureFixture[str]) -> None:
    """fp8 on MTIA 400 offered "the weight-only ... mxfp4", which was then refused for want of fp8 (a loop)."""
    base = ["llama3-8b", "--system", "mtia-400", "--gpus", "1", "--stack", "vllm-0.x", *FIXED]
    code, out, err = _serve(capsys, *base, "--dtype", "fp8")
    assert code == 2 and not out and "use bf16, int8, mxfp4 (native), or the weight-only int4" in err
    # the formats vLLM runs there; another stack's (hW51: "; or --stack sglang-0.x, which also runs mxfp8") after them
    offered = re.findall(r"\b(bf16|int8|int4|mxfp4|mxfp8|nvfp4|fp8)\b", err.split("; use ", 1)[1].split("; or ")[0])
    assert set(offered) == {"bf16", "int8", "mxfp4", "int4"}
    for dtype in offered:  # each runs
        assert _serve(capsys, *base, "--dtype", dtype)[0] == 0, dtype


# 5. TP beyond one scale-up domain: a note, as train says it, and its all-reduce priced over the NICs


def test_tp_across_nodes_note_and_nic_pricing(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["serve", "llama3-70b", "--system", "dgx-h100-superpod", "--gpus", "16", "--rate", "2",
            "--workload", "chat", "--requests", "100"]
    across = cli_json(capsys, [*base, "--tp", "16"])
    inside = cli_json(capsys, [*base, "--tp", "8"])
    notes = [w for w in across["warnings"] if w.startswith("TP 16 spans 2 scale-up domains of 8 GPUs")]
    assert len(notes) == 1 and "bound by the NICs" in notes[0]
    assert not any("scale-up domains" in w for w in inside["warnings"])
    # the figures the note quotes are the collectives the iteration prices: NCCL over 16 ranks (the custom
    # all-reduce's own time outside a domain), against the custom one-shot inside 8
    fabric = Cluster.resolve("dgx-h100-superpod").for_gpus(16).fabric
    row = 8192 * 2.0  # Llama 3 70B hidden 8192, bf16
    nccl16 = float(collective_time(fabric, "all_reduce", row, 16, 1))
    assert nccl16 == float(custom_all_reduce_time(fabric, row, 16))
    assert f"{nccl16 * 1e6:.1f} us" in notes[0]
    assert f"{float(custom_all_reduce_time(fabric, row, 8)) * 1e6:.1f} us at TP 8" in notes[0]
    # a latency-bound decode all-reduce: over the NICs it costs more than in a domain, though the NICs' bus
    # bandwidth (8 x 47 GB/s) is near NVLink's ring limit: the scale-out step latency is what crosses
    assert nccl16 > 3 * float(custom_all_reduce_time(fabric, row, 8))


def test_tp16_note_inside_an_nvl72_domain_is_absent(capsys: pytest.CaptureFixture[str]) -> None:
    data = cli_json(capsys, ["serve", "llama3-70b", "--system", "gb200-nvl72", "--gpus", "16", "--tp", "16",
                             "--rate", "2", "--workload", "chat", "--requests", "100"])
    assert not any("scale-up domains" in w for w in data["warnings"])
