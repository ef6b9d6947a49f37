"""What measured serving campaigns ran that their rows do not state: speculative decoding (MTP) and the benchmark
client's connection pool. Each rule names its campaigns by source fields (`silicon_data_source` of the MoE / MLA set,
`serving_hopper_moe`), carries its evidence and is a toggle. Also SGLang's default prefill chunk on the row's GPU
(`sglang_chunked_prefill`, which AIConfigurator's max_prefill_tokens = ISL + 1500 sits inside; hB70), and the
receive interval of the Blackwell InferenceX SGLang campaigns (`sglang_recv_interval`, below; hS80), and the KV
dtype SGLang's kv_cache_dtype "auto" gives DeepSeek's own checkpoints on the Hopper rows (`engine_kv_dtype`; hJ56).

## SGLang's scheduler receive interval on Blackwell (session 50, helper hS80; toggle `SGLANG_RECV_INTERVAL_RULE`)

The InferenceX SGLang DeepSeek launch scripts for B200 are RECALLED (not readable here; ASSUMPTION) to pass
`--scheduler-recv-interval 30` from 16 clients on and 10 below ("if CONC >= 16 ... relax to ~30 ... between
scheduler recv polls"); SGLang then polls for new requests once every n decode iterations (`serving.
request_intake`, sglang 0.5.9 managers/scheduler_recv_skipper.py). What the data show (the Blackwell set,
serving_measured_blackwell.csv), independent of the recall: measured minus modelled TTFT, in the row's own measured
TPOTs, in every 0.5.9 DeepSeek-R1 fp4 (TP4 / TP8) and DeepSeek-V3 fp8 (TP8) campaign: -2.4..+1.4 at 4 / 8 clients
(10 rows; the fp8 8,192-token rows at 4 clients +14..+22, a prefill shortfall of their own), +8.8..+17.2 at 16 / 32
clients (10 rows, 1,024- and 8,192-token prompts alike: a wait counted in decode iterations, not in prefill work;
(30 - 1) / 2 = 14.5), while the H200 rows of the same workflow run and image (workflow_run_id=337,
lmsysorg/sglang:v0.5.9-cu130, the MoE set) have no step (relative TTFT +0.03 / +0.07 at 16 / 32 clients). B300's
0.5.10.post1 TP8 rows step too (+10 / +16 TPOT at 4 / 8 clients, +36 / +41 at 16 / 32). Taken for the set's
InferenceX SGLang rows on B200 / B300 (`RECV_INTERVAL_SYSTEMS`; not AIConfigurator's gap analysis); not for Hopper,
nor GB200 (no scored row to show it). Effect: notes file
(validation/notes/serving_blackwell_tried.md, round 4).

## MoE layouts: attention DP with MoE TP (session 50, helper hL82; `moe_layout`, toggle `MOE_TP_ROWS`)

A row states attention TP (`tp_size`), attention DP and the MoE layers' `moe_tp_size` x `moe_ep_size` over the same
GPUs. TensorRT-LLM's `moe_tensor_parallel_size` / `moe_expert_parallel_size` under `enable_attention_dp`: EP splits the
experts, MoE TP every expert's FFN; the DP group's tokens (the hidden states, each once) are all-gathered before the
MoE and the partial outputs reduce-scattered after, over all the group's GPUs, whatever the EP / TP split (NVIDIA
AIConfigurator 0.8.0 sdk/operations.py:532-715 `MoEDispatch`, its TensorRT-LLM paths: NCCL all_gather of the tokens x
attention DP before, reduce_scatter after; an all-to-all only for MoE TP 1 on an NVL72 GB200 domain; the TensorRT-LLM
source itself is not readable here). The serving model holds it as `Deployment.moe_tp` (`serving.host_overhead.
inference_layout`, `ops.layer`). Before, every attention-DP row ran EP = attention DP x TP with two all-to-alls a
layer. Rows it moves: the Blackwell set's 8 GPT-OSS-120B TensorRT-LLM 1.2.0rc2 B200 rows at attention DP 4 with MoE
TP 4 / EP 1 (2) and MoE TP 2 / EP 2 (6); the MoE set's, disaggregated and MLPerf sets' attention-DP rows all have MoE
TP 1 where scored (effect: validation/notes/serving_blackwell_tried.md, round 8).

## Speculative decoding (round 20, helper hB; `draft`, toggle `SPECULATIVE_CAMPAIGN_RULE`)

The MoE / MLA set's InferenceX rows (`serving_hopper_moe`: `silicon_data_source` names a db dump with config_id and
workflow_run_id, or an export file `source_file=2026-03-25.csv` / `2026-04-06.csv`) come from one benchmark
database whose records carry the serving configuration, speculative method included: NVIDIA AIConfigurator 0.12.0's
InferenceX adapter reads `spec_method` from each record's config and rejects a speculative one unless the caller
supplies the draft depth and acceptance (aiconfigurator sdk/config_adapter/inferencex.py:221-224). The sample's
db-dump rows passed through that adapter (their DeepSeek-R1 rows carry its model-path mapping, dsr1 ->
deepseek-ai/DeepSeek-V3, :55-57, where the export files say DeepSeek-R1), so the db dump holds non-speculative
configurations only; the export files hold both kinds and no speculative column.

What the data show (aiconfigurator-core 0.12.0 systems/silicon_sample.csv, Apache-2.0; the reproduction script is
in validation/notes/serving_hopper_moe_tried.md, round 20):
* Inside one export file, rows of identical labels (system, engine release, model, precision, ISL / OSL, clients,
  layout, measured date) whose TPOTs differ by more than 1.25x: 99 pairs; the db dump holds the slower of the two in
  51, the faster in 1 (a queue-bound pair, TTFT 15 / 42 s), neither in 47; median fast / slow 0.60.
* TensorRT-LLM release:1.1.0rc2.post2 DeepSeek-R1 fp8, TP8 x EP8, H200: the 2025-12-15 campaign (config_id 181, in
  the db dump) and the 2026-01-14 campaign (export files only) on the same image and labels: 2026-01-14 / 2025-12-15
  TPOT 0.52-0.78 (median 0.65, 14 pairs of this set's CSV); on B200 the same image's two campaigns 0.47-0.75 (13).
  A kernel or scheduler setting of one image does not halve a 4-client decode step; a draft does.
* Speculation's signature: acceptance rises on long, repetitive outputs, so TPOT falls with the OSL. 2026-01-14
  TPOT falls 17-20 % from OSL 1024 to 8192 at 4-32 clients (H200; B200 7.83 -> 6.82 ms at 4), the 2025-12-15
  campaign's and every other campaign's of the set 0-5 % (H200 13.82 / 13.67 ms, B200 14.59 / 14.65 ms).
So the 2026-01-14 campaign (`SPECULATIVE_CAMPAIGNS`) is taken to have run DeepSeek's multi-token prediction.
What no source here states, hence ASSUMPTIONS: the draft depth, K = the checkpoint's own MTP modules
(`num_nextn_predict_layers` 1 in DeepSeek-R1's config.json; TensorRT-LLM can run deeper drafts through the one
module, and the InferenceX launch scripts are not readable here), and the per-token acceptance R = 0.85, DeepSeek-
V3's measured second-token acceptance (arXiv:2412.19437 sec. 5.4.3: 85-90 %; the lower end), for random prompts too.
The 2026-01-28 rows of the same image (a TP8 1024 / 8192 row at 32.2 ms, the 2025-12-15 campaign's 32.1) are not
taken as speculative. Priced by `serving.deployment` / `serving.speculative` (`speculative_tokens`, `acceptance`).

Effect (toggle `SPECULATIVE_CAMPAIGN_RULE`; every expressible row, repeats once, one tree): MoE / MLA 15.66 % (TTFT
21.43, TPOT 9.89; 471 rows) -> 15.23 % (21.39, 9.07); the campaign's TP8 EP8 rows (14) TPOT mean |error| 0.390 (median
+0.347) -> 0.066 (-0.053), TTFT 0.644 -> 0.633; its attention-DP8 rows (5) TPOT 0.112 (+0.124) -> 0.248 (-0.253):
TensorRT-LLM's measured gain at 64-256 clients is smaller (the 2025-12-15 attention-DP row at 64 clients, 8k / 1k:
47.8 ms against 39.8) than the model's verification cost gives. Acceptance 0.80 / 0.90: 15.22 / 15.25 %. The
disaggregated, dense and MLPerf sets hold no row of these campaigns (`validate --json`: only this set moves). Its
~470 ms TTFT floor at 4 clients (the 2025-12-15 campaign's ~310, the model's ~130 with the front end) stays
unexplained. Round 22 (`serving.speculative`: the first draft step over the verified positions, the draft layer over
the prompt): 15.23 -> 15.22 %, attention-DP8 TPOT 0.248 -> 0.242 (median -0.250).

Its attention-DP rows (`ATTENTION_DP_DRAFTS`; measured, not adopted): the gain the drafts give there is not visible in
the data. The one same-label repeat across the campaigns, attention DP 8 x EP 8, 1024 / 8192 at 256 clients, measures
30.69 ms on 2026-01-14 (export 2026-04-06.csv, labelled tp_size 1 x attention DP 64, not scored) and 30.40 ms on
2026-01-28 (2026-03-25.csv, scored without drafts: that campaign's TP8 1024 / 8192 row at 64 clients, 32.16 ms, is the
non-speculative 2025-12-15 campaign's 32.10); and one MTP token at 0.85 would put the 2026-01-14 attention-DP 1024 /
1024 row at 128 clients (31.46 ms) at a 58 ms step where the model's step without drafts is 34 ms (16 sequences a rank,
bound by the 32 local experts' weights; 38 ms with the draft). The 2025-12-15 attention-DP 8192 / 1024 row at 64 clients
(config 181's campaign, 47.79 ms, TTFT 4.7 s) against 2026-01-14's (39.75 ms, TTFT 6.4 s) is 1.20x, the model's draft
gain 1.38x. Without drafts on the campaign's attention-DP rows: 15.218 -> 15.152 % (their TPOT mean |error| 0.242 ->
0.112, median +0.124); with drafts on the 2026-01-28 attention-DP row too (the other consistent reading): 15.205 %
(that row +0.30 -> -0.18). No source states the campaigns' speculative settings by layout: kept as measured.

Blackwell (hB70, `serving_blackwell`): the B200 rows of the TensorRT-LLM release:1.2.0rc6.post3 image (DeepSeek-R1 fp4
2026-02-06, fp8 2026-02-05; export 2026-03-25.csv / 2026-04-06.csv, no db-dump copy) show the same signature: TPOT
from OSL 1024 to 8192 at the same layout and clients 0.87 / 0.86 (median of 4 / 7 pairs), where the set's other
TensorRT-LLM DeepSeek campaigns give 0.95-1.04 (1.2.0rc6.post2 0.95 / 1.01, unversioned 0.97-0.98; 2026-01-14: 0.93 /
0.83); and their measured TPOT is 0.66 of the model's without drafts (median of 43 rows; quartiles 0.60-0.71;
0.47-0.73 at <= 16 clients; TP8 fp8 1024 / 1024, 4 clients: 5.38 ms against 8.45). Taken as MTP campaigns by the same
ASSUMPTIONS (K = 1, R = 0.85). Toggled (every scored Blackwell row, 707): 26.92 % (TTFT 37.86, TPOT 15.97) -> 25.57 %
(37.71, 13.43); the post3 groups' TPOT mean |error| 0.566 / 0.482 (median +0.557 / +0.476) -> 0.101 / 0.118 (+0.081 /
+0.053). No Hopper set holds such a row.

## The benchmark client's connections (round 11; `client_connections`, toggle `CLIENT_CONNECTION_CAP`)

The December-2025 GPT-OSS-120B vLLM H100 campaign (9 rows, all 512 clients: 0.11.2 and unversioned, TP2 / 4 / 8, ISL /
OSL 1k / 1k, 1k / 8k, 8k / 1k) holds 96-106 requests in flight by Little's law (n = c D / (TTFT + D), D = (OSL - 1)
TPOT) at every layout and shape: a cap independent of the GPUs, the KV cache and the engine (vLLM's max_num_seqs 1024).
aiohttp's ClientSession without a connector makes TCPConnector(limit=100) (aiohttp 3.11.18 connector.py:246
BaseConnector, :849 TCPConnector, client.py:359); SGLang's bench_serving (0.5.6.post2 :75, 0.5.9 :77) builds such a
session; vLLM 0.12's `vllm bench serve` passes limit=max_concurrency (benchmarks/serve.py:519-520), no cap. The
campaign's client is not named: ASSUMPTION. No other row above 100 clients shows a cap. Clients beyond the connections
wait, in TTFT, as for the engine's batch cap (`serving_hopper_moe.run_row`). Effect (round 11, every row): 16.45 ->
15.89 %; the account is in validation/notes/serving_hopper_moe_tried.md, round 11.
"""

