//! The output tables of the indicators stage, column by column.
//!
//! The three indicator tables share their columns, but for the key's level:
//! `regionales` adds the région, `formations` the UAI and its territory.
//! `familles_specialites` lists the specialities of each common first year
//! at the three levels at once (issue 6).

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;

use chrono::NaiveDate;
use foldhash::fast::FixedState;

use crate::output::table::PIECE_ROWS;
use crate::output::OutTable;
use crate::rules::codes::Code;
use crate::rules::niveau::NiveauGeographique;
use crate::stages::indicators::columns::{perimetre_column, six_month_count_columns, source_of};
use crate::stages::indicators::famille::FamilleSpecialite;
use crate::stages::indicators::model::{publish, DonneeSource, Indicateur, Published, Taux};
use crate::stages::indicators::pilotage;
use crate::stages::indicators::terminales::{
    famille_libelle_codes, famille_libelles, terminales_table, Terminale,
};
use crate::stages::indicators::upstream::{Certification, Lineage, LinkRow, Referentiel};
use crate::stages::indicators::{Indicators, IndicatorsOptions};
use crate::staging::mesures::{EtablissementRow, Niveau, Reject};
use crate::staging::reference::{Departement, Reference, Region, Territoire};

/// Builds the rows `range` of one output table. The stage builds and writes
/// its tables one by one, each one Parquet row group at a time
/// (`output::table::row_group_ranges`), each row group in pieces on every
/// thread, instead of holding every table, or one table's whole columns,
/// at once (issue 13).
/// Every column is a function of its own row, so a table built in chunks
/// has the rows of a table built whole.
pub type Builder<'a> = Box<dyn Fn(Range<usize>) -> OutTable + Send + Sync + 'a>;

/// One table to build, and whether the establishment directory completes it.
pub struct TableBuild<'a> {
    /// The table's rows.
    pub rows: usize,
    pub build: Builder<'a>,
    /// A per-establishment table (`formations`, `etablissements`): the
    /// directory fills its names and adds the UAI's nature and status
    /// (`annuaire::complete_etablissements`). Said here, where each table is
    /// listed, rather than by comparing table names where they are written.
    pub per_etablissement: bool,
    /// The rows built at a time (`output::table::build_in_pieces`).
    pub piece_rows: usize,
}

/// The builders of the stage's tables, in the order the stage reports them,
/// but `etablissements` ([`etablissements_builder`]), written first.
pub fn builders<'a>(
    result: &'a Indicators,
    classement: &'a pilotage::Classement<'a>,
    referentiel: &'a Referentiel,
    reference: &'a Reference,
    options: &IndicatorsOptions,
) -> Vec<TableBuild<'a>> {
    let ctx = Ctx {
        referentiel,
        reference,
        seuil: options.seuil,
        date_reference: result.date_reference,
    };
    let table = |rows: usize, build: Builder<'a>| TableBuild {
        rows,
        build,
        per_etablissement: false,
        piece_rows: PIECE_ROWS,
    };
    let per_etablissement = |rows: usize, build: Builder<'a>| TableBuild {
        per_etablissement: true,
        ..table(rows, build)
    };
    let r = result;
    vec![
        table(
            r.certifications.len(),
            Box::new(move |range| {
                indicateurs_table(
                    "certifications",
                    &r.certifications[range],
                    NiveauGeographique::National,
                    &ctx,
                )
            }),
        ),
        table(
            r.regionales.len(),
            Box::new(move |range| {
                indicateurs_table(
                    "regionales",
                    &r.regionales[range],
                    NiveauGeographique::Region,
                    &ctx,
                )
            }),
        ),
        per_etablissement(
            r.formations.len(),
            Box::new(move |range| {
                indicateurs_table(
                    "formations",
                    &r.formations[range],
                    NiveauGeographique::Etablissement,
                    &ctx,
                )
            }),
        ),
        table(r.terminales.len(), {
            let libelles = famille_libelles(referentiel);
            Box::new(move |range| terminales_table(&r.terminales[range], referentiel, &libelles))
        }),
        table(
            r.familles_specialites.len(),
            Box::new(move |range| familles_specialites_table(&r.familles_specialites[range], &ctx)),
        ),
        TableBuild {
            piece_rows: pilotage::PIECE_ROWS,
            ..table(
                classement.len(),
                Box::new(|range| pilotage::pilotage_table(&classement.rows(range), reference)),
            )
        },
        table(
            r.rejects.len(),
            Box::new(|range| rejects_table(&r.rejects[range])),
        ),
    ]
}

