#!/usr/bin/env bash
# The starnn program end to end: train, checkpoints, resume, predict, evaluate, convert, map, and
# the errors a user meets. Usage: test_cli.sh STARNN SOURCE_DIR PYTHON SCRATCH
set -u
starnn=$1 src=$2 python=$3 scratch=$4
rm -rf "$scratch" && mkdir -p "$scratch" && cd "$scratch" || exit 1
net=$src/tests/data/nets/tiny.json
. "$src/tests/cli/checks.sh"

# Every command has its own usage, --help or -h anywhere after it; --version says what was built.
for sub in train predict evaluate convert show map; do
  check "$sub --help prints its usage" sh -c "'$starnn' $sub --help > help.txt && grep -q '^usage: starnn $sub ' help.txt && grep -q -- '--' help.txt"
done
check "train NET -h is help, not a file called -h" sh -c "'$starnn' train '$net' -h | grep -q '^usage: starnn train NET.json'"
check "--help leaves no run folder" test ! -e runs
check "--version names the version and the backends" sh -c "'$starnn' --version > version.txt && grep -qE '^starnn [0-9]+\.[0-9]+\.[0-9]+$' version.txt && grep -q '^  cpu: .*OpenBLAS' version.txt && grep -q '^  cuda: ' version.txt"

# Training writes its four files, and the model opens with a plain-Python reader.
check "train" "$starnn" train "$net" --out run3
check "train outputs" test -s run3/best.safetensors -a -s run3/last.safetensors -a -s run3/metrics.json
check "history has a row per epoch" test "$(wc -l < run3/history.csv)" -eq 4
check "metrics.json has sigma_gauss" grep -q '"sigma_gauss"' run3/metrics.json
check "independent reader opens the model" sh -c "'$python' '$src/tests/read_safetensors.py' run3/best.safetensors | grep -q 'tensor stem.weight F32 \[16, 4\]'"
check "model metadata holds the network file" sh -c "'$python' '$src/tests/read_safetensors.py' run3/best.safetensors | grep -q 'metadata network'"


# Evaluate prints one JSON object.
check "evaluate" sh -c "'$starnn' evaluate --model run3/best.safetensors --catalog '$src/data/sdss_segue_feh.fits' --split test > eval.json"
check "evaluate JSON" "$python" -c "import json; d = json.load(open('eval.json')); t = d['targets']['feh']; assert d['split'] == 'test' and 1700 < t['n'] <= 1800 and 0 < t['sigma_gauss'] < 1, d"
check "evaluate matches metrics.json" "$python" -c "import json; a = json.load(open('eval.json')); b = json.load(open('run3/metrics.json')); assert a == b, (a, b)"

# --report draws the figures beside the same JSON; without history.csv it skips that one only.
check "evaluate --report" sh -c "'$starnn' evaluate --model run3/best.safetensors --catalog '$src/data/sdss_segue_feh.fits' --split test --report report > eval_report.json"
check "--report leaves the JSON as it was" cmp eval.json eval_report.json
check "report holds exactly the figures, as PNGs" "$python" -c "
import os
names = ['feh_predicted_vs_true.png', 'feh_residuals.png', 'history.png']
assert sorted(os.listdir('report')) == names, os.listdir('report')
for name in names: assert open('report/' + name, 'rb').read(8) == b'\\x89PNG\\r\\n\\x1a\\n', name"
mkdir -p lone && cp run3/best.safetensors lone/
check "evaluate --report without history.csv" sh -c "'$starnn' evaluate --model lone/best.safetensors --catalog '$src/data/sdss_segue_feh.fits' --report lone_report > /dev/null 2> lone.log && grep -q 'history.png skipped' lone.log && test ! -e lone_report/history.png && test -s lone_report/feh_residuals.png"
# A classifier's report adds confusion.png: label the metal-poor stars of the training catalogue.
"$starnn" convert "$src/data/sdss_segue_feh.fits" segue.csv > /dev/null
"$python" -c "
import csv
rows = list(csv.DictReader(open('segue.csv')))
out = csv.DictWriter(open('segue_label.csv', 'w', newline=''), fieldnames=list(rows[0]) + ['metal_poor'])
out.writeheader()
for r in rows: out.writerow(dict(r, metal_poor='nan' if r['feh'] in ('', 'nan') else int(float(r['feh']) < -1.2)))"
sed -e 's#"catalog": "[^"]*"#"catalog": "segue_label.csv", "label": "metal_poor"#' \
    -e 's#"heads": {"type": "linear"}#"heads": {"type": "linear", "classifier": "binary"}#' "$net" > classifier.json
