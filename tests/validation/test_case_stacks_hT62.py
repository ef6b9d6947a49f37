"""hT (session 62): every case of `infraplan validate` names the software stack it ran (issue 12 item 2).

Training cases carry their stack profile (the case file's `stack`, as `train --stack` takes it), the serving and
inference sections the serving-stack profile each deployment ran (a shipped name, or a file of the validation sets'
own `data/stacks/` by its file name), the serving hopper section's per-campaign cases the stack their rows share
("mixed: ..." where they would not), the recsys MLPerf rows their engine; the layers that model no software stack
(network, custom silicon, facility) carry null, in the JSON as in the schema.
"""

from __future__ import annotations

import json
from pathlib import PurePath

import pytest

from infraplan.catalog.stacks import list_stacks
from infraplan.validation import load_cases, run_validation
from infraplan.validation import serving_hopper_report as report_module
from infraplan.validation.release_stacks import stack_name
from infraplan.validation.results import SectionCase, TrainingCase

SERVING_SECTIONS = ("inference", "inference frontier (MLPerf v5.1)", "serving hopper (closed loop)",
                    "recsys MLPerf DLRM-v2 (8x H200)")
NO_STACK_SECTIONS = ("network", "custom silicon", "facility")


@pytest.fixture(scope="module")
def report():
    return run_validation()  # cached per process (tests/validation/test_validation.py shares it)


def test_every_training_case_names_the_stack_its_case_file_names(report) -> None:
    stated = {c["id"]: c["stack"] for c in load_cases()}
    assert len(report.cases) == len(stated) == 23
    assert {r.id: r.stack for r in report.cases} == stated  # the searched Gaudi 2 cases too (`deepspeed`)
    assert all(r.stack in list_stacks() for r in report.cases)


def test_every_case_of_a_serving_section_names_a_stack_and_the_others_none(report) -> None:
    assert set(report.sections) == {*SERVING_SECTIONS, *NO_STACK_SECTIONS}  # a new section is classified here
    for name in SERVING_SECTIONS:
        cases = report.sections[name].cases
        assert cases and all(isinstance(c.stack, str) and c.stack.strip() for c in cases), name
        assert not any(c.stack.startswith("mixed") for c in cases), name  # each campaign ran one stack today
    for name in NO_STACK_SECTIONS:
        assert all(c.stack is None for c in report.sections[name].cases), name
    data = json.loads(report.model_dump_json())
    assert all("stack" in c for c in data["cases"])
    assert all("stack" in c for s in data["sections"].values() for c in s["cases"])  # null printed, not left out


def test_the_stacks_are_the_profiles_the_deployments_ran(report) -> None:
    frontier = report.sections["inference frontier (MLPerf v5.1)"].cases
    assert all(c.stack == c.detail["stack"] for c in frontier)  # its case file's `stack` (a name or a sets' file)
    assert {c.stack for c in frontier} == {"trtllm-0.x", "vllm-0.9-rocm.yaml"}
    assert {c.stack for c in report.sections["inference"].cases} == {"trtllm-0.x"}  # the v4.1 file: the default
    assert {c.stack for c in report.sections["recsys MLPerf DLRM-v2 (8x H200)"].cases} == {"tensorrt-10.8"}
    hopper = {c.id: c.stack for c in report.sections["serving hopper (closed loop)"].cases}
    assert hopper["qwen3-32b h100 vllm-0.12.0 bf16 TP2 (30 runs)"] == "vllm-0.12.yaml"  # the release's file
    assert hopper["llama3.1-70b h200 trtllm fp8 TP2 (18 runs)"] == "trtllm-0.x"  # unversioned: the family's
    assert hopper["qwen3-32b h100 trtllm-1.0.0rc3 fp8 TP1 (42 runs)"] == "trtllm-1.0.0rc3-dynamo-agg.yaml"


def test_a_case_whose_rows_ran_different_stacks_says_mixed(monkeypatch: pytest.MonkeyPatch) -> None:
    class Dep:
        def __init__(self, stack: str) -> None:
            self.stack = stack

    paths = {"a": "/x/data/stacks/vllm-0.12.yaml", "b": "vllm-0.x"}
    monkeypatch.setattr(report_module.serving_hopper, "row_deployment", lambda row: Dep(paths[row["id"]]))
    assert report_module.group_stack([{"id": "a"}, {"id": "a"}]) == "vllm-0.12.yaml"
    assert report_module.group_stack([{"id": "b"}, {"id": "a"}]) == "mixed: vllm-0.12.yaml, vllm-0.x"


def test_a_stack_file_is_named_by_its_file_name() -> None:
    assert stack_name("trtllm-0.x") == "trtllm-0.x"
    assert stack_name(str(PurePath("/site-packages/infraplan/validation/data/stacks/sglang-0.5.1.yaml"))) == (
        "sglang-0.5.1.yaml")


def test_the_schema_requires_the_field() -> None:
    assert "stack" in TrainingCase.model_json_schema()["required"]
    section = SectionCase.model_json_schema()
    assert "stack" in section["required"]
    assert {"type": "null"} in section["properties"]["stack"]["anyOf"]  # null: a layer without a software stack
