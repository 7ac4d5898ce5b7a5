//! The geographic level of a figure: national, a région, an establishment.
//!
//! One type for the concept, named as the published column says it
//! (`niveau_geographique` of `familles_specialites` and `pilotage`); the
//! coverage tables publish the same values in their `level` column. A row's
//! place at its level (the région's code, the UAI) is
//! `staging::mesures::Niveau`, whose [`NiveauGeographique`] is
//! `Niveau::geographique`.

/// National, régional or establishment figures.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum NiveauGeographique {
    National,
    Region,
    Etablissement,
}

impl NiveauGeographique {
    /// Widest first, as the published tables list them.
    pub const ALL: [NiveauGeographique; 3] = [
        NiveauGeographique::National,
        NiveauGeographique::Region,
        NiveauGeographique::Etablissement,
    ];

    /// Closest first: the order in which coverage looks for an offer's
    /// figures (its establishment, then its région, then the nation).
    pub const PROCHE_EN_PREMIER: [NiveauGeographique; 3] = [
        NiveauGeographique::Etablissement,
        NiveauGeographique::Region,
        NiveauGeographique::National,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            NiveauGeographique::National => "national",
            NiveauGeographique::Region => "region",
            NiveauGeographique::Etablissement => "etablissement",
        }
    }

    /// The value `as_str` writes, read back.
    pub fn parse(value: &str) -> Option<NiveauGeographique> {
        NiveauGeographique::ALL
            .into_iter()
            .find(|n| n.as_str() == value)
    }

    /// In French, for reports.
    pub fn libelle(self) -> &'static str {
        match self {
            NiveauGeographique::National => "national",
            NiveauGeographique::Region => "région",
            NiveauGeographique::Etablissement => "établissement",
        }
    }

    /// The indicator table of the release that holds the level's figures.
    pub fn table(self) -> &'static str {
        match self {
            NiveauGeographique::National => "certifications",
            NiveauGeographique::Region => "regionales",
            NiveauGeographique::Etablissement => "formations",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_it_writes() {
        for n in NiveauGeographique::ALL {
            assert_eq!(NiveauGeographique::parse(n.as_str()), Some(n));
        }
        assert_eq!(NiveauGeographique::parse("Region"), None);
        assert_eq!(NiveauGeographique::parse("régional"), None);
    }

    #[test]
    fn both_orders_hold_every_level_once() {
        let mut a = NiveauGeographique::ALL;
        let mut b = NiveauGeographique::PROCHE_EN_PREMIER;
        a.sort();
        b.sort();
        assert_eq!(a, b);
        assert_eq!(
            NiveauGeographique::PROCHE_EN_PREMIER[0],
            NiveauGeographique::Etablissement
        );
        assert_eq!(NiveauGeographique::Region.table(), "regionales");
    }
}
