#!/usr/bin/env bash
# Data-parallel training under MPI end to end (`mpirun -n 2 starnn train`, nn/shards.h): two
# ranks take the steps one process takes, so their losses agree within 1e-5 relative over an
# epoch of 57 steps (float; tests/cuda/test_net_on_device.cpp checks 1e-10 in double); rank 0
# alone speaks and writes; a run killed mid-way and resumed on two ranks ends with the
# uninterrupted two-rank run's files, byte for byte; batches too short for the ranks are refused
# before anything is written. Usage: test_data_parallel.sh STARNN SOURCE_DIR
# PYTHON SCRATCH MPIRUN
set -u
starnn=$1 src=$2 python=$3 scratch=$4 mpirun=$5
rm -rf "$scratch" && mkdir -p "$scratch" && cd "$scratch" || exit 1
. "$src/tests/cli/checks.sh"
if ! "$starnn" --version | grep -q 'MPI: built in'; then
  echo "skip: a build without MPI"
  exit 77
fi
net=$src/tests/data/nets/data_parallel.json
# One OpenMP thread a rank: two ranks on the two cores.
ranks() { OMP_NUM_THREADS=1 "$mpirun" --allow-run-as-root --oversubscribe -n "$@"; }
close_losses() {  # close_losses A B: every epoch's losses within 1e-5 relative
  "$python" - "$1" "$2" <<'PY'
import csv, sys
a, b = (list(csv.DictReader(open(p))) for p in sys.argv[1:])
assert len(a) == len(b) > 0, (len(a), len(b))
for ra, rb in zip(a, b):
    for k in ("train_loss", "validation_loss"):
        x, y = float(ra[k]), float(rb[k])
        print(f"epoch {ra['epoch']} {k}: {x} {y} relative {abs(x - y) / abs(y):.2e}")
        assert abs(x - y) <= 1e-5 * abs(y)
PY
}

check "one process" "$starnn" train "$net" --out one
check "two ranks" sh -c "OMP_NUM_THREADS=1 '$mpirun' --allow-run-as-root --oversubscribe -n 2 '$starnn' train '$net' --out two > two.log 2>&1"
check "two ranks: the losses of one process" close_losses one/history.csv two/history.csv
check "two ranks: the test split's figures of one process" "$python" -c "
import json
a, b = (json.load(open(p + '/metrics.json'))['targets']['feh'] for p in ('one', 'two'))
for k in ('sigma_gauss', 'sigma_mad', 'bias'):
    assert abs(a[k] - b[k]) <= 1e-4, (k, a[k], b[k])"
check "rank 0 alone speaks" sh -c "[ \$(grep -c '^trained 1 epochs' two.log) -eq 1 ] && grep -q '^ranks: 2, each training on its own rows of every batch of 256' two.log"
check "rank 0 alone writes: the run's files and nothing else" sh -c "[ \"\$(ls -a two | tr '\n' ' ')\" = \"\$(ls -a one | tr '\n' ' ')\" ]"

# Batches too short to give every rank a row are refused before anything is written.
sed -e 's/"batch_size": 256/"batch_size": 2/' -e "s|../../../data/|$src/data/|" "$net" > short_batches.json
fails_with "a batch without a row for every rank is refused by its JSON path" \
  "short_batches.json: \$.training.batch_size: training on 3 shards: batches of 2 rows give some shard no row" \
  ranks 3 "$starnn" train short_batches.json --out short
check "and nothing is written" test ! -e short

# Killed mid-run (every rank, as a lost node ends an MPI job) and resumed on two ranks: the
# uninterrupted two-rank run's files.
check "two ranks, 6 epochs" ranks 2 "$starnn" train "$net" --out straight --epochs 6
ranks 2 "$starnn" train "$net" --out killed --epochs 6 > killed.log 2>&1 & pid=$!
for _ in $(seq 600); do [ -s killed/history.csv ] && [ "$(wc -l < killed/history.csv)" -gt 2 ] && break; sleep 0.02; done
# The ranks themselves, as a lost node's are: a SIGKILLed mpirun would leave them running.
pkill -9 -f -- "--out killed --epochs 6"; wait $pid 2> /dev/null
check "every rank is gone" sh -c "! pgrep -f -- '--out kille[d] --epochs 6'"
check "killed before the end" sh -c "[ \$(wc -l < killed/history.csv) -lt 7 ]"
check "resumed on two ranks" ranks 2 "$starnn" train "$net" --resume killed
check "resumed: the uninterrupted run's best model" cmp straight/best.safetensors killed/best.safetensors
check "resumed: the uninterrupted run's last checkpoint" cmp straight/last.safetensors killed/last.safetensors
check "resumed: the uninterrupted run's history" bash -c "diff <(cut -d, -f1-4 straight/history.csv) <(cut -d, -f1-4 killed/history.csv)"
check "a two-rank run resumes on one process" sh -c "cp -r straight more && '$starnn' train '$net' --resume more --epochs 7 > more.log && [ \$(wc -l < more/history.csv) -eq 8 ]"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
