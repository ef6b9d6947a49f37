"""The front end in a measured serving row's TTFT, by the path its requests took (the Hopper serving sets).

The rows of NVIDIA AIConfigurator's silicon sample reached their engine by two paths:

* AIConfigurator's gap-analysis harness (`silicon_data_source` names `GAP_ANALYSIS_SOURCE`) serves through NVIDIA
  Dynamo: its generated run scripts start `python3 -m dynamo.frontend` and `dynamo.trtllm` / `dynamo.vllm` /
  `dynamo.sglang` (aiconfigurator 0.12.0 generator/config/backend_templates/{trtllm,vllm,sglang}/run.sh.j2:17,31 /
  :15,40 / :27,53), where Dynamo's Rust front end tokenises (ai-dynamo 0.4.0 `dynamo/trtllm/main.py`:
  `skip_tokenizer_init`). Those rows keep the serving stack's own `request_latency_s` (`serving.engines`).
* the other campaigns name the engines' own images (vllm-openai, lmsysorg/sglang, tensorrt-llm/release), i.e. the
  engine's OpenAI server: `ENGINE_SERVER_FRONT_END_S` per engine family.

ASSUMPTION (fitted, a calibration on the set: these rows are not an independent check of it; one figure per engine
family and path, no per-row factor): both figures, the stacks' and the engine servers', follow one rule written in
`validation.serving_front_end_fit.fit_front_ends` (the median of measured minus modelled TTFT without the front end
over the sets' rows of <= 8 sequences per engine; its docstring has the figures, row counts, quartiles and history),
and a test keeps them on it. The same figures serve the dense and the MoE / MLA sets
(`validation.serving_hopper.run_row`), so a row's front end does not depend on which set it is in; the disaggregated
set adds the stack's figure (`serving_sim.simulate_disaggregated`), the MLPerf sets none (`front_end: false`).
Toggle `SERVER_PATH_FRONT_END` (False: the stack's figure for every row).
"""

from __future__ import annotations

GAP_ANALYSIS_SOURCE = "aic-auto-gap-analysis"  # in the rows' `silicon_data_source`
ENGINE_SERVER_FRONT_END_S: dict[str, float] = {"trtllm": 0.047, "vllm": 0.010, "sglang": 0.132}
SERVER_PATH_FRONT_END = True


def served_by_dynamo(row: dict[str, str]) -> bool:
    """Whether the row went through NVIDIA Dynamo's front end (AIConfigurator's gap-analysis harness)."""
    return GAP_ANALYSIS_SOURCE in row.get("silicon_data_source", "")


def server_front_end_s(row: dict[str, str], stack_front_end_s: float) -> float:
    """The front-end seconds in the row's TTFT: the stack's (`stack_front_end_s`) through Dynamo's front end, the
    engine's own OpenAI server's (`ENGINE_SERVER_FRONT_END_S`) otherwise."""
    if SERVER_PATH_FRONT_END and not served_by_dynamo(row) and row.get("backend") in ENGINE_SERVER_FRONT_END_S:
        return ENGINE_SERVER_FRONT_END_S[row["backend"]]
    return stack_front_end_s