check "train a classifier" "$starnn" train classifier.json --out run_cls
check "evaluate --report for a classifier" sh -c "'$starnn' evaluate --model run_cls/best.safetensors --catalog segue_label.csv --report cls_report > cls.json"
check "the classifier's report has its confusion matrix" "$python" -c "
import json
assert 'confusion' in json.load(open('cls.json'))['classifier']
assert open('cls_report/confusion.png', 'rb').read(8) == b'\\x89PNG\\r\\n\\x1a\\n'"

# A model prints its network file back, and that file trains again.
check "show" sh -c "'$starnn' show --model run3/best.safetensors > shown.json"
check "shown file equals the model's own" "$python" -c "
import json, subprocess
shown = json.load(open('shown.json'))
assert shown['format'] == 'starnn-net/1' and shown['model']['backbone']['n_max'] == 32, shown
assert shown['data']['catalog'].startswith('/'), shown['data']['catalog']"
check "the shown file trains" "$starnn" train shown.json --out run_shown --epochs 1

# Predict on a photometry-only FITS catalogue, and on CSV keeping every original column.
check "predict FITS" "$starnn" predict --model run3/best.safetensors --catalog "$src/data/sdss_s82_photometry.fits" --out s82_feh.fits --chunk 1000
check "convert FITS to CSV" "$starnn" convert s82_feh.fits s82_feh.csv
# The 3-epoch net extrapolates freely to colours it never saw (the catalogue's M dwarfs, g-r ~ 1.4),
# so its values are judged on FGK colours like those of its SEGUE training stars: there 9 in 10
# must be metallicities of the disc and halo, around the sample's median.
check "predictions for every row" "$python" -c "
import csv, math, statistics
rows = list(csv.DictReader(open('s82_feh.csv')))
assert len(rows) == 3981, len(rows)
feh = [float(r['feh_pred']) for r in rows]
finite = [x for x in feh if math.isfinite(x)]  # NaN: inputs outside the trained range
assert len(finite) > 0.95 * len(feh), len(finite)
fgk = sorted(float(r['feh_pred']) for r in rows
             if 0.7 < float(r['ug']) < 2.0 and 0.2 < float(r['gr']) < 0.6 and math.isfinite(float(r['feh_pred'])))
