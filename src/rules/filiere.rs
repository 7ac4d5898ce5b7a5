//! Filières: which statistical system and which code key a figure has.
//!
//! - `pro`: voie scolaire of the Éducation nationale, keyed by MEF_STAT_11;
//! - `apprentissage`: keyed by CFD;
//! - `agricole`: voie scolaire of the ministry of agriculture, keyed by MEF_STAT_11;
//! - `superieur`: higher education (InserSup), keyed by SISE code.

use std::fmt;

use crate::rules::codes::CodeType;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Filiere {
    Pro,
    Apprentissage,
    Agricole,
    Superieur,
}

impl Filiere {
    pub const ALL: [Filiere; 4] = [
        Filiere::Pro,
        Filiere::Apprentissage,
        Filiere::Agricole,
        Filiere::Superieur,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Filiere::Pro => "pro",
            Filiere::Apprentissage => "apprentissage",
            Filiere::Agricole => "agricole",
            Filiere::Superieur => "superieur",
        }
    }

    /// The code type a filière's figures are keyed by.
    pub fn code_type(self) -> CodeType {
        match self {
            Filiere::Pro | Filiere::Agricole => CodeType::MefStat11,
            Filiere::Apprentissage => CodeType::Cfd,
            Filiere::Superieur => CodeType::Sise,
        }
    }

    /// The filières whose figures a code type keys: the inverse of
    /// [`Filiere::code_type`], in `ALL`'s order.
    pub fn of_code_type(kind: CodeType) -> &'static [Filiere] {
        match kind {
            CodeType::Cfd => &[Filiere::Apprentissage],
            CodeType::MefStat11 => &[Filiere::Pro, Filiere::Agricole],
            CodeType::Sise => &[Filiere::Superieur],
        }
    }

    /// The filière of a code when nothing but its type is known: a CFD is
    /// apprenticeship, a SISE code higher education, and a MEF_STAT_11 the
    /// voie scolaire of the Éducation nationale (an agricultural MEF is told
    /// by its dispositif, [`is_agricole_dispositif`], not by its type).
    pub fn default_for(kind: CodeType) -> Filiere {
        Filiere::of_code_type(kind)[0]
    }

    /// Reads the sources' words for a voie or filière: `scolaire`, `pro`,
    /// `voie_pro_sco_educ_nat`, `apprentissage`, `agricole`, `superieur`…
    pub fn parse(value: &str) -> Result<Filiere, String> {
        // A filière as the tables write it, without a copy: a stage table
        // gives one a row (×100's coverage read nine million).
        if let Some(&f) = Filiere::ALL.iter().find(|f| f.as_str() == value) {
            return Ok(f);
        }
        match value.trim().to_lowercase().as_str() {
            "pro" | "scolaire" | "voie_pro_sco_educ_nat" | "voie scolaire" | "st" => {
                Ok(Filiere::Pro)
            }
            "apprentissage" | "ap" => Ok(Filiere::Apprentissage),
            "agricole" | "voie_pro_sco_agri" => Ok(Filiere::Agricole),
            "superieur" | "supérieur" | "insersup" => Ok(Filiere::Superieur),
            _ => Err(format!(
                "\"{value}\" is not a filière (expected scolaire, pro, apprentissage, agricole or superieur)"
            )),
        }
    }
}

/// A MEF of the enseignement agricole, from its DISPOSITIF_FORMATION: on the
/// real N_DISPOSITIF_FORMATION, 270 to 282 are all agricultural (CAP
/// agricole, BEPA, bac pro agricole, BPA, CSA, CAPA-apprenti); the
/// Éducation nationale's bac pro are 245 to 247.
pub fn is_agricole_dispositif(dispositif_formation: &str) -> bool {
    dispositif_formation.starts_with("27") || dispositif_formation.starts_with("28")
}

impl fmt::Display for Filiere {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_sources_words() {
        for (word, filiere) in [
            ("scolaire", Filiere::Pro),
            ("voie_pro_sco_educ_nat", Filiere::Pro),
            ("apprentissage", Filiere::Apprentissage),
            ("Agricole", Filiere::Agricole),
            ("superieur", Filiere::Superieur),
        ] {
            assert_eq!(Filiere::parse(word), Ok(filiere));
        }
        assert!(Filiere::parse("alternance").is_err());
        // Each filière reads back from its own name, as written or not.
        for f in Filiere::ALL {
            assert_eq!(Filiere::parse(f.as_str()), Ok(f));
            assert_eq!(
                Filiere::parse(&format!(" {} ", f.as_str().to_uppercase())),
                Ok(f)
            );
        }
        assert_eq!(Filiere::Pro.code_type(), CodeType::MefStat11);
        assert_eq!(Filiere::Apprentissage.code_type(), CodeType::Cfd);
    }

    #[test]
    fn code_types_and_filieres_are_inverse() {
        for f in Filiere::ALL {
            assert!(Filiere::of_code_type(f.code_type()).contains(&f), "{f}");
        }
        for kind in [CodeType::Cfd, CodeType::MefStat11, CodeType::Sise] {
            for f in Filiere::of_code_type(kind) {
                assert_eq!(f.code_type(), kind);
            }
            assert_eq!(Filiere::default_for(kind).code_type(), kind);
        }
        assert_eq!(Filiere::default_for(CodeType::Cfd), Filiere::Apprentissage);
        assert_eq!(Filiere::default_for(CodeType::MefStat11), Filiere::Pro);
        assert_eq!(Filiere::default_for(CodeType::Sise), Filiere::Superieur);
    }

    #[test]
    fn agricultural_dispositifs() {
        for d in ["270", "276", "282", "28"] {
            assert!(is_agricole_dispositif(d), "{d}");
        }
        for d in ["245", "246", "247", "500", "", "2", "327", "127"] {
            assert!(!is_agricole_dispositif(d), "{d}");
        }
    }
}
