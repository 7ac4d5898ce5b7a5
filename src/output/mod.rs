//! The output layer: tables as typed columns (`table`), written as CSV
//! (`csv`) and Parquet (`row_group`) into a staged folder swapped into
//! place as a whole (`staged`),
//! the hashes that tie a run's stage folders together (`record`) and the
//! SHA-256 they are made of (`digest`), the lock that keeps two runs out
//! of one folder (`lock`), and files kept from filling the page cache
//! (`page_cache`).

pub mod csv;
pub mod digest;
pub mod html;
pub mod lock;
pub mod page_cache;
pub mod record;
pub mod row_group;
pub mod staged;
pub mod table;

pub use staged::StagedDir;
pub use table::{CsvOptions, OutTable};