/// The referential narrowed to the codes the tables look up: their rows'
/// codes, the common first years' specialities, the terminal years, and the
/// code that labels each family of `certifications_terminales`. Once the
/// rows are built, the rest of the BCN (most of it: 200,000 formations at
/// ×10, for 30,000 codes with figures) is dead weight while every table is
/// written (issue 13).
pub fn referentiel_for_tables(referentiel: Referentiel, result: &Indicators) -> Referentiel {
    let levels = [
        &result.certifications,
        &result.regionales,
        &result.formations,
    ];
    // A level's rows are in key order, a code's régions one after the
    // other, and the families' and terminal years' first years come in
    // runs too: each run of a code is hashed once (at ×100, eight million
    // regional rows hashed into the set were a second on one core, issue
    // 13). The set borrows the codes.
    let familles = &result.familles_specialites;
    let mut before = None;
    let kept: HashSet<&str, FixedState> = levels
        .into_iter()
        .flatten()
        .map(|r| r.code_certification.as_str())
        .chain(familles.iter().map(|f| f.code_certification.as_str()))
        .chain(
            familles
                .iter()
                .map(|f| f.specialite.code_certification.as_str()),
        )
        .chain(
            result
                .terminales
                .iter()
                .map(|t| t.code_certification.as_str()),
        )
        .chain(
            result
                .terminales
                .iter()
                .map(|t| t.code_certification_terminale.as_str()),
        )
        .filter(|&code| before.replace(code) != Some(code))
        .collect();
    narrowed_to(referentiel, &kept)
}

/// The referential narrowed to the codes `kept` and to those that give
/// families their labels (chosen on the whole referential, kept so that
/// the choice stays; few, the referential's own, so apart from `kept`,
/// which borrows the rest). Not shrunk: a smaller table would be allocated
/// beside this one at the stage's peak (×10: 43 MB more), to save less
/// than that later.
fn narrowed_to(mut referentiel: Referentiel, kept: &HashSet<&str, FixedState>) -> Referentiel {
    let libelle_codes: HashSet<Code, FixedState> = famille_libelle_codes(&referentiel)
        .map(Code::from)
        .collect();
    referentiel.retain(|code| kept.contains(code.as_str()) || libelle_codes.contains(code));
    referentiel
}

/// The referential narrowed, before the fill, to every code the filled
/// levels and their tables can look up: the rows' codes and their whole
/// lineage (the continuum's rows take a relative's code), the links' codes
/// (merges and splits), the terminal years' (the families' rows take a
/// common year's code), and the codes that give families their labels
/// (chosen on the whole referential, kept so that the choice stays). A
/// superset of what [`referentiel_for_tables`] keeps after the fill.
pub fn referentiel_for_fill(
    referentiel: Referentiel,
    levels: [&[Indicateur]; 3],
    lineage: &Lineage,
    links: &[LinkRow],
    terminales: &[Terminale],
) -> Referentiel {
    // The set borrows the codes (the rows', the lineage's, the links', the
    // terminal years').
    let mut kept: HashSet<&str, FixedState> = HashSet::default();
    let mut row_codes: HashSet<&str, FixedState> = HashSet::default();
    // A code's rows most often come one after the other (its régions, its
    // establishments): each run of a code is hashed once (×100's thirteen
    // million rows, issue 13).
    let mut before = None;
    for row in levels.into_iter().flatten() {
        let code = row.code_certification.as_str();
        if before.replace(code) == Some(code) {
            continue;
        }
        if row_codes.insert(code) {
            kept.insert(code);
            let relatives = lineage.get(code).into_iter().flatten();
            kept.extend(relatives.map(|r| r.related_code.as_str()));
        }
    }
    for link in links {
        kept.extend([link.ancien.as_str(), &link.nouveau]);
    }
    // The terminal years are sorted by first year: each run hashed once.
    let mut before = None;
    kept.extend(
        terminales
            .iter()
            .map(|t| t.code_certification.as_str())
            .filter(|&code| before.replace(code) != Some(code)),
    );
    kept.extend(
        terminales
            .iter()
            .map(|t| t.code_certification_terminale.as_str()),
    );
    narrowed_to(referentiel, &kept)
}

