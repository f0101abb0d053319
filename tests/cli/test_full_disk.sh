#!/usr/bin/env bash
# A full disk loses nothing: train (resumed), predict, convert, evaluate --report and map, each
# writing over earlier outputs on a tmpfs with no space left, exit non-zero and leave every
# earlier output byte for byte as it was. Needs to mount a tmpfs (root, or CAP_SYS_ADMIN);
# exits 77, which ctest counts as skipped, where it cannot.
#   test_full_disk.sh STARNN SOURCE_DIR SCRATCH
set -u
starnn=$1 src=$2 scratch=$3
if mountpoint -q "$scratch/disk" 2>/dev/null; then umount "$scratch/disk"; fi
rm -rf "$scratch" && mkdir -p "$scratch/disk" && cd "$scratch" || exit 1
if ! mount -t tmpfs -o size=16m tmpfs disk 2> mount.log; then
  echo "cannot mount a tmpfs here ($(cat mount.log)): skipped"
  exit 77
fi
trap 'cd / && umount "$scratch/disk"' EXIT
net=$src/tests/data/nets/tiny.json segue=$src/data/sdss_segue_feh.fits s82=$src/data/sdss_s82_photometry.fits
. "$src/tests/cli/checks.sh"
fails() {  # fails NAME COMMAND...: passes when the command exits non-zero
  local name=$1; shift
  if "$@" > fail.log 2>&1; then failed=$((failed + 1)); echo "FAIL $name (exit 0)"; sed 's/^/     /' fail.log
  else passed=$((passed + 1)); echo "ok   $name: $(grep -m1 error fail.log)"; fi
}

# The earlier outputs, written while there was room.
check "train" "$starnn" train "$net" --out disk/run --epochs 2
check "predict" "$starnn" predict --model disk/run/best.safetensors --catalog "$s82" --out disk/s82_feh.fits
check "convert" "$starnn" convert disk/s82_feh.fits disk/s82_feh.csv
check "evaluate --report" "$starnn" evaluate --model disk/run/best.safetensors --catalog "$segue" --report disk/report
check "map" "$starnn" map --catalog disk/s82_feh.fits --out disk/map
(cd disk && find . -type f -exec sha256sum {} + | sort -k 2) > before.txt
check "earlier outputs: a run, predictions, a CSV, four figures, a map" test "$(wc -l < before.txt)" -ge 12

# No space left: a filler takes the rest of the disk.
dd if=/dev/zero of=disk/filler bs=64k > /dev/null 2>&1
check "the disk is full" sh -c "! dd if=/dev/zero of=disk/probe bs=4k count=1 2> /dev/null"
rm -f disk/probe
fails "train --resume on a full disk" "$starnn" train "$net" --resume disk/run --epochs 4
fails "predict on a full disk" "$starnn" predict --model disk/run/best.safetensors --catalog "$s82" --out disk/s82_feh.fits
fails "convert on a full disk" "$starnn" convert disk/s82_feh.fits disk/s82_feh.csv
fails "evaluate --report on a full disk" "$starnn" evaluate --model disk/run/best.safetensors --catalog "$segue" --report disk/report
fails "map on a full disk" "$starnn" map --catalog disk/s82_feh.fits --out disk/map
rm -f disk/filler
(cd disk && find . -type f -exec sha256sum {} + | sort -k 2) > after.txt
check "every earlier output is byte for byte as it was" diff before.txt after.txt
check "no temporary is left" sh -c "! find disk -name '.*.tmp-*' | grep -q ."

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
