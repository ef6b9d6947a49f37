"""The same question asked two ways, fuzzed (hF, session 53; hypothesis, derandomized, bounded): the facility power
of one cluster, whichever command asks.

* `train --tokens` charges each of the job's accelerators its share of its cluster's facility power
  (`planning.training_run`: the cluster's peak IT load x PUE over its accelerators); `facility` of that cluster (the
  catalog system, or the generic cluster `--system <part> --gpus N` builds: `Cluster.for_gpus`) gives the same watts
  per accelerator, at any location and cooling;
* `campus --power P` fills P with the most whole units and its `facility` block is `facility --accelerator A
  --count N` of its N accelerators, field for field (tests/test_consistency_hC44.py holds five fixed campuses);
  its facility power is within P less the reserve, and one more unit would not be.
"""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from infraplan.cluster import Cluster
from infraplan.cluster.cost import site_inputs
from infraplan.errors import InputError
from infraplan.facility.campus_fabric import campus_load
from infraplan.facility.facility import size_facility
from infraplan.planning.campus import plan_campus
from infraplan.planning.training_run import training_run_totals
from infraplan.training.estimate import estimate_training

EXAMPLES = int(os.environ.get("HF53_EXAMPLES", "20"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])
REL = 1e-9
SYSTEMS = {"dgx-h100-superpod": 64, "gb200-nvl72-superpod": 144, "dgx-b200": 16, "meta-genai-roce-24k": 512,
           "hgx-h200": 8, "mi300x-cluster": 64, "gb200-nvl72": 72, "h800": 8, "h100-sxm": 8, "b200": 8, "gb200": 36}
LOCATIONS = (None, "ohio", "texas", "oregon")
COOLING = (None, "air", "liquid")


@FUZZ
@given(st.sampled_from(sorted(SYSTEMS)), st.sampled_from([1, 2, 3, 8]), st.sampled_from(LOCATIONS),
       st.sampled_from(COOLING))
def test_train_tokens_power_per_gpu_is_facility_of_its_cluster(system, factor, location, cooling) -> None:
    whole = Cluster.resolve(system)
    gpus = SYSTEMS[system] * factor if whole.generic else min(SYSTEMS[system] * factor, whole.total_accelerators)
    trained = estimate_training("llama3-8b", system, gpus, seq_len=4096, global_batch=4 * gpus)
    cluster = Cluster.resolve(system).for_gpus(gpus)
    try:
        facility = size_facility(system=cluster, location=location, cooling=cooling)
    except InputError as refused:  # e.g. an NVL72 rack in air: `train --tokens` refuses it in the same line
        with pytest.raises(InputError, match=re.escape(str(refused))):
            training_run_totals(trained, system, 1e12, location=location, cooling=cooling)
        return
    run = training_run_totals(trained, system, 1e12, location=location, cooling=cooling)
    per_gpu = facility.facility_power_w / cluster.total_accelerators
    assert abs(run.facility_power_w_per_gpu - per_gpu) <= REL * per_gpu, (system, gpus, location, cooling)
    assert run.pue == facility.pue


@FUZZ
@given(st.sampled_from(["h100-sxm", "b200", "gb200", "h200", "mi300x", "a100-80gb"]),
       st.floats(2e6, 4e8), st.sampled_from(LOCATIONS), st.sampled_from(COOLING), st.sampled_from([0.0, 0.1]))
def test_campus_facility_is_facility_of_its_accelerators_and_fills_the_budget(accelerator, power_w, location, cooling,
                                                                              reserve) -> None:
    try:
        campus = plan_campus(power_w, accelerator, cooling=cooling, location=location, reserve=reserve)
    except InputError as refused:  # a rack the cooling cannot hold: `facility` says the same line
        with pytest.raises(InputError, match=re.escape(str(refused))):
            size_facility(accelerator=accelerator, count=1000, cooling=cooling, location=location)
        return
    alone = size_facility(accelerator=accelerator, count=campus.accelerators, cooling=cooling, location=location)
    assert campus.facility == alone
    budget = power_w * (1.0 - reserve)
    assert alone.facility_power_w <= budget * (1 + REL)
    layout = Cluster.for_accelerator(accelerator, purpose="a campus").layout
    site = site_inputs(layout, cooling, location, None, None)
    more = campus_load(layout, campus.accelerators + layout.packing_unit_accelerators, site.cooling, site.cooling_name)
    assert more.it_w * site.pue > budget


PARTS = ("gb200", "gb300", "h100-sxm", "b200", "mi300x", "h800")


@FUZZ
@given(st.sampled_from(PARTS), st.integers(1, 2016), st.sampled_from(LOCATIONS), st.sampled_from(COOLING))
@example("gb200", 100, None, None)  # hF53's case: train charged the 108-GB200 fabric's share (2,097.7 W), facility 100
@example("h100-sxm", 12, None, None)  # two whole servers house 12 H100 both ways (1,534.5 W)
def test_train_tokens_power_per_gpu_is_facility_of_its_count(part, gpus, location, cooling) -> None:
    """hH53: on an accelerator preset the job is charged the facility of its own accelerators, in whole servers
    (trays) and the racks they fill (`cluster.cost.job_accelerators`), as `facility --accelerator A --count N`
    within one zone (2,016 GB200: `zone_accelerators`); not the share of the larger fabric the step is priced on."""
    trained = estimate_training("llama3-8b", part, gpus, seq_len=4096, global_batch=gpus)
    try:
        facility = size_facility(accelerator=part, count=gpus, location=location, cooling=cooling)
    except InputError as refused:
        with pytest.raises(InputError, match=re.escape(str(refused))):
            training_run_totals(trained, part, 1e12, location=location, cooling=cooling)
        return
    run = training_run_totals(trained, part, 1e12, location=location, cooling=cooling)
    per_gpu = facility.facility_power_w / facility.accelerators
    assert abs(run.facility_power_w_per_gpu - per_gpu) <= REL * per_gpu, (part, gpus, location, cooling)
    housed = [n for n in run.notes if n.startswith("a partial server is billed whole")]
    assert bool(housed) == (facility.accelerators != gpus), run.notes
    # hF71: the run is billed the accelerators `facility --count` counts (its whole servers), energy at their power
    assert run.billed_accelerators_count == facility.accelerators, (part, gpus)
    assert run.energy_mwh == pytest.approx(run.gpu_hours * per_gpu * run.load_factor / 1e6, rel=REL)
