"""Mutation wave on hV42's default serving stack by vendor and hN42's changed engine settings (hM16, session 42):
tests that kill the survivors of hand mutations of `serving.engines` (`default_serving_stack`,
`stack_on_accelerator`, `changed_engine_settings`).

The rules by hand from engines.py's docstring and the stack YAMLs' `runs_on` / `default_on` (trtllm-0.x: NVIDIA,
default there; vllm-0.x: NVIDIA, AMD, Google, default on AMD; sglang-0.x: NVIDIA, AMD, Intel): a vendor takes the one
stack whose `default_on` names it, else the only one that runs there; two defaults, or several that run and none the
default, is a refusal naming --stack. Vendor names compare without case. `serve`'s defaults: 256 sequences online
(ONLINE_MAX_BATCH), trtllm-0.x's token budget 8192 (trtllm-0.x.yaml), no draft tokens.
"""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.catalog import load_accelerator
from infraplan.catalog.stacks import load_stack
from infraplan.errors import InputError
from infraplan.serving import engine_facts, engines, stack_placement
from infraplan.serving.engines import changed_engine_settings, load_engine
from infraplan.serving.stack_placement import default_serving_stack, stack_on_accelerator


def _patched(monkeypatch: pytest.MonkeyPatch, name: str, **serving: Any) -> None:
    """`load_stack` with the shipped stack `name`'s serving profile fields replaced, where the engines and their
    placement read it."""
    real = load_stack

    def fake(ref: Any) -> Any:
        stack = real(ref)
        if ref == name and stack.serving is not None:
            return stack.model_copy(update={"serving": stack.serving.model_copy(update=serving)})
        return stack
    monkeypatch.setattr(engines, "load_stack", fake)
    monkeypatch.setattr(stack_placement, "load_stack", fake)
    monkeypatch.setattr(engine_facts, "load_stack", fake)  # (the shipped profiles, hL76)


def test_vendor_names_compare_without_case() -> None:
    """A part whose file spells its vendor "amd" or "intel" takes the same stack as "AMD" / "Intel"."""
    amd = load_accelerator("mi300x")
    assert default_serving_stack(amd)[0] == "vllm-0.x"
    assert default_serving_stack(amd.model_copy(update={"vendor": "amd"}))[0] == "vllm-0.x"
    gaudi = load_accelerator("gaudi2")
    assert default_serving_stack(gaudi.model_copy(update={"vendor": "intel"}))[0] == "sglang-0.x"


def test_two_stacks_that_run_on_a_vendor_and_neither_its_default_is_a_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Google parts run vllm-0.x alone (taken); were sglang-0.x to run there too, with neither the default, which
    software serves them is the user's to say: refused naming --stack."""
    tpu = load_accelerator("tpu-v5p")
    assert default_serving_stack(tpu)[0] == "vllm-0.x"
    _patched(monkeypatch, "sglang-0.x", runs_on=["NVIDIA", "AMD", "Intel", "Google"])
    with pytest.raises(InputError, match="give --stack"):
        default_serving_stack(tpu)


def test_two_defaults_on_one_vendor_is_a_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    """AMD's default is vllm-0.x; were sglang-0.x AMD's default too, no one stack is: refused naming --stack."""
    _patched(monkeypatch, "sglang-0.x", default_on=["AMD"])
    with pytest.raises(InputError, match="give --stack"):
        default_serving_stack(load_accelerator("mi300x"))


def test_a_stack_that_names_no_vendor_makes_no_claim(monkeypatch: pytest.MonkeyPatch) -> None:
    """A serving stack whose `runs_on` is empty says nothing of where it runs: no line and no refusal, even on MTIA
    (where trtllm-0.x, kernels NVIDIA's alone, is refused)."""
    mtia = load_accelerator("mtia-400")
    with pytest.raises(InputError):
        stack_on_accelerator(load_engine("trtllm-0.x"), mtia)
    _patched(monkeypatch, "trtllm-0.x", runs_on=[])
    assert stack_on_accelerator(load_engine("trtllm-0.x"), mtia) is None


def test_changed_engine_settings_by_hand() -> None:
    """Each flag set otherwise than serve's default is named, below or above it; the defaults name nothing."""
    engine = load_engine("trtllm-0.x")
    assert engine.token_budget == 8192
    assert changed_engine_settings(engine, 256, 256, 8192) == []
    assert changed_engine_settings(engine, 64, 256, 8192) == ["--max-batch 64 (default 256)"]
    assert changed_engine_settings(engine, 512, 256, 8192) == ["--max-batch 512 (default 256)"]
    assert changed_engine_settings(engine, 256, 256, 8192, prefill_max_batch=64) == [
        "--prefill-max-batch 64 (default 256)"]
    assert changed_engine_settings(engine, 256, 256, 8192, prefill_max_batch=256) == []
    assert changed_engine_settings(engine, 256, 256, 4096) == ["--token-budget 4096 (default 8192)"]
    assert changed_engine_settings(engine, 256, 256, 16384) == ["--token-budget 16384 (default 8192)"]
    assert changed_engine_settings(engine, 256, 256, 8192, speculative_tokens=1) == [
        "--speculative-tokens 1 (default 0)"]
