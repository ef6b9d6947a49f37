"""Serving validation on measured Hopper MoE / MLA runs: closed-loop TTFT and TPOT (issue 13 item 8).

The set (`data/serving_measured_hopper_moe.csv`, 815 rows) is the MoE / MLA part of NVIDIA AIConfigurator's
silicon sample (Apache-2.0 data): aggregated (colocated) serving of DeepSeek-R1/V3, Qwen3-235B-A22B-FP8, GPT-OSS
120B, Kimi-K2.5, MiniMax-M2.5, Qwen3.5-397B-A17B and GLM-5 on H100 SXM / H200 SXM by TensorRT-LLM, vLLM and SGLang,
each row a closed-loop benchmark of `concurrency` clients (the source's `silicon_concurrency`; `batch_size` is
one attention-DP rank's share) at a fixed ISL/OSL with its measured mean TTFT and TPOT.
Every expressible row runs as the dense set does (`serving_hopper`: the row's backend and version as its stack,
`REQUESTS_PER_CLIENT` requests per client, `simulate_deployment` in closed loop), with the row's MoE layout:

* `attention_dp_size` > 1 (wide EP, `serving.llm_iteration`): `attention_dp` ranks of `tp_size` GPUs each run
  attention on their own clients; the MoE layers run EP x MoE TP over them (`campaign_settings.moe_layout`).
* otherwise EP inside the TP group: `moe_ep_size` expert shards x `moe_tp_size` tensor shards = `tp_size` GPUs.

Precision (the rows' `precision` / `moe_quant_mode`): fp8 and fp8_block -> W8A8 fp8 with an fp8 KV cache (as the
dense set); int4_wo (Kimi-K2.5's released INT4 QAT checkpoint) -> W4A16 with a bf16 KV cache; GPT-OSS's `fp4`
on Hopper -> weight-only mxfp4 (`serving.deployment.mxfp4_weight_only`: no fp4 tensor cores, so vLLM runs the
released MXFP4 experts through W4A16 kernels, vllm 0.18.0 quantization/mxfp4.py:109-173), 0.53125 B per weight with
the e8m0 scales, GEMMs at the int4 weight-only rate, on the routed experts only: both releases keep attention, router,
shared experts and dense layers in bf16 (their quantization_config, `ops.precision.weight_scope`), Kimi's INT4 with a
bf16 scale per 32 weights, 0.5625 B (`stored_weight_bytes`). hW41: 15.1366 -> 15.1374 % (the scope alone 15.1631 %).

Models: catalog presets from their HF config.json (`catalog/models`). ASSUMPTION: Kimi-K2.5's language model is Kimi
K2's architecture (`kimi-k2`; Moonshot's K2.5 model card: continual pre-training of Kimi-K2-Base; a text benchmark runs
no vision encoder). MiniMax-M2.5, Qwen3.5-397B-A17B and GLM-5 have no config at hand and no preset: their rows stay
awaiting. So do layouts the catalog systems cannot hold as stated (attention TP 16 / 64 over 2-8 HGX nodes: `MAX_GPUS`
= one 8-GPU node; `layout_why_not`). Rows whose numbers contradict other rows of the set stay awaiting too
(`inconsistent_rows`, `validation.serving_row_consistency`: by Little's law, 5 GPT-OSS vLLM rows at 512 clients
decoding faster than 8-16 clients; by TPOT against concurrency, 3 rows (round 12); two runs of one configuration and
clients > 1.5x apart, one TensorRT-LLM pair (round 15)).

The naive baseline is the dense set's (`serving_roofline.fitted_scale`): a roofline with one efficiency per metric
fitted to the set itself, here with the weights each GPU holds (experts sharded over EP, all of them read per
step) and the MLA latent as the KV bytes; the gate is issue 13's: mean |error| <= 15 % over TTFT and TPOT.
Many clients per row are simulated (10 x concurrency requests); `infraplan validate` scores every row since
2026-12-02 (`SAMPLE_EVERY` = 1; n > 1 runs every n-th row of each model/system/backend group, in file order).

Round 19 (helper hD4; notes file): the generated SGLang workers run SGLang's PrefillAdder (`serving.schedulers`
"sglang-adder": below max_prefill_tokens = ISL + 1500 a further prompt joins only whole, sglang 0.5.6.post2
managers/schedule_policy.py:570-660): sourced, worse: 15.614 -> 15.643 % (dense 20.29 -> 20.75 %), on by policy.

Round 18 (helper hD3; notes file): SGLang's prefill iterations run eager (`serving.host_overhead.PREFILL_EAGER`:
its graphs replay decode batches only, sglang 0.5.6.post2 model_executor/model_runner.py:2676-2687): 15.594 ->
15.614 % (TTFT 21.40 -> 21.43; 10 SGLang DeepSeek / Qwen3 rows move). Round 20 (helper hB): the 2026-01-14
TensorRT-LLM 1.1.0rc2.post2 DeepSeek-R1 campaign ran MTP (`validation.campaign_settings`: the InferenceX records
carry spec_method, AIConfigurator's db dump keeps the non-speculative ones): 15.66 -> 15.23 %.

Round 16, one rule for every TensorRT-LLM row (`validation.release_stacks`, one mapping the three Hopper sets read):
each runs its release line's measured MLA decode kernel, block-fp8 MoE extra and block-fp8 GEMM floor where
AIConfigurator measured that line (the Dynamo-harness 1.0.0rc3 rows: `trtllm-1.0.0rc3-dynamo-agg.yaml`), else the
catalog's kernels (the lead's rule). Measured, not adopted: the release nearest by PyPI upload date for the rest
(`release_stacks.NEAREST_DATE_STACKS`: 1.1.0rc2.post2 -> 1.0.0rc3's tables, unversioned rows -> 1.2.0rc5's). Every
row, one tree: 15.56 % (TTFT 21.38, TPOT 9.74; 471 rows) -> 16.22 % (21.34, 11.10) with it: TPOT mean |error| (median)
1.1.0rc2 TP8 EP8 0.390 (+0.35) -> 0.673 (+0.62), ADP8 0.143 -> 0.204, unversioned MoE TP8 0.145 (+0.12) -> 0.268
(+0.25), Qwen3-235B 1.0.0rc3 0.095 -> 0.096 (the GEMM floor; its 128 experts are under the MoE extra's `min_experts`,
no MLA); dense and disaggregated unchanged. Adopted: 15.59 % (TTFT 21.38, TPOT 9.79; the 1.0.0rc3 rows' own GEMM
floor). The 1.0.0rc3 MoE table's slow prefill (round 15's block depth) is its power-law routing, not the release:
rc20's power-law table is as slow (notes file, round 16).

Round 13b, each measurement once (`serving_row_consistency.repeated_measurements`; toggle `COUNT_REPEATS_ONCE`):
64 expressible rows repeat another's TTFT and TPOT to the last digit (DeepSeek-R1 = V3, two source files): 537 ->
473 rows, 15.32 % (TTFT 21.15, TPOT 9.49) -> 15.54 % (21.42, 9.66); sample 15.60 -> 15.86 %.

Round 13, schedule-ahead engine loops (`serving.schedule_ahead`; toggle `SCHEDULE_AHEAD` there): vLLM 0.16 / 0.18
(async scheduling by default; `data/stacks/vllm-0.16.yaml` via `serving_hopper.RELEASE_STACKS`) and SGLang (overlap
scheduler) launch iteration i + 1 before taking new requests, so a request starts one decode iteration later; the
engine-server front ends refitted by their rule (vLLM 0.023 -> 0.020, SGLang 0.160 -> 0.143 s). Every expressible
row, one tree: 15.70 % (TTFT 21.91, TPOT 9.49) -> 15.32 % (21.15, 9.49); sample 16.03 -> 15.60 %; Kimi TTFT mean
|error| 0.116 -> 0.076, GPT-OSS vLLM 0.18 H200 / H100 0.205 / 0.191 -> 0.188 / 0.176, SGLang DeepSeek 0.110 -> 0.105;
dense set 20.05 -> 20.04 %, disaggregated and MLPerf unchanged. No vLLM 0.18 default gives the 2k chunks above (8192
tokens on GPUs of >= 70 GiB, engine/arg_utils.py:2008-2017): notes file.

Round 12, TPOT against concurrency (`validation.serving_row_consistency`, rule 2; toggle `MONOTONE_TPOT`): a row
whose TPOT is over 1.5x that of the same configuration, MoE layout and engine version at >= 2x its clients stays
awaiting (3 rows: GPT-OSS vLLM 0.18 H100 TP4 1024/1024 at 32 clients, twice; one Kimi-K2.5 1024/8192 16-client run).
Every expressible row, one tree: 16.01 % (TTFT 22.15, TPOT 9.88; 540 rows) -> 15.76 % (21.91, 9.61; 537); sample
16.42 -> 16.10 %. The vLLM 0.18 GPT-OSS ISL-8192 TTFT (-0.25..-0.42 at every TP) is reproduced by 2048-token prefill
chunks (15.76 -> 14.94 %), a flag no source gives for those campaigns: not adopted (notes file, round 12).

Round 11, the benchmark client's connections (`campaign_settings.client_connections`; toggle there): aiohttp's
default session holds at most 100 connections (aiohttp 3.11 connector.py:246 / :849); ASSUMPTION: the December-2025
GPT-OSS vLLM H100 campaign (512 clients, 96-106 in flight by Little's law) ran such a client. 16.45 -> 15.89 % (540
rows); the full account is in `validation/notes/serving_hopper_moe_tried.md`, round 11.

Round 10 (every expressible row, 540; each toggled on one tree): 16.53 % (TTFT 22.61, TPOT 10.46; sample 16.78)
-> 16.47 % (22.56, 10.39; sample 16.70). SGLang 0.5.9's fused shared expert (`serving.routed_experts`,
`SGLANG_FUSED_SHARED_EXPERT`: DeepSeek-V3/R1's shared expert inside the routed fused MoE, no launches of its own):
SGLang DeepSeek TPOT median +9.6 -> +7.6 % (mean |error| 0.093 -> 0.082), 16.53 -> 16.48 %; disaggregated
26.51 -> 26.48 %. The activation-quant launches re-read in 0.5.9 (`serving.engine_kernels`): three per routed MLA
layer are real (fused q_a/kv_a, q_b, o_proj before DeepGEMM; the absorbed BMMs run bf16), plus the dense FFN's two
on DeepSeek's first three layers: +0.1 % TPOT. TensorRT-LLM's block-fp8 MoE cost per local expert (its measured
tables, `FP8_BLOCK_EXPERT_S`): 16.48 -> 16.47 %; TensorRT-LLM DeepSeek MoE TP8 TPOT median -11 -> +5 % (mean
|error| 0.148 -> 0.108; 4-8 clients -20..-28 -> -2..-6 %, 32-64 clients 0..+6 -> +9..+15 %), 1.1.0rc2 EP8
+18.5 -> +20.1 % (0.216 -> 0.237), Qwen3-235B H100 +0.8 -> +2.3 % (0.088 -> 0.094); disaggregated 26.15 ->
25.52 %; MLPerf v5.1 (23.65 %) and dense unchanged. Both rules toggled again on the round's final tree (other
changes in): 16.49 -> 16.44 -> 16.42 % (sample 16.75 -> 16.66). Analyses and rules not adopted: the notes file.

Round 9, front end by serving path (`validation.serving_front_end`, which the dense set now shares; toggle
`SERVER_PATH_FRONT_END`). The rows reached their engine by two paths. AIConfigurator's gap-analysis harness
(`silicon_data_source` names `aic-auto-gap-analysis`)
serves through NVIDIA Dynamo: its generated run scripts start `python3 -m dynamo.frontend` and `dynamo.trtllm` /
`dynamo.vllm` / `dynamo.sglang` (aiconfigurator 0.12.0 generator/config/backend_templates/{trtllm,vllm,sglang}/
run.sh.j2:17,31 / :15,40 / :27,53): an HTTP frontend process, then a request-plane hop to the worker. The other
rows name the engines' own release images (vllm/vllm-openai, lmsysorg/sglang, nvcr.io tensorrt-llm/release:
their OpenAI servers; ASSUMPTION: the same for the rows naming no image). The measured low-load TTFT residual
(measured minus modelled without a front end, rows of <= 8 clients, both Hopper sets) differs by path for every
backend: TensorRT-LLM 0.132 s through Dynamo vs 0.058 s (73 rows), vLLM 0.190 (growing with the ISL: not a
constant) vs 0.023 s (114), SGLang 0.409 vs 0.160 s (18). The stacks' `request_latency_s` stays the figure of the
Dynamo-served rows; the others take `ENGINE_SERVER_FRONT_END_S` (ASSUMPTION: the stacks' own fitting rule on those
rows). Effect (toggle, every expressible row, 540): 18.86 % (TTFT 26.42, TPOT 11.29) -> 17.56 % (23.84, 11.29);
`validate`'s sample 18.77 -> 17.73 % (fitted roofline 52.3 %); TTFT mean |error| (median): TensorRT-LLM GPT-OSS
0.34 (+0.33) -> 0.14 (-0.11) and 0.55 (+0.40) -> 0.28 (+0.00), SGLang DeepSeek 0.125 -> 0.116, vLLM GPT-OSS
0.22 / 0.21 -> 0.21 / 0.21; worse: TensorRT-LLM DeepSeek-R1/V3 0.32 (-0.23) -> 0.40 (-0.40), 1.1.0rc2 0.60 ->
0.67, Kimi 0.23 -> 0.26 (their TTFT is under-predicted for other reasons). TPOT holds no front end: unchanged.
The same rule on the dense set (`serving_hopper`, not applied there): 21.5 -> 20.7 % (TensorRT-LLM Llama-70B TP8
TTFT 0.61 -> 0.23). Rejected: the Dynamo-path values re-derived too (TensorRT-LLM 0.131, vLLM 0.189, SGLang
0.409 s): MoE 17.9 -> 18.0 %, dense 20.7 -> 25.5 %. Then DeepGEMM's published per-tile depth on vLLM 0.12's padded
workspace (`serving.deepgemm_moe`, `DEEPGEMM_TILE_DEPTH`): 17.56 -> 17.04 % (that campaign's TPOT -25 -> -9 %); then
vLLM's INT4 Marlin MoE at its measured rate (`serving.routed_experts`, "INT4 Marlin"): 16.57 % (Kimi TTFT median
-24 -> -10 %).

Round 7, vLLM 0.12's MoE kernel (`serving.deepgemm_moe` docstring, "Padded workspace"; toggle
`CONTIGUOUS_PADDED_LAYOUT`): the vLLM 0.12.0 rows run `data/stacks/vllm-0.12.yaml`
(`serving_hopper.RELEASE_STACKS`), the shipped vllm-0.x profile plus `moe_fp8_padded_workspace`: read in the 0.12.0
wheel, its block-fp8 MoE on Hopper at MoE TP < 8 is DeepGEMM's contiguous grouped GEMM over T k + E_local x 127 rows
whose padding rows carry expert id 0 and are computed (0.18.0 marks them -1, skipped). Why Qwen3-235B on vLLM 0.12
was too fast in BOTH metrics: each decode step computed ~16k rows per routed layer (~23 ms at TP2, ~12 at TP4 on
H200), flat in the batch, as measured. Every expressible row (540): 20.72 % (TTFT 27.31, TPOT 14.13) -> 19.99 %
(27.08, 12.89); vLLM 0.12 Qwen3-235B (32 rows) TTFT median / mean |error| -45 % / 0.38 -> -39 % / 0.34, TPOT -44 % /
0.43 -> -23 % / 0.22; no other row moves; `validate`'s sample 20.85 -> 20.15 %; disaggregated (38.8 %, its vLLM 0.12
rows await), MLPerf v5.1 (23.4 %) and dense sets unchanged. Left: TPOT -23 % (TP2 ~-25 %, TP4 ~-20 %: DeepGEMM at
this short K, 768 / 384 for the down GEMM: priced in round 9 from DeepGEMM's table) and the long-prompt TTFT slope
(below).

Round 7 (each change toggled on one tree; the tree moved meanwhile: the dense set's campaign limits and SGLang
mixed chunks): every row runs its stated clients (`concurrency`). On every attention-DP row the source states
concurrency = batch_size x attention DP (28 rows), and the engines' batch is per rank (the disaggregated rows'
convention), so the six DeepSeek-R1 TensorRT-LLM attention-DP 8 rows had run an eighth of their 64-256 clients;
the lock-step stall (`serving.llm_iteration`) had been adopted on them so. At their clients the stall puts their
TPOT at +27..+231 % and without it -29..+11 %: TensorRT-LLM's profile now runs the ranks' context phases together
(`attention_dp_prefill_stall: false`, ASSUMPTION with a recalled source: its attention-DP balancing), SGLang and
vLLM keep the stall. Their TTFT stayed 4-11x under (-72..-91 %): the balancing wait, priced since session 52
(`ADP_BALANCE_CAMPAIGN`, below: -33..-72 %). Rows whose stated
concurrency is not batch_size x attention DP have a layout not stated in full and stay awaiting (5 GPT-OSS
TensorRT-LLM 1.3.0rc1 H100 rows, concurrency = batch x TP: attention DP under TensorRT-LLM's tp_size, likely;
TTFT -0.76, TPOT -0.66 median as run), as does the one row stating no concurrency (Qwen3-235B TensorRT-LLM
1.2.0rc6, TTFT -0.98). Every row: 20.85 % (TTFT 26.85, TPOT 14.85; 546 rows) -> 20.34 % (26.66, 14.03; 540),
all of it the six rows now awaiting: on the same 540 rows the stated clients move 20.29 -> 20.34 % (TTFT 26.23 ->
26.66, TPOT 14.35 -> 14.03); `validate`'s sample 21.18 -> 20.42 % (273 rows; fitted roofline 52.3 %);
DeepSeek-R1 TensorRT-LLM TTFT / TPOT mean |error| 0.45 / 0.25 -> 0.51 / 0.21; dense 25.5 %, disaggregated
39.2 % (43.2 % sample), inference 7.24 %: unchanged. Not adopted: more early stops (`serving_hopper.
STOP_PER_TOKEN`, the clients' only desynchroniser; the measured per-request stall in TPOT, OSL 1024 minus 8192,
is 2-10x the model's in most groups, as if the simulated clients stayed in phase): 2e-4 / 3e-4 took MoE 21.9 ->
20.8 / 20.6 % and dense 27.6 -> 26.5 / 26.8 % on the round-6 tree but disaggregated 39.2 -> 41.0 / 43.5 %, and on
this tree MoE 20.5 / 20.6, dense 25.9 / 26.4;
a front-end time of k decode steps instead of seconds (TensorRT-LLM's low-load TTFT residual is 9-17 steps on
Llama-70B, Qwen3 and GPT-OSS rows, 15-400 ms): 22.4 % with 10 / 4 / 14 steps (TensorRT-LLM / vLLM / SGLang).
Evidence left: vLLM 0.12 / SGLang 0.5.6 Qwen3-235B TTFT grows ~115 / ~125 us per prompt token at TP2 (2.3-3x the
model) yet those prompts barely stall decode (TPOT at OSL 100 within 1-3 ms of OSL 2000, though 3+ other prompts
land inside each request's decode): the TTFT excess is not GPU prefill time in the engine loop.

Round 6 (every expressible row, 546, each rule toggled on one tree): each expert's own routed count padded to the
kernel's M tile (`serving.routed_experts`, Poisson counts under uniform routing) instead of the mean count: 22.16 %
(TTFT 29.21, TPOT 15.11) -> 21.89 % (28.75, 15.02); `validate`'s every-2nd-row sample 22.10 -> 21.82 % (277 rows;
fitted-roofline constant 52.75 %); dense (27.64 %) and inference (7.24 %) sets unchanged. TTFT mean |error|
(median): vLLM GPT-OSS H200 0.23 (-0.16) -> 0.20 (-0.12), H100 0.28 (-0.15) -> 0.26 (-0.12), TensorRT-LLM GPT-OSS
0.40 (+0.25) -> 0.42 (+0.30). A mean count of T k / E = 32 + 1e-13 (the expected experts hit, E - 1e-13) was padded
to the next tile (`ops.layer` MISSED_EXPERT_FLOOR): no row moves. Rejected, toggled (every row): experts-only 4-bit
weights with bf16 attention / dense layers (as the MXFP4 and INT4 checkpoints ship) 22.16 -> 22.44 %; the Hopper
weight-only rate at 0.35 / 0.60 of bf16 peak (0.47 shipped) 22.85 / 22.69 % (same model, GPU and layouts: vLLM
prefills GPT-OSS at ~45 us per token at TP1, TensorRT-LLM at ~30: no rate fits both); prefill iterations eager on
TensorRT-LLM / SGLang (host launches added, upper bound) 22.16 -> 24.74 % and dense 27.64 -> 29.74 %; the busiest
EP rank's hit experts at decode (normal approximation of the maximum) 21.89 -> 22.50 % (EP rows are over-predicted
except GPT-OSS EP2); the front-end times re-derived on both sets' <= 8-client rows (medians of measured - modelled
-12 ms TensorRT-LLM, -8 ms vLLM: unchanged). Not adopted, the lead's call: flagging rows with under a quarter of
their clients in flight by Little's law where neither the batch cap nor the KV capacity (full-length sequences)
is within 4x (GPT-OSS vLLM H100, ~100 of 512 clients at every TP): one more MoE row, 22.16 -> 21.92 %, but the
same rule flags 3 dense SGLang Qwen3-32B TP1 rows (2-3 of 16 clients in flight, KV for ~15). Evidence left: vLLM
0.12 Qwen3-235B TPOT = 22-25 ms + a read of every expert's weights (52 ms at TP2, 35 at TP4, flat over 4-20
clients, ISL 1-8k and OSL 100-2000; SGLang on the same layout, 16 ms at 4 clients, matches the model), a kernel
path that reads unhit experts; TensorRT-LLM GPT-OSS decodes 15-20 % slower than vLLM on the same layouts at <= 16
clients; TensorRT-LLM DeepSeek TTFT at ISL 1024 / OSL 8192 rises 243 -> 712 ms from 4 to 64 clients (arrivals are
rare) while ISL 8192 matches: not a prefill rate.

Round 5 (every expressible row, 546; `serving.llm_iteration` docstring, each mechanism a module flag there):
23.0 % (TTFT 29.9 %, TPOT 16.0 %) -> 22.0 % (TTFT 29.0 %, TPOT 15.1 %); `validate`'s every-2nd-row sample 22.0 %
(277 rows; fitted-roofline constant 52.7 %). Alone: weight-only GEMMs on Hopper at 2/3 of the bf16 rate (the
mma.sync ceiling; `weight_only_matmul_fraction` in the H100/H200/H800 catalogs) 23.0 -> 22.3 %; lock-step
attention-DP ranks stalled by each other's prefills 23.0 -> 22.6 %; sliding-window layers reading / attending
their 128-token band (GPT-OSS) 23.0 -> 23.4 % (correct physics that exposes GPT-OSS's unmodelled decode cost:
vLLM H200 TPOT -7 % -> -11 % median). TTFT / TPOT mean |error| before -> after: vLLM 0.28 -> 0.24 / 0.17 -> 0.16,
TensorRT-LLM 0.29 -> 0.30 / 0.17 -> 0.17, SGLang unchanged (0.41 / 0.08); Kimi K2 0.22 -> 0.15 / 0.13 -> 0.07,
DeepSeek-R1 0.48 -> 0.43 / 0.16 -> 0.16, GPT-OSS vLLM 0.27 -> 0.24 / 0.13 -> 0.12, GPT-OSS TensorRT-LLM 0.36 ->
0.42 / 0.23 -> 0.22 (its ISL-1024 rows measure 80-120 ms TTFT at 4-8 clients, under the stack's then 0.12 s front-end
time, 0.089 s since the client round trip, 0.080 s since the first wave in order: a slower prefill moves them
further up); Qwen3-235B and DeepSeek-V3
unchanged. The dense serving set (27.7 %) and the inference set (7.24 %) are bit-identical with the flags on and off (no
int4, windows or attention DP there). Left, with evidence: vLLM 0.12 / SGLang 0.5.6 Qwen3-235B FP8 long prompts cost
70-130 us per prompt token at TP2-4 (TTFT slope from ISL 1k to 8k) against ~20-40 us modelled, ~3.5x, far beyond any
fp8 grouped-GEMM efficiency (the MoE GEMMs are a third of the modelled prefill), likely the untuned Triton
fused-MoE block-fp8 configs for these shapes (not modelled: a per-shape software fact); vLLM 0.12 Qwen3 TPOT
~52 ms at TP2 and ~35 ms at TP4 flat from 4 to 20 clients (-45 %: not bandwidth, the experts a batch hits
vary 4x over that range); TensorRT-LLM Qwen3 TP4 TPOT +20 % at 16-32 clients and ~0 at 4 and 128, the
signature of fewer distinct experts hit than uniform routing gives (skewed expert popularity; no published
figure); the prefill stall measured in TPOT (ISL 1024 vs OSL 128 / 512: ~30 ms per 1024-token prompt at TP8)
is ~2x the simulated one, as the simulated closed-loop clients stay partly in phase (`serving_hopper`).

Round 4 (every expressible row, 546): MoE decode physics (`serving.llm_iteration` docstring) took the set from
25.7 % (TTFT 30.2 %, TPOT 21.1 %) to 23.0 % (TTFT 29.9 %, TPOT 16.0 %); the dense, inference and training sets
do not move (no routed layers). Two mechanisms: a decode batch of T tokens reads the E (1 - (1 - k/E)^T) experts
it hits on average, not min(E, T k) (TensorRT-LLM Qwen3-235B TP4, ISL/OSL 1024/512, 4 -> 8 -> 16 clients:
measured 13.4 -> 15.8 -> 19.0 ms, predicted 11.3 -> 16.2 -> 26.2 before, 13.2 -> 16.8 -> 22.2 ms now: the step at
E / k = 16 tokens is gone), and each routed layer launches six routing kernels beside its
GEMMs (top-k, align / sort, activation quantisation, combine). Median TPOT error at <= 8 clients: TensorRT-LLM
-27 % -> -13 %, vLLM -18 % -> -5 %, SGLang -16 % -> -4 %. TPOT mean |error| (median) by group before -> after:
SGLang DeepSeek 0.10 (+0.00) -> 0.03 (-0.02), Qwen3 0.25 -> 0.16; TensorRT-LLM Qwen3 H100 0.17 (-0.05) -> 0.10
(+0.02), DeepSeek-V3 0.19 -> 0.18, DeepSeek-R1 0.26 -> 0.27, GPT-OSS H200 0.28 (-0.30) -> 0.20 (-0.19); vLLM
GPT-OSS H200 0.14 -> 0.08, H100 0.23 -> 0.19, Kimi 0.18 -> 0.13, Qwen3 0.41 (-0.35) -> 0.44 (-0.45). Left: vLLM
and SGLang Qwen3-235B FP8 rows at ISL 2-8k (TTFT -40 %, and TPOT -45 % where OSL 100-500 puts the prefills
inside the TPOT): long fp8 MoE prefills run ~2x slower than the model's grouped-GEMM rate, with no published
kernel figure to set it from; GPT-OSS TensorRT-LLM TPOT -19 % (vLLM on the same layouts: -2 to -7 %); wide EP.

Round 8: the CSV carries the source's `silicon_data_source`, so the 207 rows AIConfigurator's own harness measured
(`aic-auto-gap-analysis`: `ignore_eos: true`, full output lengths) run without the dense set's fitted early stops
(`serving_hopper.stop_per_token`, as the dense set's 601 such rows do): every row 19.99 -> 19.62 %.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from functools import cache
from typing import Any

from infraplan.catalog import read_entry, shape_from_hf_config
from infraplan.catalog.error_bands import Residual
from infraplan.catalog.model_config import TransformerShape
from infraplan.serving.llm_iteration import Deployment
from infraplan.validation import campaign_settings, serving_hopper
from infraplan.validation import serving_row_consistency as consistency
from infraplan.validation.data_files import read_rows
from infraplan.validation.release_stacks import data_stack
from infraplan.validation.results import ValidationSet
from infraplan.validation.serving_hopper import row_deployment
from infraplan.validation.serving_report import (
    awaiting_counts,
    report_rows,
    sample_by_group,
    score_report,
)
from infraplan.validation.serving_roofline import roofline_seconds
from infraplan.validation.serving_row_consistency import LITTLE_LAW, contradicting_rows, repeated_measurements

GATE_MEAN_ERROR = 0.15  # issue 13: mean |error| <= 15 % on the serving rows
MAX_GPUS = 8  # one HGX node: the catalog's H100 / H200 systems hold TP and EP inside the node's NVLink
SAMPLE_EVERY = 1  # `validate` scores every row (~8 s); 2 = every 2nd row of each group (~4 s), until 2026-12-02
SET_NAME = "serving hopper MoE/MLA (closed loop)"
# TensorRT-LLM attention-DP rows on trtllm-0.x balance context requests (`serving.adp_balance`; counts recalled, the
# evidence in data/stacks/trtllm-0.x-adp-balance.yaml). Session 52 (hB): MoE 14.919 -> 14.762 %, Blackwell 20.572 ->
# 20.109 %, other sets unchanged (validation/notes/serving_blackwell_tried.md, round 15). False to compare.
ADP_BALANCE_CAMPAIGN = True
INCONSISTENT = LITTLE_LAW  # the Little's-law rule's reason (`validation.serving_row_consistency`, rule 1)
SOURCE = "NVIDIA AIConfigurator silicon sample (Apache-2.0), closed-loop benchmark clients"
# the set's checkpoints -> catalog preset (HF config.json); models without one stay awaiting
MODELS: dict[str, str] = {
    "deepseek-ai/DeepSeek-R1": "deepseek-r1",
    "deepseek-ai/DeepSeek-V3": "deepseek-v3",
    "Qwen/Qwen3-235B-A22B-FP8": "qwen3-235b-a22b",
    "openai/gpt-oss-120b": "gpt-oss-120b",
    "moonshotai/Kimi-K2.5": "kimi-k2",  # ASSUMPTION: K2.5's language model = K2's architecture (docstring)
}
# the rows' weight precision -> (weight dtype, KV dtype) of the deployment (module docstring)
PRECISIONS: dict[str, tuple[str, str]] = {"fp8": ("fp8", "fp8"), "int4": ("int4", "bf16"), "fp4": ("mxfp4", "bf16")}


def load_rows() -> list[dict[str, str]]:
    """Every aggregated MoE / MLA row of the sample, in file order."""
    return read_rows("serving_measured_hopper_moe.csv")


_int = campaign_settings.layout_count  # a layout column's count: empty or "0" (the source's "none" on dense rows) is 1


def concurrency(row: dict[str, str]) -> int | None:
    """The benchmark's clients as the source states them (`concurrency`: its `silicon_concurrency`), or None.

    Not `batch_size`: on attention-DP rows that is one rank's sequences (every attention-DP row of the sample
    states concurrency = batch_size x attention_dp_size, as the disaggregated rows' per-rank batch sizes)."""
    return int(row["concurrency"]) if row.get("concurrency") else None


