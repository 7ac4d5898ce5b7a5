//! Familles de métiers: a common first year's row, summed from its
//! specialities (issue 6).
//!
//! A common first year ("seconde commune") has no outcome of its own: the
//! honest figures to show for it are those of the specialities it leads to
//! (its `famille_metiers` terminal certifications). At each level (nation,
//! région, establishment) and for each millésime and filière where at least
//! one speciality has a row, the common year gets:
//! - a row of its own in the level's table, keyed by its code, whose counts
//!   are the sum of its specialities' counts (`origine` = `somme_specialites`,
//!   `donnee_source_type` = `famille_metiers`, `donnee_source_code` = the
//!   specialities summed, `|`-joined). Rates are computed from the sums and
//!   the threshold is applied to the sum, at writing, like any row: a
//!   speciality under the threshold still counts, and the family's row may be
//!   published where none of its specialities' is;
//! - one `familles_specialites` row per speciality, with the speciality's own
//!   published figures and whether it is in the sum, so a platform can show
//!   either the family or its specialities.
//!
//! What is summed: every speciality row with counts, the code's own figures
//! first, then rows the continuum derived (a renewed speciality carrying its
//! predecessor's figures), unless the figures they carry are already in the
//! sum (a predecessor that is itself a speciality of the family): no student
//! is counted twice. Left out, and said so (`raison_hors_somme`): rows
//! without counts (a source giving rates only), rows whose only count is
//! `nb_annee_term` (the source withholds the rest under 5 students), and
//! figures already counted. A count of the sum is known only where every
//! summed row knows it (`model::sum_counts`); a row with no leaver (every
//! student went on studying) has no one in employment, so its missing
//! employment counts are 0, not unknown.
//!
//! A common year has no outcome of its own, so wherever its family row is
//! made, that row replaces any row the common year had at the same key (a
//! handful of students counted in the common year itself, or figures the
//! continuum gave it): a tiny or masked own row must not hide the figures of
//! hundreds of students in its specialities (issue 15: CFD 40321404 had 1
//! student of its own in région 84 and 439 in its specialities). The
//! replaced row stays visible: `familles_specialites` lists it under the
//! common year's own code with `raison_hors_somme = ligne_propre_remplacee`.
//! Where no speciality has usable counts, the own row stays as it is.
//! Salaries, which are quartiles, are not summed.

use std::collections::{BTreeMap, HashMap, HashSet};

use foldhash::fast::FixedState;

use crate::memory::ByRun;
use crate::rules::codes::Code;
use crate::rules::filiere::Filiere;
use crate::rules::millesime::Millesime;
use crate::rules::rates::sortants;
use crate::stages::indicators::model::{sum_counts, DonneeSource, Indicateur, Origine};
use crate::staging::mesures::{Counts, Niveau};

/// Why a speciality's row is not in its family's sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HorsSomme {
    /// The row has rates but no counts.
    SansEffectifs,
    /// Only `nb_annee_term` is given: the source withholds the rest.
    EffectifsNonDiffuses,
    /// Its figures are another speciality's, already summed (continuum).
    DejaComptee,
    /// The common year's own row, replaced in its level's table by the
    /// family sum (listed under the common year's own code).
    LignePropreRemplacee,
}

impl HorsSomme {
    pub const ALL: [HorsSomme; 4] = [
        HorsSomme::SansEffectifs,
        HorsSomme::EffectifsNonDiffuses,
        HorsSomme::DejaComptee,
        HorsSomme::LignePropreRemplacee,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            HorsSomme::SansEffectifs => "sans_effectifs",
            HorsSomme::EffectifsNonDiffuses => "effectifs_non_diffuses",
            HorsSomme::DejaComptee => "deja_comptee",
            HorsSomme::LignePropreRemplacee => "ligne_propre_remplacee",
        }
    }
}

/// One speciality of a common first year, at one key.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilleSpecialite {
    /// The common first year.
    pub code_certification: Code,
    pub famille_metiers_code: Code,
    /// The speciality's row (its code is the speciality's).
    pub specialite: Indicateur,
    pub hors_somme: Option<HorsSomme>,
}

