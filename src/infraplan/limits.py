"""Stated limits of the product, shared by every edge that takes input (the CLI's options, the web API's requests).

Each `MAX_*` is a bound on a kind of quantity with its reason; `cli/options.py` builds click parsers from them
and `web/requests.py` builds pydantic request fields from them, so the CLI and the HTTP API refuse the same
numbers. This module sits at the base layer (it imports pydantic and `errors` only) so both edges can
import it. Electricity prices: one internal unit, USD/MWh (the cost model's); `read_electricity_price` is the rule
for a price given under a name without a unit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

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
MIN_MATMUL_FRACTION = 0.01
"""The least `efficiency.matmul_max_fraction` (a large GEMM's rate / peak) a user's accelerator file may give: 1 %,
~1/34 of the catalog's least (gb300 fp4: 0.34). Below it the file's peak is not the part's (a slower part is a lower
`peak_flops_per_s`); 1e-300 priced a llama3-8b training step at 7e299 s, exit 0 (hX50)."""
MIN_ELECTRICITY_USD_PER_MWH = 1.0
"""The least positive electricity price in USD/MWh an option takes (`--electricity-price`, the web's
`electricity_price`): 1 USD/MWh = 0.1 cents/kWh, ~1/59 of the cheapest state in the catalog (Louisiana, 58.8
USD/MWh, EIA Electric Power Annual 2023, catalog/facility/locations.yaml). Below it a price is USD/kWh written for
USD/MWh (0.07 for 70: a 1,000x cheaper grid, exit 0 before, hU48); 0 (energy left out of the money) stays."""


MAX_ELECTRICITY_USD_PER_KWH = 10.0
"""The most electricity may cost in USD/kWh (a plan's or fleet-mix's `electricity_usd_per_kwh`, `--vary
electricity=`): above any wholesale price (ERCOT's offer cap, the highest in the US, is $5,000/MWh = $5/kWh). Above it
a price is USD/MWh written for USD/kWh (80 for 0.08: TCO x1,000, exit 0 before, hU48)."""


def usd_per_kwh_unit_slip(price: float) -> str | None:
    """Why a price above `MAX_ELECTRICITY_USD_PER_KWH` or a positive one below `MIN_ELECTRICITY_USD_PER_MWH` (in
    USD/kWh: '0.5/MWh' was taken by a plan's policy and `--vary electricity=`, refused by `--electricity-price` and a
    location file, hX50) is refused (one line), or None where it is not."""
    if price > MAX_ELECTRICITY_USD_PER_KWH:
        return (f"electricity_usd_per_kwh is in USD/kWh (0.08 = 8 cents/kWh); {price:g} is above "
                f"{MAX_ELECTRICITY_USD_PER_KWH:g} USD/kWh: USD/MWh? ({price:g} USD/MWh = {price / 1e3:g} USD/kWh)")
    if 0.0 < price < MIN_ELECTRICITY_USD_PER_MWH / 1e3:
        return (f"{price:g} USD/kWh ({price * 1e3:g} USD/MWh) is below {MIN_ELECTRICITY_USD_PER_MWH / 1e3:g} USD/kWh "
                f"({MIN_ELECTRICITY_USD_PER_MWH:g} USD/MWh), no grid's price; 0 leaves energy out of the money")
    return None


def _refused_by(slip: Callable[[float], str | None]) -> Callable[[float], float]:
    """A pydantic after-validator refusing a price with `slip`'s line where it gives one."""
    def check(price: float) -> float:
        if (why := slip(price)) is not None:
            raise ValueError(why)
        return price
    return check


def _shown(value: object, width: int = 40) -> str:
    """`value` as an error line quotes it: stripped, cut to `width` characters (a 5,000-digit price was echoed)."""
    text = str(value).strip()
    return text if len(text) <= width else text[:width] + "..."


ENERGY_UNITS_MWH = {"mwh": 1.0, "kwh": 1e-3}  # MWh in one <unit>: a price per kWh is 1,000x the same price per MWh
_NUMBER = r"([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)"
_NEGATIVE_PRICE = re.compile(r"^(\s*\$?\s*)-(\s*)")  # a minus before a price with its unit ('-70/MWh', '$-70/MWh')
_ENERGY_PRICE = re.compile(r"\s*\$?\s*" + _NUMBER + r"\s*(?:usd|\$)?\s*/\s*(mwh|kwh)\s*",
                           re.IGNORECASE)


def parse_energy_price(text: str | float | int, per: str = "MWh") -> float | None:
    """An electricity price with its unit, in USD per `per` (MWh or kWh): '70/MWh', '$70/MWh', '70 USD/MWh' -> 70.0;
    '0.07/kWh' -> 70.0 per MWh or 0.07 per kWh (converted in decimal, so 0.07/kWh is exactly 70 USD/MWh). None for a
    bare number (70, '70'): its unit is its field's (`read_electricity_price` says which and when it is
    refused; '-1' too, as a bare number below 0). InputError for anything else: a price below 0 ('-70/MWh', said
    so), another unit, nan."""
    if isinstance(text, bool):
        raise InputError(f"cannot read electricity price {text!r}; expected e.g. 70/MWh or 0.07/kWh")
    if isinstance(text, int | float) or re.fullmatch(r"\s*-?" + _NUMBER + r"\s*", str(text)):
        return None  # a bare number, signed or not: `read_electricity_price` bounds it in its field's unit
    match = _ENERGY_PRICE.fullmatch(str(text))
    if not match and _ENERGY_PRICE.fullmatch(_NEGATIVE_PRICE.sub(r"\1\2", str(text), count=1)):
        # '-70/MWh' is read, and its sign is the fault: "cannot read" named the text before (hI63, hO63)
        raise InputError(f"electricity price {_shown(text)!r} is below 0: a price is >= 0, e.g. 70/MWh or 0.07/kWh")
    if not match:
        raise InputError(f"cannot read electricity price {_shown(text)!r}; expected e.g. 70/MWh or 0.07/kWh")
    # decimal scaling: 0.07/kWh is exactly 70 USD/MWh, not 70.00000000000001
    scale = Decimal(str(ENERGY_UNITS_MWH[per.lower()])) / Decimal(str(ENERGY_UNITS_MWH[match.group(2).lower()]))
    written = Decimal(match.group(1))
    try:  # 1e999999999999/MWh overflows decimal's context (a decimal.Overflow traceback before, hX50)
        price = float(written * scale)
    except ArithmeticError:
        price = math.inf
    if not math.isfinite(price):
        raise InputError(f"electricity price {_shown(text)!r} is not a finite number")
    if price == 0.0 and written != 0:  # 1e-400/MWh underflowed to a free grid, exit 0 (hX50)
        raise InputError(f"electricity price {_shown(text)!r} rounds to 0; write 0/MWh to leave energy out")
    if per.lower() == "mwh" and match.group(2).lower() == "kwh" and written > Decimal(str(MAX_ELECTRICITY_USD_PER_KWH)):
        # the written unit's slip in a USD/MWh field, as a USD/kWh one refuses it (hR49): '70/kWh' was 70,000 USD/MWh
        # in `facility`, `campus`, the web and a sweep (x1,000, exit 0), refused in a plan's policy and `--vary`
        raise InputError(f"electricity price {_shown(text)!r} is above {MAX_ELECTRICITY_USD_PER_KWH:g} USD/kWh, no "
                         f"grid's price: {_shown(match.group(1))}/MWh?")
    return price


def priced_in(per: str) -> Callable[[object], object]:
    """A pydantic before-validator reading a price written with its unit ('70/MWh', '0.07/kWh') in USD per `per`;
    a bare number passes as it is (the field's name carries its unit)."""
    def read(value: object) -> object:
        if isinstance(value, bool):  # `true` in a location or cost file was a price of 1 USD/MWh (hX50)
            raise ValueError("a boolean (true/false) is not a number; write the price, e.g. 70/MWh")
        if isinstance(value, str) and (price := parse_energy_price(value, per)) is not None:
            guessed = 0.0 < price < MIN_ELECTRICITY_USD_PER_MWH if per == "MWh" else price > MAX_ELECTRICITY_USD_PER_KWH
            if guessed and (written := _ENERGY_PRICE.fullmatch(value)) and written.group(2).lower() != per.lower():
                # the slip line's guess ("USD/kWh?") would misread a price written in the other unit (hR51)
                raise ValueError(f"{_shown(value)} is {price:g} {_UNITS[per]}, outside {_bounds(per)}")
            return price
        return value
    return read


ElectricityUsdPerKwh = Annotated[float, BeforeValidator(priced_in("kWh")), Field(ge=0),
                                 AfterValidator(_refused_by(usd_per_kwh_unit_slip))]
"""A spec's electricity price in USD/kWh (plan policy, fleet-mix): >= 0, at most `MAX_ELECTRICITY_USD_PER_KWH`; text
with its unit ('70/MWh') converted."""


def usd_per_mwh_unit_slip(price: float) -> str | None:
    """Why a positive price below `MIN_ELECTRICITY_USD_PER_MWH` is refused (one line), or None where it is not."""
    if 0.0 < price < MIN_ELECTRICITY_USD_PER_MWH:
        return (f"electricity prices are in USD/MWh (70 = 7 cents/kWh); {price:g} is below "
                f"{MIN_ELECTRICITY_USD_PER_MWH:g} USD/MWh: USD/kWh? ({price:g} USD/kWh = {price * 1e3:g} USD/MWh)")
    return None


ElectricityUsdPerMwh = Annotated[float, BeforeValidator(priced_in("MWh")), Field(ge=0, le=1e6, allow_inf_nan=False),
                                 AfterValidator(_refused_by(usd_per_mwh_unit_slip))]
"""A location file's electricity price in USD/MWh: 0, or from `MIN_ELECTRICITY_USD_PER_MWH` to 1e6 (the CLI's
--electricity-price bound); text with its unit ('0.07/kWh') converted."""


class ElectricityPriceWarning(UserWarning):
    """An electricity price given as a bare number where the name it is given under carries no unit."""


_UNITS = {"MWh": "USD/MWh", "kWh": "USD/kWh"}
_OTHER = {"MWh": "kWh", "kWh": "MWh"}


def _bounds(per: str) -> str:
    """The prices a field in USD per `per` takes, as its error line says them."""
    return (f"0 or {MIN_ELECTRICITY_USD_PER_MWH:g} .. 1e6 USD/MWh" if per == "MWh" else
            f"0 or {MIN_ELECTRICITY_USD_PER_MWH / 1e3:g} .. {MAX_ELECTRICITY_USD_PER_KWH:g} USD/kWh")


def read_electricity_price(value: str | float | int, name: str, per: str = "MWh") -> tuple[float, str | None]:
    """(USD per `per`, a warning line or None) of an electricity price given under `name`, a name that carries no
    unit (`--electricity-price`, the web's and a sweep's `electricity_price`: bare USD/MWh until 2026-12-04;
    `--vary electricity=`: bare USD/kWh). With its unit ('70/MWh', '$0.07/kWh') it is read as written. A bare
    number keeps its old unit `per` with a warning naming it, except where it is a slip or ambiguous (one line,
    InputError): a positive USD/MWh price below `MIN_ELECTRICITY_USD_PER_MWH` or a USD/kWh one above
    `MAX_ELECTRICITY_USD_PER_KWH` is the other unit's, and from 1 to 10 a bare number is a price in either (5 is a
    nearly free grid per MWh and a 60x dear one per kWh). 0 is 0 in both. Either way the price must then lie in its
    unit's bounds (`ElectricityUsdPerMwh`, `ElectricityUsdPerKwh`)."""
    priced = parse_energy_price(value, per)
    if priced is not None:
        slip = usd_per_mwh_unit_slip(priced) if per == "MWh" else usd_per_kwh_unit_slip(priced)
        if slip is not None or not priced <= (1e6 if per == "MWh" else MAX_ELECTRICITY_USD_PER_KWH):
            raise InputError(f"{name} {_shown(value)}: {priced:g} {_UNITS[per]} is outside {_bounds(per)}")
        return priced, None
    text, other = _shown(value), _OTHER[per]
    try:
        price = float(value)
    except OverflowError:  # an integer of 400 digits (a JSON or YAML number): a traceback before (hX50)
        price = math.inf
    if not math.isfinite(price):
        raise InputError(f"{name} {text} is not a finite number")
    if price < 0:
        raise InputError(f"{name} {text}: an electricity price is a number >= 0 with its unit, e.g. 70/MWh or 0.07/kWh")
    if price == 0:
        return 0.0, None
    if MIN_ELECTRICITY_USD_PER_MWH <= price <= MAX_ELECTRICITY_USD_PER_KWH:
        raise InputError(f"{name} {text} has no unit and is a price per MWh or per kWh alike; write {text}/MWh or "
                         f"{text}/kWh")
    slip = usd_per_mwh_unit_slip(price) if per == "MWh" else usd_per_kwh_unit_slip(price)
    if slip is not None and per == "kWh" and price < MAX_ELECTRICITY_USD_PER_KWH:  # too cheap in either unit
        raise InputError(f"{name} {text}: {slip}")
    if slip is not None:
        meant = price * 1e3 if per == "MWh" else price / 1e3
        raise InputError(f"{name} {text} has no unit: a bare number is {_UNITS[per]}, and {text} {_UNITS[per]} is "
                         f"no grid's price: {_UNITS[other]}? ({text} {_UNITS[other]} = {meant:g} {_UNITS[per]}): "
                         f"write {text}/{other}")
    if price > 1e6:
        raise InputError(f"{name} {text}: above 1e6 USD/MWh")
    return price, (f"{name} {text} has no unit: read as {text} {_UNITS[per]} (the old spelling); write "
                   f"{text}/{per}, or the price per {other}")


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
