#!/usr/bin/env bash
# Load test of `ij serve` on loopback (issue 11): wrk against one JSON route
# and one SVG route with a release loaded, then the server's peak resident
# memory. A benchmark, not a test: it prints figures and keeps no threshold
# (targets: ≥ 20,000 JSON answers/s, p99 < 5 ms, RSS < 300 MiB on 2 cores).
# Usage: IJ=target/release/ij bash scripts/bench-serve.sh [RELEASE_DIR] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
IJ=${IJ:-target/release/ij}
RELEASE=${1:-}
SECONDS_PER_ROUTE=${2:-10}
if [ -z "$RELEASE" ]; then
  RELEASE=$(ls -d dist/real/release/*/ 2>/dev/null | head -1 || true)
fi
if [ -z "$RELEASE" ] || [ ! -f "$RELEASE/manifest.json" ]; then
  echo "bench-serve: no release (run \`make run-real\` first, or give RELEASE_DIR)" >&2
  exit 1
fi
if ! command -v wrk >/dev/null 2>&1; then
  echo "bench-serve: installing wrk (Debian)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

log=$(mktemp)
"$IJ" serve "$RELEASE" --addr 127.0.0.1:0 --threads 2 >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 300); do
  grep -q "http://" "$log" && break
  sleep 0.1
done
base=$(grep -o 'http://[0-9.:]*' "$log" | head -1)
[ -n "$base" ] || { cat "$log" >&2; exit 1; }
echo "release: $RELEASE"
sed -n '1p' "$log"

# A real code with figures at the latest national millésime of apprenticeship
# (asked from the API itself), so that every answer is a 200.
latest=$(curl -s "$base/api" | python3 -c 'import json, sys; print(json.load(sys.stdin)["dernier_millesime"]["certifications"]["apprentissage"])')
code=$(curl -s "$base/api/inserjeunes/certifications?millesimes=$latest&items_par_page=1000" | python3 -c '
import json, sys
items = json.load(sys.stdin)["certifications"]
ok = [i for i in items if i["taux_en_emploi_6_mois"] is not None and i["filiere"] == "apprentissage"]
print(ok[len(ok) // 2]["code_certification"])')
json_url="$base/api/inserjeunes/certifications/$code"
svg_url="$base/api/inserjeunes/certifications/$code.svg"
for url in "$json_url" "$svg_url"; do
  status=$(curl -s -o /dev/null -w '%{http_code}' "$url")
  [ "$status" = 200 ] || { echo "bench-serve: $url answers $status" >&2; exit 1; }
done

run() {
  local label=$1 url=$2
  local out
  out=$(wrk -t2 -c32 -d"${SECONDS_PER_ROUTE}s" --latency "$url")
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  printf '%-5s %-60s %10s req/s   p50 %8s   p99 %8s\n' "$label" "${url#$base}" "$rps" "$p50" "$p99"
  grep -E 'Non-2xx|Socket errors' <<<"$out" || true
}
run JSON "$json_url"
run SVG "$svg_url"
printf 'peak resident memory (VmHWM): %s\n' "$(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
