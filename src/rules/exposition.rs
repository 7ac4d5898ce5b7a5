//! The partners' API ("Exposition InserJeunes", `../shared/API.md`) uses the
//! same words as our release for different figures. The mapping is written
//! here once, and every JSON or SVG answer goes through it:
//!
//! | API field | ours | formula |
//! |---|---|---|
//! | `taux_en_emploi_6_mois` | `part_en_emploi_6_mois` | `nb_en_emploi_6_mois / nb_annee_term` |
//! | `taux_en_emploi_{12,18,24}_mois` | (not in the release) | `nb_en_emploi_X_mois / nb_annee_term`, from the published counts |
//! | `taux_en_formation` | `part_poursuite_etudes` | `nb_poursuite_etudes / nb_annee_term` |
//! | `taux_autres_6_mois` | `part_autres_situations_6_mois` | `max(100 − emploi − formation, 0)` |
//! | `taux_autres_{12,18,24}_mois` | (not in the release) | `max(100 − taux_en_emploi_X_mois − taux_en_formation, 0)` |
//! | `taux_rupture_contrats` | (none) | always null: no source gives it |
//!
//! Our `taux_en_emploi_X_mois` (employed over *leavers*, `nb_sortant`) has no
//! API counterpart: it rides along as `ij_taux_en_emploi_X_mois`.
//!
//! The rates of a published row are taken as published (`part_*`, which may
//! come from a source that gives rates without counts); the 12/18/24-month
//! shares are computed from the counts with the same rounding (half to even).

use crate::rules::codes::CodeType;
use crate::rules::continuum::DonneeSourceType;
use crate::rules::rates::{part_autres_situations, percentage};

/// The figures of one row, as the release publishes them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OurFigures {
    pub nb_annee_term: Option<i64>,
    pub nb_poursuite_etudes: Option<i64>,
    pub nb_en_emploi_12_mois: Option<i64>,
    pub nb_en_emploi_18_mois: Option<i64>,
    pub nb_en_emploi_24_mois: Option<i64>,
    pub part_en_emploi_6_mois: Option<i64>,
    pub part_poursuite_etudes: Option<i64>,
    pub part_autres_situations_6_mois: Option<i64>,
}

/// The API's rates (integer percentages).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApiTaux {
    pub taux_en_formation: Option<i64>,
    pub taux_en_emploi_6_mois: Option<i64>,
    pub taux_en_emploi_12_mois: Option<i64>,
    pub taux_en_emploi_18_mois: Option<i64>,
    pub taux_en_emploi_24_mois: Option<i64>,
    pub taux_autres_6_mois: Option<i64>,
    pub taux_autres_12_mois: Option<i64>,
    pub taux_autres_18_mois: Option<i64>,
    pub taux_autres_24_mois: Option<i64>,
}

impl ApiTaux {
    /// Whether the three figures a widget shows are all missing.
    pub fn widget_is_empty(&self) -> bool {
        self.taux_en_emploi_6_mois.is_none()
            && self.taux_en_formation.is_none()
            && self.taux_autres_6_mois.is_none()
    }
}

/// Our published figures → the API's rates (see the module's table).
pub fn api_taux(f: &OurFigures) -> ApiTaux {
    let formation = f.part_poursuite_etudes;
    let share = |n: Option<i64>| percentage(n, f.nb_annee_term);
    let (e12, e18, e24) = (
        share(f.nb_en_emploi_12_mois),
        share(f.nb_en_emploi_18_mois),
        share(f.nb_en_emploi_24_mois),
    );
    ApiTaux {
        taux_en_formation: formation,
        taux_en_emploi_6_mois: f.part_en_emploi_6_mois,
        taux_en_emploi_12_mois: e12,
        taux_en_emploi_18_mois: e18,
        taux_en_emploi_24_mois: e24,
        taux_autres_6_mois: f.part_autres_situations_6_mois,
        taux_autres_12_mois: part_autres_situations(e12, formation),
        taux_autres_18_mois: part_autres_situations(e18, formation),
        taux_autres_24_mois: part_autres_situations(e24, formation),
    }
}

/// The API's word for a code type: `cfd`, `mef11`, `sise`.
pub fn api_code_type(ours: CodeType) -> &'static str {
    match ours {
        CodeType::Cfd => "cfd",
        CodeType::MefStat11 => "mef11",
        CodeType::Sise => "sise",
    }
}

/// The API's `donnee_source.type`: `self`, `ancienne` or `nouvelle`. A
/// common first year's sum of its specialities is the code's own figure at
/// its level (`self`); our finer word rides along as `type_ij`.
pub fn api_donnee_source_type(ours: DonneeSourceType) -> &'static str {
    match ours {
        DonneeSourceType::Ancienne => "ancienne",
        DonneeSourceType::Nouvelle => "nouvelle",
        DonneeSourceType::Propre | DonneeSourceType::FamilleMetiers => "self",
    }
}

