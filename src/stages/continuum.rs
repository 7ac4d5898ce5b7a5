//! Stage `continuum`: the lineage graph of revised trainings.
//!
//! The ministry revises a diploma by giving it a new code; N_FORMATION_DIPLOME
//! records the revision in `ANCIEN_DIPLOME_1..7` (the codes this one replaces)
//! and `NOUVEAU_DIPLOME_1..7` (the codes replacing it). This stage turns those
//! declarations into a directed graph old → new and describes it:
//! - `continuum_links`: every distinct link, who declared it, and its kind
//!   (`one_to_one`, `split`, `merge`, `many_to_many`);
//! - `continuum_lineage`: for every code of a lineage, each ancestor and
//!   descendant with the hop count and whether the path is strictly one-to-one;
//! - MEF links, projected from their CFDs' links (voie scolaire data is keyed
//!   by MEF_STAT_11);
//! - `continuum_summary.json`.
//!
//! Declarations are often one-sided (a code names its successor, which does
//! not name it back): a link declared by either end counts. Self-links are
//! dropped. Links to codes absent from the table are kept and flagged. Nothing
//! here depends on row order: lineage ids are the smallest code of the lineage.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use std::path::Path;
use std::time::Instant;

use foldhash::fast::FixedState;

use crate::error::Result;
use crate::output::{OutTable, StagedDir};
use crate::rules::codes::{Code, CodeType};
use crate::stages::{OutputFile, StageContext, StageReport};
use crate::staging::bcn::{load_bcn, Bcn, BcnScope, FormationDiplome, Mef};

mod graph;
mod model;

use graph::Graph;
pub use model::{Declaration, Link, LinkType, MefRule, Relation, Relative};

/// `continuum_summary.json`: exactly these keys (issue 2).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContinuumSummary {
    pub codes: usize,
    pub links: usize,
    pub one_sided_declarations: usize,
    pub one_to_one_links: usize,
    pub codes_with_several_successors: usize,
    pub codes_with_several_predecessors: usize,
    pub dangling_codes: usize,
    pub lineage_components: usize,
    pub largest_component: usize,
    pub mef_links: usize,
    pub mef_links_unresolved: usize,
}

/// What the summary's keys leave out, printed for the user.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ContinuumNotes {
    pub self_links_dropped: usize,
    pub malformed_codes: Vec<String>,
    pub links_by_type: BTreeMap<String, usize>,
    pub mef_links_by_type: BTreeMap<String, usize>,
}

pub struct Continuum {
    pub links: Vec<Link>,
    pub lineage: Vec<Relative>,
    pub summary: ContinuumSummary,
    pub notes: ContinuumNotes,
}

