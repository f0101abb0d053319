#!/usr/bin/env bash
# Whole-survey prediction end to end (nn/survey.h): a glob or @LIST of catalogues into a folder,
# one output each and a manifest; a re-run does only what is missing or changed; with MPI, two
# ranks give the bytes one gives, and a rank's failure ends the run with its message and leaves
# nothing half-written. Usage: test_survey.sh STARNN SOURCE_DIR PYTHON SCRATCH [MPIRUN]
set -u
starnn=$1 src=$2 python=$3 scratch=$4 mpirun=${5:-}
rm -rf "$scratch" && mkdir -p "$scratch" && cd "$scratch" || exit 1
. "$src/tests/cli/checks.sh"
same_folders() {  # same_folders A B: every output and the manifest byte for byte
  for f in "$1"/*; do cmp "$f" "$2/$(basename "$f")" || return 1; done
  [ "$(ls "$1" | wc -l)" -eq "$(ls "$2" | wc -l)" ]
}
no_temporaries() { ! ls -a "$@" | grep -q '\.tmp-'; }

check "train" "$starnn" train "$src/tests/data/nets/tiny.json" --out run --epochs 1
model=run/best.safetensors
# Five catalogues of different sizes cut from the SEGUE sample (id and the four colours), one of
# them FITS, and a list file naming them.
check "the SEGUE sample as CSV" "$starnn" convert "$src/data/sdss_segue_feh.fits" all.csv --columns ug,gr,ri,iz,feh
mkdir -p parts
check "cut into parts" awk -F, 'NR == 1 { h = $0; next }
  { n = NR - 2; p = n < 6000 ? 0 : n < 9000 ? 1 : n < 10000 ? 2 : n < 15000 ? 3 : 4
    f = "parts/part" p ".csv"; if (!(f in seen)) { print h > f; seen[f] = 1 } print > f }' all.csv
check "one part as FITS" sh -c "'$starnn' convert parts/part4.csv parts/part4.fits && rm parts/part4.csv"
printf '# the SEGUE parts\npart0.csv\npart1.csv\n\npart2.csv\npart3.csv\npart4.fits\n' > parts/list.txt

check "predict a glob" "$starnn" predict --model "$model" --catalog 'parts/part*' --out out1
check "one output per input, same names" test -s out1/part0.csv -a -s out1/part3.csv -a -s out1/part4.fits
check "the manifest records every part" "$python" -c "
import json
m = json.load(open('out1/manifest.json'))
assert m['format'] == 'starnn-survey/1', m
parts = {p['output']: p for p in m['parts']}
assert sorted(parts) == ['part0.csv', 'part1.csv', 'part2.csv', 'part3.csv', 'part4.fits'], parts
assert parts['part0.csv']['rows'] == 6000 and parts['part2.csv']['rows'] == 1000, parts
assert all(0 < p['predicted'] <= p['rows'] and len(p['output_checksum']) == 16 for p in parts.values())"
check "an output is the single-file prediction" sh -c "'$starnn' predict --model '$model' --catalog parts/part1.csv --out one.csv && cmp one.csv out1/part1.csv"
check "the @list names the same parts" "$starnn" predict --model "$model" --catalog @parts/list.txt --out out_list
check "and gives the same outputs" same_folders out1 out_list

# A second run finds everything done and writes nothing.
cp -a out1 out1_copy
check "a re-run does nothing" sh -c "'$starnn' predict --model '$model' --catalog 'parts/part*' --out out1 > rerun0.log && grep -q '5 done before this run' rerun0.log && ! grep -q predicting rerun0.log"
check "and changes no byte" same_folders out1 out1_copy
# A lost output, a lost record (a run killed between the output and its record) and a changed
# input are redone, and nothing else.
rm out1/part0.csv out1/.parts/part2.csv.json
echo "1.0,0.5,0.2,0.1,-1.0" >> parts/part3.csv
check "a re-run redoes what is missing or changed" sh -c "'$starnn' predict --model '$model' --catalog 'parts/part*' --out out1 > rerun.log && grep -c '^predicting' rerun.log | grep -qx 3 && grep -q 'part0.csv' rerun.log && grep -q 'part2.csv' rerun.log && grep -q 'part3.csv' rerun.log"
check "the changed input's output has its new row" sh -c "test \$(wc -l < out1/part3.csv) -eq \$(wc -l < parts/part3.csv)"
check "the others are as before" sh -c "cmp out1/part0.csv out1_copy/part0.csv && cmp out1/part2.csv out1_copy/part2.csv && cmp out1/part1.csv out1_copy/part1.csv"
# A run killed outright (SIGKILL) mid-way, then run again, gives the bytes of one uninterrupted run.
"$starnn" predict --model "$model" --catalog 'parts/part*' --out out_killed > killed.log 2>&1 &
pid=$!
for _ in $(seq 200); do [ -n "$(ls out_killed/.parts 2>/dev/null)" ] && break; sleep 0.02; done
kill -9 $pid 2> /dev/null; wait $pid 2> /dev/null
check "a killed run, run again, gives the same bytes" sh -c "'$starnn' predict --model '$model' --catalog 'parts/part*' --out out_killed > /dev/null && for f in out1/*; do cmp \"\$f\" out_killed/\$(basename \"\$f\") || exit 1; done"
check "and leaves no temporary" no_temporaries out_killed out_killed/.parts

fails_with "a glob that matches nothing is named" "--catalog nowhere/*.fits: names no file" "$starnn" predict --model "$model" --catalog 'nowhere/*.fits' --out out_none
check "and writes nothing" test ! -e out_none
mkdir -p other && cp parts/part1.csv other/part1.csv
fails_with "two inputs of one name are refused" "two catalogues named part1.csv" "$starnn" predict --model "$model" --catalog '*/part1.csv' --out out_twice
check "before anything is written" test ! -e out_twice
fails_with "an input that is its own output is refused" "would be its own output" "$starnn" predict --model "$model" --catalog 'other/*.csv' --out other
fails_with "--out must be a folder" "not a folder" "$starnn" predict --model "$model" --catalog 'parts/part*' --out all.csv

if [ -n "$mpirun" ] && "$starnn" --version | grep -q 'MPI: built in'; then
  run2() { "$mpirun" --allow-run-as-root --oversubscribe -n 2 "$starnn" "$@"; }
  check "two ranks" run2 predict --model "$model" --catalog 'parts/part*' --out out2
  check "give byte-identical outputs and manifest" sh -c "for f in out1/* out1/manifest.json; do cmp \"\$f\" out2/\$(basename \"\$f\") || exit 1; done"
  check "each rank did some parts" sh -c "run2() { '$mpirun' --allow-run-as-root --oversubscribe -n 2 '$starnn' \"\$@\"; }; run2 predict --model '$model' --catalog 'parts/part*' --out out3 > ranks.log && grep -q '^rank 0: predicting' ranks.log && grep -q '^rank 1: predicting' ranks.log"
  # One damaged input: its rank's message ends the run, the other rank's outputs stay whole.
  mkdir -p bad && cp parts/*.csv parts/part4.fits bad/ && printf 'id,ug\n1,2\n' > bad/part2.csv
  fails_with "a rank's failure ends the run with its message" "part2.csv" run2 predict --model "$model" --catalog 'bad/part*' --out out_bad
  check "and leaves no temporary" no_temporaries out_bad out_bad/.parts
  cp parts/part2.csv bad/part2.csv
  check "fixed and run again, it finishes" sh -c "'$mpirun' --allow-run-as-root --oversubscribe -n 2 '$starnn' predict --model '$model' --catalog 'bad/part*' --out out_bad > /dev/null && for f in out1/part*; do cmp \"\$f\" out_bad/\$(basename \"\$f\") || exit 1; done"
  # A file larger than a rank's share is split among the ranks by chunks: every chunk the one
  # that one process predicts, so the same bytes.
  mkdir -p big && cp all.csv parts/part4.fits big/
  check "one process, the large files" "$starnn" predict --model "$model" --catalog 'big/*' --out out_big1 --chunk 1000
  check "two ranks: the largest file by both" sh -c "'$mpirun' --allow-run-as-root --oversubscribe -n 2 '$starnn' predict --model '$model' --catalog 'big/*' --out out_big2 --chunk 1000 > big.log && grep -q '^rank 0: predicting big/all.csv (.*) with every rank' big.log && grep -q '^rank 1: predicting big/all.csv (.*) with every rank' big.log && ! grep -q 'part4.fits (.*) with every rank' big.log"
  check "and the one-process bytes" same_folders out_big1 out_big2
  check "one catalogue, one process" "$starnn" predict --model "$model" --catalog all.csv --out one_all.csv --chunk 1000
  check "one catalogue under mpirun: every rank its chunks, the one-process bytes" sh -c "'$mpirun' --allow-run-as-root --oversubscribe -n 2 '$starnn' predict --model '$model' --catalog all.csv --out two_all.csv --chunk 1000 > two_all.log && cmp one_all.csv two_all.csv && grep -q '2 ranks, each its own chunks' two_all.log && [ \$(grep -c '^wrote two_all.csv' two_all.log) -eq 1 ]"
  mkdir -p big_fits && cp parts/part4.fits big_fits/
  check "one FITS file, one process" "$starnn" predict --model "$model" --catalog 'big_fits/*' --out out_fits1 --chunk 700
  check "one FITS file split between two ranks: the same bytes" sh -c "'$mpirun' --allow-run-as-root --oversubscribe -n 2 '$starnn' predict --model '$model' --catalog 'big_fits/*' --out out_fits2 --chunk 700 > /dev/null && cmp out_fits1/part4.fits out_fits2/part4.fits && cmp out_fits1/manifest.json out_fits2/manifest.json"
  check "a split file re-run changes nothing" sh -c "'$mpirun' --allow-run-as-root --oversubscribe -n 2 '$starnn' predict --model '$model' --catalog 'big_fits/*' --out out_fits2 --chunk 700 > again.log && ! grep -q predicting again.log && cmp out_fits1/part4.fits out_fits2/part4.fits"
else
  echo "skip the MPI checks: no mpirun given or a build without MPI"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
