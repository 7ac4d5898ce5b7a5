//! What coverage reads of the `bcn` stage's referential
//! (`formations_referentiel`): for each code, its CFD (an apprenticeship
//! offer given by its MEF_STAT_11 is measured on its CFD), its labels (the
//! offers table's level and label) and its first session (a code too new to
//! have figures); and each 10-character MEF's code. Five of the
//! referential's columns, held inline: the whole referential, a boxed row of
//! some 370 bytes per code, was a fifth of coverage's time at ×100 (issue
//! 13), most of it the kernel clearing the pages it took.

use std::collections::HashMap;
use std::path::Path;

use foldhash::fast::FixedState;

use crate::error::Result;
use crate::input::stage_table::StageTable;
use crate::rules::codes::Code;
use crate::stages::indicators::upstream::years;

use super::resolve::MefToCode;

/// One code of the referential, as coverage reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Formation {
    pub code_formation_diplome: Code,
    pub libelle: Code,
    pub libelle_niveau_diplome: Code,
    pub date_premiere_session: Option<i32>,
}

/// The referential's codes (a fixed-seed foldhash: looked up for every
/// offer, several times; nothing depends on the map's order).
#[derive(Debug, Default)]
pub struct Formations(HashMap<Code, Formation, FixedState>);

impl Formations {
    pub fn get(&self, code: &str) -> Option<&Formation> {
        self.0.get(code)
    }

    /// The referential's codes and each MEF's code, from the `bcn` stage's
    /// folder, a row group at a time.
    pub fn load(bcn_out: &Path) -> Result<(Formations, MefToCode)> {
        let groups = StageTable::row_groups_of_stage(
            bcn_out,
            "formations_referentiel",
            "bcn",
            [
                "code_certification",
                "code_formation_diplome",
                "mef",
                "libelle",
                "libelle_niveau_diplome",
            ]
            .into_iter(),
            &["date_premiere_session"],
        )?;
        let rows = groups.rows();
        let mut formations = HashMap::with_capacity_and_hasher(rows, FixedState::default());
        let mut mef_to_code = MefToCode::default();
        for t in groups {
            let t = t?;
            let s = |c: &str| t.text(c);
            let (code, cfd, mef) = (
                s("code_certification")?,
                s("code_formation_diplome")?,
                s("mef")?,
            );
            let (libelle, niveau) = (s("libelle")?, s("libelle_niveau_diplome")?);
            let premiere = years(&t, "date_premiere_session")?;
            let text = |v: Option<&str>| Code::from(v.unwrap_or_default());
            // The two maps side by side: each insert of ×100's millions of
            // codes missed the caches, a core waiting on memory (issue 13).
            rayon::join(
                || {
                    for i in 0..t.height() {
                        let formation = Formation {
                            code_formation_diplome: text(cfd[i]),
                            libelle: text(libelle[i]),
                            libelle_niveau_diplome: text(niveau[i]),
                            date_premiere_session: premiere[i],
                        };
                        formations.insert(text(code[i]), formation);
                    }
                },
                || {
                    for (mef, code) in mef.iter().zip(&code) {
                        if let Some(mef) = mef.filter(|m| !m.is_empty()) {
                            mef_to_code.insert(mef.into(), text(*code));
                        }
                    }
                },
            );
        }
        Ok((Formations(formations), mef_to_code))
    }
}

/// A referential given code by code (tests build theirs so).
impl FromIterator<(Code, Formation)> for Formations {
    fn from_iter<I: IntoIterator<Item = (Code, Formation)>>(items: I) -> Self {
        Formations(items.into_iter().collect())
    }
}
