//! Stage `coverage`: how much of a platform's catalogue the indicators cover,
//! offer by offer, and why the rest is not (issue 4).
//!
//! For each offer, the indicator a platform would show is looked for at the
//! establishment (the offer's UAI, then its formateur or gestionnaire for an
//! apprenticeship site), then the région, then the nation; at each level
//! through the offer's code, its continuum (rows the indicators stage derived
//! from a revised code), and, for a first year, the terminal year it leads
//! to (or, for a common first year, its famille de métiers). An indicator is
//! shown when its row is not masked. Every offer gets exactly one status, and
//! offers in = offers out.
//!
//! The waterfall runs the same resolution with its steps switched on one
//! after the other, so each step's gain is measured, not guessed.
//!
//! A catalogue is read, measured and written in chunks (`run_with`): the
//! upstream tables coverage reads (`index`), one offer's resolution
//! (`resolve`), the tally of the summary (`tally`), the offers table
//! (`tables`), the HTML report (`report`), the CI gate (`check`).

pub mod check;
pub mod formations;
pub mod index;
pub mod model;
pub mod report;
pub mod resolve;
pub mod tables;
pub mod tally;

pub use index::{IndicatorIndex, Shown, Terminales};
pub use resolve::{
    regional_waterfall_steps, resolve, waterfall_steps, Context, MefToCode, Outcome, Prepared,
    Steps,
};
pub use tables::{offers_table, OFFERS_TABLE};
pub use tally::{build_coverage, Coverage, Measured, Tally, Waterfalls};

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::output::table::{row_group_ranges, TableWriter, ROW_GROUP_ROWS};
use crate::output::{OutTable, StagedDir};
use crate::stages::{OutputFile, StageContext, StageReport};
use crate::staging::catalogues::{for_each_offer_chunk, CatalogueColumns, CatalogueFormat, Offre};
use crate::staging::reference::Reference;

use formations::Formations;
use model::{rate, CoverageSummary, Share, WaterfallStep};

// ---- Running the stage -------------------------------------------------------

/// The threshold and continuum policy the indicators stage recorded in its
/// summary, so the coverage summary and report say the ones actually used.
fn indicators_settings(indicators_out: &Path) -> Result<(Option<i64>, Option<String>)> {
    let path = indicators_out.join("indicators_summary.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok((None, None));
    };
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::file(&path, format!("not the indicators stage's summary: {e}")))?;
    Ok((
        v["seuil"].as_i64(),
        v["continuum_policy"].as_str().map(str::to_string),
    ))
}

/// A catalogue to measure, as listed in a pipeline file or on the command line.
#[derive(Debug, Clone)]
pub struct CatalogueInput {
    pub name: String,
    pub path: std::path::PathBuf,
    pub format: Option<CatalogueFormat>,
    /// The catalogue's own column names, when it has no known layout (issue 9).
    pub columns: Option<CatalogueColumns>,
}

/// What coverage reads from the earlier stages, loaded once per run and
/// shared by every catalogue: the referential, the indicator index, the
/// terminal certifications, the closed establishments, and the settings the
/// indicators were computed with.
pub struct Upstream {
    reference: Reference,
    referentiel: Formations,
    mef_to_code: MefToCode,
    indicators: IndicatorIndex,
    terminales: Terminales,
    /// UAIs the establishment directories say are closed, when any is given.
    fermes: Option<std::collections::HashSet<String>>,
    seuil: Option<i64>,
    continuum_policy: Option<String>,
}

impl Upstream {
    pub fn load(
        bcn_out: &Path,
        indicators_out: &Path,
        annuaire: &[std::path::PathBuf],
    ) -> Result<Upstream> {
        crate::memory::trace("coverage: upstream to load");
        let reference = Reference::embedded();
        let fermes = if annuaire.is_empty() {
            None
        } else {
            Some(crate::staging::annuaire::load_annuaire(annuaire, &reference)?.closed_uais())
        };
        let (referentiel, mef_to_code) = Formations::load(bcn_out)?;
        crate::memory::trace("coverage: formations loaded");
        let indicators = IndicatorIndex::load(indicators_out)?;
        crate::memory::trace("coverage: indicators loaded");
        let terminales = Terminales::load(indicators_out)?;
        crate::memory::trace("coverage: terminales loaded");
        let (seuil, continuum_policy) = indicators_settings(indicators_out)?;
        Ok(Upstream {
            reference,
            referentiel,
            mef_to_code,
            indicators,
            terminales,
            fermes,
            seuil,
            continuum_policy,
        })
    }
}