from __future__ import annotations

from collections.abc import Callable

from infraplan.catalog.model_config import TransformerShape
from infraplan.validation.release_stacks import mixed_chunk_stack
from infraplan.validation.serving_row_rules import served_by_dynamo

SPECULATIVE_CAMPAIGN_RULE = True  # the campaigns below run MTP (module docstring); False to compare
# campaigns by source fields, all of which the row's `silicon_data_source` must contain (module docstring)
SPECULATIVE_CAMPAIGNS = (("tensorrt-llm/release:1.1.0rc2.post2", "measured=2026-01-14"),
                         ("tensorrt-llm/release:1.2.0rc6.post3",))  # B200 DeepSeek-R1 (hB70, docstring)
# DeepSeek-V3's MTP second-token acceptance, arXiv:2412.19437 sec. 5.4.3 (85-90 %; the lower end): ASSUMPTION
MTP_ACCEPTANCE = 0.85
ATTENTION_DP_DRAFTS = True  # the campaign's attention-DP rows draft too (docstring: False measured, not adopted)
CLIENT_CONNECTION_CAP = True  # the benchmark client's connection pool (`client_connections`; toggle to compare)
AIOHTTP_DEFAULT_CONNECTIONS = 100  # aiohttp TCPConnector(limit=100), aiohttp 3.11.18 connector.py:246, :849
CAPPED_CLIENT_CAMPAIGNS = (("model=GPT-OSS-120B", "measured=2025-12-0"),)  # source fields; ASSUMPTION (docstring)
# SGLang's kv_cache_dtype "auto" on DeepSeek's own block-fp8 releases, whose config names no KV format: a bf16 latent
# cache (sglang 0.5.9 model_executor/model_runner.py:1669-1687, `serving.kv_default`), not the fp8 the MoE set's
# PRECISIONS give every fp8 row (hJ, session 56), on the Hopper rows (`AUTO_KV_SYSTEMS`). On with
# `serving.mla_decode.SGLANG_HOPPER_MLA_FIT_DTYPES`'s fp8 fit (the lead, session 56): MoE 14.709 -> 14.718 %,
# disaggregated 14.547 -> 14.651 % (notes "hJ (session 56)"); without it those rows would run the measured fp8 path
# (FA3 over a bf16 copy of the pool) SGLang does not take for them (MoE 15.63 %). The Blackwell rows keep fp8: the
# same rule there takes that set 19.746 -> 20.900 %, so they set --kv-cache-dtype fp8_e4m3 (as SGLang's trtllm_mla
# backend takes it: server_args.py:1751, sglang 0.5.8), which the rows do not state: ASSUMPTION
SGLANG_AUTO_KV_MLA = True
AUTO_KV_BF16_CHECKPOINTS = frozenset({"deepseek-ai/DeepSeek-R1", "deepseek-ai/DeepSeek-V3"})  # no kv_cache_quant_algo
AUTO_KV_SYSTEMS = frozenset({"h100_sxm", "h200_sxm"})  # the sets' Hopper `system`s


