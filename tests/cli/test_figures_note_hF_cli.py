"""Every answer about an accelerator whose figures are SECONDARY or PRELIMINARY says so, text and JSON, and one for
work its source does not describe it for says that too (`catalog.figures.figures_notes`, helper hF, session 33).
A datasheet part (H100) gets neither."""

from __future__ import annotations

import json

import pytest

TRAIN = ["llama3-8b", "--tp", "1", "--pp", "1", "--seq-len", "8192", "--global-batch", "64"]
SERVE = ["llama3-8b", "--gpus", "1", "--rate", "1", "--workload", "chat", "--requests", "50"]


def _flat(text: str) -> str:
    return " ".join(text.split())  # the console wraps long lines


@pytest.mark.parametrize(("system", "gpus"), [("mtia-400", "64"), ("rubin", "8"), ("h100-sxm", "8")])
def test_train_says_how_the_figures_stand(cli, system: str, gpus: str) -> None:
    code, out, err = cli(["train", *TRAIN, "--system", system, "--gpus", gpus, "--json"])
    assert code == 0, err
    notes = json.loads(out)["notes"]
    code, text, _ = cli(["train", *TRAIN, "--system", system, "--gpus", gpus])
    text = _flat(text)
    if system == "h100-sxm":
        assert not any("SECONDARY" in n or "PRELIMINARY" in n or "described by its source" in n for n in notes)
        assert "SECONDARY" not in text and "PRELIMINARY" not in text
    elif system == "rubin":
        assert any(n.startswith("rubin: PRELIMINARY figures: NVIDIA's announced specs") for n in notes)
        assert not any("described by its source" in n for n in notes)  # its source states no single use
        assert "note: rubin: PRELIMINARY figures" in text and "read this answer as a what-if" in text
    else:
        assert any(n.startswith("mtia-400: SECONDARY figures") and "peak FLOP/s" in n for n in notes)
        assert any(n.startswith("mtia-400 is described by its source for generative-AI inference; training on it "
                                "is priced") for n in notes)
        assert "note: mtia-400: SECONDARY figures" in text
        assert "note: mtia-400 is described by its source for generative-AI inference; training on it" in text


@pytest.mark.parametrize("system", ["mtia-400", "rubin", "h100-sxm"])
def test_serve_says_how_the_figures_stand(cli, system: str) -> None:
    stack = ["--stack", "vllm-0.x"] if system.startswith("mtia") else []  # vLLM asked on MTIA (hV42)
    code, out, err = cli(["serve", *SERVE, "--system", system, *stack, "--json"])
    assert code == 0, err
    warnings = json.loads(out)["warnings"]
    code, text, _ = cli(["serve", *SERVE, "--system", system, *stack])
    text = _flat(text)
    standing = {"mtia-400": "mtia-400: SECONDARY figures", "rubin": "rubin: PRELIMINARY figures"}.get(system)
    if standing is None:
        assert not any("SECONDARY" in w or "PRELIMINARY" in w or "described by its source" in w for w in warnings)
    else:
        assert any(w.startswith(standing) for w in warnings)
        assert standing in text
    assert not any("described by its source" in w for w in warnings)  # MTIA 400 serves generative AI: its use


def test_serve_on_a_recommendation_training_part_names_its_use(cli) -> None:
    code, out, err = cli(["serve", *SERVE, "--system", "mtia-300", "--stack", "vllm-0.x", "--json"])
    assert code == 0, err
    assert any(w.startswith("mtia-300 is described by its source for ranking and recommendation training; "
                            "generative-AI inference on it") for w in json.loads(out)["warnings"])
    code, out, err = cli(["serve-plan", "llama3-8b", "--system", "rubin", "--rate", "10", "--workload", "chat",
                          "--json"])
    assert code == 0, err
    assert any(n.startswith("rubin: PRELIMINARY figures") for n in json.loads(out)["notes"])


def test_search_recsys_facility_and_campus_carry_the_notes(cli) -> None:
    code, out, err = cli(["search", "llama3-8b", "--system", "mtia-400", "--gpus", "64", "--seq-len", "8192",
                          "--global-batch", "64", "--json"])
    assert code == 0, err
    notes = json.loads(out)["notes"]
    assert notes[0].startswith("mtia-400: SECONDARY figures") and "generative-AI inference; training" in notes[1]
    code, out, _ = cli(["search", "llama3-8b", "--system", "h100-sxm", "--gpus", "8", "--seq-len", "8192",
                        "--global-batch", "64", "--json"])
    assert json.loads(out)["notes"] == []
    code, out, err = cli(["recsys", "dlrm-high", "--accelerator", "mtia-300", "--latency-slo", "20ms", "--json"])
    assert code == 0, err
    assert "mtia-300 is described by its source for ranking and recommendation training; inference on it" in (
        json.loads(out)["figures_note"])
    code, out, err = cli(["facility", "--accelerator", "rubin", "--count", "1000", "--json"])
    assert code == 0, err
    assert json.loads(out)["figures_notes"][0].startswith("rubin: PRELIMINARY figures")
    code, out, _ = cli(["facility", "--accelerator", "rubin", "--count", "1000"])
    assert "note: rubin: PRELIMINARY figures" in _flat(out)
    code, out, _ = cli(["facility", "--accelerator", "h100-sxm", "--count", "1000", "--json"])
    assert [n for n in json.loads(out)["figures_notes"] if not n.startswith("network: ")] == []  # (hC76: prices)
    code, out, err = cli(["campus", "--power", "100MW", "--accelerator", "mtia-400", "--cooling", "liquid"])
    assert code == 0, err
    out = _flat(out)
    assert "note: mtia-400: SECONDARY figures" in out
    assert "note: mtia-400 is described by its source for generative-AI inference; training on it" in out
