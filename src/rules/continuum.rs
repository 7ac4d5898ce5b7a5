//! The continuum policy: which data a code without figures of its own may take
//! from its lineage, and which candidate wins when several qualify.
//!
//! - `strict` (the default, as in the reference system): data flows only along
//!   chains of one-to-one links, of any length, in both directions: a code takes
//!   a predecessor's data (`ancienne`: "donnée issue d'une formation
//!   historique") or a successor's (`nouvelle`: "… rénovée").
//! - `lineage`: also a merged code takes the sum of all its predecessors'
//!   counts when every one of them has data, and each code of a split takes its
//!   predecessor's rates (flagged `split`).
//!
//! A code's own row is never overwritten. When several candidates qualify, the
//! nearest in hops wins; at equal distance a predecessor's data before a
//! successor's (the historical data describe the same students' training),
//! then one-to-one before merge before split, then the smallest source code.
//! So the result never depends on the order of rows.

use crate::rules::codes::Code;
use std::fmt;

/// The policy chosen in the pipeline file (`settings.continuum_policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContinuumPolicy {
    #[default]
    Strict,
    Lineage,
}

impl ContinuumPolicy {
    pub fn parse(value: &str) -> Result<ContinuumPolicy, String> {
        match value {
            "strict" => Ok(ContinuumPolicy::Strict),
            "lineage" => Ok(ContinuumPolicy::Lineage),
            other => Err(format!(
                "\"{other}\" is not a continuum policy (expected strict or lineage)"
            )),
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            ContinuumPolicy::Strict => "strict",
            ContinuumPolicy::Lineage => "lineage",
        }
    }
}

/// Where a derived row's data come from, relative to the code that receives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// From a predecessor: `ancienne`.
    Ancienne,
    /// From a successor: `nouvelle`.
    Nouvelle,
}

impl Direction {
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Ancienne => "ancienne",
            Direction::Nouvelle => "nouvelle",
        }
    }
}

/// The kind of path the data travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Via {
    OneToOne,
    Merge,
    Split,
}

impl Via {
    pub const ALL: [Via; 3] = [Via::OneToOne, Via::Merge, Via::Split];

    pub const fn as_str(self) -> &'static str {
        match self {
            Via::OneToOne => "one_to_one",
            Via::Merge => "merge",
            Via::Split => "split",
        }
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One way a code could receive data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub hops: u32,
    pub direction: Direction,
    pub via: Via,
    /// The code(s) whose data would be used (several for a merge), sorted.
    pub source_codes: Vec<Code>,
}

impl Candidate {
    fn rank(&self) -> (u32, Direction, Via, &[Code]) {
        (self.hops, self.direction, self.via, &self.source_codes)
    }
}

/// The winning candidate, by the documented order; `None` when there is none.
pub fn choose<'c>(candidates: impl IntoIterator<Item = &'c Candidate>) -> Option<&'c Candidate> {
    candidates
        .into_iter()
        .min_by(|a, b| a.rank().cmp(&b.rank()))
}

/// `donnee_source_type`: where a row's figures come from, as published:
/// the code's own (`propre`), its lineage's (`ancienne`, `nouvelle`), or its
/// famille de métiers' sum (`famille_metiers`). A row that says nothing
/// shows its own figures: `propre` is the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DonneeSourceType {
    #[default]
    Propre,
    Ancienne,
    Nouvelle,
    FamilleMetiers,
}

impl DonneeSourceType {
    pub const ALL: [DonneeSourceType; 4] = [
        DonneeSourceType::Propre,
        DonneeSourceType::Ancienne,
        DonneeSourceType::Nouvelle,
        DonneeSourceType::FamilleMetiers,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            DonneeSourceType::Propre => "propre",
            DonneeSourceType::Ancienne => Direction::Ancienne.as_str(),
            DonneeSourceType::Nouvelle => Direction::Nouvelle.as_str(),
            DonneeSourceType::FamilleMetiers => "famille_metiers",
        }
    }

    /// The value `as_str` writes, read back.
    pub fn parse(value: &str) -> Option<DonneeSourceType> {
        Self::ALL.into_iter().find(|t| t.as_str() == value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(hops: u32, direction: Direction, via: Via, code: &str) -> Candidate {
        Candidate {
            hops,
            direction,
            via,
            source_codes: vec![code.into()],
        }
    }

    #[test]
    fn the_nearest_wins_then_the_predecessor_then_the_smallest_code() {
        use Direction::*;
        let near = c(1, Nouvelle, Via::OneToOne, "B");
        let far = c(2, Ancienne, Via::OneToOne, "A");
        assert_eq!(choose(&[far.clone(), near.clone()]), Some(&near));
        let old = c(1, Ancienne, Via::OneToOne, "Z");
        assert_eq!(choose(&[near.clone(), old.clone()]), Some(&old));
        let a = c(1, Ancienne, Via::OneToOne, "A");
        assert_eq!(choose(&[old.clone(), a.clone()]), Some(&a));
        let merge = c(1, Ancienne, Via::Merge, "0");
        assert_eq!(choose(&[merge, a.clone()]), Some(&a));
        assert_eq!(choose(&[]), None);
    }

    #[test]
    fn order_does_not_matter() {
        use Direction::*;
        let all = vec![
            c(2, Ancienne, Via::OneToOne, "A"),
            c(1, Nouvelle, Via::Split, "B"),
            c(1, Nouvelle, Via::OneToOne, "C"),
        ];
        let mut reversed = all.clone();
        reversed.reverse();
        assert_eq!(choose(&all), choose(&reversed));
        assert_eq!(choose(&all).unwrap().source_codes, vec![Code::from("C")]);
    }

    #[test]
    fn policies_parse() {
        assert_eq!(
            ContinuumPolicy::parse("strict"),
            Ok(ContinuumPolicy::Strict)
        );
        assert_eq!(
            ContinuumPolicy::parse("lineage"),
            Ok(ContinuumPolicy::Lineage)
        );
        assert!(ContinuumPolicy::parse("loose").is_err());
    }
}