def engine_kv_dtype(row: dict[str, str], dtype: str, kv_dtype: str) -> tuple[str, str]:
    """(weight dtype, KV dtype) a MoE / MLA row ran: its precision's (`serving_hopper_moe.PRECISIONS`), the KV cache
    bf16 on a Hopper SGLang row of a checkpoint naming no KV format where `SGLANG_AUTO_KV_MLA` (SGLang's "auto")."""
    if (SGLANG_AUTO_KV_MLA and row.get("backend") == "sglang" and row["model_path"] in AUTO_KV_BF16_CHECKPOINTS
            and row.get("system") in AUTO_KV_SYSTEMS):
        return dtype, "bf16"
    return dtype, kv_dtype


def _in(row: dict[str, str], campaigns: tuple[tuple[str, ...], ...]) -> bool:
    source = row.get("silicon_data_source", "")
    return any(all(field in source for field in campaign) for campaign in campaigns)


def speculative_campaign(row: dict[str, str]) -> bool:
    """Whether the row belongs to a campaign that ran speculative decoding (`SPECULATIVE_CAMPAIGNS`)."""
    return SPECULATIVE_CAMPAIGN_RULE and _in(row, SPECULATIVE_CAMPAIGNS)


def draft(row: dict[str, str], shape_of: Callable[[str], TransformerShape]) -> tuple[int, float]:
    """(draft tokens K, per-token acceptance R) the row's engine ran: the checkpoint's MTP modules (`shape_of` the
    row's model_path, read only for a speculative campaign's row) at DeepSeek-V3's acceptance, else (0, 0.0)."""
    drafts = speculative_campaign(row) and (ATTENTION_DP_DRAFTS or layout_count(row["attention_dp_size"]) == 1)
    layers = shape_of(row["model_path"]).num_mtp_layers if drafts else 0
    return (layers, MTP_ACCEPTANCE) if layers else (0, 0.0)


