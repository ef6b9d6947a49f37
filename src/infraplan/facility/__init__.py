"""Data centre: power chain, cooling/PUE, cost, carbon, reliability/goodput, facility sizing, campus planner."""

from infraplan.facility.cost import CostOverrides, load_cost_overrides
from infraplan.facility.facility import size_facility
from infraplan.facility.reliability import job_reliability, reliability_report
from infraplan.facility.training_run import training_run_totals
from infraplan.planning.campus import plan_campus, plan_fleet

__all__ = ["CostOverrides", "job_reliability", "load_cost_overrides", "plan_campus", "plan_fleet",
           "reliability_report", "size_facility", "training_run_totals"]
