//! The team's referentials of `reference/` (régions, académies,
//! départements), embedded in the binary so every stage can enrich a row with
//! its territory without being given a file.
//!
//! A UAI's first three characters are its département (`063` Puy-de-Dôme,
//! `620` Corse-du-Sud, `971` Guadeloupe): from there come its académie and région.

use std::collections::HashMap;
use std::path::Path;

use crate::error::Result;
use crate::input::{delimited, DelimitedOptions, RawTable};
use crate::staging::fields::folded_key;

const REGIONS: &str = include_str!("../../reference/regions.csv");
const ACADEMIES: &str = include_str!("../../reference/academies.csv");
const DEPARTEMENTS: &str = include_str!("../../reference/departements.csv");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// INSEE code (`84`).
    pub code: String,
    pub libelle: String,
    /// InserJeunes's own code for the région (`01` for Auvergne-Rhône-Alpes).
    pub code_ij: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Academie {
    pub code: String,
    pub libelle: String,
    pub region_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departement {
    /// As the first 3 characters of a UAI (`063`, `620`, `971`).
    pub code: String,
    pub libelle: String,
    pub academie_code: String,
    pub region_code: String,
}

/// The territory of an establishment, as far as it is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Territoire {
    pub departement_code: String,
    pub departement_libelle: String,
    pub academie_code: String,
    pub academie_libelle: String,
    pub region_code: String,
    pub region_libelle: String,
}

#[derive(Debug, Clone)]
pub struct Reference {
    regions: Vec<Region>,
    academies: Vec<Academie>,
    departements: Vec<Departement>,
    region_by_code: Index,
    region_by_ij: Index,
    region_by_name: Index,
    academie_by_code: Index,
    academie_by_name: Index,
    /// Each académie's folded name, in `academies`' order (for prefixes).
    academie_folded: Vec<String>,
    departement_by_code: Index,
}

/// A referential's rows by key: looked up once or more per row and per
/// offer, hashed with a fast fixed-seed hasher (SipHash was 1 % of the
/// coverage of a national catalogue, issue 13).
type Index = HashMap<String, usize, foldhash::fast::FixedState>;

fn parse(name: &str, text: &str) -> Result<RawTable> {
    delimited::read_delimited(
        Path::new(name),
        text.as_bytes(),
        &DelimitedOptions::default(),
    )
}

impl Reference {
    /// The embedded tables of `reference/`.
    pub fn embedded() -> Reference {
        Reference::from_texts(REGIONS, ACADEMIES, DEPARTEMENTS)
            .expect("the embedded reference tables are valid (tested)")
    }

    pub fn from_texts(regions: &str, academies: &str, departements: &str) -> Result<Reference> {
        let t = parse("reference/regions.csv", regions)?;
        let [code, libelle, code_ij] =
            t.columns(["region_code", "region_libelle", "region_code_ij"])?;
        let regions: Vec<Region> = t
            .rows()
            .map(|r| Region {
                code: r.get(&code).to_string(),
                libelle: r.get(&libelle).to_string(),
                code_ij: r.get(&code_ij).to_string(),
            })
            .collect();
        let t = parse("reference/academies.csv", academies)?;
        let [code, libelle, region] =
            t.columns(["academie_code", "academie_libelle", "region_code"])?;
        let academies: Vec<Academie> = t
            .rows()
            .map(|r| Academie {
                code: r.get(&code).to_string(),
                libelle: r.get(&libelle).to_string(),
                region_code: r.get(&region).to_string(),
            })
            .collect();
        let t = parse("reference/departements.csv", departements)?;
        let [code, libelle, academie, region] = t.columns([
            "departement_code",
            "departement_libelle",
            "academie_code",
            "region_code",
        ])?;
        let departements: Vec<Departement> = t
            .rows()
            .map(|r| Departement {
                code: r.get(&code).to_string(),
                libelle: r.get(&libelle).to_string(),
                academie_code: r.get(&academie).to_string(),
                region_code: r.get(&region).to_string(),
            })
            .collect();

        let index = |keys: Vec<String>| -> Index {
            keys.into_iter().enumerate().map(|(i, k)| (k, i)).collect()
        };
        Ok(Reference {
            region_by_code: index(regions.iter().map(|r| r.code.clone()).collect()),
            region_by_ij: index(regions.iter().map(|r| r.code_ij.clone()).collect()),
            region_by_name: index(regions.iter().map(|r| folded_key(&r.libelle)).collect()),
            academie_by_code: index(academies.iter().map(|a| a.code.clone()).collect()),
            academie_by_name: index(academies.iter().map(|a| folded_key(&a.libelle)).collect()),
            academie_folded: academies.iter().map(|a| folded_key(&a.libelle)).collect(),
            departement_by_code: index(departements.iter().map(|d| d.code.clone()).collect()),
            regions,
            academies,
            departements,
        })
    }

    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    pub fn region(&self, insee_code: &str) -> Option<&Region> {
        self.region_by_code
            .get(insee_code)
            .map(|&i| &self.regions[i])
    }