def tpot_against_database(rows: list[dict[str, str]], label: tuple[str, ...] = ("isl", "osl", "concurrency"),
                          database: str = "db-dump/") -> list[float]:
    """TPOT of each row of a speculative campaign over that of the database row of the same image, layout and
    `label` (the docstring's same-image comparison: the db dump holds non-speculative records only)."""
    def key(row: dict[str, str]) -> tuple[str, ...]:
        image = row["silicon_data_source"].rsplit("/", 1)[-1]
        return (image, row["model_path"].split("/")[0], row["system"], row["moe_ep_size"],
                *(row[field] for field in label))

    plain = {key(r): float(r["silicon_tpot_ms"]) for r in rows if r["silicon_data_source"].startswith(database)}
    return [float(r["silicon_tpot_ms"]) / plain[key(r)] for r in rows
            if speculative_campaign(r) and layout_count(r["attention_dp_size"]) == 1 and key(r) in plain]


def layout_count(value: str) -> int:
    """A layout column's count (TP, attention DP, MoE TP / EP, PP, batch): empty or "0" (the source's "none" on dense
    rows, hR72 / hB73) is 1. The one reader of the MoE and Blackwell sets' layout columns."""
    return int(value) if value not in ("", "0") else 1


MOE_TP_ROWS = True  # attention-DP rows with MoE TP > 1 run it (`moe_layout`); False: as EP over every rank (before)


