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

    pub fn as_str(self) -> &'static str {
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

    /// Reads the sources' words for a voie or filière: `scolaire`, `pro`,
    /// `voie_pro_sco_educ_nat`, `apprentissage`, `agricole`, `superieur`…
    pub fn parse(value: &str) -> Result<Filiere, String> {
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
        assert_eq!(Filiere::Pro.code_type(), CodeType::MefStat11);
        assert_eq!(Filiere::Apprentissage.code_type(), CodeType::Cfd);
    }
}
