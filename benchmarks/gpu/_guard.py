"""Shared guard of the GPU calibration scripts: skip with a message (exit 0) where torch or a CUDA GPU is absent."""

from __future__ import annotations

import importlib.util
import sys


def require_cuda(script: str) -> None:
    """Exit 0 with one line unless PyTorch is installed and a CUDA GPU is visible (`make bench` stays green)."""
    if importlib.util.find_spec("torch") is None:
        print(f"{script}: skipped: this GPU calibration needs PyTorch and a CUDA GPU; torch is not installed")
        sys.exit(0)
    import torch

    if not torch.cuda.is_available():
        print(f"{script}: skipped: this GPU calibration needs a CUDA GPU; none is visible")
        sys.exit(0)
