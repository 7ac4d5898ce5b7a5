//! `ij`: the InserJeunes / InserSup indicators pipeline, as a library.
//!
//! Where things are:
//! - `input/`: reading raw extracts (encodings, delimiters, quoting, JSON);
//! - `staging/`: one loader per source table, typed rows, no joins;
//! - `rules/`: the domain rules as small pure functions;
//! - `stages/`: one module per pipeline stage (`bcn`, `continuum`, …);
//! - `output/`: typed tables written as CSV and Parquet, atomically;
//! - `pilotage/`: `ij pilotage`, a région's Q4 formations and their page;
//! - `pipeline`: pipeline files and the runner; `cli`: the command line;
//! - `api/`: the partners' API and widgets, served from a release;
//! - `synth/`: `ij synth`, synthetic inputs in the real layouts (issue 13).

pub mod api;
pub mod cli;
pub mod error;
pub mod input;
pub mod memory;
pub mod output;
pub mod pilotage;
pub mod pipeline;
pub mod progress;
pub mod release;
pub mod rules;
pub mod stages;
pub mod staging;
pub mod synth;

pub use error::{Error, Result};
