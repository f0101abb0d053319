# The checks every end-to-end script of tests/cli counts with (sourced, not run): each prints
# "ok   NAME" or "FAIL NAME" with the command's output indented, and counts into passed/failed.
passed=0 failed=0
check() {  # check NAME COMMAND...: passes when the command succeeds
  local name=$1; shift
  if "$@" > check.log 2>&1; then passed=$((passed + 1)); echo "ok   $name"
  else failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' check.log; fi
}
fails_with() {  # fails_with NAME TEXT COMMAND...: passes when the command fails and says TEXT
  local name=$1 text=$2; shift 2
  if "$@" > out.log 2>&1; then failed=$((failed + 1)); echo "FAIL $name (succeeded)"; sed 's/^/     /' out.log
  elif grep -qF -- "$text" out.log; then passed=$((passed + 1)); echo "ok   $name"
  else failed=$((failed + 1)); echo "FAIL $name (no '$text')"; sed 's/^/     /' out.log; fi
}
