#!/usr/bin/env bash
# `make bench` (issue 13): ij against the DuckDB peer on the real extracts,
# then ij on synthetic ×1, ×10, ×100 inputs. A benchmark, not a test: it
# prints figures and never fails on them.
#
#   IJ=target/release/ij bash scripts/bench.sh
#   RUNS=5 SCALES="1 10 100" SEED=1 bash scripts/bench.sh
#
# Whole-process figures from /usr/bin/time -v: wall time, CPU (user + system)
# and peak resident memory; medians over RUNS alternating runs after a warm-up.
set -uo pipefail
cd "$(dirname "$0")/.."
IJ=${IJ:-target/release/ij}
RUNS=${RUNS:-5}
SCALES=${SCALES:-1 10 100}
SEED=${SEED:-1}
REAL=${IJ_REAL_DATA:-../shared/data/real}
PEER=${PEER:-../shared/bench/peer_duckdb.py}
WORK=${BENCH_DIR:-$(dirname "$IJ")/bench}
mkdir -p "$WORK"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# GNU time (Debian package `time`): installed here, not by .ci/run, since
# the benchmark is no test.
if [ ! -x /usr/bin/time ]; then
  echo "bench: installing GNU time (apt-get install time)" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time) >/dev/null 2>&1 || true
fi
if [ ! -x /usr/bin/time ]; then
  echo "bench: /usr/bin/time is missing and could not be installed" >&2
  exit 0
fi

# measure OUTFILE CMD...: runs CMD, appends "wall_s cpu_s rss_mib" to OUTFILE.
measure() {
  local file=$1; shift
  local log="$TMP/time.log"
  if ! /usr/bin/time -v -o "$log" "$@" >"$TMP/cmd.out" 2>&1; then
    echo "bench: failed: $*" >&2
    tail -5 "$TMP/cmd.out" >&2
    echo "nan nan nan" >>"$file"
    return
  fi
  awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, t, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + t[i] }
    /User time/ { u = $2 } /System time/ { sy = $2 }
    /Maximum resident set size/ { r = $2 / 1024 }
    END { printf "%.3f %.3f %.1f\n", w, u + sy, r }' "$log" >>"$file"
}