/// A postcode (5 digits) → the département code of a UAI's first three
/// characters (`69003` → `069`, `20000` → `620` Corse-du-Sud, `20200` →
/// `720` Haute-Corse, `97400` → `974`). `None` when it is not a postcode.
pub fn departement_of_postcode(postcode: &str) -> Option<String> {
    if postcode.len() != 5 || !postcode.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let head = &postcode[..2];
    Some(match head {
        "00" => return None,
        // Corsica: 200xx–201xx are Corse-du-Sud, 202xx–206xx Haute-Corse.
        "20" => match postcode.as_bytes()[2] {
            b'0' | b'1' => "620".to_string(),
            _ => "720".to_string(),
        },
        "97" | "98" => postcode[..3].to_string(),
        _ => format!("0{head}"),
    })
}

/// The widget's subtitle under the employment figure: millésimes whose
/// last year is 2021 or earlier counted private employment only (API.md,
/// "Comparability of millésimes"). InserSup counts public employment always.
pub fn emploi_scope(last_year: u16, insersup: bool) -> &'static str {
    if insersup || last_year > 2021 {
        "(tout type d'emploi salarié)"
    } else {
        "(emploi salarié du privé)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_rates_divide_by_the_final_year_students() {
        // 40 in final year, 12 go on studying, 18 employed at 6 months, 20 at 12.
        let ours = OurFigures {
            nb_annee_term: Some(40),
            nb_poursuite_etudes: Some(12),
            nb_en_emploi_12_mois: Some(20),
            nb_en_emploi_18_mois: Some(21),
            nb_en_emploi_24_mois: None,
            part_en_emploi_6_mois: Some(45),
            part_poursuite_etudes: Some(30),
            part_autres_situations_6_mois: Some(25),
        };
        let t = api_taux(&ours);
        assert_eq!(t.taux_en_emploi_6_mois, Some(45));
        assert_eq!(t.taux_en_formation, Some(30));
        assert_eq!(t.taux_autres_6_mois, Some(25));
        assert_eq!(t.taux_en_emploi_12_mois, Some(50)); // 20 / 40
        assert_eq!(t.taux_autres_12_mois, Some(20)); // 100 − 50 − 30
        assert_eq!(t.taux_en_emploi_18_mois, Some(52)); // 52.5 → 52, half to even
        assert_eq!(t.taux_en_emploi_24_mois, None);
        assert_eq!(t.taux_autres_24_mois, None);
        assert!(!t.widget_is_empty());
        assert!(api_taux(&OurFigures::default()).widget_is_empty());
    }

    #[test]
    fn other_situations_are_never_negative() {
        let ours = OurFigures {
            nb_annee_term: Some(20),
            nb_en_emploi_12_mois: Some(15),
            part_poursuite_etudes: Some(40),
            ..OurFigures::default()
        };
        assert_eq!(api_taux(&ours).taux_autres_12_mois, Some(0));
    }

    #[test]
    fn words() {
        assert_eq!(api_code_type(CodeType::MefStat11), "mef11");
        assert_eq!(api_code_type(CodeType::Cfd), "cfd");
        assert_eq!(api_code_type(CodeType::Sise), "sise");
        assert_eq!(api_donnee_source_type(DonneeSourceType::Propre), "self");
        assert_eq!(
            api_donnee_source_type(DonneeSourceType::FamilleMetiers),
            "self"
        );
        assert_eq!(
            api_donnee_source_type(DonneeSourceType::Ancienne),
            "ancienne"
        );
        assert_eq!(
            api_donnee_source_type(DonneeSourceType::Nouvelle),
            "nouvelle"
        );
    }

    #[test]
    fn postcodes_give_their_departement() {
        for (postcode, dept) in [
            ("69003", Some("069")),
            ("75015", Some("075")),
            ("01000", Some("001")),
            ("20000", Some("620")),
            ("20167", Some("620")),
            ("20200", Some("720")),
            ("97400", Some("974")),
            ("97600", Some("976")),
            ("00100", None),
            ("6900", None),
            ("69 03", None),
        ] {
            assert_eq!(
                departement_of_postcode(postcode).as_deref(),
                dept,
                "{postcode}"
            );
        }
    }

    #[test]
    fn the_employment_scope_follows_the_millesime() {
        assert_eq!(emploi_scope(2021, false), "(emploi salarié du privé)");
        assert_eq!(emploi_scope(2022, false), "(tout type d'emploi salarié)");
        assert_eq!(emploi_scope(2020, true), "(tout type d'emploi salarié)");
    }
}