def moe_layout(row: dict[str, str]) -> tuple[int, int]:
    """(EP, MoE TP) of the row's deployment (`serving.deployment.Deployment.ep` / `moe_tp`), the one reading of the
    MoE and Blackwell sets' MoE layout columns: without attention DP, EP `moe_ep_size` inside the TP group (MoE TP 1:
    the TP group splits the experts TP / EP ways); with attention DP, `moe_ep_size` x `moe_tp_size` over the attention
    DP x TP GPUs (module docstring, "MoE layouts"). `MOE_TP_ROWS` False: EP = attention DP x TP (before session 50)."""
    tp, adp, ep = (layout_count(row[k]) for k in ("tp_size", "attention_dp_size", "moe_ep_size"))
    moe_tp = layout_count(row["moe_tp_size"]) if adp > 1 and MOE_TP_ROWS else 1
    return (ep if moe_tp > 1 else adp * tp if adp > 1 else ep), moe_tp



def client_connections(row: dict[str, str]) -> int | None:
    """Requests the row's benchmark client can hold open at once (module docstring), or None (no cap): aiohttp's
    default 100 for the December-2025 GPT-OSS vLLM campaign (ASSUMPTION), no cap elsewhere."""
    if CLIENT_CONNECTION_CAP and row["backend"] == "vllm" and _in(row, CAPPED_CLIENT_CAMPAIGNS):
        return AIOHTTP_DEFAULT_CONNECTIONS
    return None


