#!/usr/bin/env bash
# Times each stage of pipelines/real.toml on the real extracts (../shared/data/real),
# with the release build. A benchmark, not a test: it prints figures and keeps
# no threshold. Usage: IJ=target/release/ij bash scripts/bench_stages.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
IJ=${IJ:-target/release/ij}
RUNS=${1:-5}
REAL=${IJ_REAL_DATA:-../shared/data/real}
if [ ! -d "$REAL" ]; then
  echo "bench: $REAL is missing; the benchmark needs the real extracts" >&2
  exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Best and median wall-clock time of a command over $RUNS runs, in ms.
time_it() {
  local label=$1; shift
  local times=()
  for _ in $(seq "$RUNS"); do
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
  done
  local sorted
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  printf '%-34s best %5d ms   median %5d ms   (%d runs)\n' "$label" \
    "$(echo "$sorted" | head -1)" "$(echo "$sorted" | sed -n "$(( (RUNS + 1) / 2 ))p")" "$RUNS"
}

echo "ij bench — $(nproc) cores, $("$IJ" --version)"
time_it "bcn (real BCN)" "$IJ" bcn --bcn "$REAL/bcn" --out "$out/bcn"
time_it "continuum (real BCN)" "$IJ" continuum --bcn "$REAL/bcn" --out "$out/continuum"
time_it "pipeline real.toml (all stages)" "$IJ" run pipelines/real.toml --out "$out/real" --quiet
time_it "pipeline default.toml (sample)" "$IJ" run pipelines/default.toml --out "$out/sample" --quiet

echo
echo "stages of one real run (targets: bcn + continuum < 1 s; bcn → indicators < 2 s;"
echo "coverage of the Affelnet file < 1 s; the whole real pipeline < 3 s):"
"$IJ" run pipelines/real.toml --out "$out/stages" 2>&1 | grep -E "done in" | sed 's/ → .*//; s/^/  /'
