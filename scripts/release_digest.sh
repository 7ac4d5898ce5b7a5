#!/usr/bin/env bash
# SHA-256 of every file under a folder (a release, or a whole run folder such
# as dist/sample), one `<sha256>  <relative path>` line per file, sorted by
# path (byte order), so that two runs can be compared with `diff`:
#
#   bash scripts/release_digest.sh dist/sample > /tmp/before.txt
#   ... change the code, run again ...
#   bash scripts/release_digest.sh dist/sample | diff /tmp/before.txt -
#
# Issue 12 asks for byte-identical releases before and after a refactoring.
# No file of a run embeds a time, a path outside the repository or a hash of
# the binary: two runs of the same inputs give the same digest, run.json and
# the stages' *_summary.json included (checked on the sample and the real run;
# run.json records `tool_version`, the crate's version, which moves only with
# Cargo.toml). Any line that differs is a real change of output.
# Usage: bash scripts/release_digest.sh [FOLDER]   (default dist/sample)
set -euo pipefail
dir=${1:-dist/sample}
if [ ! -d "$dir" ]; then
  echo "release_digest: $dir is not a folder (run \`make run\` first, or give a FOLDER)" >&2
  exit 1
fi
cd "$dir"
LC_ALL=C find . -type f -printf '%P\n' | LC_ALL=C sort | while IFS= read -r f; do
  sha256sum -- "$f"
done