n = len(fgk)
assert n > 1000 and -1.8 < statistics.median(fgk) < -0.5, (n, statistics.median(fgk))
assert -3 < fgk[n // 20] and fgk[n - 1 - n // 20] < 0.5, (fgk[n // 20], fgk[n - 1 - n // 20])
assert abs(float(rows[0]['ra']) - 43.787097) < 1e-9"
check "predict adds starnn_flags, a 64-bit integer column in FITS" "$python" -c "
import re
header = open('s82_feh.fits', 'rb').read(2880 * 12).decode('latin1')
names = dict(re.findall(r\"TTYPE(\\d+) *= *'([^']*?) *'\", header))
forms = dict(re.findall(r\"TFORM(\\d+) *= *'([^']*?) *'\", header))
number = [n for n, name in names.items() if name == 'starnn_flags']
assert number and forms[number[0]] == '1K', (names, forms)"
check "starnn_flags is 1 exactly for predicted stars outside the model's training range" "$python" -c "
import csv, json, math, struct
raw = open('run3/best.safetensors', 'rb').read()
(length,) = struct.unpack('<Q', raw[:8])
stats = json.loads(json.loads(raw[8:8 + length])['__metadata__']['stats'])
names, low, high = stats['inputs']['names'], stats['range_low'], stats['range_high']
assert all(l < h for l, h in zip(low, high)), (low, high)
rows = list(csv.DictReader(open('s82_feh.csv')))
flagged = 0
for r in rows:
    predicted = math.isfinite(float(r['feh_pred']))
    outside = any(not (l <= float(r[n]) <= h) for n, l, h in zip(names, low, high))
    assert int(r['starnn_flags']) == int(predicted and outside), r
    flagged += predicted and outside
assert 0 < flagged < 0.5 * len(rows), flagged"
printf 'id,name,ug,gr,ri,iz\n1,alpha,1.1,0.4,0.16,0.03\n2,beta,nan,0.4,0.16,0.03\n3,gamma,2.0,0.8,0.3,0.2\n' > small.csv
check "predict CSV" "$starnn" predict --model run3/best.safetensors --catalog small.csv --out small_feh.csv
check "CSV keeps every column, NaN for a missing input" "$python" -c "
import csv, math
rows = list(csv.DictReader(open('small_feh.csv')))
assert [r['name'] for r in rows] == ['alpha', 'beta', 'gamma'], rows
assert math.isnan(float(rows[1]['feh_pred'])) and math.isfinite(float(rows[2]['feh_pred'])), rows"

# The auto-encoder: [Fe/H] from gr, ri, iz, and the ug colour they do without. A quarter of the
# training stars lack ug: they train [Fe/H], are evaluated for it, and predict fills in their ug.
"$python" -c "
import csv
rows = list(csv.DictReader(open('segue.csv')))
out = csv.DictWriter(open('segue_no_ug.csv', 'w', newline=''), fieldnames=list(rows[0]))
out.writeheader()
for i, r in enumerate(rows): out.writerow(dict(r, ug='' if i % 4 == 0 else r['ug']))"
check "train an auto-encoder" "$starnn" train "$src/tests/data/nets/tiny_autoencoder.json" --catalog segue_no_ug.csv --out run_ae
check "its test metrics include the band, over the stars that have it" "$python" -c "
import json
t = json.load(open('run_ae/metrics.json'))['targets']
assert set(t) == {'feh', 'ug'} and 0 < t['ug']['sigma_gauss'] < 1 and 0 < t['feh']['sigma_gauss'] < 1, t
assert 1700 < t['feh']['n'] <= 1800 and 0.7 < t['ug']['n'] / t['feh']['n'] < 0.8, t"
check "the auto-encoder's parameters carry PyTorch names" sh -c "'$python' '$src/tests/read_safetensors.py' run_ae/best.safetensors | grep -q 'tensor decoder.stem.weight F32 \[16, 4\]'"
check "predict with the auto-encoder" "$starnn" predict --model run_ae/best.safetensors --catalog small.csv --out small_ae.csv
check "a star without ug gets ug and [Fe/H], the others too" "$python" -c "
import csv, math
rows = list(csv.DictReader(open('small_ae.csv')))
assert math.isnan(float(rows[1]['ug'])), rows[1]
assert all(math.isfinite(float(r[k])) for r in rows for k in ('feh_pred', 'ug_pred')), rows
assert all(0 < float(r['ug_pred']) < 4 for r in rows), rows"
splus=$src/../shared/data/splus82_segue_train.csv
if [ -f "$splus" ]; then  # the development catalogue, where it is present (not shipped)
  check "data/nets/autoencoder.json trains on S-PLUS" "$starnn" train "$src/data/nets/autoencoder.json" --catalog "$splus" --out run_splus_ae --epochs 1
fi

# Uncertainties: an ensemble of 2 nets with uncertainty heads writes feh_err beside feh_pred, and
# evaluate judges its calibration; MC dropout gives a net with dropout an uncertainty too.
sed -e 's#"type": "regressor",#"type": "regressor", "members": 2,#' \
    -e 's#"loss": {"type": "weighted_l1"}#"loss": {"type": "gaussian_nll"}#' "$net" > ensemble.json
check "train an ensemble with uncertainty heads" sh -c "'$starnn' train ensemble.json --out run_ens > ens.log && grep -q 'coverage_68' ens.log"
check "its test metrics hold the calibration" "$python" -c "
import json
t = json.load(open('run_ens/metrics.json'))['targets']['feh']
assert 0.3 < t['coverage_68'] < 1 and t['coverage_68'] < t['coverage_95'] <= 1 and t['mean_sigma'] > 0, t
assert len(t['sigma_bins']) == 5 and len(t['reliability']) == 19, t"
check "the members carry their prefix" sh -c "'$python' '$src/tests/read_safetensors.py' run_ens/best.safetensors | grep -q 'tensor members.1.stem.weight F32 \[16, 4\]'"
check "evaluate on the training catalogue takes its test split" sh -c "'$starnn' evaluate --model run_ens/best.safetensors --catalog '$src/data/sdss_segue_feh.fits' > ens_eval.json 2> ens_eval.log && grep -q 'the test split' ens_eval.log && cmp ens_eval.json run_ens/metrics.json"
check "evaluate --report adds the calibration figure" sh -c "'$starnn' evaluate --model run_ens/best.safetensors --catalog '$src/data/sdss_segue_feh.fits' --report ens_report > /dev/null 2>&1"
check "the report of an ensemble holds its figures" "$python" -c "
import os
names = ['feh_calibration.png', 'feh_predicted_vs_true.png', 'feh_residuals.png', 'history.png']
assert sorted(os.listdir('ens_report')) == names, os.listdir('ens_report')
for name in names: assert open('ens_report/' + name, 'rb').read(8) == b'\\x89PNG\\r\\n\\x1a\\n', name"
check "predict writes feh_pred, feh_err and starnn_flags" "$starnn" predict --model run_ens/best.safetensors --catalog small.csv --out small_ens.csv
check "feh_err is a positive sigma where feh_pred is a number" "$python" -c "
import csv, math
rows = list(csv.DictReader(open('small_ens.csv')))
assert list(rows[0])[-3:] == ['feh_pred', 'feh_err', 'starnn_flags'], list(rows[0])
assert math.isnan(float(rows[1]['feh_err'])), rows[1]
assert all(0 < float(r['feh_err']) < 5 for i, r in enumerate(rows) if i != 1), rows"
check "MC dropout adds feh_err to a net without uncertainty heads" sh -c "'$starnn' predict --model run3/best.safetensors --catalog small.csv --out small_mc.csv --mc-samples 8 && '$python' -c \"
import csv
rows = list(csv.DictReader(open('small_mc.csv')))
assert float(rows[0]['feh_err']) > 0, rows\""
fails_with "one MC pass is refused" "--mc-samples 1" "$starnn" predict --model run3/best.safetensors --catalog small.csv --out small_mc1.csv --mc-samples 1
fails_with "an unknown precision is named" "precision 'fp16': expected fp32 or bf16" "$starnn" predict --model run3/best.safetensors --catalog small.csv --out small_fp16.csv --precision fp16
check "and the run it stopped wrote nothing" test ! -e small_fp16.csv
# BF16 predictions: close to fp32's where the CPU runs them, a message that says why elsewhere.
if "$starnn" --version | grep -q 'bf16: yes'; then
  check "BF16 predictions are close to fp32's" sh -c "'$starnn' predict --model run3/best.safetensors --catalog small.csv --out small_fp32.csv --device cpu && '$starnn' predict --model run3/best.safetensors --catalog small.csv --out small_bf16.csv --device cpu --precision bf16 && '$python' -c \"
import csv, math
a = [float(r['feh_pred']) for r in csv.DictReader(open('small_fp32.csv'))]
b = [float(r['feh_pred']) for r in csv.DictReader(open('small_bf16.csv'))]
d = [abs(x - y) for x, y in zip(a, b) if not math.isnan(x)]
assert len(a) == len(b) and 0 < max(d) < 0.05, max(d)\""
else
  fails_with "--precision bf16 says why not" "BF16 products" "$starnn" predict --model run3/best.safetensors --catalog small.csv --out small_bf16.csv --device cpu --precision bf16
  check "and wrote nothing" test ! -e small_bf16.csv
fi

# Map the predicted metallicities: distances, Galactocentric positions, cuts, pixels, image.
check "map" "$starnn" map --catalog s82_feh.fits --out map
check "map outputs" test -s map/stars.fits -a -s map/map.fits -a -s map/map.png
check "map.png is a PNG" "$python" -c "assert open('map/map.png', 'rb').read(8) == b'\\x89PNG\\r\\n\\x1a\\n'"
check "map tables to CSV" sh -c "'$starnn' convert map/map.fits map.csv && '$starnn' convert map/stars.fits stars.csv"
check "pixels with enough stars have a median" "$python" -c "
import csv, math
rows = list(csv.DictReader(open('map.csv')))
full = [r for r in rows if float(r['count']) >= 10]
assert full and all(math.isfinite(float(r['feh_median'])) for r in full), full
assert all(math.isnan(float(r['feh_median'])) for r in rows if float(r['count']) < 10)"
check "galactic coordinates match the catalogue's" "$python" -c "
import csv
stars, given = list(csv.DictReader(open('stars.csv'))), list(csv.DictReader(open('s82_feh.csv')))
assert len(stars) == len(given) == 3981
assert max(abs((float(s['l']) - float(g['glon']) + 180) % 360 - 180) for s, g in zip(stars, given)) < 1e-4
assert max(abs(float(s['b']) - float(g['glat'])) for s, g in zip(stars, given)) < 1e-4"
check "stars.fits: a unit on every column, flags and selection as 64-bit integers" "$python" -c "
# The FITS header, read without a FITS library: 80-character cards up to END.
data = open('map/stars.fits', 'rb').read()
start, cards = data.index(b'XTENSION'), []
while not cards or not cards[-1].startswith('END '):
    cards.append(data[start + 80 * len(cards):start + 80 * len(cards) + 80].decode('ascii'))
value = {c[:8].strip(): c[10:].split('/')[0].strip().strip(\"'\").strip() for c in cards if c[8:10] == '= '}
names = {value['TTYPE%d' % k]: k for k in range(1, int(value['TFIELDS']) + 1)}
assert all('TUNIT%d' % k in value for k in names.values()), value
assert value['TUNIT%d' % names['R_kpc']] == 'kpc' and value['TUNIT%d' % names['feh_pred']] == 'dex', value
assert value['TFORM%d' % names['flags']] == '1K' and value['TFORM%d' % names['selected']] == '1K', value"
# The id column joins stars back to the input: the first integer column by default, or --id.
check "a CSV with an id column" sh -c "awk -F, 'NR == 1 { print \"objid,\" \$0; next } { printf \"%.0f,%s\\n\", 1237650000000 + NR, \$0 }' s82_feh.csv > s82_ids.csv"
check "map keeps the input's first integer column" sh -c "'$starnn' map --catalog s82_ids.csv --out map_ids | grep -q '^id column: objid' && head -1 map_ids/stars.csv | grep -q '^objid,' && sed -n 2p map_ids/stars.csv | grep -q '^1237650000002,'"
check "map --id names another" sh -c "'$starnn' map --catalog s82_feh.fits --out map_id --id starnn_flags | grep -q '^id column: starnn_flags'"
fails_with "map --range needs two numbers" "option --range: '0,x' is not LO,HI" "$starnn" map --catalog s82_feh.fits --out map_range --range 0,x
fails_with "map --range needs LO < HI" "needs LO < HI" "$starnn" map --catalog s82_feh.fits --out map_range --range 0,-1
check "and writes nothing" test ! -e map_range
fails_with "map with a bad column" "has no column 'nope'" "$starnn" map --catalog s82_feh.fits --out map_bad --g-r nope
check "no map output after an error" test ! -e map_bad

# Errors: one clear message, a non-zero exit, no partial output.
fails_with "missing network file" "nope.json" "$starnn" train nope.json
printf '{"format": "starnn-net/1", "data": 3}' > bad.json
fails_with "bad JSON names the path" '$.data: expected an object, got 3' "$starnn" train bad.json
sed 's/"iz"\]/"iz", "nope"]/' "$net" > missing_column.json
sed -i "s#../../../data#$src/data#" missing_column.json
fails_with "missing column names it" "nope" "$starnn" train missing_column.json --out run_missing
check "a failed run leaves no run folder" test ! -e run_missing
fails_with "unknown option" "unknown option --epoch" "$starnn" train "$net" --epoch 3
fails_with "a bad STARNN_CPU_GEMM is named" "STARNN_CPU_GEMM=blis: expected onednn or openblas" env STARNN_CPU_GEMM=blis "$starnn" train "$net" --out run_gemm
check "and the run it stopped wrote nothing" test ! -e run_gemm
# Without a GPU, cuda is an error that says why, and auto says which device it chose.
if ! nvidia-smi -L > /dev/null 2>&1; then
  fails_with "--device cuda says why not" "device cuda: " "$starnn" train "$net" --device cuda --out run_cuda
  check "--device cuda leaves no run folder" test ! -e run_cuda
  check "--device auto says it chose the CPU and why" sh -c "'$starnn' train '$net' --device auto --epochs 1 --out run_auto | grep -q '^device: cpu (auto: '"
fi
fails_with "missing model" "missing.safetensors" "$starnn" predict --model missing.safetensors --catalog small.csv --out x.csv
fails_with "predict into a missing folder" "no_such_dir" "$starnn" predict --model run3/best.safetensors --catalog small.csv --out no_such_dir/x.csv
check "no partial output" test ! -e x.csv -a ! -e no_such_dir
fails_with "predict across formats" "convert" "$starnn" predict --model run3/best.safetensors --catalog small.csv --out x.fits
check "no partial FITS" test ! -e x.fits
fails_with "evaluate a catalogue without labels" "feh" "$starnn" evaluate --model run3/best.safetensors --catalog small.csv

# Nothing is lost: convert refuses its own input, a run folder holds one run and one writer, a
# signal leaves no temporary, and no option writes a file that cannot be read back.
cp small.csv own.csv && ln -s own.csv own_link.csv && ln own.csv own_hard.csv
for out in own.csv ./own.csv own_link.csv own_hard.csv; do
  fails_with "convert refuses its input as $out" "is that very file" "$starnn" convert own.csv "$out" --columns id
done
check "convert into itself left the input whole" cmp own.csv small.csv
fails_with "train refuses a folder that holds a run" "already holds a training run" "$starnn" train "$net" --out run3
check "the refused run left run3 as it was" "$starnn" evaluate --model run3/best.safetensors --catalog "$src/data/sdss_segue_feh.fits" --split test
check "--overwrite replaces a run" "$starnn" train "$net" --out run_over --epochs 1
check "--overwrite replaces a run (again)" "$starnn" train "$net" --out run_over --epochs 2 --overwrite
check "the replaced run's history is the new run's" test "$(wc -l < run_over/history.csv)" -eq 3
fails_with "--seed -1 is refused" "seed -1: expected a whole number >= 0" "$starnn" train "$net" --out run_seed --seed -1
"$starnn" train "$net" --out run_twice --epochs 40 --overwrite > twice_a.log 2>&1 & first=$!
"$starnn" train "$net" --out run_twice --epochs 40 --overwrite > twice_b.log 2>&1 & second=$!
wait $first; a=$?; wait $second; b=$?
check "two runs into one folder: one is refused" test $((a == 0 ? 1 : 0)) -ne $((b == 0 ? 1 : 0))
check "the refused one says another run writes there" grep -q "another training run is writing into" twice_a.log twice_b.log
"$python" -c "
import csv, random
random.seed(1)
out = csv.writer(open('many.csv', 'w', newline=''))
out.writerow(['ug', 'gr', 'ri', 'iz'])
for _ in range(400000): out.writerow([round(random.uniform(0.8, 2.6), 3), round(random.uniform(0.2, 0.6), 3), 0.15, 0.05])"
for signal in TERM INT; do
  "$starnn" predict --model run3/best.safetensors --catalog many.csv --out many_feh.csv --chunk 2000 > /dev/null 2>&1 & pid=$!
  for _ in $(seq 400); do ls -a | grep -q '^\.many_feh\.csv\.tmp-' && break; sleep 0.02; done
  kill -$signal $pid; wait $pid; code=$?
  check "SIG$signal ends predict by the signal" test $code -gt 128
  check "SIG$signal during predict leaves no temporary" sh -c "! ls -a | grep -q '^\.many_feh\.csv\.tmp-'"
  check "SIG$signal during predict leaves no output" test ! -e many_feh.csv
done

# Ctrl-C stops at the next batch with the checkpoints intact, and --resume then continues
# exactly: the interrupted and resumed run ends as the uninterrupted one does.
"$starnn" train "$net" --out run_int --epochs 60 > int.log 2>&1 &
pid=$!
for _ in $(seq 600); do [ -s run_int/history.csv ] && break; sleep 0.05; done
kill -INT $pid
wait $pid
code=$?
check "Ctrl-C exits 130" test $code -eq 130
check "Ctrl-C says how to resume" grep -q -- "--resume run_int" int.log
check "last.safetensors still opens" "$starnn" predict --model run_int/last.safetensors --catalog small.csv --out int.csv
check "resume after Ctrl-C" "$starnn" train "$net" --resume run_int
check "uninterrupted run" "$starnn" train "$net" --out run_straight --epochs 60
check "resumed history equals the uninterrupted one" bash -c "diff <(cut -d, -f1-4 run_straight/history.csv) <(cut -d, -f1-4 run_int/history.csv)"
check "resumed model equals the uninterrupted one" cmp run_straight/best.safetensors run_int/best.safetensors

# kill -9 wherever it falls, three times over (mid-epoch, mid-write): each time --resume
# continues, and the run ends with the uninterrupted run's files.
"$starnn" train "$net" --out run_kill --epochs 60 > kill.log 2>&1 & pid=$!
for rows in 3 12 30; do
  for _ in $(seq 600); do [ -s run_kill/history.csv ] && [ "$(wc -l < run_kill/history.csv)" -gt $rows ] && break; sleep 0.02; done
  kill -9 $pid; wait $pid 2> /dev/null
  check "no temporary is left but the killed writer's own" sh -c "[ \$(ls -a run_kill | grep -c '\\.tmp-') -le 1 ]"
  "$starnn" train "$net" --resume run_kill > kill.log 2>&1 & pid=$!
done
wait $pid
check "resumed after three kill -9" test $? -eq 0
check "killed and resumed: the uninterrupted run's best model" cmp run_straight/best.safetensors run_kill/best.safetensors
check "killed and resumed: the uninterrupted run's last checkpoint" cmp run_straight/last.safetensors run_kill/last.safetensors
check "killed and resumed: the uninterrupted run's history" bash -c "diff <(cut -d, -f1-4 run_straight/history.csv) <(cut -d, -f1-4 run_kill/history.csv)"
check "the next writes removed the killed runs' temporaries" sh -c "! ls -a run_kill | grep -q '\\.tmp-'"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
