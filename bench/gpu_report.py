#!/usr/bin/python3
"""Writes gpu_report.sh's one JSON file from what the runs left: each CUDA kernel's time beside its
lower bound on that GPU, and the starnn/PyTorch comparison on CUDA.

usage: python3 bench/gpu_report.py --kernels KERNELS.json --compare COMPARE.json --out REPORT.json

KERNELS.json is starnn_bench_cuda's --benchmark_out (Google Benchmark JSON; its context holds the
GPU's attributes), COMPARE.json compare_torch.py's --json output. Needs only the standard library,
so it also runs, and is tested, on machines without a GPU or PyTorch.
"""

import argparse
import ast
import json
import operator
import pathlib
import re
import sys

COSTS = pathlib.Path(__file__).resolve().parent / "kernel_costs.json"

# FP32 lanes per SM by compute capability major.minor (CUDA C Programming Guide, "Arithmetic
# Instructions"); an FMA counts two FLOPs.
FP32_LANES_PER_SM = {"7.0": 64, "7.5": 64, "8.0": 64, "8.6": 128, "8.7": 128, "8.9": 128, "9.0": 128,
                     "10.0": 128, "12.0": 128}

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def evaluate(expression, variables):
    """The value of an arithmetic expression of kernel_costs.json (numbers, names, + - * /)."""

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in variables:
                raise ValueError(f"{expression!r}: no value for {node.id}")
            return variables[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](walk(node.left), walk(node.right))
        raise ValueError(f"{expression!r}: only numbers, names and + - * / are allowed")

    return walk(ast.parse(expression, mode="eval"))


def peaks(context):
    """Peak memory bandwidth (bytes/s) and FP32 FLOP/s from the attributes starnn_bench_cuda records."""
    memory_khz, bus_bits = float(context["gpu_memory_clock_khz"]), float(context["gpu_memory_bus_bits"])
    sm_khz, sms = float(context["gpu_sm_clock_khz"]), float(context["gpu_sm_count"])
    capability = context["gpu_compute_capability"]
    if min(memory_khz, bus_bits, sm_khz, sms) <= 0:
        raise ValueError("the benchmark's context lacks the GPU's clocks, bus width or SM count")
    lanes = FP32_LANES_PER_SM.get(capability)
    bandwidth = 2.0 * memory_khz * 1e3 * bus_bits / 8.0  # double data rate
    return {"gpu": context.get("gpu", "?"), "compute_capability": capability,
            "peak_bytes_per_s": bandwidth,
            "peak_fp32_flop_per_s": None if lanes is None else 2.0 * lanes * sms * sm_khz * 1e3,
            "derived_from": "2 x memory clock x bus width; 2 x FP32 lanes per SM x SMs x SM clock"}


def kernel_rows(benchmarks, costs, peak):
    """One row per benchmark: measured time and rates, the kernel's bytes and FLOPs, its lower bound."""
    to_seconds = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    rows = []
    for b in benchmarks:
        if b.get("run_type", "iteration") != "iteration":
            continue  # aggregates (mean, median) repeat the iterations
        name = b["name"]
        match = re.match(r"BM_cuda_(\w+?)/(.*?)(/real_time)?$", name)
        if not match:
            continue
        op, args = match.group(1), match.group(2)
        sizes = {k: int(v) for k, v in re.findall(r"(\w+):(\d+)", args)}
        # The benchmarks' Linear sizes are named in and out, which are Python keywords.
        variables = {("n_" + k if k in ("in", "out") else k): float(v) for k, v in sizes.items()}
        seconds = float(b["real_time"]) * to_seconds[b["time_unit"]]
        row = {"benchmark": name, "op": op, "sizes": sizes, "seconds": seconds,
               "GB/s": b.get("GB/s"), "GFLOP/s": b.get("GFLOP/s")}
        cost = costs.get(op)
        if cost is not None:
            per_call_rows = variables.get("B", variables.get("n"))
            kernel_bytes = evaluate(cost["bytes_per_row"], variables) * per_call_rows
            kernel_flops = evaluate(cost["flops_per_row"], variables) * per_call_rows
            memory_bound = kernel_bytes / peak["peak_bytes_per_s"]
            fp32 = peak["peak_fp32_flop_per_s"]
            compute_bound = None if fp32 is None else kernel_flops / fp32
            bound = max(memory_bound, compute_bound or 0.0)
            row.update({"kernel_bytes": kernel_bytes, "kernel_flops": kernel_flops,
                        "kernel_GB/s": kernel_bytes / seconds * 1e-9, "kernel_GFLOP/s": kernel_flops / seconds * 1e-9,
                        "bound_seconds": bound,
                        "bound_by": "memory" if compute_bound is None or memory_bound >= compute_bound else "FP32",
                        "fraction_of_bound": bound / seconds})
        rows.append(row)
    return rows


def report(kernels, compare):
    costs = json.loads(COSTS.read_text())["kernels"]
    peak = peaks(kernels["context"])
    return {"device": peak, "kernels": kernel_rows(kernels.get("benchmarks", []), costs, peak),
            "kernel_costs": str(COSTS.name), "comparison": compare}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", required=True, type=pathlib.Path, help="starnn_bench_cuda's JSON output")
    parser.add_argument("--compare", type=pathlib.Path, help="compare_torch.py --json output (optional)")
    parser.add_argument("--out", required=True, type=pathlib.Path, help="the report to write")
    args = parser.parse_args()
    try:
        kernels = json.loads(args.kernels.read_text())
        compare = json.loads(args.compare.read_text()) if args.compare else None
        result = report(kernels, compare)
    except (OSError, ValueError, KeyError, SyntaxError) as e:
        sys.exit(f"gpu_report.py: {e}")
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"gpu_report.py: {len(result['kernels'])} kernel rows on {result['device']['gpu']} -> {args.out}")


if __name__ == "__main__":
    main()
