#!/usr/bin/env bash
# Renders a coverage report the way a reader sees it, to look at by eye: a
# screenshot (PNG) and a printed copy (PDF, A4) next to the HTML file, with
# headless Chromium, offline (every host name resolves to nowhere).
# Usage: bash scripts/render_check.sh OUT/coverage/coverage_report.html [HEIGHT]
# Needs Debian's chromium (apt-get install chromium). Not a test: the browser
# test is tests/coverage_report.rs.
set -euo pipefail
html=${1:?usage: render_check.sh REPORT.html [HEIGHT]}
height=${2:-3000}
[ -f "$html" ] || { echo "render_check: $html is missing" >&2; exit 1; }
chromium=$(command -v chromium || true)
[ -n "$chromium" ] || { echo "render_check: no chromium (apt-get install chromium)" >&2; exit 1; }
html=$(realpath "$html")
base=${html%.html}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

run() {
  timeout --kill-after=5 60 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update --disable-sync \
    --host-resolver-rules="MAP * ~NOTFOUND" --user-data-dir="$profile" "$@" "file://$html" \
    2>/dev/null
}
run --window-size="1280,$height" --screenshot="$base.png" >/dev/null
run --no-pdf-header-footer --print-to-pdf="$base.pdf" >/dev/null
echo "render_check: wrote $base.png (1280×$height) and $base.pdf"