    pub fn region_by_ij(&self, code_ij: &str) -> Option<&Region> {
        self.region_by_ij.get(code_ij).map(|&i| &self.regions[i])
    }

    /// A région by its name, however accented or cased.
    pub fn region_by_name(&self, name: &str) -> Option<&Region> {
        self.region_by_name
            .get(&folded_key(name))
            .map(|&i| &self.regions[i])
    }

    pub fn academie(&self, code: &str) -> Option<&Academie> {
        self.academie_by_code.get(code).map(|&i| &self.academies[i])
    }

    /// An académie by its name, as catalogues write it (`Aix-Marseille`,
    /// `AIX-MARSEILLE`, `Orleans` for Orléans-Tours, `Nancy` for Nancy-Metz,
    /// `Reunion` for La Réunion). The académies of Caen and Rouen, merged in
    /// 2020, are Normandie's.
    pub fn academie_by_name(&self, name: &str) -> Option<&Academie> {
        let key = folded_key(name);
        let key = match key.as_str() {
            "CAEN" | "ROUEN" => "NORMANDIE".to_string(),
            "REUNION" => "LAREUNION".to_string(),
            _ => key,
        };
        if key.is_empty() {
            return None;
        }
        if let Some(&i) = self.academie_by_name.get(&key) {
            return Some(&self.academies[i]);
        }
        // A shortened name: the one académie whose name starts with it.
        let mut matches = self
            .academie_folded
            .iter()
            .enumerate()
            .filter(|(_, folded)| folded.starts_with(&key));
        match (matches.next(), matches.next()) {
            (Some((i, _)), None) => Some(&self.academies[i]),
            _ => None,
        }
    }

    pub fn departement(&self, code: &str) -> Option<&Departement> {
        self.departement_by_code
            .get(code)
            .map(|&i| &self.departements[i])
    }

    /// The département of a UAI, from its first three characters.
    pub fn departement_of_uai(&self, uai: &str) -> Option<&Departement> {
        self.departement(uai.get(..3)?)
    }

    /// The territory of a UAI, from its first three characters.
    pub fn territoire_of_uai(&self, uai: &str) -> Option<Territoire> {
        let dept = self.departement_of_uai(uai)?;
        let academie = self.academie(&dept.academie_code);
        let region = self.region(&dept.region_code);
        Some(Territoire {
            departement_code: dept.code.clone(),
            departement_libelle: dept.libelle.clone(),
            academie_code: dept.academie_code.clone(),
            academie_libelle: academie.map(|a| a.libelle.clone()).unwrap_or_default(),
            region_code: dept.region_code.clone(),
            region_libelle: region.map(|r| r.libelle.clone()).unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_tables_are_consistent() {
        let r = Reference::embedded();
        assert_eq!(r.regions().len(), 18);
        for d in &r.departements {
            let a = r
                .academie(&d.academie_code)
                .unwrap_or_else(|| panic!("{d:?}"));
            assert_eq!(a.region_code, d.region_code, "{d:?}");
            assert!(r.region(&d.region_code).is_some(), "{d:?}");
        }
    }

    #[test]
    fn finds_territories_and_names() {
        let r = Reference::embedded();
        // InserJeunes codes are not INSEE codes (DOMAIN.md).
        assert_eq!(r.region_by_ij("10").unwrap().code, "11");
        assert_eq!(r.region_by_ij("01").unwrap().code, "84");
        assert_eq!(r.region_by_name("AUVERGNE-RHONE-ALPES").unwrap().code, "84");
        assert_eq!(
            r.region_by_name("Provence-Alpes-Côte d'Azur").unwrap().code,
            "93"
        );
        assert_eq!(r.academie_by_name("AIX-MARSEILLE").unwrap().code, "02");
        assert_eq!(r.academie_by_name("Caen").unwrap().code, "70");
        // Affelnet's spellings.
        for (name, code) in [
            ("Orleans", "18"),
            ("Nancy", "12"),
            ("Reunion", "28"),
            ("Creteil", "24"),
            ("Besancon", "03"),
        ] {
            assert_eq!(
                r.academie_by_name(name).map(|a| a.code.as_str()),
                Some(code),
                "{name}"
            );
        }
        assert!(r.academie_by_name("Nvelle-Caledonie").is_none());
        let t = r.territoire_of_uai("0630003L").unwrap();
        assert_eq!(
            (
                t.departement_code.as_str(),
                t.academie_code.as_str(),
                t.region_code.as_str()
            ),
            ("063", "06", "84")
        );
        assert_eq!(r.territoire_of_uai("9710001A").unwrap().region_code, "01");
        assert!(r.territoire_of_uai("X").is_none());
        // The département alone, borrowed: the same codes.
        let d = r.departement_of_uai("0630003L").unwrap();
        assert_eq!(
            (
                d.code.as_str(),
                d.academie_code.as_str(),
                d.region_code.as_str()
            ),
            ("063", "06", "84")
        );
        assert!(r.departement_of_uai("X").is_none());
    }
}
