//! Integration tests: they run the built `ij` binary on fixtures in fresh
//! temporary folders. One test binary keeps compile times short.

mod common;

mod api;
mod api_bad_requests;
mod api_export;
mod api_widgets;
mod bad_input;
mod bcn_continuum;
mod coverage;
mod coverage_real;
mod coverage_report;
mod diff_publish;
mod familles;
mod indicators;
mod integrity;
mod issue9;
mod pilotage;
mod real_data;
mod release;
mod synth;
