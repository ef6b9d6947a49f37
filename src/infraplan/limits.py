"""Stated limits of the product, shared by every edge that takes input (the CLI's options, the web API's requests).

Each `MAX_*` is a bound on a kind of quantity with its reason; `cli/options.py` builds click parsers from them
and `web/requests.py` builds pydantic request fields from them, so the CLI and the HTTP API refuse the same
numbers. This module sits at the base layer (it imports pydantic, `errors` and `electricity_price` only) so both
edges can import it. Electricity prices: one internal unit, USD/MWh (the cost model's); their bounds, the unit slips
they refuse and `read_electricity_price`, the rule for a price given under a name without a unit, are in
`infraplan.electricity_price`, whose public names are importable from here as well.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import BeforeValidator, Field

from infraplan.electricity_price import ENERGY_UNITS_MWH as ENERGY_UNITS_MWH
from infraplan.electricity_price import MAX_ELECTRICITY_USD_PER_KWH as MAX_ELECTRICITY_USD_PER_KWH
from infraplan.electricity_price import MIN_ELECTRICITY_USD_PER_MWH as MIN_ELECTRICITY_USD_PER_MWH
from infraplan.electricity_price import ElectricityPriceWarning as ElectricityPriceWarning
from infraplan.electricity_price import ElectricityUsdPerKwh as ElectricityUsdPerKwh
from infraplan.electricity_price import ElectricityUsdPerMwh as ElectricityUsdPerMwh
from infraplan.electricity_price import parse_energy_price as parse_energy_price
from infraplan.electricity_price import priced_in as priced_in
from infraplan.electricity_price import read_electricity_price as read_electricity_price
from infraplan.electricity_price import usd_per_kwh_unit_slip as usd_per_kwh_unit_slip
from infraplan.electricity_price import usd_per_mwh_unit_slip as usd_per_mwh_unit_slip
from infraplan.errors import InputError

MAX_ACCELERATORS = 10_000_000
"""Accelerators in one system, job or deployment: 10 M, several times a 5 GW GB200 campus (~2.5 M)."""
MAX_TOKENS = 10_000_000
"""Tokens in one sequence (prompt, output, training context): 10 M, beyond any published context window."""
MAX_SEQUENCES = 100_000_000
"""Sequences in one global batch or samples in one batch: 100 M."""
MAX_REQUESTS = 10_000_000
"""Requests one serving simulation may hold: 10 M (1 M take ~4 s and ~0.5 GiB; the arrays grow linearly)."""
MAX_PROBE_REQUESTS = 400_000
"""Requests of one `serve-plan` probe (`--requests`): 400,000, the longest whole run serve-plan judges
(`serving.capacity_horizon.HORIZON_MAX_REQUESTS`: a pool that needs a longer one to settle is a miss), so a longer
probe of one replica shows nothing the answer's judge can use. CPU time grows with it (Llama 3 8B chat at 150
requests/s on H200: 1.7 s at the default 1,500, 4.3 s at 20,000, 15.5 s at 100,000; hK71): 10 M, the simulation
limit, ran for about an hour without a word (the web's limit is 20,000)."""
MAX_TOP = 1_000
"""Plans `search --top` may list."""
MAX_SEED = 2**32 - 1
"""numpy seeds are 32-bit unsigned integers."""
MAX_PARALLEL_DEGREE = 1_048_576
"""A TP, PP, CP, EP or virtual-stage degree, or a serving batch cap: 2**20."""
MAX_ARRIVAL_RATE_PER_S = 1e9
"""Requests per second of one serving demand (`serve --rate`, a scenario's or fleet's peak LLM rate after growth
and headroom): 1e9, ~10,000x the published peak of the largest chat services."""
MIN_ARRIVAL_RATE_PER_S = 1e-9
"""The least `serve --rate` / `serve-plan --rate`: 1e-9 requests/s, one request in ~32 years (hH63: 5e-324 made the
arrival times nan and the simulation never ended; `workloads.arrival_times` refuses non-finite arrivals too)."""
MAX_RECSYS_QPS = 1e15
"""Scored samples per second of one recommendation service at its peak (a fleet-mix or scenario `qps`, times a
scenario's growth and headroom): 1e15, ~3x what MAX_ACCELERATORS of the fastest catalogued part serve on the lightest
preset (`recsys dlrm-low --accelerator gb200 --latency-slo 10ms`: 3.6e7 QPS each, 3.6e14 in all). hO63: 1e300
reached the MILP, whose refusal called the service 100 % short beside an unlimited CPU pool."""
MAX_VIDEO_STREAMS = 1e12
"""Real-time streams of one video service at its peak (`daily_hours` / 24 x `peak_to_average`, times a scenario's
growth and headroom): 1e12, ~7x what MAX_ACCELERATORS MSVPs hold at the least input they take (`video --device msvp
--input 144p1 --quality standard`: 13,500 streams each, 1.35e11 in all)."""
_PEAK_LIMITS = {"recsys": (MAX_RECSYS_QPS, "QPS", "MAX_RECSYS_QPS"), "video": (MAX_VIDEO_STREAMS, "streams",
                                                                             "MAX_VIDEO_STREAMS")}


def peak_demand_at_most(service: str, kind: str, peak: float, how: str) -> float:
    """`peak` (a recsys or video service's demand, `how` it was reached: "qps x growth x headroom") if within its
    kind's limit above, else one line (InputError) naming the service; other kinds pass (an LLM rate's limit is
    checked where serve-plan is asked: planning/fleet_mix_llm.serve_plan_search)."""
    limit, unit, name = _PEAK_LIMITS.get(kind, (math.inf, "", ""))
    if not peak <= limit:  # nan too
        raise InputError(f"service {service!r}: a peak of {peak:.3g} {unit} ({how}) is above the {limit:.0e} {unit} "
                         f"one service may ask (infraplan.limits.{name})")
    return peak


MAX_TRAINING_TOKENS = 1e15
"""Tokens of one training run (`train --tokens`, a scenario's training service): 10**15, ~25x the largest
published pre-training corpus (Qwen3: 36T tokens); beyond it a run lasts centuries on any listed system."""
MAX_YAML_EXPANDED_NODES = 1_000_000
"""Values one user YAML file may hold with its aliases expanded (`catalog.yaml_text.safe_load_yaml`): 1 M, ~100x
the largest shipped file (no shipped file uses an alias); a "billion laughs" file (ten anchors of nine aliases
each: 9**10 values in ~300 bytes) is refused before it is constructed (hH70: `plan` and `sweep` ran past 60 s)."""
MAX_MESSAGE_BYTES = 2**50
"""Buffer of one collective per rank: 1 PiB, thousands of times any accelerator's memory."""
MAX_FLOW_SIM_SECONDS = 3600.0
"""Wall seconds a flow simulation (`collective --sim flow`) may be estimated to take before it starts: an hour of one
CPU core (`network.flow_sim.estimated_seconds`, at the slowest rates measured on a shared 2-vCPU VM); past it the
run is refused in one line naming --sim analytical. Past 60 s the estimate is said first."""
MAX_SWEEP_CPU_S = 86_400.0
"""CPU seconds a sweep (`infraplan sweep`) may be estimated to take before it starts: a day of one core
(`sweep.work_estimate`: points x a floor of one point's CPU time; 10**9 `collective` points are ~3 CPU-days). Past
it the sweep is refused in one line naming `--max-cpu-hours`, the override for a cluster that has the cores; past a
CPU-hour the estimate is said first."""
MAX_MODEL_WIDTH = 2**20
"""A config.json width (hidden, FFN, expert FFN, head dim), head or expert count: 2**20 (the largest published
hidden size is 25,600, Megatron's 1T model; the most routed experts 384, Kimi K2)."""
MAX_MODEL_LAYERS = 65_536
"""Layers in one config.json: 2**16 (published decoders have at most a few hundred)."""
MAX_VOCABULARY = 2**24
"""Tokens of a config.json vocabulary: 2**24 (published vocabularies are below 300 k)."""
MAX_SITE_POWER_W = 1e12
"""Power of one site or campus (a scenario's `sites[].power`): 1 TW, ~30 % of the world's average electricity
generation (~29,500 TWh in 2023, Ember Global Electricity Review 2024: ~3.4 TW) and 200x the largest announced
campuses (~5 GW)."""
MAX_HOST_POWER_W = 1e6
"""Host power per device (a scenario's or fleet's `pools[].host_power_w`): 1 MW, ~8x a whole GB200 NVL72 rack
(122.4 kW, cluster/power.py) and ~100x a whole DGX H100 server (10.2 kW max, NVIDIA DGX H100 datasheet)."""
MAX_RACK_POWER_W = 1e7
"""Power one rack may draw (a cooling type's `max_rack_power_w`, catalog/facility/cooling.yaml or a user's cooling
file): 10 MW, ~70x the 140 kW of Meta's liquid-cooled Catalina high-power rack (OCP 2024, Data Center Frontier; the
liquid figure in cooling.yaml) and 10x the 1 MW IT rack reported for the Open Compute Project's Mt Diablo power
rack (OCP EMEA Summit, April 2025; recalled, not checked against a source here): a sanity bound, not a design."""
MIN_LIFETIME_YEARS = 0.5
MAX_LIFETIME_YEARS = 50.0
"""Depreciation period of a pool's devices (`pools[].lifetime_years`): 0.5-50 years. Servers are depreciated over
3-6 years (Meta: 5.5, catalog/facility/economics.yaml), facilities over 14 (Epoch AI, catalog/facility/
build_types.yaml); the US tax schedule's classes run from 3 years to 39 (nonresidential real property, IRS
Publication 946, MACRS). Below half a year a device's capex per year is above twice its price; beyond 50 years no
schedule depreciates anything."""
MAX_REPAIR_S = MAX_LIFETIME_YEARS * 365.25 * 86400.0
"""Failure-to-service time of a node (a scenario's `policy.repair_time`): at most the longest depreciation period
(50 years); a node out longer than it is depreciated over is replaced, not repaired (1e300 s made the spare-node
quantile NaN and `plan` crash)."""
MAX_FAILURES_PER_1000_NODE_DAYS = 1e6
"""A failure-rate file's `failures_per_1000_node_days`: 10^6, one failure of every node every 86.4 s, below the
600 s restart of reliability.yaml's checkpoint defaults (no job on such nodes ever runs) and ~42,000x the largest
catalog rate (rsc-1-jobs: 23.73); 1e300 overflowed `reliability`'s goodput and made `plan`'s spare-node quantile NaN
(a traceback)."""
MAX_PLANNED_INTERRUPTIONS_PER_DAY = 86_400.0
"""A failure-rate file's `planned_interruptions_per_day`: one a second, below any restart (as
MAX_FAILURES_PER_1000_NODE_DAYS); 1e300 gave `reliability` a goodput of 1.4e-298."""
MAX_DEADLINE_S = 100 * 365.25 * 86400.0
"""A training service's `deadline` in a scenario: 100 years (3.16e9 s), twice the longest depreciation period
(MAX_LIFETIME_YEARS) and seven times a facility's (14 years, catalog/facility/build_types.yaml): no device or
building a plan buys lasts to such a deadline, so beyond it a deadline constrains nothing (`deadline: 1e300` planned
as if none were given)."""
MAX_SLO_S = 1e9
"""A latency SLO (`--ttft-slo`, `--tpot-slo`, `--latency-slo`; a scenario's or fleet's `ttft_slo`, `tpot_slo`,
`latency_slo`): 1e9 s (~32 years), the bound the CLI's duration options (cli/options.py SECONDS) and the web's
`Seconds` already had; a fleet's 1e300 s SLO failed only inside the recsys estimate, as "infeasible"."""

MAX_DEVICE_MEMORY_BYTES = 2**50
"""Memory of one accelerator, or its on-chip SRAM, in a catalog or user file (`memory_bytes`, `sram_bytes`): 1 PiB,
~1,500x the largest catalog part (epyc-9654: 768 GB of DDR5) and the bound of one collective's buffer
(MAX_MESSAGE_BYTES); `memory_bytes: 1e30` was priced ("76.4 GiB of 867,361,737,988 EiB", a KV cache of 6.9e24
tokens)."""
MAX_DEVICE_BYTES_PER_S = 1e17
"""A bandwidth of one accelerator or NIC (HBM, SRAM, scale-up, scale-out, host link, a NIC or switch port): 100 PB/s,
~4,500x the largest catalog figure (rubin: 22 TB/s of HBM4) and ~5x a whole Cerebras WSE-3 wafer's on-chip SRAM
bandwidth (21 PB/s, Cerebras's WSE-3 announcement of March 2024; recalled, not checked against a source here)."""
MAX_DEVICE_FLOPS_PER_S = 1e19
"""A dense peak of one accelerator (`peak_flops_per_s`, any dtype): 10 EFLOP/s, ~290x the largest catalog peak (rubin
fp4: 35 PFLOP/s) and ~14x a whole GB200 NVL72 rack taken as one device (72 x 10 PFLOP/s dense fp4, catalog
gb200.yaml)."""
MAX_DEVICE_POWER_W = 1e6
"""Power of one accelerator or node in a catalog or user file (`tdp_w`, `typical_power_w`, `idle_power_w`,
`host_power_w`, `scale_up_switch_power_w`): 1 MW, ~430x the largest catalog TDP (rubin: 2.3 kW), ~8x a whole
GB200 NVL72 rack (as MAX_HOST_POWER_W); `tdp_w: 1e9W` was refused only by the rack-power check."""
MAX_DEVICE_EMBODIED_KGCO2E = 1e6
"""Embodied carbon of one accelerator with its server share, in an accelerator file (`embodied_kgco2e_per_accelerator`):
1,000 tCO2e, ~2,400x the largest catalog figure (b300: 417 kg, catalog/facility/hardware_costs.yaml) and ~37x a whole
GB200 NVL72 rack (72 x 376 kg = 27 t, same file); a 1e300 figure would make every embodied total infinite."""
MIN_DEVICE_MEMORY_BYTES = 2**20
"""The least positive memory of one accelerator (`memory_bytes`): 1 MiB, below the on-chip SRAM alone of any catalog
part (a100-80gb's 40 MiB of L2) and ~30,000x under the smallest device memory (tpu-v6e: 32 GB). A smaller figure is a
unit left out (`memory_bytes: 96` for 96 GB ran as 96 bytes; hU, session 52: `catalog.file_checks`)."""
MIN_DEVICE_BYTES_PER_S = 1e6
"""The least positive bandwidth of one accelerator, NIC or switch port (`*_bandwidth_bytes_per_s`): 1 MB/s, ~1,000x
under the slowest catalog link (mtia-v1's 1.04 GB/s scale-out); 0 where a field allows it means none. A smaller figure
is a unit left out (`4` for 4 TB/s, `400` for 400 Gb/s)."""
MIN_DEVICE_FLOPS_PER_S = 1e9
"""The least dense peak of one accelerator (`peak_flops_per_s`, any dtype): 1 GFLOP/s, ~6,700x under the smallest
catalog peak (epyc-9654 / xeon-8480 fp32 are TFLOP/s; mtia-v1's least 51.2 TFLOP/s); `bf16: 148` for 148 TFLOP/s
is a unit left out."""
MAX_WUE_L_PER_KWH = 100.0
"""A site's water usage effectiveness (annual site water / IT energy; `wue_l_per_kwh` of a cost or cooling file): 100
L/kWh. Evaporating away all of the IT energy as heat takes 1 kWh / 2,257 kJ/kg (water's latent heat of
vaporisation at 100 C; ~2,430 kJ/kg at 30 C) = 1.6 L/kWh, and the industry average WUE is 1.8-1.9 L/kWh
(catalog/facility/cooling.yaml's source, its largest figure 0.60); 100 L/kWh is ~60x the evaporative figure, a
sanity bound, not a design (1e300 printed a water use of "inf m3/year", exit 0)."""
MIN_PUE = 1.0
MAX_PUE = 10.0
"""A PUE an input may give (`--pue`, the web's `pue`, a cost file's, a scenario's policy, a fleet-mix spec's): 1 to 10.
A PUE is facility power / IT power (Green Grid), so 1 is its floor (no overhead); 10 is ~8x the catalog's largest
(air cooling in a hot climate, 1.20, catalog/facility/cooling.yaml), a sanity bound, not a design. The one bound
these five places wrote each as `ge=1.0, le=10.0`."""
MAX_MAINTENANCE_FRACTION_PER_YEAR = 1.0
"""Maintenance per year as a share of capex (`maintenance_fraction_of_capex_per_year` of a cost file): 1, a
maintenance bill equal to the whole hardware and building every year (the catalog's is 0.008, economics.yaml, from
Epoch AI's 1-GW model); beyond it rebuilding yearly is cheaper than maintaining (1e300 gave an opex of "-")."""
MAX_FACILITY_USD_PER_W = 1_000.0
"""Facility construction per watt of critical IT load (`facility_usd_per_w` of a cost file): $1,000/W, ~67x the most
expensive build in the catalog (Reno, 15.0 $M/MW, Cushman & Wakefield 2025, build_types.yaml): a 1 GW campus's
building at $1 T (1e300 gave a price of "$inf/GPU-h", exit 0)."""
MAX_FLOOR_AREA_M2_PER_RACK = 100.0
"""White space per rack (`floor_area_m2_per_rack` of a cooling file): 100 m2, 25x the catalog's largest (immersion
tanks lying flat, 4 m2 each, catalog/facility/cooling.yaml) and ~140x a 600 x 1,200 mm rack's footprint; a sanity
bound, not a design (1e300 printed a floor area of 31 digits, exit 0, hN76)."""
MIN_MATMUL_FRACTION = 0.01
"""The least `efficiency.matmul_max_fraction` (a large GEMM's rate / peak) a user's accelerator file may give: 1 %,
~1/34 of the catalog's least (gb300 fp4: 0.34). Below it the file's peak is not the part's (a slower part is a lower
`peak_flops_per_s`); 1e-300 priced a llama3-8b training step at 7e299 s, exit 0 (hX50)."""

# pydantic field types with the same bounds (the web API's request bodies; usable by any Python caller)
Accelerators = Annotated[int, Field(ge=1, le=MAX_ACCELERATORS, description="accelerators (count)")]
Tokens = Annotated[int, Field(ge=1, le=MAX_TOKENS, description="tokens (count)")]
Sequences = Annotated[int, Field(ge=1, le=MAX_SEQUENCES, description="sequences (count)")]
Degree = Annotated[int, Field(ge=1, le=MAX_PARALLEL_DEGREE, description="parallel degree")]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED, description="random seed")]
Seconds = Annotated[float, Field(gt=0.0, le=MAX_SLO_S, allow_inf_nan=False, description="seconds")]


