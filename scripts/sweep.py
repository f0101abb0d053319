#!/usr/bin/env python3
"""Trains variants of one network file and prints one table row per variant and seed.

usage: python3 scripts/sweep.py NET.json [--catalog FILE] [--build BUILD] [--out DIR]
                                [--seeds S ...] --variant NAME=PATCH [--variant NAME=PATCH ...]

Each PATCH is a JSON merge patch (RFC 7396) applied to NET.json: objects merge key by key, any
other value replaces, null removes the key. '{}' is the file as it is. For each variant and each
training seed (`training.seed`: initial parameters, batch order, augmentation draws; the data
split stays the file's, so every row is measured on the same test stars) the script trains with
`starnn train` and prints the test split's sigma_gauss per target, the classifier's accuracy
when there is one, the parameter count and the wall time. The runs stay in DIR/NAME-sS.
"""

import argparse
import json
import pathlib
import re
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


def merge_patch(target, patch):
    """RFC 7396: the result of applying `patch` to `target` (neither is modified)."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def parse_variant(text):
    name, sep, patch = text.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z0-9_.+-]+", name):
        sys.exit(f"sweep: --variant '{text}': expected NAME=PATCH, NAME of letters, digits, '_.+-'")
    try:
        return name, json.loads(patch)
    except json.JSONDecodeError as error:
        sys.exit(f"sweep: --variant {name}: the patch is not JSON ({error})")


def train(starnn, net, catalog, run_dir):
    """Trains one network file; returns (parameters, seconds, metrics.json)."""
    command = [str(starnn), "train", str(net), "--out", str(run_dir)]
    if catalog:
        command += ["--catalog", catalog]
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.monotonic() - start
    (run_dir.parent / f"{run_dir.name}.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        sys.exit(f"sweep: {net.name} failed:\n{done.stderr.strip()}")
    # "net: N parameters" for one net, "net: M members of N parameters" for an ensemble
    found = re.search(r"net: (?:(\d+) members of )?(\d+) parameters", done.stdout + done.stderr)
    parameters = int(found.group(1) or 1) * int(found.group(2))
    return parameters, seconds, json.loads((run_dir / "metrics.json").read_text())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("net", type=pathlib.Path)
    parser.add_argument("--catalog", help="the catalogue, instead of the file's data.catalog")
    parser.add_argument("--build", type=pathlib.Path, default=ROOT / "build")
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "runs" / "sweep")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="training seeds (default: the file's own)")
    parser.add_argument("--variant", action="append", required=True, type=parse_variant)
    args = parser.parse_args()

    starnn = args.build / "apps" / "starnn"
    if not starnn.is_file():
        sys.exit(f"sweep: {starnn} does not exist: build the program first")
    base = json.loads(args.net.read_text())
    # The written variants live in --out, so a relative catalogue must stay relative to NET.json.
    catalog = base["data"].get("catalog")
    if catalog and not args.catalog:
        base["data"]["catalog"] = str((args.net.resolve().parent / catalog).resolve())
    seeds = args.seeds if args.seeds is not None else [base["training"].get("seed", 0)]
    args.out.mkdir(parents=True, exist_ok=True)

    header = None
    for name, patch in args.variant:
        for seed in seeds:
            net = merge_patch(merge_patch(base, patch), {"training": {"seed": seed}})
            path = args.out / f"{name}-s{seed}.json"
            path.write_text(json.dumps(net, indent=1))
            parameters, seconds, metrics = train(starnn, path, args.catalog, args.out / f"{name}-s{seed}")
            targets = list(metrics["targets"])
            classifier = metrics.get("classifier")
            if header is None:
                header = ["variant", "seed", "parameters", "seconds", *targets] + (["accuracy"] if classifier else [])
                print("  ".join(f"{h:>14}" for h in header), flush=True)
            row = [name, seed, parameters, f"{seconds:.0f}"]
            row += [f"{metrics['targets'][t]['sigma_gauss']:.4g}" for t in targets]
            if classifier:
                row.append(f"{classifier['accuracy']:.3f}")
            print("  ".join(f"{str(v):>14}" for v in row), flush=True)


if __name__ == "__main__":
    main()