# median FILE COLUMN
median() {
  awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

row() { # label file
  printf '%-44s %8s s %8s s %8s MiB\n' "$1" "$(median "$2" 1)" "$(median "$2" 2)" "$(median "$2" 3)"
}

echo "ij bench — $(nproc) cores, $("$IJ" --version), medians of $RUNS runs"
echo

# 1. ij against the DuckDB peer on the real extracts, alternating.
if [ -d "$REAL" ] && [ -f "$PEER" ]; then
  PY=python3
  if ! python3 -c 'import duckdb' 2>/dev/null; then
    VENV=$(dirname "$IJ")/../bench-venv
    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import duckdb' 2>/dev/null; then
      echo "bench: installing duckdb into $VENV" >&2
      python3 -m venv "$VENV" && "$VENV/bin/pip" install --quiet duckdb >/dev/null
    fi
    PY=$VENV/bin/python
  fi
  : >"$TMP/ij" ; : >"$TMP/peer"
  "$IJ" run pipelines/real.toml --out "$TMP/real" --quiet >/dev/null 2>&1   # warm-up
  "$PY" "$PEER" "$REAL" "$TMP/peer-out" >/dev/null 2>&1
  # The peer's engine writing ij's release alone (its tables read from
  # their Parquet, written as CSV and zstd Parquet; no computation): the
  # peer writes 5.7 MB, ij 62 MB, and this says what those bytes cost DuckDB.
  release=$(ls -d "$TMP"/real/release/*/ 2>/dev/null | head -1)
  : >"$TMP/write"
  for _ in $(seq "$RUNS"); do
    measure "$TMP/ij" "$IJ" run pipelines/real.toml --out "$TMP/real" --quiet
    measure "$TMP/peer" "$PY" "$PEER" "$REAL" "$TMP/peer-out"
    [ -n "$release" ] && measure "$TMP/write" "$PY" scripts/peer_write_release.py "$release" "$TMP/peer-write"
  done
  printf '%-44s %10s %10s %12s\n' "real extracts" "wall" "CPU" "peak RSS"
  row "ij run pipelines/real.toml --quiet" "$TMP/ij"
  row "python3 peer_duckdb.py (DuckDB)" "$TMP/peer"
  [ -s "$TMP/write" ] && row "DuckDB writing ij's release alone" "$TMP/write"
  awk -v a="$(median "$TMP/ij" 1)" -v b="$(median "$TMP/peer" 1)" \
    'BEGIN { if (b > 0) printf "ratio ij / peer (median wall): %.2f\n", a / b }'
  [ -s "$TMP/write" ] && awk -v a="$(median "$TMP/ij" 1)" -v b="$(median "$TMP/write" 1)" \
    'BEGIN { if (b > 0) printf "ratio ij / DuckDB writing ij'"'"'s release (median wall): %.2f\n", a / b }'
  echo
else
  echo "bench: $REAL or $PEER is missing: the comparison with the DuckDB peer is skipped"
  echo
fi

# 2. ij on synthetic inputs, generated once per scale and seed. The scales
# are measured in rounds, one run of each per round (×10 in the first three,
# ×100 in the first only), so that the ratio to ×1 compares runs taken at
# the same moments: the VM's speed drifts by 20 % and more over minutes.
printf '%-44s %10s %10s %12s %8s\n' "synthetic (seed $SEED)" "wall" "CPU" "peak RSS" "wall/×1"
scales=""
for scale in $SCALES; do
  data="$WORK/synth-x$scale-s$SEED"
  if [ ! -f "$data/pipeline.toml" ]; then
    "$IJ" synth --scale "$scale" --seed "$SEED" --out "$data" --quiet || { echo "bench: ij synth --scale $scale failed"; continue; }
  fi
  scales="$scales $scale"
  : >"$TMP/s$scale"
done
# runs_of SCALE: how many rounds measure it.
runs_of() {
  if [ "$1" = 1 ]; then echo "$RUNS"
  elif [ "${1%%.*}" -ge 100 ] 2>/dev/null; then echo 1
  else echo $(( RUNS > 3 ? 3 : RUNS ))
  fi
}
for round in $(seq "$RUNS"); do
  for scale in $scales; do
    [ "$round" -le "$(runs_of "$scale")" ] || continue
    measure "$TMP/s$scale" "$IJ" run "$WORK/synth-x$scale-s$SEED/pipeline.toml" --out "$TMP/synth-out" --quiet
    rm -rf "$TMP/synth-out"
  done
done
base=""
for scale in $scales; do
  wall=$(median "$TMP/s$scale" 1)
  [ -z "$base" ] && base=$wall
  printf '%-44s %8s s %8s s %8s MiB %8s\n' "ij run synthetic ×$scale ($(runs_of "$scale") runs)" "$wall" \
    "$(median "$TMP/s$scale" 2)" "$(median "$TMP/s$scale" 3)" \
    "$(awk -v a="$wall" -v b="$base" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "nan" }')"
done
echo

# 3. A national-size catalogue through coverage (issue 13's target: under
# 10 s and 1 GiB): the real Affelnet 2nde rows repeated to 200 MB, measured
# against the real run's bcn and indicators stages.
AFFELNET="$REAL/catalogues/affelnet2nde.csv"
if [ -f "$AFFELNET" ] && [ "${BIG_CATALOGUE:-1}" != 0 ]; then
  big="$WORK/affelnet2nde-200MB.csv"
  if [ ! -f "$big" ]; then
    head -1 "$AFFELNET" >"$big.tmp"
    # The real file has no final line break: one is added after each copy.
    while [ "$(stat -c %s "$big.tmp")" -lt 200000000 ]; do
      tail -n +2 "$AFFELNET" | sed -e '$a\' >>"$big.tmp"
    done
    mv "$big.tmp" "$big"
  fi
  [ -d "$TMP/real/indicators" ] || "$IJ" run pipelines/real.toml --out "$TMP/real" --quiet >/dev/null 2>&1
  : >"$TMP/big"
  for _ in $(seq "$(( RUNS > 3 ? 3 : RUNS ))"); do
    measure "$TMP/big" "$IJ" coverage --catalogue "$big" --format affelnet-2nde \
      --bcn-out "$TMP/real/bcn" --indicators-out "$TMP/real/indicators" --out "$TMP/big-out" --quiet
  done
  printf '%-44s %10s %10s %12s\n' "catalogue of $(( $(stat -c %s "$big") / 1000000 )) MB ($(( $(wc -l <"$big") - 1 )) offers)" "wall" "CPU" "peak RSS"
  row "ij coverage (affelnet-2nde, real stages)" "$TMP/big"
  rm -rf "$TMP/big-out"
  echo
fi
echo "per-stage timings of the real run: bash scripts/bench_stages.sh"
exit 0