/// `ij coverage`: measures one catalogue against the indicators, writing
/// `coverage_offers`, `coverage_summary.json` and `coverage_report.html`.
pub fn run(
    catalogue: &CatalogueInput,
    bcn_out: &Path,
    indicators_out: &Path,
    ctx_out: &StageContext,
    annuaire: &[std::path::PathBuf],
) -> Result<StageReport> {
    let start = Instant::now();
    let upstream = Upstream::load(bcn_out, indicators_out, annuaire)?;
    let mut report = run_with(catalogue, &upstream, ctx_out)?;
    report.elapsed = start.elapsed();
    Ok(report)
}

/// Offers measured at a time: a catalogue is read, measured and written
/// chunk by chunk, so a national catalogue of millions of offers needs the
/// memory of one chunk (issue 13: 200 MB took 6 GB when held whole). Each
/// chunk is a row group of `coverage_offers.parquet`.
const CHUNK_OFFERS: usize = 65_536;

/// Measures one catalogue against upstream tables already loaded.
pub fn run_with(
    catalogue: &CatalogueInput,
    upstream: &Upstream,
    ctx_out: &StageContext,
) -> Result<StageReport> {
    run_in_chunks(catalogue, upstream, ctx_out, CHUNK_OFFERS, None)
}

/// [`run_with`], `chunk_offers` offers at a time, each chunk tallied in
/// pieces of `tally_piece` offers (tests use small chunks and pieces:
/// every size gives the same table and summary).
fn run_in_chunks(
    catalogue: &CatalogueInput,
    upstream: &Upstream,
    ctx_out: &StageContext,
    chunk_offers: usize,
    tally_piece: Option<usize>,
) -> Result<StageReport> {
    let start = Instant::now();
    let ctx = Context {
        referentiel: &upstream.referentiel,
        mef_to_code: &upstream.mef_to_code,
        indicators: &upstream.indicators,
        terminales: &upstream.terminales,
        reference: &upstream.reference,
        etablissements_fermes: upstream.fermes.as_ref(),
    };
    let mut staged = StagedDir::new(&ctx_out.out_dir)?;
    let mut table = TableWriter::create(staged.dir(), OFFERS_TABLE, &ctx_out.csv)?;
    let mut tally = Tally::new(&catalogue.name, Waterfalls::default());
    if let Some(piece) = tally_piece {
        tally = tally.in_pieces_of(piece);
    }
    let (format, offers_in) =
        measure_catalogue(catalogue, &ctx, chunk_offers, &mut tally, &mut table)?;
    let mut summary = tally.finish(format, &ctx);
    summary.seuil = upstream.seuil;
    summary.continuum_policy = upstream.continuum_policy.clone();
    if table.rows() != offers_in || summary.offers != offers_in {
        return Err(Error::file(
            &catalogue.path,
            "internal error: offers in ≠ offers out",
        ));
    }
    let written = table.finish()?;
    staged.note_written(OFFERS_TABLE, &written);
    staged.write_json("coverage_summary.json", &summary)?;
    let html = report::render_report(
        &summary,
        &format!("Couverture du catalogue {}", catalogue.name),
    );
    staged.write_bytes("coverage_report.html", html.as_bytes())?;
    let mut details = report_details(&catalogue.path, offers_in, &summary);
    details.extend(staged.commit()?);
    Ok(StageReport {
        stage: "coverage".into(),
        inputs: vec![crate::staging::InputFile {
            table: format!("catalogue {}", format.as_str()),
            path: catalogue.path.clone(),
            format: None,
            rows: offers_in,
        }],
        outputs: vec![
            OutputFile::table_rows(&ctx_out.out_dir, OFFERS_TABLE, summary.offers),
            OutputFile::file(&ctx_out.out_dir, "coverage_summary.json"),
            OutputFile::file(&ctx_out.out_dir, "coverage_report.html"),
        ],
        rows_read: offers_in,
        rows_written: summary.offers,
        rows_rejected: 0,
        rows_merged: 0,
        details,
        elapsed: start.elapsed(),
    })
}

