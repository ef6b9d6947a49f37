#!/usr/bin/env bash
# Every GPU calibration probe in one call on a lent GPU (device tool), highest value first, each under a timeout;
# stdout of all goes to $OUT/probes.log, and the probes that write files write them into $OUT.
# usage (device machine, repo root): bash benchmarks/gpu/run_lent_gpu.sh
set -u
cd "$(dirname "$0")"
export PYTHONUNBUFFERED=1 OUT="${OUT:-.}"
log="$OUT/probes.log"
run() {  # run SECONDS SCRIPT ARGS...
    local limit=$1; shift
    echo "=== $* (limit ${limit}s) $(date -u +%H:%M:%S)" | tee -a "$log"
    timeout "$limit" python3 "$@" 2>&1 | tee -a "$log"
    echo "=== rc ${PIPESTATUS[0]} $(date -u +%H:%M:%S)" | tee -a "$log"
}
python3 -c "import torch; print('torch', torch.__version__, torch.version.cuda, torch.cuda.get_device_name())" | tee -a "$log"
run 45 gpu_memory_probe.py --datasheet 4.8e12
run 100 gpu_moe_expert_gemm.py
run 50 gpu_attention_probe.py
run 30 gpu_fp8_gemm_calibration.py
run 45 gpu_decode_probe.py
run 70 gpu_tp8_decode_shard.py
run 150 gpu_gpt_oss_layer.py --budget-s 110
run 40 gpu_splitk_probe.py
run 75 gpu_layer_calibration.py --out "$OUT/layer_calibration.json"
run 40 gpu_sustained_gemm.py --seconds 15
run 25 gpu_host_dispatch.py
nvidia-smi --query-gpu=power.draw,clocks.sm,temperature.gpu --format=csv | tee -a "$log"
