#!/usr/bin/python3
"""starnn_time_net runs every network file shipped in data/nets/ (a training step and inference on
random inputs) and prints its JSON line; bad arguments and unreadable files get clear errors.
Nothing here checks a speed: the run is a fraction of a second per net.

usage: test_time_shipped_nets.py STARNN_TIME_NET PROJECT_ROOT
"""

import json
import math
import pathlib
import subprocess
import sys


def run(binary, *args):
    return subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True, timeout=300)


def main():
    binary, root = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    nets = sorted((root / "data" / "nets").glob("*.json"))
    failures = []
    if not nets:
        failures.append("no network files in data/nets/")
    for net in nets:
        result = run(binary, net, 0.02)
        if result.returncode != 0:
            failures.append(f"{net.name}: exit {result.returncode}: {result.stderr.strip()}")
            continue
        line = json.loads(result.stdout)
        for key in ("train_rows_per_s", "infer_rows_per_s"):
            rate = line.get(key)
            if not (isinstance(rate, (int, float)) and math.isfinite(rate) and rate > 0):
                failures.append(f"{net.name}: {key} is {rate!r}")
        if not (isinstance(line.get("parameters"), int) and line["parameters"] > 0):
            failures.append(f"{net.name}: parameters is {line.get('parameters')!r}")
        if line.get("device") != "cpu":
            failures.append(f"{net.name}: device is {line.get('device')!r}")
        print(f"{net.name}: {result.stdout.strip()}")

    bad_seconds = run(binary, nets[0] if nets else "x.json", "soon")
    if bad_seconds.returncode != 2 or "SECONDS 'soon'" not in bad_seconds.stderr or "usage:" not in bad_seconds.stderr:
        failures.append(f"SECONDS 'soon': exit {bad_seconds.returncode}, {bad_seconds.stderr.strip()!r}")
    missing = run(binary, root / "no_such_net.json", 0.02)
    if missing.returncode != 1 or "no_such_net.json" not in missing.stderr:
        failures.append(f"a missing file: exit {missing.returncode}, {missing.stderr.strip()!r}")

    for failure in failures:
        print("FAILED:", failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
