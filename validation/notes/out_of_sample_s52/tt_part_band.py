"""The torchtitan rows on Meta's non-standard H100 across its two unknowns (hK, session 55): the peak (torchtitan's
doc bounds it between H100 NVL 835 and SXM 989 TF/s bf16, RECALLED) and the HBM2e bandwidth (2.0 TB/s: the H100
PCIe's 5 stacks, RECALLED; 2.45: 6 stacks at the A100 80GB's rate, the shipped figure; 2.765: 6 stacks at TPU v5p's
rate, ../shared/reference hardware.md:69). Each point is a what-if file over the part (written to a temporary folder).
Run from the repository root: PYTHONPATH=src .venv/bin/python validation/notes/out_of_sample_s52/tt_part_band.py
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile

from infraplan.validation.runner import run_case

HERE = os.path.dirname(os.path.abspath(__file__))
IDS = ("tt-8b-fsdp", "tt-8b-fsdp-fp8-compile", "tt-8b-fsdp-compile", "tt-8b-fsdp-2024-mbs1", "tt-70b-2d-fp8",
       "tt-405b-3d-fp8-1f1b", "tt-405b-3d-fp8-interleaved")
PARTS = {"nvl": "h100-96gb-hbm2e-lowtdp.yaml", "sxm": "h100-96gb-hbm2e-lowtdp-sxm-end.yaml"}
BANDWIDTHS = ("2.0TB/s", "2.45TB/s", "2.765TB/s", "3.35TB/s")


def oos_cases() -> list[dict]:
    spec = importlib.util.spec_from_file_location("oos", os.path.join(HERE, "oos.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    argv, sys.argv = sys.argv, sys.argv[:1]
    spec.loader.exec_module(module)
    sys.argv = argv
    return module.CASES


def main() -> None:
    cases = {c["id"]: c for c in oos_cases()}
    with tempfile.TemporaryDirectory() as tmp:
        systems = {"h100-sxm (before)": "dgx-h100-superpod"}
        for end, part in PARTS.items():
            for bw in BANDWIDTHS:
                name = f"{end}-{bw.removesuffix('TB/s')}"
                with open(os.path.join(tmp, f"acc-{name}.yaml"), "w") as f:
                    f.write(f"extends: {os.path.join(HERE, part)}\nname: acc-{name}\n"
                            f"memory_bandwidth_bytes_per_s: {bw}\n")
                with open(os.path.join(tmp, f"sys-{name}.yaml"), "w") as f:
                    f.write(f"extends: {os.path.join(HERE, 'torchtitan-h100-lowtdp.yaml')}\n"
                            f"accelerator: {os.path.join(tmp, f'acc-{name}.yaml')}\n")
                systems[f"{end} peak, {bw}"] = os.path.join(tmp, f"sys-{name}.yaml")
        print("| row | " + " | ".join(systems) + " |")
        for i in IDS:
            case = {k: v for k, v in cases[i].items() if k != "band_system"}
            case.update(plan_source="assumed", source="recalled")
            errors = [run_case({**case, "system": s}).error for s in systems.values()]
            print(f"| {i} | " + " | ".join(f"{e:+.1%}" for e in errors) + " |", flush=True)


if __name__ == "__main__":
    main()
