#!/usr/bin/python3
"""Where starnn's time goes in a training step and in inference, for the nets of compare_torch.py.

usage: OMP_WAIT_POLICY=passive /usr/bin/python3 bench/profile_starnn.py [--build BUILD] [--seconds S]

Samples starnn_time_net with `perf record` (Debian's linux-perf), one phase at a time, and prints
per net and phase the share of sampled CPU time in each category of bench/profile_categories.py,
the same categories bench/profile_torch.py gives PyTorch's ops. perf samples every thread, so a
GEMM that runs on two threads counts twice its wall time; profile with OMP_NUM_THREADS=1 to read
the shares as shares of a step's wall time (bench/README.md does both).
"""

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import compare_torch  # noqa: E402  (its nets; it imports torch, which Debian's python3-torch provides)
from profile_categories import STARNN_CATEGORIES, categorise  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent


def perf_shares(binary, net_file, phase, seconds, folder):
    """{category: share of samples} of starnn_time_net running one phase, the top symbols, and the
    wall-clock milliseconds per call (sampled, so a little above an unprofiled run's)."""
    data = folder / "perf.data"
    timed = subprocess.run(["perf", "record", "-q", "-F", "2999", "-o", str(data), str(binary), str(net_file),
                            str(seconds), "--phase", phase], check=True, capture_output=True, text=True)
    rates = json.loads(timed.stdout)
    if phase == "train":
        ms = compare_torch.train_batch(net_file) / rates["train_rows_per_s"] * 1e3
    else:
        ms = compare_torch.INFERENCE_BATCH / rates["infer_rows_per_s"] * 1e3
    report = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--sort", "dso,sym", "--stdio", "-q",
                             "--percent-limit", "0"], check=True, capture_output=True, text=True).stdout
    shares, top = {}, []
    for line in report.splitlines():
        fields = line.split(None, 1)
        if len(fields) != 2 or not fields[0].endswith("%"):
            continue
        percent, symbol = float(fields[0][:-1]) / 100.0, fields[1]
        category = categorise(symbol, STARNN_CATEGORIES)
        shares[category] = shares.get(category, 0.0) + percent
        if len(top) < 8:
            top.append(f"{percent:6.1%} {' '.join(symbol.split())[:110]}")
    return dict(sorted(shares.items(), key=lambda kv: -kv[1])), top, ms


def profile(binary, net_indices, seconds):
    """{"<net> / <phase>": {"wall_ms_per_call", "shares", "top_symbols"}} for compare_torch's nets."""
    report = {}
    with tempfile.TemporaryDirectory() as folder:
        folder = pathlib.Path(folder)
        nets = compare_torch.write_nets(folder)
        for index in net_indices:
            label, path = nets[index]
            for phase in ("train", "inference"):
                shares, top, ms = perf_shares(binary, path, phase, seconds, folder)
                report[f"{label} / {phase}"] = {"wall_ms_per_call": ms, "shares": shares, "top_symbols": top}
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build", help="the CMake build folder (default: build)")
    parser.add_argument("--seconds", type=float, default=3.0, help="sampled wall clock per phase (default: 3)")
    parser.add_argument("--nets", default="1,2",
                        help="indices into compare_torch's nets (default 1,2: small, regression.json)")
    args = parser.parse_args()
    binary = ROOT / args.build / "bench" / "starnn_time_net"
    if not binary.exists():
        sys.exit(f"{binary}: not built (ninja -C {args.build} starnn_time_net)")
    print(json.dumps(profile(binary, [int(i) for i in args.nets.split(",")], args.seconds), indent=2))


if __name__ == "__main__":
    main()
