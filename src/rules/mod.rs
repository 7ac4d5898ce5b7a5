//! Pure domain rules: no files, no environment, no printing. Each rule is a
//! small function with its own table-driven tests.
//!
//! Glossary (the domain's words are kept in French, as in the sources):
//! - **CFD** (`code_formation_diplome`): 8-character diploma code of the BCN;
//!   keys apprenticeship data.
//! - **MEF_STAT_11**: 11-character school-year code; keys voie scolaire data.
//! - **SISE**: 7-character higher-education diploma code (InserSup).
//! - **UAI**: establishment id, 7 digits and a check letter.
//! - **code_certification**: the code a row of indicators is keyed by (a CFD,
//!   a MEF_STAT_11 or a SISE code), with its `code_certification_type`.
//! - **millésime**: the cohort year (`2023`) or cumulated pair (`2022_2023`).
//! - **filière**: `pro` (voie scolaire), `apprentissage`, `agricole`, `superieur`.
//! - **continuum**: the lineage of a training whose code the ministry revised.
//! - **seuil**: the diffusion threshold (no rate under 20 students).

pub mod codes;
pub mod continuum;
pub mod dates;
pub mod exposition;
pub mod famille;
pub mod filiere;
pub mod masquage;
pub mod millesime;
pub mod niveau;
pub mod perimetre;
pub mod pilotage;
pub mod rates;
pub mod spreadsheet;
