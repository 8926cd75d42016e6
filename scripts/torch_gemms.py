"""PyTorch's side of `bash scripts/bench-gemm-floor.sh`: the ref-dit step's matrix products in PyTorch.

Runs the project leads' reference script (its own timing loop gives the step time), then profiles a few of
its steps with torch.profiler to get the time its matrix-product ops take inside the step, and times alone
(tight loop, torch.mm on views with the same transposes) every shape that our step's sgemm calls use
(read from `crossflow bench gemms --json`). Prints one JSON line.
Usage: python torch_gemms.py REFERENCE.py GEMMS.json [--threads 2] [--profiled-steps 5]
"""
import argparse
import json
import runpy
import statistics
import sys
import time

import torch

p = argparse.ArgumentParser()
p.add_argument("reference")
p.add_argument("gemms_json")
p.add_argument("--threads", type=int, default=2)
p.add_argument("--profiled-steps", type=int, default=5)
a = p.parse_args()

# The reference parses sys.argv itself, runs warm-up + timed steps and prints its JSON line.
sys.argv = [a.reference, "--threads", str(a.threads)]
printed = []
real_print = print


def capture(*args, **kw):
    printed.append(" ".join(str(x) for x in args))


ref_globals = runpy.run_path(a.reference, init_globals={"print": capture}, run_name="__main__")
reference = json.loads(printed[-1])
step = ref_globals["step"]

# (The reference has set torch to --threads threads; the shapes below are timed with the same.)
# Matrix-product ops as PyTorch's CPU profiler names them (Linear's forward is addmm; its backward mm).
GEMM_OPS = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::_addmm_activation"}
with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
    for _ in range(a.profiled_steps):
        step()
gemm_us = sum(e.self_cpu_time_total for e in prof.key_averages() if e.key in GEMM_OPS)
total_us = sum(e.self_cpu_time_total for e in prof.key_averages())
by_op = {e.key: round(e.self_cpu_time_total / a.profiled_steps / 1000, 3) for e in prof.key_averages() if e.key in GEMM_OPS}

shapes = json.load(open(a.gemms_json))["shapes"]
alone = []
for s in shapes:
    m, n, k = s["m"], s["n"], s["k"]
    A = torch.rand(k, m).t() if s["transA"] else torch.rand(m, k)
    B = torch.rand(n, k).t() if s["transB"] else torch.rand(k, n)
    C = torch.empty(m, n)
    for _ in range(2):
        torch.mm(A, B, out=C)
    times = []
    for _ in range(9):
        t0 = time.perf_counter()
        torch.mm(A, B, out=C)
        times.append((time.perf_counter() - t0) * 1000)
    alone.append({"transA": s["transA"], "transB": s["transB"], "m": m, "n": n, "k": k, "calls": s["calls"],
                  "alone_ms": round(statistics.median(times), 4)})

real_print(json.dumps({
    "framework": "torch", "version": torch.__version__, "threads": a.threads,
    "step_ms_median": reference["step_ms_median"],
    "profiled_steps": a.profiled_steps,
    "gemm_in_step_ms": round(gemm_us / a.profiled_steps / 1000, 2),
    "gemm_in_step_by_op_ms": by_op,
    "profiled_step_ms": round(total_us / a.profiled_steps / 1000, 2),
    "gemm_alone_ms": round(sum(x["calls"] * x["alone_ms"] for x in alone), 2),
    "shapes": alone,
}))