/// The specialities of each common first year: its code → (family, speciality codes).
pub type Specialites<'a> = BTreeMap<&'a str, (&'a str, Vec<&'a str>)>;

/// Adds to `rows` (one level's rows, the continuum's included) the family
/// row of each common first year, and returns the speciality rows.
pub fn add_family_rows(
    rows: &mut Vec<Indicateur>,
    specialites: &Specialites,
) -> Vec<FamilleSpecialite> {
    let by_code = speciality_rows(rows, specialites);
    let mut new_rows = Vec::new();
    let mut listed = Vec::new();
    for (commune, (famille, codes)) in specialites {
        let mut groups: BTreeMap<(Millesime, Filiere, Niveau), Vec<&Indicateur>> = BTreeMap::new();
        for code in codes {
            for &i in by_code.get(code).into_iter().flatten() {
                let r = &rows[i];
                groups
                    .entry((r.millesime, r.filiere, r.niveau.clone()))
                    .or_default()
                    .push(r);
            }
        }
        let family = Family { commune, famille };
        for (key, members) in groups {
            new_rows.extend(family.sum(key, members, &mut listed));
        }
    }
    replace_own_rows(rows, new_rows, specialites, &mut listed);
    listed
}

/// Where each speciality's rows are in `rows`, by speciality code: only the
/// codes some common year leads to.
fn speciality_rows<'r>(
    rows: &'r [Indicateur],
    specialites: &Specialites,
) -> HashMap<&'r str, Vec<usize>> {
    let wanted: HashSet<&str, FixedState> = specialites
        .values()
        .flat_map(|(_, codes)| codes.iter().copied())
        .collect();
    let mut by_code: HashMap<&str, Vec<usize>> = HashMap::new();
    // A level's rows come a code's places after another: each run of a
    // code is looked up once (×100's regional level, issue 13).
    let mut is_wanted = ByRun::default();
    for (i, r) in rows.iter().enumerate() {
        if is_wanted.get(&r.code_certification, |code| wanted.contains(code)) {
            by_code.entry(&r.code_certification).or_default().push(i);
        }
    }
    by_code
}

/// A common first year and the family its specialities are summed under.
struct Family<'s> {
    commune: &'s str,
    famille: &'s str,
}

impl Family<'_> {
    /// The family row at one key (millésime, filière, place), summed from
    /// its specialities' rows there (see the module's doc for what is
    /// summed), or none when no speciality row can be. Each speciality row
    /// is listed in `listed`, with why it is out of the sum.
    fn sum(
        &self,
        (millesime, filiere, niveau): (Millesime, Filiere, Niveau),
        mut members: Vec<&Indicateur>,
        listed: &mut Vec<FamilleSpecialite>,
    ) -> Option<Indicateur> {
        // Own figures first, then derived ones; by code within each.
        members.sort_by_key(|r| {
            (
                *r.donnee_source != DonneeSource::Propre,
                r.code_certification.clone(),
            )
        });
        let mut counted: HashSet<&str> = HashSet::new();
        let mut summed: Vec<&Indicateur> = Vec::new();
        for r in &members {
            let hors_somme = if r.counts.is_empty() {
                Some(HorsSomme::SansEffectifs)
            } else if only_annee_term(&r.counts.get()) {
                Some(HorsSomme::EffectifsNonDiffuses)
            } else if figures_of(r).iter().any(|c| counted.contains(c)) {
                Some(HorsSomme::DejaComptee)
            } else {
                counted.extend(figures_of(r));
                summed.push(r);
                None
            };
            listed.push(FamilleSpecialite {
                code_certification: self.commune.into(),
                famille_metiers_code: self.famille.into(),
                specialite: (*r).clone(),
                hors_somme,
            });
        }
        let first = summed.first()?;
        let completed: Vec<Counts> = summed
            .iter()
            .map(|r| no_leaver_no_job(&r.counts.get()))
            .collect();
        Some(Indicateur {
            millesime,
            filiere,
            code_certification: self.commune.into(),
            code_certification_type: first.code_certification_type,
            niveau,
            counts: sum_counts(completed.into_iter()).into(),
            salaires: Default::default(),
            source_rates: Default::default(),
            libelle_etablissement: first.libelle_etablissement.clone(),
            origine: Origine::SommeSpecialites,
            donnee_source: DonneeSource::FamilleMetiers {
                famille_metiers_code: self.famille.into(),
                codes: summed
                    .iter()
                    .map(|r| r.code_certification.clone())
                    .collect(),
            }
            .into(),
        })
    }
}

