//! Releases: a folder per version holding every published table as CSV,
//! Parquet and Table Schema, with `datapackage.json`, `README.md` and
//! `manifest.json`, built atomically and validated before it is written.

pub mod build;
pub mod dictionary;
pub mod diff;
pub mod keys;
pub mod package;
pub mod pattern;
pub mod publish;
pub mod readme;
pub mod schema;
pub mod validate;