/// Reads the catalogue chunk by chunk into `tally` and `table`; returns its
/// format and the offers read. Three threads, each on its own chunk: one
/// reads and stages the next chunk, one measures the current one, tallies
/// it and builds its rows (each in parallel), one writes the previous
/// one's. Writing a chunk took as long as measuring it, one after the
/// other (200 MB catalogue: 8.4 s writing, 13.7 s the rest, issue 13).
fn measure_catalogue(
    catalogue: &CatalogueInput,
    ctx: &Context,
    chunk_offers: usize,
    tally: &mut Tally,
    table: &mut TableWriter,
) -> Result<(CatalogueFormat, usize)> {
    use rayon::prelude::*;
    use std::sync::mpsc::sync_channel;
    // The offers the catalogue holds, when it tells before its first chunk.
    let counted = std::sync::OnceLock::new();
    let counted = &counted;
    std::thread::scope(|scope| {
        let (send_offers, offers_received) = sync_channel::<Vec<Offre>>(1);
        let (send_rows, rows_received) = sync_channel::<OutTable>(1);
        let writer = scope.spawn(move || -> Result<()> {
            // Chunks gathered into the row groups a whole write of the
            // offers cuts (`row_group_ranges` of their count), so that the
            // release takes the stage's files as they are (issue 13: ×10's
            // Affelnet offers, three groups of 65,536, then ×100's, nine of
            // about 266,000 and some, were read back and written again by
            // the release). A catalogue whose offers are not counted
            // before they are read: groups of at least `ROW_GROUP_ROWS`.
            let cut = || {
                counted.get().map_or_else(Vec::new, |&offers| {
                    row_group_ranges(offers).map(|r| r.len()).collect()
                })
            };
            gather_groups(rows_received, cut, ROW_GROUP_ROWS, |group| {
                table.write(group)
            })
        });
        let measurer = scope.spawn(move || {
            for offers in offers_received {
                let waterfalls = tally.waterfalls();
                let measured: Vec<Measured> = offers
                    .par_iter()
                    .map(|o| waterfalls.measure(o, ctx))
                    .collect();
                tally.add_all(&offers, &measured, ctx);
                // Fails only when the writer stopped on an error, reported below.
                if send_rows.send(offers_table(&offers, &measured)).is_err() {
                    break;
                }
            }
        });
        let mut offers_in = 0;
        let read = for_each_offer_chunk(
            &catalogue.path,
            catalogue.format,
            catalogue.columns.as_ref(),
            ctx.reference,
            chunk_offers,
            |offers| {
                // Told once, before the first chunk is sent.
                let _ = counted.set(offers);
            },
            |offers| {
                offers_in += offers.len();
                // Fails only when the writer stopped on an error (the
                // measurer then stops), reported below.
                send_offers.send(offers).map_err(|_| {
                    Error::file(&catalogue.path, "the coverage table could not be written")
                })
            },
        );
        drop(send_offers);
        if let Err(panic) = measurer.join() {
            std::panic::resume_unwind(panic);
        }
        // The writer's error is the cause of a failed send: it comes first.
        match writer.join() {
            Ok(written) => written?,
            Err(panic) => std::panic::resume_unwind(panic),
        }
        Ok((read?, offers_in))
    })
}

/// Gathers chunks of rows into groups, each handed to `write`: of the
/// sizes `cut` gives (asked once the first chunk has come), then, past
/// them or without them, of at least `min_rows` rows; the rest last.
fn gather_groups(
    chunks: impl IntoIterator<Item = OutTable>,
    cut: impl FnOnce() -> Vec<usize>,
    min_rows: usize,
    mut write: impl FnMut(OutTable) -> Result<()>,
) -> Result<()> {
    let mut gathered: Option<OutTable> = None;
    let mut cut = Some(cut);
    let mut sizes = Vec::new();
    let mut groups = 0;
    for rows in chunks {
        match &mut gathered {
            Some(g) => g.append(rows)?,
            None => gathered = Some(rows),
        }
        if let Some(cut) = cut.take() {
            sizes = cut();
        }
        while let Some(g) = &mut gathered {
            match sizes.get(groups) {
                Some(&size) if g.rows() >= size => {
                    let rest = g.split_off(size);
                    write(std::mem::replace(g, rest))?;
                    groups += 1;
                    if gathered.as_ref().is_some_and(|g| g.rows() == 0) {
                        gathered = None;
                    }
                }
                None if g.rows() >= min_rows => write(gathered.take().expect("gathered"))?,
                _ => break,
            }
        }
    }
    match gathered {
        Some(rest) => write(rest),
        None => Ok(()),
    }
}