#[derive(Clone, Copy)]
struct Ctx<'a> {
    referentiel: &'a Referentiel,
    reference: &'a Reference,
    seuil: i64,
    date_reference: NaiveDate,
}

/// `certifications`, `regionales` or `formations`: the key, the
/// certification's referential columns, the place's, then the figures
/// (published under the seuil's rule) and where they come from.
fn indicateurs_table(
    name: &str,
    rows: &[Indicateur],
    level: NiveauGeographique,
    ctx: &Ctx,
) -> OutTable {
    let published: Vec<Published> = rows.iter().map(|r| publish(r, ctx.seuil)).collect();
    let empty = Certification::default();
    let certs: Vec<&Certification> = rows
        .iter()
        .map(|r| ctx.referentiel.get(&r.code_certification).unwrap_or(&empty))
        .collect();
    let region_code = |r: &Indicateur| match &r.niveau {
        Niveau::Region(code) => code.clone(),
        _ => Code::default(),
    };
    let mut t = OutTable::new(name);
    t.str("millesime", rows.iter().map(|r| r.millesime.text()))
        .str("filiere", rows.iter().map(|r| r.filiere.as_str()))
        .str(
            "code_certification",
            rows.iter().map(|r| &r.code_certification),
        );
    match level {
        NiveauGeographique::National => {}
        NiveauGeographique::Region => {
            t.str("region_code", rows.iter().map(region_code));
        }
        NiveauGeographique::Etablissement => {
            t.str(
                "uai",
                rows.iter().map(|r| match &r.niveau {
                    Niveau::Etablissement(uai) => uai.clone(),
                    _ => Code::default(),
                }),
            );
        }
    }
    certification_columns(&mut t, rows, &certs, ctx);
    place_columns(&mut t, rows, level, ctx);
    figure_columns(&mut t, rows, &published);
    perimetre_column(&mut t, rows.iter().map(|r| (r.filiere, r.millesime)));
    t
}

/// The territory of each establishment's row.
fn territoires_of(rows: &[Indicateur], ctx: &Ctx) -> Vec<Territoire> {
    rows.iter()
        .map(|r| match &r.niveau {
            Niveau::Etablissement(uai) => ctx.reference.territoire_of_uai(uai).unwrap_or_default(),
            _ => Territoire::default(),
        })
        .collect()
}

