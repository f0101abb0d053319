#!/usr/bin/python3
"""Python's starnn.Model.predict against `starnn predict` on the same catalogue of millions of
rows (the Stripe 82 stars repeated), side by side in one run, alternating, several rounds.

  program         starnn predict --model M --catalog big.fits --out out.fits: read, predict, and
                  write a copy of the catalogue with the predictions (its whole job)
  python          starnn.read_catalog(big.fits, the model's columns) + model.predict(table)
  python predict  model.predict(columns already in memory) alone

usage: PYTHONPATH=build/python /usr/bin/python3 bench/python_predict.py MODEL [--rows N] [--rounds K]
       [--build BUILD] [--scratch DIR]
"""

import argparse
import pathlib
import subprocess
import tempfile
import time

import numpy as np
from astropy.table import Table

import starnn

ROOT = pathlib.Path(__file__).resolve().parent.parent


def seconds(f):
    start = time.perf_counter()
    result = f()
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--build", type=pathlib.Path, default=ROOT / "build")
    parser.add_argument("--scratch", type=pathlib.Path, default=None)
    args = parser.parse_args()

    scratch = pathlib.Path(args.scratch or tempfile.mkdtemp(prefix="starnn_python_predict_"))
    scratch.mkdir(parents=True, exist_ok=True)
    model = starnn.Model.load(args.model)
    stars = Table.read(ROOT / "data/sdss_s82_photometry.fits")
    columns = [c for c in stars.colnames if stars[c].dtype.kind == "f"]
    repeats = -(-args.rows // len(stars))
    big = Table({c: np.tile(np.asarray(stars[c], dtype=np.float64), repeats)[:args.rows] for c in columns})
    catalog = scratch / "big.fits"
    big.write(catalog, overwrite=True)
    needed = [c for c in columns if any(c in e.split("-") or c == e for e in model.inputs)]
    in_memory = {c: np.asarray(big[c]) for c in needed}

    program = [str(args.build / "apps/starnn"), "predict", "--model", args.model, "--catalog", str(catalog),
               "--out", str(scratch / "out.fits")]
    times = {"program": [], "python": [], "python predict": []}
    for _ in range(args.rounds):
        (scratch / "out.fits").unlink(missing_ok=True)
        times["program"].append(seconds(lambda: subprocess.run(program, check=True, capture_output=True))[0])
        times["python"].append(seconds(lambda: model.predict(starnn.read_catalog(catalog, needed)))[0])
        times["python predict"].append(seconds(lambda: model.predict(in_memory))[0])
    print(f"{args.rows} rows, {args.rounds} rounds, model {args.model} (inputs {', '.join(model.inputs)})")
    for name, values in times.items():
        print(f"  {name:15s} {min(values):6.2f}–{max(values):6.2f} s  "
              f"({args.rows / min(values) / 1e3:.0f}k rows/s at best)")
    ratios = [p / c for p, c in zip(times["python"], times["program"])]
    predict_ratios = [p / c for p, c in zip(times["python predict"], times["program"])]
    print(f"  python / program, per round: {min(ratios):.2f}–{max(ratios):.2f}; "
          f"python predict / program: {min(predict_ratios):.2f}–{max(predict_ratios):.2f}")


if __name__ == "__main__":
    main()
