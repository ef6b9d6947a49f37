"""What a serving run leaves unused of its inputs is said, and serve-plan searches only the system it names (hW75).

Session 74's walk left three silences: a workload's gamma arrivals (code-completion: cv 2) undrawn under
--concurrency or --offline; a trace's columns beyond arrival_s / input_tokens / output_tokens not read; and
`serve-plan --max-gpus N` past a named system's size searched (and listed) deployments that `serve --gpus N` on that
system refuses (`serve-plan llama3-70b --system gb300-nvl72 --max-gpus 200 ...` listed 96 GPUs on a 72-GPU rack).
This walk's own: serve-plan told a workload file with a TTFT SLO alone to "give --ttft-slo and --tpot-slo"; an
offline trace too small for its batches was told "--requests N fills every batch" (N past the trace's rows, which
--requests does not add) and "about 0 a batch"; a PP 2 replica's hop was "1 of its 1 stage hops". Each test failed
at 8ca6f706."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.serving_loader import load_workload
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.serving.capacity import search_capacity
from infraplan.serving.pipeline_hops import hops_note
from infraplan.serving.results import ImageServingResult
from infraplan.serving.serve_inputs import offline_fill_note
from infraplan.serving.serve_results import ServingResult
from infraplan.serving.serving_api import estimate_serving

BASE = {"tp": 1, "requests": 40, "seed": 1}


def _said(r: ServingResult, text: str) -> list[str]:
    return [w for w in r.warnings if text in w]


def test_gamma_arrivals_undrawn_in_a_closed_loop_or_offline_are_said() -> None:
    closed = estimate_serving("llama3-8b", "dgx-h100-superpod", 8, workload="code-completion", concurrency=8, **BASE)
    offline = estimate_serving("llama3-8b", "dgx-h100-superpod", 8, workload="code-completion", offline=True, **BASE)
    assert isinstance(closed, ServingResult) and isinstance(offline, ServingResult)
    (c,) = _said(closed, "gamma arrivals (cv 2) are not drawn")
    assert "--concurrency 8 sends each client's next request" in c
    (o,) = _said(offline, "gamma arrivals (cv 2) are not drawn")
    assert "--offline sends every request at t = 0" in o
    drawn = estimate_serving("llama3-8b", "dgx-h100-superpod", 8, workload="code-completion", rate=2.0, **BASE)
    poisson = estimate_serving("llama3-8b", "dgx-h100-superpod", 8, workload="chat", concurrency=8, **BASE)
    assert isinstance(drawn, ServingResult) and isinstance(poisson, ServingResult)
    assert not _said(drawn, "arrivals") and not _said(poisson, "are not drawn")  # drawn; Poisson has no cv


def test_an_offline_image_runs_gamma_arrivals_are_said(tmp_path: Path) -> None:
    assert load_workload("image-generation").arrival.process == "poisson"  # the preset's: nothing to say
    wl = tmp_path / "bursty.yaml"
    wl.write_text("display_name: bursty\nsource: a user\nkind: diffusion\ndiffusion_model: sd-v1.5-512\nsteps: 25\n"
                  "arrival: {process: gamma, cv: 3}\ne2e_slo_s: 5\n")
    off = estimate_serving("sd-v1.5-512", "hgx-h200", 8, workload=str(wl), offline=True, requests=30)
    on = estimate_serving("sd-v1.5-512", "hgx-h200", 8, workload=str(wl), rate=5.0, requests=30)
    assert isinstance(off, ImageServingResult) and isinstance(on, ImageServingResult)
    said = [w for w in off.warnings if "workload bursty's gamma arrivals (cv 3) are not drawn: --offline" in w]
    assert len(said) == 1 and not [w for w in on.warnings if "not drawn" in w]


def test_a_traces_unread_columns_are_named(tmp_path: Path) -> None:
    extra, plain = tmp_path / "mooncake.csv", tmp_path / "plain.csv"
    extra.write_text("arrival_s,input_tokens,output_tokens,hash_ids,session\n0,100,10,a,1\n0.5,200,20,b,1\n")
    plain.write_text("arrival_s,input_tokens,output_tokens\n0,100,10\n0.5,200,20\n")
    r = estimate_serving("llama3-8b", "dgx-h100-superpod", 8, tp=1, trace=str(extra))
    p = estimate_serving("llama3-8b", "dgx-h100-superpod", 8, tp=1, trace=str(plain))
    assert isinstance(r, ServingResult) and isinstance(p, ServingResult)
    (line,) = _said(r, "not read")
    assert "columns 'hash_ids', 'session' not read" in line
    assert not _said(p, "not read")
    assert r.ttft_s.p50 == p.ttft_s.p50 and r.output_tokens_per_s == p.output_tokens_per_s  # unread indeed


def test_serve_plan_refuses_a_limit_past_a_named_systems_size_as_serve_does() -> None:
    args = {"workload": "chat", "dtypes": ("fp8",), "requests": 200}
    with pytest.raises(InputError, match=r"--max-gpus 200: system gb300-nvl72 has 72 accelerators \(the accelerator "
                                         r"preset gb300 takes any count\)"):
        search_capacity("llama3-8b", "gb300-nvl72", 2.0, max_gpus=200, **args)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="--gpus 200: system gb300-nvl72 has 72 accelerators"):
        estimate_serving("llama3-8b", "gb300-nvl72", 200, tp=1, rate=2.0, workload="chat", requests=20)
    at_size = search_capacity("llama3-8b", "gb300-nvl72", 2.0, max_gpus=72, **args)  # type: ignore[arg-type]
    generic = search_capacity("llama3-8b", "gb300", 2.0, max_gpus=200, **args)  # type: ignore[arg-type]
    assert at_size.gpus is not None and generic.gpus == at_size.gpus  # the preset takes any count


def test_serve_plan_names_the_slo_a_workload_file_lacks(tmp_path: Path) -> None:
    wl = tmp_path / "mine.yaml"  # a TTFT SLO alone: was "give --ttft-slo and --tpot-slo (or a workload that ...)"
    wl.write_text("display_name: mine\nsource: a user\nkind: llm\ninput_tokens: {distribution: fixed, median: 500}\n"
                  "output_tokens: {distribution: fixed, median: 50}\nttft_slo_s: 1\n")
    with pytest.raises(InputError, match=r"^give --tpot-slo \(workload mine defines no TPOT SLO\)$"):
        search_capacity("llama3-8b", "hgx-h200", 2.0, workload=str(wl), dtypes=("fp8",), requests=100)
    with pytest.raises(InputError, match=r"^give --ttft-slo \(or a workload that defines them\)$"):
        search_capacity("llama3-8b", "hgx-h200", 2.0, input_len=500, output_len=50, tpot_slo=0.05, requests=100)


def test_the_offline_fill_note_of_a_trace_asks_for_rows_not_requests() -> None:
    trace = offline_fill_note(2, "trace", 110.0, 8, 1, 2048, 1e6)  # was "--requests 16,384 fills every batch",
    asked = offline_fill_note(2, "requests", 110.0, 8, 1, 2048, 1e6)  # which reads a trace's first rows, adds none
    assert trace is not None and asked is not None
    assert "about 0.25 a batch" in trace and "a trace of 16,384 rows fills every batch" in trace  # was "about 0"
    assert "--requests 16,384 fills every batch" in asked and "trace" not in asked


def test_a_pp2_replica_has_one_stage_hop_said_as_one() -> None:
    fabric = Cluster.resolve("dgx-h100-superpod").fabric  # TP 8 a stage: a node, so PP 2's one hop leaves it
    assert hops_note(fabric, 8, 2, 1, "GPU") == (
        "PP 2 on 8-GPU scale-up domains (1 stage group of 8 a domain, in stage order; a replica starts at a domain "
        "edge): its stage hop (stage 0 -> 1) crosses to the next domain over the NICs (serving.pipeline_hops)")
    three = hops_note(fabric, 8, 3, 1, "GPU")
    assert three is not None and "2 of its 2 stage hops (stage 0 -> 1, 1 -> 2) cross to" in three