/// What the referential says of each row's certification.
fn certification_columns(
    t: &mut OutTable,
    rows: &[Indicateur],
    certs: &[&Certification],
    ctx: &Ctx,
) {
    t.str(
        "code_certification_type",
        rows.iter().map(|r| r.code_certification_type.as_str()),
    )
    .str(
        "code_formation_diplome",
        certs.iter().map(|c| &c.code_formation_diplome),
    )
    .str("libelle", certs.iter().map(|c| &c.libelle))
    .str(
        "niveau_formation_diplome",
        certs.iter().map(|c| &c.niveau_formation_diplome),
    )
    .str("type_diplome", certs.iter().map(|c| &c.type_diplome))
    .str("niveau_diplome", certs.iter().map(|c| &c.niveau_diplome))
    .str(
        "libelle_niveau_diplome",
        certs.iter().map(|c| &c.libelle_niveau_diplome),
    )
    .date("date_fermeture", certs.iter().map(|c| c.date_fermeture))
    .bool(
        "formation_fermee",
        certs
            .iter()
            .map(|c| c.date_fermeture.is_some_and(|d| d < ctx.date_reference)),
    )
    .bool("code_connu_bcn", certs.iter().map(|c| !c.code.is_empty()))
    .str(
        "famille_metiers_code",
        certs.iter().map(|c| &c.famille_metiers_code),
    )
    .str(
        "famille_metiers_libelle",
        certs.iter().map(|c| &c.famille_metiers_libelle),
    );
}

/// The région, académie and département columns, by level.
fn place_columns(t: &mut OutTable, rows: &[Indicateur], level: NiveauGeographique, ctx: &Ctx) {
    match level {
        NiveauGeographique::National => {}
        NiveauGeographique::Region => {
            // Each row's région, looked up once, its labels borrowed.
            let regions: Vec<Option<&Region>> = rows
                .iter()
                .map(|r| match &r.niveau {
                    Niveau::Region(code) => ctx.reference.region(code),
                    _ => None,
                })
                .collect();
            t.str(
                "region_libelle",
                regions.iter().map(|x| x.map_or("", |r| r.libelle.as_str())),
            )
            .str(
                "region_code_ij",
                regions.iter().map(|x| x.map_or("", |r| r.code_ij.as_str())),
            );
        }
        NiveauGeographique::Etablissement => {
            let territoires = territoires_of(rows, ctx);
            let region_ij = |t: &Territoire| {
                ctx.reference
                    .region(&t.region_code)
                    .map_or("", |r| r.code_ij.as_str())
            };
            t.str("region_code", territoires.iter().map(|x| &x.region_code))
                .str(
                    "region_libelle",
                    territoires.iter().map(|x| &x.region_libelle),
                )
                .str("region_code_ij", territoires.iter().map(region_ij))
                .str(
                    "libelle_etablissement",
                    rows.iter()
                        .map(|r| r.libelle_etablissement.as_deref().unwrap_or("")),
                )
                .str(
                    "academie_code",
                    territoires.iter().map(|x| &x.academie_code),
                )
                .str(
                    "academie_libelle",
                    territoires.iter().map(|x| &x.academie_libelle),
                )
                .str(
                    "departement_code",
                    territoires.iter().map(|x| &x.departement_code),
                )
                .str(
                    "departement_libelle",
                    territoires.iter().map(|x| &x.departement_libelle),
                );
        }
    }
}

/// Counts, rates, salaries, why some are masked, where they come from.
fn figure_columns(t: &mut OutTable, rows: &[Indicateur], published: &[Published]) {
    let p = published;
    six_month_count_columns(t, p.iter().map(|x| &x.counts));
    t.int(
        "nb_en_emploi_12_mois",
        p.iter().map(|x| x.counts.nb_en_emploi_12_mois),
    )
    .int(
        "nb_en_emploi_18_mois",
        p.iter().map(|x| x.counts.nb_en_emploi_18_mois),
    )
    .int(
        "nb_en_emploi_24_mois",
        p.iter().map(|x| x.counts.nb_en_emploi_24_mois),
    )
    .int("nb_diplome", p.iter().map(|x| x.counts.nb_diplome));
    let taux: Vec<Taux> = p.iter().map(|x| x.taux).collect();
    rate_columns(t, &taux);
    t.float(
        "salaire_12_mois_q1",
        p.iter().map(|x| x.salaires.salaire_12_mois_q1),
    )
    .float(
        "salaire_12_mois_q2",
        p.iter().map(|x| x.salaires.salaire_12_mois_q2),
    )
    .float(
        "salaire_12_mois_q3",
        p.iter().map(|x| x.salaires.salaire_12_mois_q3),
    )
    .str(
        "masked",
        p.iter().map(|x| x.masked.map(|m| m.as_str()).unwrap_or("")),
    )
    .str("origine", rows.iter().map(|r| r.origine.as_str()));
    // The type and codes as every table writes them; the continuum's hops
    // and link besides.
    let sources: Vec<_> = rows.iter().map(source_of).collect();
    let link = |r: &Indicateur| match &*r.donnee_source {
        DonneeSource::Continuum { via, hops, .. } => (Some(i64::from(*hops)), via.as_str()),
        _ => (None, ""),
    };
    t.str("donnee_source_type", sources.iter().map(|s| s.0))
        .str("donnee_source_code", sources.iter().map(|s| &s.1))
        .int("donnee_source_hops", rows.iter().map(|r| link(r).0))
        .str("donnee_source_link", rows.iter().map(|r| link(r).1));
}