def inconsistent_rows() -> dict[str, str]:
    """Rows whose own numbers contradict other rows of the set, by id, with the reason: Little's law, TPOT against
    concurrency, runs that disagree (`validation.serving_row_consistency`), one rule for all rows (per toggles)."""
    return _inconsistent_rows(*consistency.rule_switches())


@cache
def _inconsistent_rows(*switches: object) -> dict[str, str]:  # the rules' toggles and ratios: the key
    return contradicting_rows(load_rows(), concurrency)


def why_not(row: dict[str, str]) -> str | None:
    """Why the row is not scored, or None: it cannot be run as it was measured, or it repeats another row's
    measurement (`serving_row_consistency.repeated_measurements`)."""
    return _why_not_expressible(row) or _repeated_rows(consistency.COUNT_REPEATS_ONCE,
                                                       consistency.REPEAT_DECIMALS).get(row["id"])


@cache
def _repeated_rows(count_once: bool, decimals: int | None) -> dict[str, str]:  # the toggles key the cache
    return repeated_measurements(load_rows(), lambda r: _why_not_expressible(r) is None)


def _why_not_expressible(row: dict[str, str]) -> str | None:
    return inconsistent_rows().get(row["id"]) or layout_why_not(row)


def layout_why_not(row: dict[str, str], models: Collection[str] = MODELS, max_gpus: int = MAX_GPUS,
                   precisions: Collection[str] = PRECISIONS) -> str | None:
    """Why a row cannot run as measured (model, clients, layout, GPUs, precision), or None (`serving_blackwell` too)."""
    if row["model_path"] not in models:
        return "no HF config.json at hand for this model (no catalog preset)"
    if concurrency(row) is None:
        return "no concurrency stated (silicon_concurrency): the closed loop's clients are unknown"
    if concurrency(row) != _int(row["batch_size"]) * _int(row["attention_dp_size"]):
        return ("stated concurrency is not batch_size x attention DP (per-rank batches of a layout not stated in "
                "full, e.g. attention DP under TensorRT-LLM's tp_size)")
    gpus = _int(row["tp_size"]) * _int(row["attention_dp_size"]) * _int(row["pp_size"])
    moe_gpus = _int(row["moe_tp_size"]) * _int(row["moe_ep_size"])  # MoE checkpoints only: a dense one has no MoE
    if row["model_path"] in MODELS and _int(row["tp_size"]) * _int(row["attention_dp_size"]) != moe_gpus:
        return "attention TP x DP differs from MoE TP x EP (the layout is not stated in full)"
    if gpus > max_gpus:
        return f"{gpus} GPUs (attention TP {row['tp_size']}) span several HGX nodes: multi-node TP not modelled"
    if row["precision"] not in precisions:
        return f"precision {row['precision']!r} not mapped"
    return None


