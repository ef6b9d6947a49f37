"""A reliability report states its repair time: a dump without it is refused, not read as 0 s (hS42)."""

import pytest
from pydantic import ValidationError

from infraplan.facility.outage import DEFAULT_REPAIR_S
from infraplan.facility.reliability import reliability_report
from infraplan.facility.results import ReliabilityReport


def test_report_without_repair_time_is_refused_not_zero():
    report = reliability_report("meta-genai-roce-24k", 1024, days=30.0)
    assert report.repair_time_s == DEFAULT_REPAIR_S
    dumped = report.model_dump()
    assert ReliabilityReport.model_validate(dumped).repair_time_s == DEFAULT_REPAIR_S
    dumped.pop("repair_time_s")
    with pytest.raises(ValidationError, match="repair_time_s"):
        ReliabilityReport.model_validate(dumped)
