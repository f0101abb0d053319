#!/usr/bin/python3
"""How a model does on held-out stars with holes in their photometry.

Copies the model's catalogue (as CSV, through `starnn convert`), hides inputs in it, and runs
`starnn evaluate` on the copy's test split, which is the training run's own: a net that takes
missing inputs keeps every row with enough of them, so the split's rows are unchanged. Prints,
per missing-input pattern, n, sigma_gauss, sigma_mad, bias, the mean predicted sigma and the
68 % coverage of every target.

Two ways to hide:
  --hide ug:0.3,iz:0.15   input ug in 30 % of the rows, then iz in 15 % of the rest (seeded)
  --each ug,gr,ri,iz      every row without ug, then every row without gr, ... (one evaluation each)

usage: missing_inputs.py STARNN MODEL OUT_DIR (--hide SPEC | --each INPUTS) [--seed N]
"""

import argparse
import csv
import json
import math
import pathlib
import random
import subprocess
import sys


def run(*args):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(map(str, args))}: exit {result.returncode}: {result.stderr.strip()}")
    return result.stdout


def write_with_holes(source_csv, out_csv, hide_in_row):
    """Copies source_csv, emptying the fields hide_in_row(row index) names."""
    with open(source_csv, newline="") as src, open(out_csv, "w", newline="") as dst:
        reader, writer = csv.reader(src), csv.writer(dst)
        header = next(reader)
        writer.writerow(header)
        for i, row in enumerate(reader):
            for name in hide_in_row(i):
                row[header.index(name)] = ""
            writer.writerow(row)


def table(metrics, label):
    lines = []
    patterns = metrics.get("missing_inputs") or [{"missing": [], "rows": metrics["rows"], "targets": metrics["targets"]}]
    for p in patterns:
        missing = "none" if not p["missing"] else "no " + ", ".join(p["missing"])
        for name, t in p["targets"].items():
            cov = t.get("coverage_68")
            sigma = t.get("mean_sigma")
            lines.append(
                f"| {label} | {missing} | {name} | {t['n']} | {t['sigma_gauss']:.4f} | {t['sigma_mad']:.4f} | "
                f"{t['bias']:+.4f} | {'' if sigma is None else f'{sigma:.4f}'} | {'' if cov is None else f'{cov:.3f}'} |"
            )
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("starnn")
    parser.add_argument("model")
    parser.add_argument("out_dir")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--hide")
    group.add_argument("--each")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    out = pathlib.Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    complete = out / "complete.csv"
    # Only the columns the model reads: catalogues may hold others that no table can (a name the
    # header repeats, text).
    network = json.loads(run(args.starnn, "show", "--model", args.model))["data"]
    needed = sorted({band.strip() for field in ("inputs", "input_errors") for e in network.get(field, [])
                     for band in e.split("-")} |
                    {t[key] for t in network["targets"] for key in ("column", "error") if t.get(key)} |
                    ({network["label"].split("<")[0].split(">")[0].strip()} if network.get("label") else set()))
    run(args.starnn, "convert", network["catalog"], complete, "--columns", ",".join(needed))
    with open(complete, newline="") as f:
        rows = sum(1 for _ in f) - 1

    cases = []
    if args.hide:
        rng = random.Random(args.seed)
        hidden = [[] for _ in range(rows)]
        free = list(range(rows))
        for part in args.hide.split(","):
            name, fraction = part.split(":")
            chosen = set(rng.sample(free, round(float(fraction) * len(free))))
            for i in chosen:
                hidden[i].append(name)
            free = [i for i in free if i not in chosen]
        cases.append((args.hide, lambda i: hidden[i]))
    else:
        for name in args.each.split(","):
            cases.append((f"without {name}", lambda i, name=name: [name]))

    print("| holes | pattern | target | n | sigma_gauss | sigma_mad | bias | mean sigma | coverage_68 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for k, (label, hide_in_row) in enumerate(cases):
        holey = out / f"holes_{k}.csv"
        write_with_holes(complete, holey, hide_in_row)
        metrics = json.loads(run(args.starnn, "evaluate", "--model", args.model, "--catalog", holey, "--split", "test"))
        (out / f"metrics_{k}.json").write_text(json.dumps(metrics, indent=2))
        print("\n".join(table(metrics, label)))


if __name__ == "__main__":
    main()