/// What the terminal says about a measured catalogue.
fn report_details(path: &Path, offers_in: usize, s: &CoverageSummary) -> Vec<String> {
    let mut details = vec![format!(
        "{}: {} offers in = {} offers out; {} covered ({:.1} %)",
        path.display(),
        offers_in,
        s.offers,
        s.covered,
        s.coverage_rate
    )];
    let statuses: Vec<String> = s
        .by_status
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    details.push(format!("statuses: {}", statuses.join(", ")));
    let steps = |w: &[WaterfallStep]| {
        w.iter()
            .map(|x| format!("{} {:.1} % (+{})", x.step, x.coverage_rate, x.added))
            .collect::<Vec<_>>()
            .join(" → ")
    };
    details.push(format!("waterfall: {}", steps(&s.waterfall)));
    details.push(format!(
        "waterfall from the région: {}",
        steps(&s.waterfall_region)
    ));
    let filieres: Vec<String> = s
        .by_filiere
        .iter()
        .map(|(k, v)| format!("{k} {:.1} % of {}", v.coverage_rate, v.offers))
        .collect();
    details.push(format!("by filière: {}", filieres.join(", ")));
    details
}

/// Shares by filière and level, for the CI gate.
pub fn level_shares(s: &CoverageSummary) -> BTreeMap<String, Share> {
    s.by_level
        .iter()
        .map(|(k, n)| {
            (
                k.clone(),
                Share {
                    offers: s.offers,
                    covered: *n,
                    coverage_rate: rate(*n, s.offers),
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::model::Via;
    use super::*;
    use crate::rules::codes::Code;
    use crate::rules::filiere::Filiere;
    use crate::rules::masquage::Masked;
    use crate::rules::millesime::Millesime;
    use crate::rules::niveau::NiveauGeographique;
    use crate::stages::indicators::model::DonneeSourceType;
    use crate::staging::catalogues::OffreCodeType;
    use formations::Formation;
    use model::Status;

    /// The groups `gather_groups` writes from chunks of these sizes, with
    /// that cut, and at least 5 rows past it; each group's rows in order.
    fn groups(chunks: &[usize], cut: &[usize]) -> Vec<usize> {
        let mut next = 0i64;
        let chunks = chunks.iter().map(|&n| {
            let mut t = OutTable::new("t");
            t.int("n", (next..next + n as i64).map(Some));
            next += n as i64;
            t
        });
        let mut written = Vec::new();
        let mut expected_first = 0;
        gather_groups(
            chunks,
            || cut.to_vec(),
            5,
            |g| {
                let df = g.into_dataframe().unwrap();
                let n = df.column("n").unwrap().i64().unwrap();
                let values: Vec<i64> = n.into_no_null_iter().collect();
                let expected: Vec<i64> =
                    (expected_first..expected_first + values.len() as i64).collect();
                assert_eq!(values, expected);
                expected_first += values.len() as i64;
                written.push(values.len());
                Ok(())
            },
        )
        .unwrap();
        written
    }

    /// Chunks are cut where the cut says, whatever their own sizes; past
    /// the cut, or without one, gathered to at least the least size; an
    /// empty catalogue is one empty group.
    #[test]
    fn chunks_gathered_into_the_cut() {
        assert_eq!(groups(&[3, 3, 3, 3, 1], &[4, 4, 5]), [4, 4, 5]);
        assert_eq!(groups(&[13], &[4, 4, 5]), [4, 4, 5]);
        assert_eq!(groups(&[3, 3, 3, 3, 1], &[]), [6, 6, 1]);
        assert_eq!(groups(&[3, 3, 3, 3, 1], &[4]), [4, 5, 4]);
        assert_eq!(groups(&[2, 2], &[7]), [4]);
        assert_eq!(groups(&[0], &[0]), [0]);
    }

    fn cert(code: &str, cfd: &str, premiere: Option<i32>) -> (Code, Formation) {
        (
            code.into(),
            Formation {
                code_formation_diplome: cfd.into(),
                date_premiere_session: premiere,
                libelle_niveau_diplome: "BAC".into(),
                ..Formation::default()
            },
        )
    }

    fn shown(millesime: &str, masked: &str, propre: bool) -> Shown {
        Shown {
            millesime: Millesime::parse(millesime).unwrap(),
            masked: Masked::parse(masked),
            donnee_source_type: if propre {
                DonneeSourceType::Propre
            } else {
                DonneeSourceType::Ancienne
            },
            taux_en_emploi_6_mois: Some(50),
            taux_poursuite_etudes: Some(40),
            part_en_emploi_6_mois: Some(30),
        }
    }

    fn offer(uai: &str, code: &str, filiere: Filiere) -> Offre {
        Offre {
            catalogue: "t.csv".into(),
            line: 2,
            uai: uai.into(),
            uai_gestionnaire: Code::default(),
            uai_formateur: Code::default(),
            code: code.into(),
            code_type: OffreCodeType::from_shape(code),
            filiere: Some(filiere),
            academie_libelle: "Lyon".into(),
            academie_code: Some("10".into()),
            region_code: Some("84".into()),
            libelle: String::new(),
            capacite: None,
            problems: Vec::new(),
        }
    }

    struct World {
        referentiel: Formations,
        mefs: MefToCode,
        index: IndicatorIndex,
        terminales: Terminales,
        reference: Reference,
    }

    impl World {
        fn new() -> World {
            let referentiel: Formations = [
                cert("23810025513", "40025513", Some(2019)),
                cert("23830025513", "40025513", Some(2019)),
                cert("23810099999", "40099999", Some(2019)),
                cert("23830099998", "40099998", Some(2019)),
                cert("23830099997", "40099997", Some(2019)),
                cert("23810020006", "40020006", None),
                cert("23830023102", "40023102", Some(2021)),
                cert("23830023203", "40023203", Some(2021)),
                cert("23830088888", "40088888", Some(2027)),
                cert("23830077777", "40077777", Some(2019)),
                cert("40025513", "40025513", Some(2019)),
            ]
            .into_iter()
            .collect();
            let mut index = IndicatorIndex::default();
            let mut put =
                |level, key: &str, code: &str, s| index.insert(level, key, Filiere::Pro, code, s);
            put(
                NiveauGeographique::Etablissement,
                "0690046A",
                "23830025513",
                shown("2022_2023", "", true),
            );
            put(
                NiveauGeographique::Region,
                "84",
                "23830025513",
                shown("2022_2023", "", false),
            );
            put(
                NiveauGeographique::Region,
                "84",
                "23830023203",
                shown("2022_2023", "", true),
            );
            put(
                NiveauGeographique::Region,
                "84",
                "23830077777",
                shown("2022_2023", "sous_seuil", true),
            );
            put(
                NiveauGeographique::National,
                "",
                "23830077777",
                shown("2023", "sous_seuil", true),
            );
            index.insert(
                NiveauGeographique::Region,
                "84",
                Filiere::Apprentissage,
                "40025513",
                shown("2022_2023", "sortants_sous_seuil", true),
            );
            let mut terminales = Terminales::default();
            terminales
                .by_code
                .insert("23810025513".into(), (vec!["23830025513".into()], false));
            terminales.by_code.insert(
                "23810099999".into(),
                (vec!["23830099998".into(), "23830099997".into()], false),
            );
            terminales.by_code.insert(
                "23810020006".into(),
                (vec!["23830023102".into(), "23830023203".into()], true),
            );
            World {
                referentiel,
                mefs: [("2472551331".into(), "23810025513".into())]
                    .into_iter()
                    .collect(),
                index,
                terminales,
                reference: Reference::embedded(),
            }
        }

        fn ctx(&self) -> Context<'_> {
            Context {
                referentiel: &self.referentiel,
                mef_to_code: &self.mefs,
                indicators: &self.index,
                terminales: &self.terminales,
                reference: &self.reference,
                etablissements_fermes: None,
            }
        }
    }

    fn status(o: &Offre, w: &World) -> (Status, Option<Via>, Option<NiveauGeographique>) {
        let out = resolve(o, &w.ctx(), Steps::ALL);
        (out.status, out.via, out.level)
    }

    #[test]
    fn each_status_and_way() {
        let w = World::new();
        use Filiere::*;
        let cases = [
            // A first year, through its terminal year, in its establishment.
            (
                offer("0690046A", "23810025513", Pro),
                (
                    Status::Covered,
                    Some(Via::TerminalYear),
                    Some(NiveauGeographique::Etablissement),
                ),
            ),
            // Elsewhere, the région's row was derived by the continuum.
            (
                offer("0131445A", "23830025513", Pro),
                (
                    Status::Covered,
                    Some(Via::Continuum),
                    Some(NiveauGeographique::Region),
                ),
            ),
            // A 10-character MEF stands for its MEF_STAT_11.
            (
                offer("0131445A", "2472551331", Pro),
                (
                    Status::Covered,
                    Some(Via::TerminalYear),
                    Some(NiveauGeographique::Region),
                ),
            ),
            // Apprenticeship: the MEF_STAT_11 stands for its CFD; only the employment rates are withheld: shown.
            (
                offer("0131445A", "23810025513", Apprentissage),
                (
                    Status::Covered,
                    Some(Via::Direct),
                    Some(NiveauGeographique::Region),
                ),
            ),
            // A common first year, through its famille de métiers.
            (
                offer("0131445A", "23810020006", Pro),
                (
                    Status::Covered,
                    Some(Via::FamilleMetiers),
                    Some(NiveauGeographique::Region),
                ),
            ),
            (
                offer("0131445A", "23830077777", Pro),
                (Status::BelowThreshold, None, None),
            ),
            (
                offer("0131445A", "23830088888", Pro),
                (Status::NewFormation, None, None),
            ),
            (
                offer("0131445A", "23810099999", Pro),
                (Status::SeveralTerminalFormations, None, None),
            ),
            (
                offer("0131445A", "23830012345", Pro),
                (Status::UnknownCode, None, None),
            ),
            (
                offer("0131445A", "", Pro),
                (Status::UnknownCode, None, None),
            ),
            (
                offer("0131445B", "23830099998", Pro),
                (Status::InvalidUai, None, None),
            ),
            (
                offer("0131445A", "23830099998", Pro),
                (Status::NoData, None, None),
            ),
        ];
        for (o, expected) in cases {
            assert_eq!(status(&o, &w), expected, "{} {:?}", o.code, o.filiere);
        }
    }

    /// The waterfalls count coverage from `Prepared::covered` (bits
    /// recorded at lookup); it must say what the decision of `outcome`
    /// says, step by step.
    #[test]
    fn covered_answers_as_the_outcome_does_at_every_step() {
        let w = World::new();
        let ctx = w.ctx();
        let mut site = offer("0131445A", "23830025513", Filiere::Pro);
        site.uai_formateur = "0690046A".into();
        let mut offers = vec![site];
        for uai in ["0690046A", "0131445A", "0131445B", ""] {
            for code in [
                "23810025513",
                "23830025513",
                "2472551331",
                "23810020006",
                "23830077777",
                "23830088888",
                "23810099999",
                "23830099998",
                "23830023203",
                "40025513",
                "",
            ] {
                for filiere in [Filiere::Pro, Filiere::Apprentissage] {
                    offers.push(offer(uai, code, filiere));
                }
            }
        }
        let steps: Vec<Steps> = waterfall_steps()
            .into_iter()
            .chain(regional_waterfall_steps())
            .map(|(_, _, s)| s)
            .chain([Steps::ALL])
            .collect();
        let mut covered = 0;
        for o in &offers {
            let prepared = Prepared::of(o, &ctx);
            for s in &steps {
                let expected = prepared.outcome(*s).status == Status::Covered;
                assert_eq!(prepared.covered(*s), expected, "{o:?} {s:?}");
                covered += usize::from(expected);
            }
        }
        assert!(covered > 20, "the cases cover offers at several steps");
    }

    /// A catalogue read in chunks of a few offers, or tallied in pieces of a
    /// few, gives the table and the summary of a whole read: the sample
    /// pipeline's catalogues, measured against its own bcn and indicators
    /// stages. Under a row group of offers, the chunks are gathered into
    /// one: even the Parquet has the whole read's bytes (so a release takes
    /// it as it is).
    #[test]
    fn every_chunk_size_gives_the_same_outputs() {
        use crate::pipeline::{Pipeline, Stage};
        let tmp = tempfile::tempdir().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut pipeline = Pipeline::load(&root.join("pipelines/default.toml")).unwrap();
        pipeline.out = tmp.path().join("run");
        for stage in [Stage::Bcn, Stage::Continuum, Stage::Indicators] {
            pipeline.run_stage(stage).unwrap();
        }
        let upstream = Upstream::load(
            &pipeline.stage_dir(Stage::Bcn),
            &pipeline.stage_dir(Stage::Indicators),
            &[],
        )
        .unwrap();
        let read = |dir: &Path, file: &str| std::fs::read(dir.join(file)).unwrap();
        for catalogue in &pipeline.catalogues {
            let run = |chunk: usize, piece: Option<usize>| {
                let out_dir = tmp
                    .path()
                    .join(format!("{}-{chunk}-{piece:?}", catalogue.name));
                let ctx = StageContext {
                    out_dir: out_dir.clone(),
                    csv: Default::default(),
                };
                let report = run_in_chunks(catalogue, &upstream, &ctx, chunk, piece).unwrap();
                (out_dir, report.rows_written)
            };
            let (whole, offers) = run(CHUNK_OFFERS, None);
            assert!(offers > 3, "{}: more offers than a chunk", catalogue.name);
            // Chunks of 1 and 3 offers; a whole chunk tallied in pieces of
            // 1 and 2 offers.
            for (chunk, piece) in [
                (1, None),
                (3, None),
                (CHUNK_OFFERS, Some(1)),
                (CHUNK_OFFERS, Some(2)),
            ] {
                let (chunked, n) = run(chunk, piece);
                assert_eq!(n, offers);
                for file in [
                    "coverage_offers.csv",
                    "coverage_offers.parquet",
                    "coverage_summary.json",
                    "coverage_report.html",
                ] {
                    assert!(
                        read(&whole, file) == read(&chunked, file),
                        "{} in chunks of {chunk}, pieces of {piece:?}: {file} differs",
                        catalogue.name
                    );
                }
                let frame = |dir: &Path| {
                    let file = std::fs::File::open(dir.join("coverage_offers.parquet")).unwrap();
                    polars::prelude::ParquetReader::new(file).finish().unwrap()
                };
                use polars::prelude::SerReader;
                assert!(frame(&whole).equals_missing(&frame(&chunked)));
            }
        }
    }

    #[test]
    fn a_site_takes_its_formateurs_figures() {
        let w = World::new();
        let mut o = offer("0131445A", "23830025513", Filiere::Pro);
        o.uai_formateur = "0690046A".into();
        assert_eq!(
            status(&o, &w),
            (
                Status::Covered,
                Some(Via::UaiReconciliation),
                Some(NiveauGeographique::Etablissement)
            )
        );
    }

    #[test]
    fn the_waterfall_adds_up_to_the_final_coverage() {
        let w = World::new();
        let offers = vec![
            offer("0690046A", "23810025513", Filiere::Pro),
            offer("0131445A", "23830025513", Filiere::Pro),
            offer("0131445A", "23810020006", Filiere::Pro),
            offer("0131445A", "23830099998", Filiere::Pro),
        ];
        let cov = build_coverage("t", CatalogueFormat::Generic, offers, &w.ctx());
        let s = &cov.summary;
        assert_eq!(s.offers, 4);
        assert_eq!(s.by_status.values().sum::<usize>(), 4);
        assert_eq!(s.waterfall.last().unwrap().covered, s.covered);
        assert_eq!(
            s.waterfall.iter().map(|x| x.added).sum::<usize>(),
            s.covered
        );
        assert!(s.waterfall.windows(2).all(|p| p[0].covered <= p[1].covered));
        assert_eq!(s.covered, 3);
        assert_eq!(s.coverage_rate, 75.0);
    }
}
