# ij — the InserJeunes / InserSup indicators pipeline.
# On a fresh clone: `make run` then `make test`. Only the Rust toolchain is needed.

CARGO ?= cargo
IJ_DEBUG = $(or $(CARGO_TARGET_DIR),target)/debug/ij
IJ_RELEASE = $(or $(CARGO_TARGET_DIR),target)/release/ij

.PHONY: run run-real test test-real coverage-check bench bench-stages bench-serve serve fmt lint clean help release-digest

help:
	@echo "make run        build, then run the default pipeline on the embedded sample (dist/sample/)"
	@echo "make test       unit, integration and real-data tests (real data skipped if ../shared is absent)"
	@echo "make run-real   run pipelines/real.toml on ../shared/data/real (release build)"
	@echo "make test-real  the real-data suite alone, in release"
	@echo "make coverage-check  fail if the sample's coverage fell below coverage/baseline/"
	@echo "make bench      ij vs the DuckDB peer on the real files, then ij on synthetic ×1, ×10, ×100 (release build)"
	@echo "make bench-stages  time each stage on the real files (release build)"
	@echo "make serve      serve the sample release as the partners' API on 127.0.0.1:8080"
	@echo "make bench-serve  wrk against ij serve on the real release (after make run-real)"
	@echo "make release-digest  SHA-256 of every file of a run folder (DIR=dist/sample), to compare runs byte for byte"
	@echo "make lint       rustfmt check, clippy and rustdoc with warnings denied (as .ci/run)"

run:
	$(CARGO) build --quiet
	$(IJ_DEBUG) run pipelines/default.toml

run-real:
	$(CARGO) build --release --quiet
	$(IJ_RELEASE) run pipelines/real.toml

test:
	@real="$${IJ_REAL_DATA:-../shared/data/real}"; \
	if [ -d "$$real" ]; then echo "real-data suite: runs on $$real"; \
	else echo "real-data suite: skipped, $$real is absent (set IJ_REAL_DATA to run it)"; fi
	$(CARGO) test --quiet

test-real:
	$(CARGO) test --release --quiet --test main real_data

coverage-check:
	$(CARGO) build --quiet
	$(IJ_DEBUG) run pipelines/default.toml --quiet
	@for dir in coverage/baseline/*/; do \
	  name=$$(basename $$dir); \
	  echo "coverage check: $$name"; \
	  $(IJ_DEBUG) coverage check --baseline $$dir/coverage_summary.json \
	    --current dist/sample/coverage/$$name/coverage_summary.json --tolerance 0 --explain || exit 1; \
	done

# SHA-256 of every file of a run or release folder, sorted by relative path:
# `make release-digest > before.txt`, change the code, `make run`, then
# `make release-digest | diff before.txt -` (DIR=dist/real for the real run).
DIR ?= dist/sample
release-digest:
	@bash scripts/release_digest.sh $(DIR)

bench:
	$(CARGO) build --release --quiet
	IJ=$(IJ_RELEASE) bash scripts/bench.sh

serve:
	$(CARGO) build --quiet
	$(IJ_DEBUG) serve $$(ls -d dist/sample/release/*/ | head -1)

bench-serve:
	$(CARGO) build --release --quiet
	IJ=$(IJ_RELEASE) bash scripts/bench-serve.sh

bench-stages:
	$(CARGO) build --release --quiet
	IJ=$(IJ_RELEASE) bash scripts/bench_stages.sh

fmt:
	$(CARGO) fmt

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --quiet -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --quiet

clean:
	rm -rf dist
