#!/usr/bin/python3
"""Where PyTorch's time goes in a training step and in inference, for the nets of compare_torch.py.

usage: OMP_WAIT_POLICY=passive /usr/bin/python3 bench/profile_torch.py [--threads N] [--steps N]

Runs torch.profiler over the same PyTorch nets that compare_torch.py times (imported from it, so
both profile and comparison see one definition) and prints, per net and phase, the share of
self CPU time in each category of bench/profile_categories.py. The starnn side of the same
breakdown comes from `perf` (bench/profile_starnn.py); bench/profile_compare.py prints both.
"""

import argparse
import json
import pathlib
import sys
import tempfile
import time

import torch
from torch.profiler import ProfilerActivity
from torch.profiler import profile as torch_profile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import compare_torch  # noqa: E402
from profile_categories import TORCH_CATEGORIES, categorise  # noqa: E402


def attributed_name(event):
    """The op's name, prefixed by the optimizer call it runs under: Adam's update is a string of
    aten::add_/mul_/addcdiv_ calls that would otherwise read as elementwise work of the net."""
    parent = event
    while parent is not None:
        if parent.name.startswith("Optimizer.step"):
            return "optimizer: " + event.name
        if parent.name.startswith("Optimizer.zero_grad"):
            return "aten::zero_ (zero_grad)"
        parent = parent.cpu_parent
    return event.name


def wall_ms(run, steps):
    """Milliseconds per call of run() without the profiler, whose own cost inflates its op times."""
    start = time.perf_counter()
    for _ in range(steps):
        run()
    return (time.perf_counter() - start) / steps * 1e3


def self_times(run, steps):
    """{op name: self CPU microseconds} summed over `steps` calls of run()."""
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            run()
    times = {}
    for event in prof.events():
        name = attributed_name(event)
        times[name] = times.get(name, 0.0) + event.self_cpu_time_total
    return times


def breakdown(times):
    """Shares of the traced total per category, largest first, and that total in microseconds."""
    total = sum(times.values())
    shares = {}
    for name, us in times.items():
        category = categorise(name, TORCH_CATEGORIES)
        shares[category] = shares.get(category, 0.0) + us / total
    return dict(sorted(shares.items(), key=lambda kv: -kv[1])), total


def profile(net_indices, threads, steps):
    """{"<net> / <phase>": {"wall_ms_per_call", "traced_ms_per_call", "shares"}} for compare_torch's nets."""
    compare_torch.set_torch_threads(threads)
    report = {}
    with tempfile.TemporaryDirectory() as folder:
        nets = compare_torch.write_nets(pathlib.Path(folder))
        for index in net_indices:
            label, path = nets[index]
            train_step, infer_step, _ = compare_torch.torch_steps(path)
            for phase, run in (("train", train_step), ("inference", infer_step)):
                for _ in range(compare_torch.WARMUP_STEPS):
                    run()
                ms = wall_ms(run, steps)
                shares, total_us = breakdown(self_times(run, steps))
                # The profiler's own cost inflates its op times: read its shares, and the wall clock.
                report[f"{label} / {phase}"] = {"wall_ms_per_call": ms, "traced_ms_per_call": total_us / steps / 1e3,
                                                "shares": shares}
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2, as starnn's)")
    parser.add_argument("--steps", type=int, default=50, help="profiled calls per phase (default 50)")
    parser.add_argument("--nets", default="1,2",
                        help="indices into compare_torch's nets (default 1,2: small, regression.json)")
    args = parser.parse_args()
    print(json.dumps(profile([int(i) for i in args.nets.split(",")], args.threads, args.steps), indent=2))


if __name__ == "__main__":
    main()
