"""A refused serving format names the shipped stacks of other engines that run it on the part, or the formats they
add there (hW51): vLLM's refusal of fp8 on MTIA 400 listed vLLM's formats only, silent that `--stack sglang-0.x
--dtype mxfp8` runs. The stacks are read from the catalog (`serving.deployment.other_stacks`)."""

from __future__ import annotations

import pytest

from infraplan.catalog.loader import load_accelerator
from infraplan.cli.main import main
from infraplan.serving.deployment import format_refusal, other_stacks

FIXED = ["--offline", "--input-len", "200", "--output-len", "20", "--requests", "40"]


def _serve(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["serve", "llama3-8b", "--gpus", "1", *FIXED, *args])
    return code, capsys.readouterr().err


def test_fp8_on_mtia_400_under_vllm_names_sglangs_mxfp8(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _serve(capsys, "--system", "mtia-400", "--stack", "vllm-0.x", "--dtype", "fp8")
    assert code == 2 and err.count("\n") == 1, err
    # pytorch-mtia states MTIA's formats (hM2): it runs mxfp8 there too, named with SGLang in one clause
    assert err.rstrip().endswith("use bf16, int8, mxfp4 (native), or the weight-only int4; or --stack pytorch-mtia "
                                 "or sglang-0.x, which also run mxfp8 on mtia-400"), err
    code, err = _serve(capsys, "--system", "mtia-400", "--stack", "vllm-0.x", "--dtype", "mxfp8")
    assert code == 2 and err.rstrip().endswith("; or --stack pytorch-mtia or sglang-0.x, which run mxfp8 on "
                                               "mtia-400"), err
    assert _serve(capsys, "--system", "mtia-400", "--stack", "sglang-0.x", "--dtype", "mxfp8")[0] == 0  # it runs


def test_the_named_stacks_come_from_the_catalog() -> None:
    mtia, b200, h100 = (load_accelerator(n) for n in ("mtia-400", "b200", "h100-sxm"))
    # TensorRT-LLM's kernels are NVIDIA's, pytorch-mtia's Meta's: not there (hM2: by stack, not engine family)
    assert other_stacks(mtia, "vllm") == ["pytorch-mtia", "sglang-0.x"]
    assert other_stacks(b200, "vllm") == ["sglang-0.x", "trtllm-0.x"]
    refused = format_refusal(b200, "mxfp8", "vllm")
    assert refused is not None and refused.endswith("; or --stack sglang-0.x or trtllm-0.x, which run mxfp8 on b200")
    refused = format_refusal(h100, "mxfp8", "vllm")  # no stack runs it on H100, and none runs more there
    assert refused is not None and "--stack" not in refused