def moe_deployment(row: dict[str, str]) -> Deployment:
    """The dense set's deployment of the row (stack, batch limits) with its precision, MoE layout and draft."""
    dtype, kv_dtype = campaign_settings.engine_kv_dtype(row, *PRECISIONS[row["precision"]])  # SGLang "auto"
    adp, (ep, moe_tp) = _int(row["attention_dp_size"]), campaign_settings.moe_layout(row)  # EP / MoE TP
    k, r = campaign_settings.draft(row, model_shape)  # MTP where the campaign ran it
    dep = row_deployment(row)
    if ADP_BALANCE_CAMPAIGN and adp > 1 and dep.stack == "trtllm-0.x":  # the balancing (`ADP_BALANCE_CAMPAIGN`)
        dep = replace(dep, stack=data_stack("trtllm-0.x-adp-balance.yaml"))
    return replace(dep, dtype=dtype, kv_dtype=kv_dtype, ep=ep, attention_dp=adp, moe_tp=moe_tp, speculative_tokens=k,
                   acceptance=r)


@cache
def model_shape(model_path: str) -> TransformerShape:
    """The shape of a MoE campaign row's model (`MODELS`: its catalog preset), read once per model."""
    data, name = read_entry("models", MODELS[model_path])
    return shape_from_hf_config(data, name)