/// The family rows replace the common years' own rows at their keys (see
/// the module's doc); a replaced row is listed under the common year's own
/// code (`ligne_propre_remplacee`). In place: a level's rows are the stage's
/// largest vector, and a second one beside it was its peak (issue 13).
fn replace_own_rows(
    rows: &mut Vec<Indicateur>,
    new_rows: Vec<Indicateur>,
    specialites: &Specialites,
    listed: &mut Vec<FamilleSpecialite>,
) {
    // Where a family row has the key of a row of the level (a common
    // year's own row), the family row takes its place: the level is sorted
    // by key next (`fill_level`), and taking rows out of its middle moved
    // every row after them (issue 13).
    let replaced: Vec<(usize, usize)> = {
        let new_at: HashMap<_, usize, FixedState> = new_rows
            .iter()
            .enumerate()
            .map(|(j, r)| (r.key_ref(), j))
            .collect();
        let mut is_common_year = ByRun::default();
        rows.iter()
            .enumerate()
            .filter(|(_, r)| {
                is_common_year.get(&r.code_certification, |code| specialites.contains_key(code))
            })
            .filter_map(|(i, r)| Some((i, *new_at.get(&r.key_ref())?)))
            .collect()
    };
    let mut new_rows: Vec<Option<Indicateur>> = new_rows.into_iter().map(Some).collect();
    for (i, j) in replaced {
        let family = new_rows[j].take().expect("one level row per key");
        let r = std::mem::replace(&mut rows[i], family);
        let Some((famille, _)) = specialites.get(r.code_certification.as_str()) else {
            unreachable!("a replaced row is a common year's");
        };
        listed.push(FamilleSpecialite {
            code_certification: r.code_certification.clone(),
            famille_metiers_code: (*famille).into(),
            specialite: r,
            hors_somme: Some(HorsSomme::LignePropreRemplacee),
        });
    }
    let added: Vec<Indicateur> = new_rows.into_iter().flatten().collect();
    // Reserved exactly: the continuum's rows were (`fill`), and doubling
    // the level's vector for a few family rows would reserve as much again.
    rows.reserve_exact(added.len());
    rows.extend(added);
}

/// The codes whose students a row counts: its own, or those the continuum
/// took its figures from.
fn figures_of(r: &Indicateur) -> Vec<&str> {
    match &*r.donnee_source {
        DonneeSource::Continuum { codes, .. } => codes.iter().map(Code::as_str).collect(),
        _ => vec![r.code_certification.as_str()],
    }
}

/// Only the number of students in their final year is known.
fn only_annee_term(c: &Counts) -> bool {
    c.nb_annee_term.is_some()
        && c.nb_poursuite_etudes.is_none()
        && c.nb_sortant.is_none()
        && c.nb_en_emploi_6_mois.is_none()
        && c.nb_en_emploi_12_mois.is_none()
        && c.nb_en_emploi_18_mois.is_none()
        && c.nb_en_emploi_24_mois.is_none()
}