/// Builds the lineage graph from the staged BCN (N_FORMATION_DIPLOME, its
/// ENQUETE_51 variant when present, and N_MEF for the MEF projection).
pub fn build_continuum(bcn: &Bcn) -> Continuum {
    let mut notes = ContinuumNotes::default();
    let rows = bcn.formations_n.iter().chain(&bcn.formations_enquete_51);
    // Looked up for both ends of every link (a sorted set compared strings
    // behind pointers, ×100: 800,000 codes; issue 13).
    let codes: HashSet<&str, FixedState> = rows.clone().map(|f| f.cfd.as_str()).collect();
    let declarations = declarations(rows, &mut notes);

    let cfd_graph = Graph::new(declarations.keys().map(|(a, n)| (a.as_str(), n.as_str())));
    let mut links: Vec<Link> = declarations
        .iter()
        .map(|((ancien, nouveau), declaration)| {
            let malformed = !CodeType::Cfd.is_valid(ancien) || !CodeType::Cfd.is_valid(nouveau);
            Link {
                code_type: CodeType::Cfd,
                ancien: ancien.to_string(),
                nouveau: nouveau.to_string(),
                declaration: *declaration,
                link_type: cfd_graph.link_type(ancien, nouveau),
                ancien_in_bcn: codes.contains(ancien.as_str()),
                nouveau_in_bcn: codes.contains(nouveau.as_str()),
                malformed_code: malformed,
                lineage_id: cfd_graph.lineage_id(ancien).to_string(),
                via_cfd: None,
            }
        })
        .collect();
    notes.malformed_codes = cfd_graph
        .nodes()
        .filter(|c| !CodeType::Cfd.is_valid(c))
        .map(str::to_string)
        .collect();

    // MEF projection of every CFD link.
    let (mef_pairs, mef_links_unresolved) = project_mefs(&links, &bcn.mefs);
    let mef_graph = Graph::new(mef_pairs.keys().map(|(a, n)| (a.as_str(), n.as_str())));
    let mef_links = mef_links(&mef_pairs, &mef_graph, &bcn.mefs);

    let mut lineage = cfd_graph.relatives(CodeType::Cfd);
    lineage.extend(mef_graph.relatives(CodeType::MefStat11));
    // In the order the release publishes `continuum_lineage` (its primary
    // key as text), so that it reads the table one row group at a time
    // rather than sorting it whole (issue 13).
    fn published(r: &Relative) -> (&str, &str, &str, &str) {
        (
            r.code_type.as_str(),
            &r.code,
            &r.related_code,
            r.relation.as_str(),
        )
    }
    // Their places sorted on every thread, then the rows moved: a stable
    // `sort_by` took a buffer of half the rows, fresh pages the kernel
    // cleared (×100: 4.5 million rows).
    crate::memory::sort_rows_stably(&mut lineage, |a, b| published(a).cmp(&published(b)));
    notes.links_by_type = count_types(&links);
    notes.mef_links_by_type = count_types(&mef_links);
    let summary = ContinuumSummary {
        mef_links: mef_links.len(),
        mef_links_unresolved,
        ..summary(&codes, &links, &cfd_graph)
    };
    links.extend(mef_links);
    Continuum {
        links,
        lineage,
        summary,
        notes,
    }
}

/// Every (ancien, nouveau) CFD pair, and who declared it: the new code's
/// `anciens`, the old code's `nouveaux`, or both. A code declared its own
/// predecessor or successor is dropped (counted in `notes`).
fn declarations<'b>(
    rows: impl Iterator<Item = &'b FormationDiplome>,
    notes: &mut ContinuumNotes,
) -> BTreeMap<(Code, Code), Declaration> {
    let mut declarations: BTreeMap<(Code, Code), Declaration> = BTreeMap::new();
    for f in rows {
        for ancien in &f.anciens {
            if *ancien == f.cfd {
                notes.self_links_dropped += 1;
                continue;
            }
            declarations
                .entry((ancien.clone(), f.cfd.clone()))
                .or_default()
                .by_nouveau = true;
        }
        for nouveau in &f.nouveaux {
            if *nouveau == f.cfd {
                notes.self_links_dropped += 1;
                continue;
            }
            declarations
                .entry((f.cfd.clone(), nouveau.clone()))
                .or_default()
                .by_ancien = true;
        }
    }
    declarations
}

/// The MEF links, from the projected pairs: typed and grouped into
/// lineages by the MEFs' own graph, not the CFDs'.
fn mef_links(pairs: &MefPairs, graph: &Graph, mefs: &[Mef]) -> Vec<Link> {
    let mef_codes: HashSet<&str, FixedState> =
        mefs.iter().map(|m| m.mef_stat_11.as_str()).collect();
    pairs
        .iter()
        .map(
            |((ancien, nouveau), (cfd_ancien, cfd_nouveau, rule))| Link {
                code_type: CodeType::MefStat11,
                ancien: ancien.clone(),
                nouveau: nouveau.clone(),
                declaration: Declaration::default(),
                link_type: graph.link_type(ancien, nouveau),
                ancien_in_bcn: mef_codes.contains(ancien.as_str()),
                nouveau_in_bcn: mef_codes.contains(nouveau.as_str()),
                malformed_code: false,
                lineage_id: graph.lineage_id(ancien).to_string(),
                via_cfd: Some((cfd_ancien.clone(), cfd_nouveau.clone(), *rule)),
            },
        )
        .collect()
}

/// Links per link type, for the notes.
fn count_types(links: &[Link]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for l in links {
        *m.entry(l.link_type.as_str().to_string()).or_insert(0) += 1;
    }
    m
}

