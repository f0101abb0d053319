#!/usr/bin/python3
"""Where the time of a training step and of inference goes, starnn beside PyTorch, as one table.

usage: OMP_WAIT_POLICY=passive /usr/bin/python3 bench/profile_compare.py [--build BUILD] [--threads N] [--nets 1,2]

Runs bench/profile_starnn.py's perf sampling and bench/profile_torch.py's torch.profiler over the
same nets (compare_torch.py's, by index) with N threads on both sides (default 1: with one thread
a share of sampled CPU time is a share of wall time on both sides, so the columns compare), and
prints per net and phase the milliseconds per call and each category's share of them.
"""

import argparse
import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import profile_starnn  # noqa: E402
import profile_torch  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build", help="the CMake build folder (default: build)")
    parser.add_argument("--threads", type=int, default=1, help="threads on both sides (default 1)")
    parser.add_argument("--nets", default="1,2",
                        help="indices into compare_torch's nets (default 1,2: small, regression.json)")
    parser.add_argument("--seconds", type=float, default=3.0, help="starnn's sampled wall clock per phase (default 3)")
    parser.add_argument("--steps", type=int, default=100, help="PyTorch's profiled calls per phase (default 100)")
    args = parser.parse_args()
    binary = profile_starnn.ROOT / args.build / "bench" / "starnn_time_net"
    if not binary.exists():
        sys.exit(f"{binary}: not built (ninja -C {args.build} starnn_time_net)")
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # inherited by starnn_time_net
    indices = [int(i) for i in args.nets.split(",")]
    ours = profile_starnn.profile(binary, indices, args.seconds)
    theirs = profile_torch.profile(indices, args.threads, args.steps)

    print(f"{args.threads} thread(s); ms per call (starnn: sampled run; torch: unprofiled run), then the share of "
          "each category (starnn: perf samples; torch: profiler self time of its ops)")
    for key in ours:
        print(f"\n{key}: starnn {ours[key]['wall_ms_per_call']:.2f} ms, torch {theirs[key]['wall_ms_per_call']:.2f} ms")
        print("| category | starnn | torch |\n|---|---|---|")
        categories = list(dict.fromkeys([*ours[key]["shares"], *theirs[key]["shares"]]))
        for category in categories:
            a, b = ours[key]["shares"].get(category, 0.0), theirs[key]["shares"].get(category, 0.0)
            if a >= 0.005 or b >= 0.005:
                print(f"| {category} | {a:.0%} | {b:.0%} |")


if __name__ == "__main__":
    main()
