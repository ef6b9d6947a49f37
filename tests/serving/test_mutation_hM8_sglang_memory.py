"""hM8 (mutation wave 8): SGLang's default mem_fraction_static at its tier edges and with pipeline parallelism, by
hand from serving/sglang_memory.py's transcription of server_args.py (GPU memory in MiB, tiers `gpu_mem < X * 1024`).
"""

from __future__ import annotations

from infraplan.serving.sglang_memory import MIB, default_chunked_prefill_tokens, mem_fraction_static


def test_0_5_1_a_gpu_of_exactly_35_gib_is_in_the_9_5_gib_tier() -> None:
    # 0.5.1.post1 server_args.py: `gpu_mem < 35 * 1024` -> 2.8 + p / 10; 35 GiB itself reserves 9.5 + p / 2 GiB
    gpu = 35 * 1024
    assert mem_fraction_static("sglang-0.5.1", gpu * MIB, 1) == round((gpu - 10.0 * 1024) / gpu, 3) == 0.714


def test_0_5_6_a_gpu_of_exactly_160_gib_takes_16384_token_chunks() -> None:
    gpu = 160 * 1024
    assert default_chunked_prefill_tokens(gpu) == 16384 and default_chunked_prefill_tokens(gpu - 1) == 8192
    # 512 + 1.5 x 16,384 + 2 x 512 graphs + 1,024 / 8 = 26,240 MiB
    assert mem_fraction_static("sglang-0.5.6", gpu * MIB, 1) == round((gpu - 26240) / gpu, 3) == 0.84


def test_0_5_6_reserves_a_gib_per_eight_gpus_of_tp_times_pp() -> None:
    # H100 (81,559 MiB), TP1: 512 + 1.5 x 8,192 + 2 x 256 + TP x PP / 8 x 1,024 MiB
    h100 = 81559
    assert mem_fraction_static("sglang-0.5.6", h100 * MIB, 1, pp=2) == round(
        (h100 - (512 + 12288 + 512 + 256)) / h100, 3) == 0.834
    assert mem_fraction_static("sglang-0.5.6", h100 * MIB, 1) == 0.835