def row_memory_bytes(row: dict[str, str]) -> float:
    """The memory of the row's GPU (bytes), 0 for a row naming no system (unknown)."""
    from infraplan.cluster import Cluster
    from infraplan.validation.serving_row_rules import SYSTEMS

    return Cluster.resolve(SYSTEMS[row["system"]]).accelerator.memory_bytes if row.get("system") in SYSTEMS else 0.0


def row_attention_dp(row: dict[str, str]) -> int:
    """The row's attention-DP ranks (`attention_dp_size`; 1 where empty or absent, the dense rows)."""
    return layout_count(row.get("attention_dp_size", ""))


def sglang_chunked_prefill(row: dict[str, str], default: int) -> int:
    """SGLang's default chunked_prefill_size on the row's GPU (the shipped sglang-0.x profile's tiers by GPU memory,
    `serving.engines.ServingEngine.budget_on`: 8192 below 160 GiB, 16384 above, so B200 / B300), one attention-DP
    rank's (// its attention DP, hG72), `default` for a row naming no system."""
    from infraplan.serving.engines import load_engine

    memory = row_memory_bytes(row)
    return load_engine("sglang-0.x").budget_on(memory, row_attention_dp(row)) if memory > 0 else default


SGLANG_RECV_INTERVAL_RULE = True  # the Blackwell InferenceX SGLang campaigns' receive interval (docstring)
RECV_INTERVAL_SYSTEMS = ("b200_sxm", "b300_sxm")
RECV_INTERVAL_CLIENTS = 16  # from this many clients on the interval is `RECV_INTERVAL_HIGH`, below `RECV_INTERVAL_LOW`
RECV_INTERVAL_HIGH, RECV_INTERVAL_LOW = 30, 10  # ASSUMPTION: recalled (docstring)
RECV_INTERVAL_STACKS = {30: "sglang-0.x-mixed-chunk-recv30.yaml", 10: "sglang-0.x-mixed-chunk-recv10.yaml"}


def sglang_recv_interval(row: dict[str, str]) -> int:
    """SGLang's --scheduler-recv-interval the row's campaign ran (module docstring): 30 / 10 for an InferenceX SGLang
    row on B200 / B300 by its clients, 1 (SGLang's default) elsewhere."""
    if (not SGLANG_RECV_INTERVAL_RULE or row.get("backend") != "sglang" or served_by_dynamo(row)
            or row.get("system") not in RECV_INTERVAL_SYSTEMS or not row.get("concurrency")):
        return 1
    return RECV_INTERVAL_HIGH if int(row["concurrency"]) >= RECV_INTERVAL_CLIENTS else RECV_INTERVAL_LOW


# AIConfigurator's SGLang decode graphs (hD, session 53; the header of the YAML below; built OFF: dense 18.608 ->
# 18.628 % (18.735 -> 18.749 before the release GEMM rates; SGLang 0.5.6.post2 Llama-3.1-8B TPOT 23.2 -> 23.7 %: its
# 6 TP2 rows at 352-512 clients, under-predicted, lose the eager floor), MoE / disaggregated / Blackwell unchanged)
AIC_SGLANG_GRAPH_BATCHES = False
AIC_HARNESS_SOURCE = "aic-auto-gap-analysis"  # the `silicon_data_source` of AIConfigurator's gap-analysis campaigns
SGLANG_GRAPH_STACKS = {"0.5.6.post2": "sglang-0.5.6-mixed-chunk-graphs-to-batch.yaml"}


def sglang_campaign_stack(row: dict[str, str]) -> str:
    """The stack YAML (name in validation/data/stacks) of an SGLang row run with AIConfigurator's generated flags:
    its release's mixed-chunk profile (`release_stacks.mixed_chunk_stack`), with decode graphs for every batch up to
    the config's where the generator captured them (`AIC_SGLANG_GRAPH_BATCHES`: the gap-analysis campaigns pass
    `--cuda-graph-bs 1..b`, aiconfigurator 0.6.0 sglang.rule:7; sglang 0.5.6.post2 server_args.py:838-841)."""
    graphs = SGLANG_GRAPH_STACKS.get(row.get("backend_version", ""))
    if AIC_SGLANG_GRAPH_BATCHES and graphs and AIC_HARNESS_SOURCE in row.get("silicon_data_source", ""):
        return graphs
    return mixed_chunk_stack(row)