def run_row(row: dict[str, str]) -> dict[str, float]:
    """Predicted mean TTFT and TPOT (seconds) of one measured row, in closed loop at its stated concurrency
    (`concurrency`: the clients over all attention-DP ranks of the replica), with its serving path's front end
    (`validation.serving_front_end`: a constant added to every TTFT; TPOT does not hold it)."""
    clients = {**row, "batch_size": str(concurrency(row))}  # `serving_hopper.run_row` takes its batch_size
    dep, cap = moe_deployment(row), campaign_settings.client_connections(row)
    if cap is not None:  # clients beyond the client's connections wait, in TTFT, as for the engine's batch cap
        dep = replace(dep, max_batch=min(dep.max_batch, cap))
    return serving_hopper.run_row(clients, dep, model_shape(row["model_path"]))


def roofline_work(row: dict[str, str]) -> dict[str, float]:
    """The naive roofline at efficiency 1: (local weights + KV read) / bandwidth; one prompt's FLOPs / peak."""
    dep = moe_deployment(row)
    return roofline_seconds(model_shape(row["model_path"]), row["system"], dep, dep,
                            (concurrency(row) or 0) / dep.attention_dp, int(row["isl"]), int(row["osl"]))


def group_of(row: dict[str, str]) -> str:
    """Model, GPU and backend: the unit of the per-model error table."""
    return f"{MODELS[row['model_path']]} {row['system'].split('_')[0]} {row['backend']}"


def sampled_rows(every: int = SAMPLE_EVERY) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(rows run, rows awaiting): every `every`-th expressible row of each group, in file order."""
    return sample_by_group(load_rows(), why_not, group_of, every)


def awaiting_summary(rows: list[dict[str, str]]) -> list[str]:
    """The rows not run, counted by model, system, backend and reason."""
    return awaiting_counts(rows, why_not)


def run_moe_validation(every: int = SAMPLE_EVERY) -> dict[str, Any]:
    """Predicted vs measured TTFT/TPOT of the sampled rows, the fitted-roofline baseline, errors by group."""
    rows, waiting = sampled_rows(every)
    return report_rows(rows, run_row, roofline_work, group_of, awaiting_summary(waiting))


def serving_moe_set() -> tuple[ValidationSet, list[Residual]]:
    """The set for `infraplan validate` (`validation.sets.EXTRA_SETS`): TTFT and TPOT of every sampled row."""
    return score_report(run_moe_validation(), SET_NAME, GATE_MEAN_ERROR)