/// The summary's CFD figures (the caller fills the two MEF ones).
fn summary(
    codes: &HashSet<&str, FixedState>,
    links: &[Link],
    cfd_graph: &Graph,
) -> ContinuumSummary {
    ContinuumSummary {
        codes: codes.len(),
        links: links.len(),
        one_sided_declarations: links
            .iter()
            .filter(|l| l.declaration.is_one_sided())
            .count(),
        one_to_one_links: links
            .iter()
            .filter(|l| l.link_type == LinkType::OneToOne)
            .count(),
        codes_with_several_successors: cfd_graph.successors.iter().filter(|s| s.len() > 1).count(),
        codes_with_several_predecessors: cfd_graph
            .predecessors
            .iter()
            .filter(|p| p.len() > 1)
            .count(),
        dangling_codes: cfd_graph.nodes().filter(|c| !codes.contains(c)).count(),
        lineage_components: cfd_graph.component_sizes.len(),
        largest_component: cfd_graph.component_sizes.iter().copied().max().unwrap_or(0),
        mef_links: 0,
        mef_links_unresolved: 0,
    }
}

/// The MEF links projected from CFD links, keyed (old MEF_STAT_11, new
/// MEF_STAT_11) → (old CFD, new CFD, rule), and the count of old MEFs left
/// without a counterpart.
///
/// For a CFD link whose two CFDs both have MEFs in N_MEF: when each has a
/// single MEF_STAT_11, those two are linked; otherwise each old MEF is linked
/// to the new MEFs of the same DISPOSITIF_FORMATION and the same first 4
/// characters of MEF_STAT_11 (DOMAIN.md). An old MEF matching none is counted
/// in `mef_links_unresolved`.
type MefPairs = BTreeMap<(String, String), (String, String, MefRule)>;

fn project_mefs(cfd_links: &[Link], mefs: &[Mef]) -> (MefPairs, usize) {
    // CFD → its distinct (MEF_STAT_11, DISPOSITIF_FORMATION).
    let mut by_cfd: HashMap<&str, BTreeSet<(&str, &str)>> = HashMap::new();
    for m in mefs {
        by_cfd
            .entry(m.cfd.as_str())
            .or_default()
            .insert((m.mef_stat_11.as_str(), m.dispositif_formation.as_str()));
    }
    let mut pairs = MefPairs::new();
    let mut unresolved = 0;
    for link in cfd_links {
        let (Some(olds), Some(news)) = (
            by_cfd.get(link.ancien.as_str()),
            by_cfd.get(link.nouveau.as_str()),
        ) else {
            continue;
        };
        let mut add = |old: &str, new: &str, rule| {
            if old != new {
                pairs.entry((old.to_string(), new.to_string())).or_insert((
                    link.ancien.clone(),
                    link.nouveau.clone(),
                    rule,
                ));
            }
        };
        let old_codes: BTreeSet<&str> = olds.iter().map(|m| m.0).collect();
        let new_codes: BTreeSet<&str> = news.iter().map(|m| m.0).collect();
        if old_codes.len() == 1 && new_codes.len() == 1 {
            let old = old_codes.first().expect("one code");
            let new = new_codes.first().expect("one code");
            add(old, new, MefRule::SingleMef);
            continue;
        }
        for (old, dispositif) in olds {
            let mut matched = false;
            for (new, new_dispositif) in news {
                if new_dispositif == dispositif && old.get(..4) == new.get(..4) {
                    add(old, new, MefRule::SameDispositif);
                    matched = true;
                }
            }
            if !matched {
                unresolved += 1;
            }
        }
    }
    (pairs, unresolved)
}