/// `familles_specialites`: one row per common first year, level key,
/// millésime, filière and speciality, with the speciality's own published
/// figures and whether they are in the family's sum.
fn familles_specialites_table(rows: &[FamilleSpecialite], ctx: &Ctx) -> OutTable {
    let mut t = OutTable::new("familles_specialites");
    famille_key_columns(&mut t, rows);
    famille_columns(&mut t, rows, ctx);
    let published: Vec<Published> = rows
        .iter()
        .map(|r| publish(&r.specialite, ctx.seuil))
        .collect();
    let p = &published;
    six_month_count_columns(&mut t, p.iter().map(|x| &x.counts));
    let taux: Vec<Taux> = p.iter().map(|x| x.taux).collect();
    rate_columns(&mut t, &taux);
    t.str(
        "masked",
        p.iter().map(|x| x.masked.map(|m| m.as_str()).unwrap_or("")),
    );
    perimetre_column(
        &mut t,
        rows.iter()
            .map(|r| (r.specialite.filiere, r.specialite.millesime)),
    );
    t
}

/// The millésime, filière and place of a `familles_specialites` row: the
/// three levels share the table, so the level is a column and the place one
/// non-empty code.
fn famille_key_columns(t: &mut OutTable, rows: &[FamilleSpecialite]) {
    let niveau = |r: &FamilleSpecialite| {
        let n = &r.specialite.niveau;
        match n {
            Niveau::National => (n.geographique(), Code::default(), Code::default()),
            Niveau::Region(code) => (n.geographique(), code.clone(), Code::default()),
            Niveau::Etablissement(uai) => (n.geographique(), Code::default(), uai.clone()),
        }
    };
    let niveaux: Vec<_> = rows.iter().map(niveau).collect();
    t.str(
        "millesime",
        rows.iter().map(|r| r.specialite.millesime.text()),
    )
    .str(
        "filiere",
        rows.iter().map(|r| r.specialite.filiere.as_str()),
    )
    .str("niveau_geographique", niveaux.iter().map(|n| n.0.as_str()))
    // One non-empty column for the place, so the key has no empty part.
    .str(
        "code_lieu",
        rows.iter().map(|r| r.specialite.niveau.code_lieu()),
    )
    .str("region_code", niveaux.iter().map(|n| &n.1))
    .str("uai", niveaux.iter().map(|n| &n.2));
}

