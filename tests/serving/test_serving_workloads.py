"""Request streams: presets with sources, seeded arrivals and lengths, traces with line-numbered errors."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog.serving_loader import (
    Arrival,
    list_serving_presets,
    load_diffusion_model,
    load_workload,
)
from infraplan.errors import InputError
from infraplan.serving.workloads import arrival_times, clip_to_context, read_trace, workload_requests


def test_presets_load_with_sources_and_slos():
    assert {"chat", "code-completion", "summarization", "image-generation"} <= set(list_serving_presets("workloads"))
    for name in list_serving_presets("workloads"):
        spec = load_workload(name)
        assert len(spec.source) > 40
        assert spec.ttft_slo_s or spec.e2e_slo_s
    assert load_diffusion_model(load_workload("image-generation").diffusion_model).unet_params > 1e8


def test_chat_lengths_follow_the_azure_trace_medians():
    r = workload_requests(load_workload("chat"), 20000, 5.0, seed=1)
    assert np.median(r.input_tokens) == pytest.approx(1020, rel=0.05)
    assert np.median(r.output_tokens) == pytest.approx(129, rel=0.05)
    code = workload_requests(load_workload("code-completion"), 20000, 5.0, seed=1)
    assert np.median(code.output_tokens) == pytest.approx(13, rel=0.1)
    assert (code.input_tokens + code.output_tokens).max() <= 2048  # InCoder's window


def test_arrivals_poisson_gamma_and_offline():
    rng = np.random.default_rng(0)
    poisson = arrival_times(50000, 10.0, Arrival(process="poisson"), rng)
    gaps = np.diff(poisson)
    assert gaps.mean() == pytest.approx(0.1, rel=0.03)
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, rel=0.05)
    bursty = np.diff(arrival_times(50000, 10.0, Arrival(process="gamma", cv=3.0), rng))
    assert bursty.mean() == pytest.approx(0.1, rel=0.1)
    assert bursty.std() / bursty.mean() == pytest.approx(3.0, rel=0.1)
    assert not arrival_times(10, None, Arrival(process="poisson"), rng).any()
    assert poisson[0] == 0.0 and np.all(gaps >= 0)


def test_clipping_to_the_model_context():
    r = workload_requests(load_workload("summarization"), 2000, None, seed=0)
    clipped, n = clip_to_context(r, 4096)
    assert n > 0 and (clipped.input_tokens + clipped.output_tokens).max() <= 4096
    assert np.all(clipped.output_tokens == np.minimum(r.output_tokens, 4095))


def test_trace_reads_and_sorts(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("arrival_s,input_tokens,output_tokens,user\n1.5,100,20,a\n0.25,300,7,b\n")
    r = read_trace(str(path))
    assert r.arrival_s.tolist() == [0.25, 1.5] and r.input_tokens.tolist() == [300, 100]


@pytest.mark.parametrize("body, message", [
    ("arrival_s,input_tokens,output_tokens\n0,10,5\n1,ten,5\n", "line 3: input_tokens 'ten'"),
    ("arrival_s,input_tokens,output_tokens\n0,10,5\n-1,10,5\n", "line 3: arrival_s must be"),
    ("arrival_s,input_tokens,output_tokens\n0,10,0\n", "line 2: output_tokens must be"),
    ("arrival_s,input_tokens,output_tokens\n0,10.5,3\n", "line 2: input_tokens must be"),
    ("arrival_s,input_tokens,output_tokens\n0,10\n", "line 2: expected 3 fields"),
    ("time,input_tokens,output_tokens\n0,10,3\n", "line 1: header lacks arrival_s"),
    ("arrival_s,input_tokens,output_tokens\n", "no requests"),
])
def test_malformed_traces_name_the_line(tmp_path, body, message):
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(InputError, match=message):
        read_trace(str(path))


def test_bad_workload_files_are_input_errors(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text("display_name: x\nsource: y\nkind: llm\ninput_tokens: {distribution: fixed, median: 10}\n")
    with pytest.raises(InputError, match="output_tokens"):
        load_workload(str(path))
    with pytest.raises(InputError, match="did you mean"):
        load_workload("chatt")