def number_text(value: object) -> object:
    """A number written as text read as the CLI's number options read it (`cli.options.Bounded`: spaces and `_`
    dropped), refused in their words ("'40k' is not a number"), so the web and the CLI say one line (hH53)."""
    if not isinstance(value, str):
        return value
    try:
        return float(value.strip().replace("_", ""))
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None


Price = Annotated[float, BeforeValidator(number_text),
                  Field(ge=0.0, le=1e12, allow_inf_nan=False, description="US dollars")]


NO_SPARE_POLICIES = ("shrink", "wait")
DEFAULT_NO_SPARE_POLICY = "shrink"
NO_SPARE_POLICY_HELP = ("shrink | wait: what the job does while its system has no spare server or scale-up domain for "
                        "a failed one (shrink: restart on those in service with fewer data-parallel replicas, grow "
                        "back when repaired; wait: idle until repaired) [default: shrink]")
SHRINK_UNIT_HELP = ("with --no-spare-policy shrink: GPUs the job sheds and regains together, one data-parallel "
                    "replica (TP x CP x PP, times the replicas an EP group folds over; train --tokens takes its "
                    "plan's; it divides the job's GPUs) [default: one scale-up domain, or the largest count dividing "
                    "both it and the job's GPUs]")
"""`--no-spare-policy` and `reliability --shrink-unit` (`facility.spare_policy` prices each policy): the choices, the
default and the words every edge (train, reliability; CLI and web) and both domains (facility, training) share."""


def check_policy(policy: str) -> str:
    """A `--no-spare-policy` value, or its one-line refusal."""
    if policy not in NO_SPARE_POLICIES:
        raise InputError(f"--no-spare-policy must be one of {' | '.join(NO_SPARE_POLICIES)}, got {policy!r}")
    return policy
