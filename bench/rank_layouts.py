"""The process layouts that the MPI benchmarks compare on this machine, and their rounds: each
round runs every layout once, one after another, so that a noisy neighbour slows all alike.

  1 rank x T threads   the command as it is (T = the machine's cores)
  1 rank x 1 thread    with OMP_NUM_THREADS=1 (where asked: the base of a strong-scaling figure)
  R ranks x 1 thread   mpirun -n R with OMP_NUM_THREADS=1
  R ranks x T/R        mpirun -n R with OMP_NUM_THREADS=T/R (where T/R > 1)
"""

import os
import pathlib
import shutil
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def add_arguments(parser):
    """The options every MPI benchmark takes: --ranks, --rounds, --build, --scratch."""
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--build", type=pathlib.Path, default=ROOT / "build")
    parser.add_argument("--scratch", type=pathlib.Path, default=None, help="default: a new temporary folder")


def scratch_folder(args, prefix):
    """--scratch, or a new temporary folder."""
    return pathlib.Path(args.scratch or tempfile.mkdtemp(prefix=prefix))


def layouts(ranks, single_thread=False):
    """{name: (launcher prefix, OpenMP threads)}, the first being one rank on every core."""
    cores = os.cpu_count()
    mpirun = [shutil.which("mpirun") or "mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
              "-n", str(ranks)]
    chosen = {f"1 rank x {cores} threads": ([], cores)}
    if single_thread and cores > 1:
        chosen["1 rank x 1 thread"] = ([], 1)
    chosen[f"{ranks} ranks x 1 thread"] = (mpirun, 1)
    if cores // ranks > 1:
        chosen[f"{ranks} ranks x {cores // ranks} threads"] = (mpirun, cores // ranks)
    return chosen


def rounds(chosen, count, run):
    """{name: [seconds of each round]}, where run(launcher, env) runs one layout once and returns
    the seconds that count."""
    times = {name: [] for name in chosen}
    for _ in range(count):
        for name, (launcher, threads) in chosen.items():
            times[name].append(run(launcher, dict(os.environ, OMP_NUM_THREADS=str(threads))))
    return times


def speed_ratios(times, base):
    """Per round, how many times as fast as the layout `base` each layout ran: {name: (low, high)}."""
    return {name: (min(b / t for b, t in zip(times[base], values)), max(b / t for b, t in zip(times[base], values)))
            for name, values in times.items()}
