#!/usr/bin/python3
"""Whole-survey prediction's throughput with one and two ranks on this machine, side by side in one
run, alternating, several rounds: FILES catalogues of ROWS stars each (the Stripe 82 stars
repeated) through `starnn predict --catalog 'DIR/*.fits' --out OUT`, every round into a fresh OUT.

  1 rank x T threads   starnn predict ...                      (T = the machine's cores)
  R ranks x 1 thread   mpirun -n R starnn predict ... with OMP_NUM_THREADS=1
  R ranks x T/R        mpirun -n R ... with OMP_NUM_THREADS=T/R (where T/R > 1)

Prints stars per second and microseconds per star for each (best round and the range), and the
per-round ratio to the one-rank run.

usage: /usr/bin/python3 bench/survey_throughput.py MODEL [--files N] [--rows N] [--ranks R]
       [--rounds K] [--build BUILD] [--scratch DIR]
"""

import argparse
import os
import pathlib
import shutil
import subprocess
import time

import numpy as np
from astropy.table import Table

import rank_layouts

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--rows", type=int, default=250_000, help="stars per file (default 250,000)")
    rank_layouts.add_arguments(parser)
    args = parser.parse_args()

    scratch = rank_layouts.scratch_folder(args, "starnn_survey_")
    tiles = scratch / "tiles"
    tiles.mkdir(parents=True, exist_ok=True)
    stars = Table.read(ROOT / "data/sdss_s82_photometry.fits")
    repeats = -(-args.rows // len(stars))
    tile = Table({c: np.tile(np.asarray(stars[c]), repeats)[:args.rows] for c in stars.colnames})
    for k in range(args.files):
        tile.write(tiles / f"tile{k:03d}.fits", overwrite=True)
    starnn = [str(args.build / "apps/starnn"), "predict", "--model", args.model, "--catalog", str(tiles / "*.fits")]
    out = scratch / "out"

    def run(launcher, env):
        shutil.rmtree(out, ignore_errors=True)
        start = time.perf_counter()
        subprocess.run(launcher + starnn + ["--out", str(out)], check=True, capture_output=True, env=env)
        return time.perf_counter() - start

    chosen = rank_layouts.layouts(args.ranks)
    times = rank_layouts.rounds(chosen, args.rounds, run)
    total = args.files * args.rows
    print(f"{args.files} files x {args.rows} stars, {args.rounds} rounds, model {args.model}, {os.cpu_count()} cores")
    first = next(iter(times))
    ratios = rank_layouts.speed_ratios(times, first)
    for name, values in times.items():
        low, high = ratios[name]
        print(f"  {name:22s} {total / min(values) / 1e3:7.1f}k stars/s at best ({min(values):.2f}-{max(values):.2f} s, "
              f"{min(values) / total * 1e6:.2f} us a star); speed against 1 rank per round {low:.2f}-{high:.2f}")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
