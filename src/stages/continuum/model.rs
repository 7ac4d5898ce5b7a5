//! The continuum's vocabulary: a link's kind and who declared it, the rule
//! that paired two MEFs, a code's relatives in its lineage. Each value is
//! written by `as_str` and read back by `parse` (the indicators stage reads
//! the continuum's tables through them).

use crate::rules::codes::{Code, CodeType};

/// How a link relates its two ends to the rest of the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkType {
    /// The old code has one successor and the new code one predecessor.
    OneToOne,
    /// The old code has several successors; the new code one predecessor.
    Split,
    /// The new code has several predecessors; the old code one successor.
    Merge,
    ManyToMany,
}

impl LinkType {
    pub fn classify(successors_of_old: usize, predecessors_of_new: usize) -> LinkType {
        match (successors_of_old > 1, predecessors_of_new > 1) {
            (false, false) => LinkType::OneToOne,
            (true, false) => LinkType::Split,
            (false, true) => LinkType::Merge,
            (true, true) => LinkType::ManyToMany,
        }
    }

    pub const ALL: [LinkType; 4] = [
        LinkType::OneToOne,
        LinkType::Split,
        LinkType::Merge,
        LinkType::ManyToMany,
    ];

    /// The value `as_str` writes, read back.
    pub fn parse(value: &str) -> Option<LinkType> {
        Self::ALL.into_iter().find(|t| t.as_str() == value)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            LinkType::OneToOne => "one_to_one",
            LinkType::Split => "split",
            LinkType::Merge => "merge",
            LinkType::ManyToMany => "many_to_many",
        }
    }
}

/// Who declared a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Declaration {
    /// The old code lists the new one in its NOUVEAU_DIPLOME_n.
    pub by_ancien: bool,
    /// The new code lists the old one in its ANCIEN_DIPLOME_n.
    pub by_nouveau: bool,
}

impl Declaration {
    /// Every value of `declared_by`, in the order the dictionary lists them.
    pub const DECLARED_BY: [&'static str; 4] = ["ancien", "nouveau", "both", "projected"];

    pub fn declared_by(self) -> &'static str {
        match (self.by_ancien, self.by_nouveau) {
            (true, true) => "both",
            (true, false) => "ancien",
            (false, true) => "nouveau",
            (false, false) => "projected",
        }
    }

    pub fn is_one_sided(self) -> bool {
        self.by_ancien != self.by_nouveau
    }
}

/// A MEF link's reason to exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MefRule {
    /// Each CFD of the link has a single MEF_STAT_11.
    SingleMef,
    /// Same DISPOSITIF_FORMATION and same first 4 characters of MEF_STAT_11.
    SameDispositif,
}

impl MefRule {
    pub const ALL: [MefRule; 2] = [MefRule::SingleMef, MefRule::SameDispositif];

    pub const fn as_str(self) -> &'static str {
        match self {
            MefRule::SingleMef => "single_mef",
            MefRule::SameDispositif => "same_dispositif_and_prefix",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub code_type: CodeType,
    pub ancien: String,
    pub nouveau: String,
    pub declaration: Declaration,
    pub link_type: LinkType,
    pub ancien_in_bcn: bool,
    pub nouveau_in_bcn: bool,
    /// One end is not a well-formed code (the real file has truncated ones).
    pub malformed_code: bool,
    pub lineage_id: String,
    /// For a MEF link: the CFD link it was projected from, and the rule used.
    pub via_cfd: Option<(String, String, MefRule)>,
}

/// One ancestor or descendant of a code.
#[derive(Debug, Clone, PartialEq)]
pub struct Relative {
    pub code_type: CodeType,
    pub code: Code,
    pub lineage_id: Code,
    pub relation: Relation,
    pub related_code: Code,
    /// Revisions between the two codes, along the shortest path.
    pub hops: u32,
    /// The path is made of one-to-one links only (the reference system's
    /// strict continuum follows only these).
    pub one_to_one_path: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Relation {
    /// The related code is older (a predecessor, or one of its predecessors).
    Ancestor,
    /// The related code is newer.
    Descendant,
}

impl Relation {
    pub const ALL: [Relation; 2] = [Relation::Ancestor, Relation::Descendant];

    pub const fn as_str(self) -> &'static str {
        match self {
            Relation::Ancestor => "ancetre",
            Relation::Descendant => "descendant",
        }
    }

    /// The value `as_str` writes, read back.
    pub fn parse(value: &str) -> Option<Relation> {
        Relation::ALL.into_iter().find(|r| r.as_str() == value)
    }
}