/// The common first year, its family, the speciality (from the
/// referential), where its figures come from and whether they are summed.
fn famille_columns(t: &mut OutTable, rows: &[FamilleSpecialite], ctx: &Ctx) {
    let empty = Certification::default();
    let cert = |code: &str| ctx.referentiel.get(code).unwrap_or(&empty);
    let sources: Vec<(&str, Cow<str>)> = rows.iter().map(|r| source_of(&r.specialite)).collect();
    let libelle_famille = |r: &FamilleSpecialite| {
        // The family's label, from the common year's referential row when
        // it is its family, else from a speciality's.
        [&r.code_certification, &r.specialite.code_certification]
            .into_iter()
            .map(|c| cert(c))
            .find(|c| c.famille_metiers_code == r.famille_metiers_code)
            .map(|c| c.famille_metiers_libelle.clone())
            .unwrap_or_default()
    };
    let s = |r: &FamilleSpecialite| cert(&r.specialite.code_certification);
    t.str(
        "code_certification",
        rows.iter().map(|r| &r.code_certification),
    )
    .str(
        "libelle",
        rows.iter().map(|r| &cert(&r.code_certification).libelle),
    )
    .str(
        "famille_metiers_code",
        rows.iter().map(|r| &r.famille_metiers_code),
    )
    .str("famille_metiers_libelle", rows.iter().map(libelle_famille))
    .str(
        "code_certification_specialite",
        rows.iter().map(|r| &r.specialite.code_certification),
    )
    .str("libelle_specialite", rows.iter().map(|r| &s(r).libelle))
    .str(
        "code_formation_diplome_specialite",
        rows.iter().map(|r| &s(r).code_formation_diplome),
    )
    .bool(
        "specialite_fermee",
        rows.iter()
            .map(|r| s(r).date_fermeture.is_some_and(|d| d < ctx.date_reference)),
    )
    .str("donnee_source_type", sources.iter().map(|x| x.0))
    .str("donnee_source_code", sources.iter().map(|x| &x.1))
    .bool("dans_somme", rows.iter().map(|r| r.hors_somme.is_none()))
    .str(
        "raison_hors_somme",
        rows.iter().map(|r| r.hors_somme.map_or("", |h| h.as_str())),
    );
}

/// The published rates, in the same order in every table that has them.
pub(crate) fn rate_columns(t: &mut OutTable, taux: &[Taux]) {
    let rate = |f: fn(&Taux) -> Option<i64>| taux.iter().map(f);
    t.int("taux_en_emploi_6_mois", rate(|r| r.taux_en_emploi_6_mois))
        .int("taux_en_emploi_12_mois", rate(|r| r.taux_en_emploi_12_mois))
        .int("taux_en_emploi_18_mois", rate(|r| r.taux_en_emploi_18_mois))
        .int("taux_en_emploi_24_mois", rate(|r| r.taux_en_emploi_24_mois))
        .int("taux_poursuite_etudes", rate(|r| r.taux_poursuite_etudes))
        .int("part_en_emploi_6_mois", rate(|r| r.part_en_emploi_6_mois))
        .int("part_poursuite_etudes", rate(|r| r.part_poursuite_etudes))
        .int(
            "part_autres_situations_6_mois",
            rate(|r| r.part_autres_situations_6_mois),
        );
}

/// The builder of the `etablissements` table, apart from [`builders`]: the
/// stage writes it before it fills the levels (`write_etablissements`).
pub fn etablissements_builder<'a>(
    rows: &'a [EtablissementRow],
    reference: &'a Reference,
) -> TableBuild<'a> {
    TableBuild {
        rows: rows.len(),
        build: Box::new(|range| etablissements_table(&rows[range], reference)),
        per_etablissement: true,
        piece_rows: PIECE_ROWS,
    }
}

