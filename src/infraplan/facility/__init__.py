"""Data centre: facility sizing (power, cooling/PUE, racks, water, cost, carbon), carbon accounting, reliability.

The power chain and the cost model live in `infraplan.cluster` (power.py, cost.py); the campus planner and the
whole-run totals of a training job in `infraplan.planning`.
"""

from infraplan.facility.facility import size_facility
from infraplan.facility.reliability import job_reliability, reliability_report

__all__ = ["job_reliability", "reliability_report", "size_facility"]