/// With no leaver, no one is in employment: a missing employment count is 0.
fn no_leaver_no_job(c: &Counts) -> Counts {
    let mut c = *c;
    c.nb_sortant = sortants(c.nb_sortant, c.nb_annee_term, c.nb_poursuite_etudes);
    if c.nb_sortant == Some(0) {
        for n in [
            &mut c.nb_en_emploi_6_mois,
            &mut c.nb_en_emploi_12_mois,
            &mut c.nb_en_emploi_18_mois,
            &mut c.nb_en_emploi_24_mois,
        ] {
            n.get_or_insert(0);
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::codes::CodeType;
    use crate::rules::continuum::{Direction, Via};
    use crate::rules::masquage::Masked;
    use crate::stages::indicators::model::publish;

    fn counts(term: i64, poursuite: i64, emploi_6: i64) -> Counts {
        Counts {
            nb_annee_term: Some(term),
            nb_poursuite_etudes: Some(poursuite),
            nb_sortant: Some(term - poursuite),
            nb_en_emploi_6_mois: Some(emploi_6),
            ..Counts::default()
        }
    }

    fn row(code: &str, region: &str, c: Counts) -> Indicateur {
        Indicateur {
            millesime: Millesime::parse("2022_2023").unwrap(),
            filiere: Filiere::Pro,
            code_certification: code.into(),
            code_certification_type: CodeType::MefStat11,
            niveau: Niveau::Region(region.into()),
            counts: c.into(),
            salaires: Default::default(),
            source_rates: Default::default(),
            libelle_etablissement: None,
            origine: Origine::Source,
            donnee_source: Default::default(),
        }
    }

    fn specialites() -> Specialites<'static> {
        BTreeMap::from([(
            "23810020006",
            ("G0003", vec!["23830023102", "23830023203", "23830023204"]),
        )])
    }

    fn family<'a>(rows: &'a [Indicateur], region: &str) -> Option<&'a Indicateur> {
        rows.iter().find(|r| {
            r.code_certification == "23810020006" && r.niveau == Niveau::Region(region.into())
        })
    }

    #[test]
    fn the_family_sums_its_specialities_and_the_threshold_applies_to_the_sum() {
        let mut rows = vec![
            row("23830023102", "84", counts(12, 5, 3)),
            row("23830023203", "84", counts(15, 6, 4)),
            row("23830023102", "11", counts(45, 20, 9)),
        ];
        let listed = add_family_rows(&mut rows, &specialites());
        let f = family(&rows, "84").unwrap();
        assert_eq!(f.counts.get().nb_annee_term, Some(27));
        assert_eq!(f.counts.get().nb_en_emploi_6_mois, Some(7));
        assert_eq!(f.origine, Origine::SommeSpecialites);
        assert_eq!(
            *f.donnee_source,
            DonneeSource::FamilleMetiers {
                famille_metiers_code: "G0003".into(),
                codes: vec!["23830023102".into(), "23830023203".into()],
            }
        );
        // Each speciality is under the threshold, the family is not.
        assert_eq!(publish(&rows[0], 20).masked, Some(Masked::SousSeuil));
        let p = publish(f, 20);
        assert_eq!(p.masked, Some(Masked::SortantsSousSeuil), "16 leavers");
        assert_eq!(p.taux.taux_poursuite_etudes, Some(41));
        assert_eq!(
            family(&rows, "11").unwrap().counts.get().nb_annee_term,
            Some(45)
        );
        assert_eq!(listed.len(), 3);
        assert!(listed.iter().all(|l| l.hors_somme.is_none()));
    }

    #[test]
    fn a_continuum_row_carrying_a_summed_specialitys_figures_is_not_counted_twice() {
        // 23830023204 (closed) has its own row; 23830023203 took it (continuum).
        let mut derived = row("23830023203", "11", counts(30, 10, 8));
        derived.donnee_source = DonneeSource::Continuum {
            direction: Direction::Ancienne,
            via: Via::OneToOne,
            hops: 1,
            codes: vec!["23830023204".into()],
        }
        .into();
        // A derived row whose source is not in the family is summed.
        let mut other = row("23830023102", "11", counts(40, 10, 12));
        other.donnee_source = DonneeSource::Continuum {
            direction: Direction::Ancienne,
            via: Via::OneToOne,
            hops: 1,
            codes: vec!["23830099999".into()],
        }
        .into();
        let mut rows = vec![row("23830023204", "11", counts(30, 10, 8)), derived, other];
        let listed = add_family_rows(&mut rows, &specialites());
        assert_eq!(
            family(&rows, "11").unwrap().counts.get().nb_annee_term,
            Some(70)
        );
        let reasons: Vec<_> = listed
            .iter()
            .map(|l| (l.specialite.code_certification.as_str(), l.hors_somme))
            .collect();
        assert_eq!(
            reasons,
            vec![
                ("23830023204", None),
                ("23830023102", None),
                ("23830023203", Some(HorsSomme::DejaComptee)),
            ]
        );
    }

    #[test]
    fn rows_without_usable_counts_are_listed_not_summed() {
        let tiny = Counts {
            nb_annee_term: Some(3),
            ..Counts::default()
        };
        let mut rates_only = row("23830023204", "11", Counts::default());
        rates_only.source_rates.taux_poursuite_etudes = Some(40.0);
        // Everyone went on: no leaver, so no one in employment.
        let all_continue = Counts {
            nb_annee_term: Some(22),
            nb_poursuite_etudes: Some(22),
            ..Counts::default()
        };
        let mut rows = vec![
            row("23830023102", "11", tiny),
            rates_only,
            row("23830023203", "11", all_continue),
        ];
        let listed = add_family_rows(&mut rows, &specialites());
        let f = family(&rows, "11").unwrap();
        assert_eq!(f.counts.get().nb_annee_term, Some(22));
        assert_eq!(f.counts.get().nb_en_emploi_6_mois, Some(0));
        let mut reasons: Vec<_> = listed.iter().map(|l| l.hors_somme).collect();
        reasons.sort();
        assert_eq!(
            reasons,
            vec![
                None,
                Some(HorsSomme::SansEffectifs),
                Some(HorsSomme::EffectifsNonDiffuses)
            ]
        );
    }

    #[test]
    fn the_dictionary_lists_every_reason() {
        let doc = crate::release::dictionary::column_doc("raison_hors_somme").unwrap();
        let ours: Vec<&str> = HorsSomme::ALL.iter().map(|h| h.as_str()).collect();
        assert_eq!(doc.values, ours.as_slice());
    }

    #[test]
    fn a_common_years_own_row_gives_way_to_its_family_sum_and_stays_listed() {
        // Issue 15: 1 student of its own (masked) must not hide 439 in its specialities.
        let own = Counts {
            nb_annee_term: Some(1),
            ..Counts::default()
        };
        let mut rows = vec![
            row("23810020006", "84", own),
            row("23830023102", "84", counts(49, 20, 9)),
            row("23830023203", "84", counts(390, 100, 150)),
            // Where no speciality has figures, the own row stays.
            row("23810020006", "11", counts(25, 10, 5)),
        ];
        let listed = add_family_rows(&mut rows, &specialites());
        let commune: Vec<_> = rows
            .iter()
            .filter(|r| r.code_certification == "23810020006")
            .collect();
        assert_eq!(commune.len(), 2, "one row per key");
        let f = family(&rows, "84").unwrap();
        assert_eq!(f.counts.get().nb_annee_term, Some(439));
        assert_eq!(f.origine, Origine::SommeSpecialites);
        assert_eq!(
            *family(&rows, "11").unwrap().donnee_source,
            DonneeSource::Propre
        );
        let replaced: Vec<_> = listed
            .iter()
            .filter(|l| l.hors_somme == Some(HorsSomme::LignePropreRemplacee))
            .collect();
        assert_eq!(replaced.len(), 1);
        assert_eq!(replaced[0].specialite.code_certification, "23810020006");
        assert_eq!(replaced[0].specialite.counts.get().nb_annee_term, Some(1));
        assert_eq!(replaced[0].specialite.niveau, Niveau::Region("84".into()));
    }
}
