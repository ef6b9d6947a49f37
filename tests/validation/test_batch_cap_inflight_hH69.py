"""The MLPerf v5.1 rows bound the engines' batch caps from below (session 69, hH).

A Server / Interactive row publishes its tokens/s and its mean TPOT; by Little's law (L = lambda W) the sequences
decoding at once in one engine are the engine's output tokens/s times the mean TPOT (one token per sequence per
step). An engine cannot decode more sequences than its `max_batch_size`, so every row's count is a lower bound on
the cap that engine ran. The case file's caps (the stacks' profiles: TensorRT-LLM 2,048, vLLM 1,024 per engine; per
attention-DP rank for DeepSeek-R1) must admit them. A uniform cap of 256 / 512 / 1,024 on the TensorRT-LLM rows
would take the set from 23.13 to 20.18 / 22.01 / 22.67 % (mostly Mixtral H200 and Llama 3.1 8B B200), but the
HPE Mixtral H200 engine held ~1,335 sequences and NVIDIA's Llama 2 70B B200 engine ~1,528: those caps are refuted
by the rows themselves (validation/notes/inference_frontier_tried.md, Session 69 (hH)).
"""

from __future__ import annotations

from typing import Any

from infraplan.validation.inference import case_deployment
from infraplan.validation.inference_frontier import load_frontier_cases


def _in_flight(case: dict[str, Any], engine: dict[str, Any]) -> tuple[float, int]:
    """(sequences decoding per engine by Little's law, the engine's batch cap) for a row that states its TPOT."""
    dep = case_deployment(case, engine)
    engines = dep.replicas * dep.engines_per_replica
    return case["published"] / engines * case["measured"]["tpot_mean_s"], dep.max_batch


def _rows_over_cap(engine: dict[str, Any]) -> list[str]:
    data = load_frontier_cases()
    over = []
    for case in data["cases"]:
        if "measured" not in case:
            continue
        sequences, cap = _in_flight(case, engine)
        if sequences > cap:
            over.append(case["row"])
    return sorted(over)


def test_the_rows_in_flight_sequences_are_little_law_counts():
    data = load_frontier_cases()
    by_row = {c["row"]: _in_flight(c, data["engine"]) for c in data["cases"] if "measured" in c}
    assert len(by_row) == 15  # every Server / Interactive row states its TTFT / TPOT
    # 60,955.1 tokens/s over 8 engines x 175.2 ms; 99,123 / 8 x 123.3 ms; 18,592.2 / 8 ranks x 66.5 ms
    assert abs(by_row["H128"][0] - 1335.0) < 2.0
    assert abs(by_row["H105"][0] - 1527.7) < 2.0
    assert abs(by_row["H077"][0] - 154.5) < 1.0
    assert abs(by_row["H092"][0] - 9.0) < 0.1  # one TP8 engine
    assert by_row["H105"][1] == 2048 and by_row["H098"][1] == 1024  # TensorRT-LLM / vLLM profiles


def test_the_shipped_caps_admit_what_every_row_ran():
    assert _rows_over_cap(load_frontier_cases()["engine"]) == []


def test_a_uniform_cap_below_the_rows_counts_is_refuted():
    engine = load_frontier_cases()["engine"]
    assert _rows_over_cap({**engine, "max_batch": 1024}) == ["H105", "H128"]
    assert _rows_over_cap({**engine, "max_batch": 512}) == ["H105", "H124", "H128", "H133"]
    at_256 = ["H098", "H105", "H124", "H128", "H130", "H131", "H133"]  # H106's 255 fits
    assert _rows_over_cap({**engine, "max_batch": 256}) == at_256
