#!/usr/bin/python3
"""Strong scaling of data-parallel training on this machine (`mpirun -n R starnn train`, the
same batches split among R ranks): NET trained for EPOCHS epochs under each layout of
rank_layouts.py, side by side in alternating rounds, every run into a fresh folder. The time that
counts is the epochs' own (history.csv's seconds: the steps and the validation pass), not reading
the catalogue or the test split's figures.

Prints each layout's seconds per epoch (best round and the range) and, per round, how many times
as fast as one rank of one thread (strong scaling: 2 would be perfect for 2 ranks) and as one
rank on every core.

usage: /usr/bin/python3 bench/training_scaling.py [NET] [--epochs E] [--ranks R] [--rounds K]
       [--build BUILD] [--scratch DIR]
"""

import argparse
import csv
import os
import pathlib
import shutil
import subprocess

import rank_layouts

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("net", nargs="?", type=pathlib.Path, default=ROOT / "data/nets/regression.json")
    parser.add_argument("--epochs", type=int, default=3)
    rank_layouts.add_arguments(parser)
    args = parser.parse_args()

    scratch = rank_layouts.scratch_folder(args, "starnn_training_")
    out = scratch / "run"
    starnn = [str(args.build / "apps/starnn"), "train", str(args.net.resolve()), "--epochs", str(args.epochs),
              "--out", str(out)]

    def run(launcher, env):
        shutil.rmtree(out, ignore_errors=True)
        subprocess.run(launcher + starnn, check=True, capture_output=True, env=env)
        with open(out / "history.csv") as history:
            return sum(float(row["seconds"]) for row in csv.DictReader(history)) / args.epochs

    chosen = rank_layouts.layouts(args.ranks, single_thread=True)
    times = rank_layouts.rounds(chosen, args.rounds, run)
    print(f"{args.net.name}, {args.epochs} epochs, {args.rounds} rounds, {os.cpu_count()} cores")
    whole, single = list(times)[:2]
    against_single = rank_layouts.speed_ratios(times, single)
    against_whole = rank_layouts.speed_ratios(times, whole)
    for name, values in times.items():
        print(f"  {name:22s} {min(values):6.3f} s an epoch at best ({min(values):.3f}-{max(values):.3f}); as fast as "
              f"1 rank x 1 thread {against_single[name][0]:.2f}-{against_single[name][1]:.2f} times, as "
              f"{whole} {against_whole[name][0]:.2f}-{against_whole[name][1]:.2f}")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