/// The `continuum_links` output table.
pub fn links_table(links: &[Link]) -> OutTable {
    let mut t = OutTable::new("continuum_links");
    let l = links;
    let via = |f: fn(&(String, String, MefRule)) -> String| {
        l.iter()
            .map(move |x| x.via_cfd.as_ref().map(f).unwrap_or_default())
    };
    t.str(
        "code_certification_type",
        l.iter().map(|x| x.code_type.as_str()),
    )
    .str("ancien_code", l.iter().map(|x| &x.ancien))
    .str("nouveau_code", l.iter().map(|x| &x.nouveau))
    .str("link_type", l.iter().map(|x| x.link_type.as_str()))
    .str("declared_by", l.iter().map(|x| x.declaration.declared_by()))
    .bool("ancien_in_bcn", l.iter().map(|x| x.ancien_in_bcn))
    .bool("nouveau_in_bcn", l.iter().map(|x| x.nouveau_in_bcn))
    .bool("malformed_code", l.iter().map(|x| x.malformed_code))
    .str("lineage_id", l.iter().map(|x| &x.lineage_id))
    .str("via_cfd_ancien", via(|v| v.0.clone()))
    .str("via_cfd_nouveau", via(|v| v.1.clone()))
    .str("mef_rule", via(|v| v.2.as_str().to_string()));
    t
}

/// The `continuum_lineage` output table.
pub fn lineage_table(lineage: &[Relative]) -> OutTable {
    let mut t = OutTable::new("continuum_lineage");
    let r = lineage;
    t.str(
        "code_certification_type",
        r.iter().map(|x| x.code_type.as_str()),
    )
    .str("code_certification", r.iter().map(|x| &x.code))
    .str("lineage_id", r.iter().map(|x| &x.lineage_id))
    .str("relation", r.iter().map(|x| x.relation.as_str()))
    .str("related_code", r.iter().map(|x| &x.related_code))
    .int("hops", r.iter().map(|x| Some(x.hops)))
    .bool("one_to_one_path", r.iter().map(|x| x.one_to_one_path));
    t
}

// ---- Running the stage -------------------------------------------------------