fn etablissements_table(rows: &[EtablissementRow], reference: &Reference) -> OutTable {
    // Each UAI's département, whose codes are the three the table shows,
    // borrowed (a territory a row copied six strings, issue 13).
    let departements: Vec<Option<&Departement>> = rows
        .iter()
        .map(|r| reference.departement_of_uai(&r.uai))
        .collect();
    let code = |f: fn(&Departement) -> &str| departements.iter().map(move |d| d.map_or("", f));
    let round = |v: Option<f64>| v.map(crate::rules::rates::round_percent);
    let mut t = OutTable::new("etablissements");
    t.str("millesime", rows.iter().map(|r| r.millesime.text()))
        .str("filiere", rows.iter().map(|r| r.filiere.as_str()))
        .str("uai", rows.iter().map(|r| &r.uai))
        .str("source", rows.iter().map(|r| r.source))
        .str("libelle_etablissement", rows.iter().map(|r| &r.libelle))
        .str(
            "region_libelle_source",
            rows.iter().map(|r| &r.region_libelle),
        )
        .str("region_code", code(|d| &d.region_code))
        .str("academie_code", code(|d| &d.academie_code))
        .str("departement_code", code(|d| &d.code));
    let taux: Vec<Taux> = rows.iter().map(|r| Taux::from_source(&r.rates)).collect();
    rate_columns(&mut t, &taux);
    t.int(
        "taux_en_emploi_6_mois_attendu",
        rows.iter().map(|r| round(r.taux_en_emploi_6_mois_attendu)),
    )
    .int(
        "valeur_ajoutee_6_mois",
        rows.iter().map(|r| round(r.valeur_ajoutee_6_mois)),
    );
    perimetre_column(&mut t, rows.iter().map(|r| (r.filiere, r.millesime)));
    t
}

fn rejects_table(rejects: &[Reject]) -> OutTable {
    let mut t = OutTable::new("indicators_rejects");
    t.str("file", rejects.iter().map(|r| r.file.display().to_string()))
        .int("line", rejects.iter().map(|r| Some(r.line as i64)))
        .str("reason", rejects.iter().map(|r| &r.reason))
        .str("raw", rejects.iter().map(|r| &r.raw));
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::codes::CodeType;
    use crate::stages::continuum::LinkType;
    use crate::stages::indicators::upstream::Relative;

    /// Before the fill, the referential keeps what the filled levels can
    /// look up, and lets the rest go.
    #[test]
    fn the_fill_keeps_the_codes_its_rows_can_reach() {
        let certification = |code: &str, famille: &str, libelle: &str| {
            let c = Certification {
                code: code.into(),
                famille_metiers_code: famille.into(),
                famille_metiers_libelle: libelle.into(),
                ..Certification::default()
            };
            (Code::from(code), c)
        };
        let referentiel: Referentiel = [
            certification("10000001", "", ""),
            certification("10000002", "", ""),
            certification("10000003", "", ""),
            certification("20000001", "", ""),
            certification("20000002", "", ""),
            certification("30000001", "", ""),
            certification("30000002", "", ""),
            certification("40000001", "F1", "Famille un"),
            certification("40000002", "F1", "Famille un"),
            certification("99999999", "", ""),
        ]
        .into_iter()
        .collect();
        let relative = |code: &str, related: &str| Relative {
            code_type: CodeType::Cfd,
            code: code.into(),
            related_is_descendant: true,
            related_code: related.into(),
            hops: 2,
            one_to_one_path: false,
        };
        let lineage: Lineage = [(
            Code::from("10000001"),
            vec![relative("10000001", "10000002")],
        )]
        .into_iter()
        .collect();
        let links = [LinkRow {
            code_type: CodeType::Cfd,
            ancien: "20000001".into(),
            nouveau: "20000002".into(),
            link_type: LinkType::Merge,
        }];
        let terminales = [Terminale {
            code_certification: "30000001".into(),
            code_certification_terminale: "30000002".into(),
            lien: "famille_metiers",
            famille_metiers_code: "F1".into(),
        }];
        let row = |code: &str| Indicateur::for_test(code, Niveau::National);
        let national = [row("10000001"), row("10000003")];
        let kept = referentiel_for_fill(
            referentiel,
            [&national, &[], &[]],
            &lineage,
            &links,
            &terminales,
        );
        let mut codes: Vec<&str> = kept.values().map(|c| c.code.as_str()).collect();
        codes.sort();
        // The rows' codes and a relative; the link's two; the terminal
        // years' two; the family's label, from its first code.
        assert_eq!(
            codes,
            [
                "10000001", "10000002", "10000003", "20000001", "20000002", "30000001", "30000002",
                "40000001"
            ]
        );
    }
}
