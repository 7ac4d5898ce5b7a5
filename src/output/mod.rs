//! The output layer: tables as typed columns (`table`), written as CSV and
//! Parquet into a staged folder that is renamed into place only when every
//! file was written (`staged`).

pub mod staged;
pub mod table;

pub use staged::StagedDir;
pub use table::{CsvOptions, OutTable};