/// `ij continuum`: reads the BCN folder and writes `continuum_links`,
/// `continuum_lineage` and `continuum_summary.json`.
pub fn run(bcn_dir: &Path, ctx: &StageContext) -> Result<StageReport> {
    let start = Instant::now();
    let bcn = load_bcn(bcn_dir, BcnScope::Continuum)?;
    let continuum = build_continuum(&bcn);
    // What the report says of the BCN, taken before it goes: the tables
    // are written without it, the stage's peak (issue 13).
    let rejects_note = bcn.rejects.first().map(|first| {
        format!(
            "{} rows set aside (malformed key or value; `ij bcn` lists them in bcn_rejects), e.g. {} line {}: {}",
            bcn.rejects.len(),
            first.table.name(),
            first.line,
            first.reason
        )
    });
    let rows_rejected = bcn.rejects.len();
    let rows_read =
        bcn.formations_n.len() + bcn.formations_enquete_51.len() + bcn.mefs.len() + rows_rejected;
    let inputs = bcn.inputs.clone();
    drop(bcn);
    crate::memory::return_free_memory();

    let mut staged = StagedDir::new(&ctx.out_dir)?;
    let links = links_table(&continuum.links);
    staged.write_table(&links, &ctx.csv)?;
    let lineage = lineage_table(&continuum.lineage);
    staged.write_table(&lineage, &ctx.csv)?;
    staged.write_json("continuum_summary.json", &continuum.summary)?;
    let written_notes = staged.commit()?;

    let s = &continuum.summary;
    let n = &continuum.notes;
    let by_type = |m: &BTreeMap<String, usize>| {
        m.iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut details = vec![
        format!(
            "{} codes, {} CFD links ({}), {} declared by one end only",
            s.codes,
            s.links,
            by_type(&n.links_by_type),
            s.one_sided_declarations
        ),
        format!(
            "{} lineages, the largest of {} codes; {} codes referenced but absent from N_FORMATION_DIPLOME",
            s.lineage_components, s.largest_component, s.dangling_codes
        ),
        format!(
            "{} MEF links projected ({}), {} old MEFs without a counterpart",
            s.mef_links,
            by_type(&n.mef_links_by_type),
            s.mef_links_unresolved
        ),
    ];
    if n.self_links_dropped > 0 {
        details.push(format!("{} self-links dropped", n.self_links_dropped));
    }
    if !n.malformed_codes.is_empty() {
        // The first few: a national export can have hundreds, and one line
        // of a thousand codes drowns the report (the links table flags each).
        const SHOWN: usize = 12;
        let more = n.malformed_codes.len().saturating_sub(SHOWN);
        details.push(format!(
            "{} malformed codes referenced by links, kept and flagged (malformed_code): {}{}",
            n.malformed_codes.len(),
            n.malformed_codes[..n.malformed_codes.len().min(SHOWN)].join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    details.extend(rejects_note);
    details.extend(written_notes);
    Ok(StageReport {
        stage: "continuum".into(),
        inputs,
        outputs: vec![
            OutputFile::table(&ctx.out_dir, &links),
            OutputFile::table(&ctx.out_dir, &lineage),
            OutputFile::file(&ctx.out_dir, "continuum_summary.json"),
        ],
        rows_read,
        rows_written: links.rows() + lineage.rows(),
        rows_merged: 0,
        rows_rejected,
        details,
        elapsed: start.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_values_read_back_and_declarations_are_listed() {
        for r in Relation::ALL {
            assert_eq!(Relation::parse(r.as_str()), Some(r));
        }
        assert_eq!(Relation::parse("ancestor"), None);
        for (by_ancien, by_nouveau) in [(true, true), (true, false), (false, true), (false, false)]
        {
            let d = Declaration {
                by_ancien,
                by_nouveau,
            };
            assert!(Declaration::DECLARED_BY.contains(&d.declared_by()));
        }
    }
    use crate::staging::bcn::{BcnTable, FormationDiplome};

    fn formation(cfd: &str, anciens: &[&str], nouveaux: &[&str]) -> FormationDiplome {
        FormationDiplome {
            cfd: cfd.into(),
            niveau_formation_diplome: cfd[..3].into(),
            libelle_court: Default::default(),
            libelle_stat_33: Default::default(),
            libelle_long: Default::default(),
            date_ouverture: None,
            date_fermeture: None,
            date_premiere_session: None,
            date_derniere_session: None,
            anciens: anciens.iter().map(|&s| s.into()).collect(),
            nouveaux: nouveaux.iter().map(|&s| s.into()).collect(),
            table: BcnTable::NFormationDiplome,
            position: 0,
        }
    }

    fn mef(ms11: &str, cfd: &str, dispositif: &str) -> Mef {
        Mef {
            mef: Default::default(),
            dispositif_formation: dispositif.into(),
            cfd: cfd.into(),
            duree_dispositif: None,
            annee_dispositif: None,
            libelle_court: Default::default(),
            libelle_long: Default::default(),
            date_ouverture: None,
            date_fermeture: None,
            mef_stat_11: ms11.into(),
            mef_stat_9: Default::default(),
            position: 0,
        }
    }

    fn bcn(formations: Vec<FormationDiplome>, mefs: Vec<Mef>) -> Bcn {
        Bcn {
            formations_n: formations,
            mefs,
            ..Bcn::default()
        }
    }

    #[test]
    fn classifies_links_by_the_degrees_of_their_ends() {
        assert_eq!(LinkType::classify(1, 1), LinkType::OneToOne);
        assert_eq!(LinkType::classify(2, 1), LinkType::Split);
        assert_eq!(LinkType::classify(1, 3), LinkType::Merge);
        assert_eq!(LinkType::classify(2, 2), LinkType::ManyToMany);
    }

    #[test]
    fn one_sided_declarations_count_and_self_links_are_dropped() {
        // A → B declared by A only; B → C declared by both ends; C lists itself.
        let c = build_continuum(&bcn(
            vec![
                formation("50000001", &[], &["50000002"]),
                formation("50000002", &[], &["50000003"]),
                formation("50000003", &["50000002", "50000003"], &[]),
            ],
            vec![],
        ));
        assert_eq!(c.summary.links, 2);
        assert_eq!(c.summary.one_sided_declarations, 1);
        assert_eq!(c.summary.one_to_one_links, 2);
        assert_eq!(c.notes.self_links_dropped, 1);
        assert_eq!(c.summary.lineage_components, 1);
        assert_eq!(c.summary.largest_component, 3);
        let strict_chain = c
            .lineage
            .iter()
            .find(|r| r.code == "50000001" && r.related_code == "50000003")
            .unwrap();
        assert_eq!((strict_chain.hops, strict_chain.one_to_one_path), (2, true));
        assert_eq!(strict_chain.relation, Relation::Descendant);
    }

    #[test]
    fn splits_merges_and_dangling_codes() {
        // A splits into B and C; B and D merge into E; E names F, absent from the table.
        let c = build_continuum(&bcn(
            vec![
                formation("40000001", &[], &["40000002", "40000003"]),
                formation("40000002", &[], &[]),
                formation("40000003", &[], &[]),
                formation("40000004", &[], &[]),
                formation("40000005", &["40000002", "40000004"], &["4000006"]),
            ],
            vec![],
        ));
        let kind = |a: &str, n: &str| {
            c.links
                .iter()
                .find(|l| l.ancien == a && l.nouveau == n)
                .map(|l| l.link_type)
                .unwrap()
        };
        assert_eq!(kind("40000001", "40000002"), LinkType::Split);
        assert_eq!(kind("40000001", "40000003"), LinkType::Split);
        assert_eq!(kind("40000002", "40000005"), LinkType::Merge);
        assert_eq!(kind("40000004", "40000005"), LinkType::Merge);
        assert_eq!(kind("40000005", "4000006"), LinkType::OneToOne);
        assert_eq!(c.summary.dangling_codes, 1);
        assert_eq!(c.summary.codes_with_several_successors, 1);
        assert_eq!(c.summary.codes_with_several_predecessors, 1);
        assert_eq!(c.notes.malformed_codes, vec!["4000006".to_string()]);
        let dangling = c.links.iter().find(|l| l.nouveau == "4000006").unwrap();
        assert!(!dangling.nouveau_in_bcn && dangling.malformed_code);
        // Everything is one lineage, named after its smallest code.
        assert!(c.links.iter().all(|l| l.lineage_id == "L-40000001"));
        // A to E goes through a split: not a strict path.
        let a_e = c
            .lineage
            .iter()
            .find(|r| r.code == "40000001" && r.related_code == "40000005")
            .unwrap();
        assert_eq!((a_e.hops, a_e.one_to_one_path), (2, false));
    }

    #[test]
    fn the_result_does_not_depend_on_row_order() {
        let rows = vec![
            formation("50000001", &[], &["50000002"]),
            formation("50000002", &[], &[]),
            formation("50000009", &["50000002"], &[]),
        ];
        let mut reversed = rows.clone();
        reversed.reverse();
        let a = build_continuum(&bcn(rows, vec![]));
        let b = build_continuum(&bcn(reversed, vec![]));
        assert_eq!(a.links, b.links);
        assert_eq!(a.lineage, b.lineage);
        assert_eq!(a.summary, b.summary);
    }

    #[test]
    fn mefs_follow_their_cfds() {
        let formations = vec![
            formation("40000001", &[], &["40000002"]),
            formation("40000002", &[], &[]),
            formation("50000001", &[], &["50000002"]),
            formation("50000002", &[], &[]),
        ];
        let mefs = vec![
            // Single MEF on each side.
            mef("24000000001", "40000001", "247"),
            mef("24000000002", "40000002", "247"),
            // Three years each, matched by dispositif and prefix; the third
            // old year has no counterpart.
            mef("24710050001", "50000001", "247"),
            mef("24720050001", "50000001", "247"),
            mef("24730050001", "50000001", "247"),
            mef("24710050002", "50000002", "247"),
            mef("24720050002", "50000002", "247"),
        ];
        let c = build_continuum(&bcn(formations, mefs));
        let mef_links: Vec<_> = c
            .links
            .iter()
            .filter(|l| l.code_type == CodeType::MefStat11)
            .map(|l| (l.ancien.as_str(), l.nouveau.as_str()))
            .collect();
        assert_eq!(
            mef_links,
            vec![
                ("24000000001", "24000000002"),
                ("24710050001", "24710050002"),
                ("24720050001", "24720050002"),
            ]
        );
        assert_eq!(c.summary.mef_links, 3);
        assert_eq!(c.summary.mef_links_unresolved, 1);
    }
}
