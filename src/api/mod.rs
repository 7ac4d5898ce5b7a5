//! The partners' API and its widgets, served from a release (issue 11).
//!
//! `ij serve RELEASE_DIR` answers the routes of `../shared/API.md` (the
//! "Exposition InserJeunes" API) from a release folder and nothing else;
//! `ij api export` writes the same answers as a static tree.
//!
//! - `data`: the release's Parquet tables, read once and indexed;
//! - `query`: parsing and checking what a request asks (400 with a reason);
//! - `resolve`: finding the rows (millésime, first year → terminal years,
//!   the filières view's sums);
//! - `shapes`: the API's JSON fields, from our rows (`rules::exposition`
//!   maps our rates to the API's);
//! - `bulk`: paginated lists and their CSV;
//! - `widget`: the SVG widgets;
//! - `routes`: the route table and `answer`, the one function that turns a
//!   request into bytes; `openapi`: `GET /api/doc` from that table;
//! - `server`: axum; `export`: the static tree.

pub mod bulk;
pub mod cli;
pub mod data;
pub mod export;
pub mod openapi;
pub mod query;
pub mod resolve;
pub mod route_table;
pub mod routes;
pub mod server;
pub mod shapes;
pub mod widget;

use std::path::Path;

use crate::staging::reference::Reference;

/// A loaded release and the territories (régions, académies) it names.
#[derive(Debug)]
pub struct Api {
    pub data: data::ReleaseData,
    pub reference: Reference,
}

impl Api {
    pub fn load(dir: &Path) -> crate::Result<Api> {
        Ok(Api {
            data: data::load(dir)?,
            reference: Reference::embedded(),
        })
    }
}
