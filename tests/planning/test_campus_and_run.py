"""Campus planner, fleets and training-run totals."""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.facility.facility import size_facility
from infraplan.planning.campus import h100_equivalents, parse_phases, plan_campus, plan_fleet
from infraplan.planning.training_run import training_run_totals
from infraplan.training import estimate_training


def test_campus_fills_the_power_budget_with_whole_racks():
    r = plan_campus(1e9, "gb200", phases="2026:0.3,2027:0.7")
    f = r.facility
    assert f.facility_power_w <= 1e9
    # within 2 %: the fabric is built in whole domains and priced by its bill of materials, so the rack after
    # a domain boundary brings a domain's switches and optics with it (checked just below: it does not fit)
    assert f.facility_power_w > 0.98e9
    # full: one more NVL72 rack (and the fabric it needs, built in whole domains) would exceed the budget
    more = size_facility(accelerator="gb200", count=r.accelerators + 72, cooling=f.cooling)
    assert more.facility_power_w > 1e9
    assert r.accelerators % 72 == 0
    assert r.buildings >= f.it_power_w / 50e6
    assert [p.year for p in r.phases] == [2026, 2027]
    assert r.phases[-1].cumulative_facility_power_w == pytest.approx(f.facility_power_w)
    assert r.h100_equivalents > r.accelerators  # a GB200 is several H100s of bf16 FLOP/s
    cap = r.training_capacity
    assert cap.available and cap.runs_per_year > 0 and 0 < cap.goodput < 1


def test_campus_scales_with_power():
    one = plan_campus(0.5e9, "h100-sxm").accelerators
    two = plan_campus(1e9, "h100-sxm").accelerators
    assert two == pytest.approx(2 * one, rel=0.02)


@pytest.mark.parametrize(("text", "needle"), [
    ("2026:0.6,2027:0.7", "above the limit of 1"),
    ("2026:0.3,2026:0.3", "distinct"),
    ("2026-0.3", "YEAR:FRACTION"),
    ("2026:0", "must be in"),
])
def test_bad_phase_plans(text, needle):
    with pytest.raises(InputError, match=needle):
        parse_phases(text)


def test_bad_campus_power():
    for power in (0.0, -1e9, float("nan")):
        with pytest.raises(InputError, match="positive"):
            plan_campus(power, "gb200")
    with pytest.raises(InputError, match="below one"):
        plan_campus(1e4, "gb200")


def test_fleet_sums_its_sites_and_counts_h100_equivalents(tmp_path):
    spec = tmp_path / "fleet.yaml"
    spec.write_text("name: test\nsites:\n"
                    "  - {name: a, accelerator: h100-sxm, count: 8192, cooling: air}\n"
                    "  - {name: b, accelerator: gb200, power: 100MW, location: ohio}\n")
    r = plan_fleet(str(spec))
    assert r.accelerators == sum(s.accelerators for s in r.sites)
    assert r.capex_usd == pytest.approx(sum(s.capex_usd for s in r.sites))
    assert r.sites[0].h100_equivalents == pytest.approx(8192)
    assert h100_equivalents("a100-80gb", 1000) == pytest.approx(1000 * 312 / 989, rel=1e-3)
    meta = plan_fleet("meta-2024")
    assert meta.h100_equivalents < meta.published_h100_equivalents
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsites:\n  - {name: a, accelerator: h100-sxm}\n")
    with pytest.raises(InputError, match="exactly one of count or power"):
        plan_fleet(str(bad))


def test_fleet_site_naming_a_system_takes_its_fabric_and_power(tmp_path):
    """A site that names a catalog system is that system (its fabric and power), not a generic Clos of its GPUs."""
    meta = {s.name: s for s in plan_fleet("meta-2024").sites}
    for site, system in (("genai-roce-24k", "meta-genai-roce-24k"), ("genai-ib-24k", "meta-genai-ib-24k"),
                         ("rsc", "meta-rsc")):
        own = size_facility(system=system, cooling="air")
        assert meta[site].accelerators == own.accelerators
        assert meta[site].facility_power_w == pytest.approx(own.facility_power_w)
        assert meta[site].capex_usd == pytest.approx(own.capex_total_usd)
    generic = size_facility(accelerator="h100-sxm", count=24576, cooling="air")
    assert meta["genai-roce-24k"].facility_power_w != pytest.approx(generic.facility_power_w)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsites:\n  - {name: a, system: meta-rsc, count: 8}\n")
    with pytest.raises(InputError, match="brings its own size"):
        plan_fleet(str(bad))
    bad.write_text("name: x\nsites:\n  - {name: a, system: meta-rsc, accelerator: h100-sxm}\n")
    with pytest.raises(InputError, match="holds a100-80gb"):
        plan_fleet(str(bad))


@pytest.fixture(scope="module")
def llama_16k():
    return estimate_training("llama3-405b", "meta-genai-roce-24k", 16384, tp=8, pp=16, vpp=7, seq_len=8192,
                             global_batch=2048, zero=3, stack="meta-llama3")  # Meta's run: balanced split


def test_training_run_totals_are_consistent(llama_16k):
    t = training_run_totals(llama_16k, "meta-genai-roce-24k", 15.6e12)
    for key in ("time_to_train_s", "goodput", "job_mttf_s", "checkpoint_interval_s", "gpu_hours", "energy_mwh",
                "co2_t", "cost_usd"):
        assert getattr(t, key) > 0
    assert t.time_to_train_s == pytest.approx(15.6e12 / llama_16k.tokens_per_s / t.goodput)
    assert t.gpu_hours == pytest.approx(16384 * t.time_to_train_s / 3600)
    # at the average draw, peak x the one load factor (hC57: the peak before)
    assert t.energy_mwh == pytest.approx(t.gpu_hours * t.facility_power_w_per_gpu * t.load_factor / 1e6)
    # per GPU: more than the model cards' 700 W x PUE (hosts, network, storage count too), less than 2.5 kW
    assert 700 * t.pue < t.facility_power_w_per_gpu < 2500
    assert t.cost_usd == pytest.approx(t.gpu_hours * t.usd_per_gpu_hour)
    # Llama 3.1 405B used 30.84M GPU-hours (model card); the 16K plan lands within 20 %
    assert t.gpu_hours == pytest.approx(30.84e6, rel=0.2)


def test_training_run_location_and_bad_tokens(llama_16k):
    clean = training_run_totals(llama_16k, "meta-genai-roce-24k", 1e12, location="oregon")
    dirty = training_run_totals(llama_16k, "meta-genai-roce-24k", 1e12, location="ohio")
    assert clean.co2_t < dirty.co2_t
    with pytest.raises(InputError, match="--tokens"):
        training_run_totals(llama_16k, "meta-genai-roce-24k", 0)


def test_small_campus_says_its_job_is_timed_at_the_reference_jobs_speed_hU():
    """A 1,024-GPU campus ran "1 job of 1,024 GPUs, 1,246 days" at the 16,384-GPU job's 143.7 tokens/s per GPU
    while `train` on 1,024 GPUs (same plan, full recompute to fit) gives 176.6: the answer now says so (hU)."""
    from infraplan.planning.campus import training_capacity

    small, full = training_capacity("h100-sxm", 1024), training_capacity("h100-sxm", 16384)
    assert small.tokens_per_s_per_gpu == full.tokens_per_s_per_gpu and small.job_gpus == 1024
    (note,) = [n for n in small.notes if "is timed at" in n]
    assert "1,024-GPU job" in note and "on 16,384 GPUs" in note and f"{small.tokens_per_s_per_gpu:.1f}" in note
    assert not [n for n in full.notes if "is timed at" in n]
