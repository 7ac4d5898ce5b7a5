//! The scope of the employment figures (`perimetre_emploi`): which jobs a
//! millésime counts (`../shared/API.md`, "Comparability of millésimes").
//!
//! InserJeunes counts public-sector employment (and service civique) from the
//! 2022 leavers on: cumulated millésimes up to 2020_2021 count private
//! employment only, 2021_2022 counts public employment for half the cohort,
//! 2022_2023 onward for all of it. A national millésime (`2022`) is the
//! counterpart of the pair ending with it (`2021_2022`). InserSup counts
//! public employment in every millésime. Employment rates on both sides of
//! the break are not comparable: a rise across it is partly an artefact.

use crate::rules::filiere::Filiere;
use crate::rules::millesime::Millesime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PerimetreEmploi {
    /// Private employment only.
    Prive,
    /// Public employment counted for part of the cohort (2021_2022).
    PrivePublicPartiel,
    /// Private and public employment.
    PrivePublic,
}

impl PerimetreEmploi {
    pub const ALL: [PerimetreEmploi; 3] = [
        PerimetreEmploi::Prive,
        PerimetreEmploi::PrivePublicPartiel,
        PerimetreEmploi::PrivePublic,
    ];

    /// The scope of a filière's millésime.
    pub fn of(filiere: Filiere, millesime: Millesime) -> PerimetreEmploi {
        if filiere == Filiere::Superieur {
            return PerimetreEmploi::PrivePublic;
        }
        match millesime.last {
            ..=2021 => PerimetreEmploi::Prive,
            2022 => PerimetreEmploi::PrivePublicPartiel,
            _ => PerimetreEmploi::PrivePublic,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            PerimetreEmploi::Prive => "prive",
            PerimetreEmploi::PrivePublicPartiel => "prive_public_partiel",
            PerimetreEmploi::PrivePublic => "prive_public",
        }
    }

    pub fn parse(value: &str) -> Option<PerimetreEmploi> {
        Self::ALL.into_iter().find(|p| p.as_str() == value)
    }

    /// In French, for warnings and READMEs.
    pub fn libelle(self) -> &'static str {
        match self {
            PerimetreEmploi::Prive => "emploi salarié privé seulement",
            PerimetreEmploi::PrivePublicPartiel => {
                "emploi public compté pour une partie de la cohorte"
            }
            PerimetreEmploi::PrivePublic => "emploi salarié privé et public",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(filiere: Filiere, m: &str) -> &'static str {
        PerimetreEmploi::of(filiere, Millesime::parse(m).unwrap()).as_str()
    }

    #[test]
    fn the_break_falls_on_the_2022_leavers() {
        for (m, expected) in [
            ("2019_2020", "prive"),
            ("2020_2021", "prive"),
            ("2021", "prive"),
            ("2021_2022", "prive_public_partiel"),
            ("2022", "prive_public_partiel"),
            ("2022_2023", "prive_public"),
            ("2023", "prive_public"),
            ("2023_2024", "prive_public"),
        ] {
            assert_eq!(of(Filiere::Pro, m), expected, "{m}");
            assert_eq!(of(Filiere::Apprentissage, m), expected, "{m}");
        }
    }

    #[test]
    fn insersup_always_counts_public_employment() {
        assert_eq!(of(Filiere::Superieur, "2019_2020"), "prive_public");
    }

    #[test]
    fn names_round_trip() {
        for p in PerimetreEmploi::ALL {
            assert_eq!(PerimetreEmploi::parse(p.as_str()), Some(p));
        }
    }
}
