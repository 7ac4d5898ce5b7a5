//! The platform catalogues of the synthetic universe: Affelnet 2nde (first
//! years offered by lycées, voie scolaire and apprentissage) and Parcoursup's
//! apprenticeship list (CFAs' MEFs), in the real layouts.

use std::path::Path;

use super::prng::Rng;
use super::universe::{Universe, REGIONS};
use super::writer::{Encoding, Lines};
use crate::error::Result;

/// Affelnet writes académies without accents (`Orleans`, `Reunion`).
fn sans_accents(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' => 'e',
            'ô' => 'o',
            'î' => 'i',
            'ç' => 'c',
            c => c,
        })
        .collect()
}

/// 19,503 Affelnet offers at ×1: 6.6 first years per lycée, nine in ten
/// of a training its région's survey counts, the other drawn anywhere;
/// `VAL_CARSCO` 999 (no capacity set) on most apprenticeship offers.
pub fn write_affelnet(u: &Universe, rng: &mut Rng, path: &Path) -> Result<u64> {
    let first_years: Vec<usize> = (0..u.mefs.len())
        .filter(|&m| {
            let mef = &u.mefs[m];
            let f = &u.formations[mef.formation];
            mef.scolaire && mef.annee == 1 && f.fermeture.is_none() && f.niveau().prefix != "320"
        })
        .collect();
    let mut by_region: Vec<Vec<usize>> = vec![Vec::new(); REGIONS.len()];
    for &m in &first_years {
        let f = &u.formations[u.mefs[m].formation];
        if f.commune {
            by_region.iter_mut().for_each(|v| v.push(m));
        } else {
            f.regions.iter().for_each(|&r| by_region[r].push(m));
        }
    }
    let mut out = Lines::create(path, Encoding::Utf8)?;
    out.line("Académie;ID_ETAB;CO_MEFSTAT;CO_STA;FL_VRECENS;VAL_CARSCO")?;
    let target = super::universe::scaled(19_503.0, u.scale) as u64;
    let lycees: Vec<_> = u.etablissements.iter().filter(|e| !e.cfa).collect();
    let mut rows = 0;
    while rows < target {
        for e in &lycees {
            if rows >= target {
                break;
            }
            let pool = if rng.chance(0.9) && !by_region[e.region].is_empty() {
                &by_region[e.region]
            } else {
                &first_years
            };
            let mef = &u.mefs[*rng.pick(pool)];
            let apprentissage = rng.chance(0.33);
            let (sta, recens, cap) = if apprentissage {
                (
                    "AP",
                    if rng.chance(0.9) { "O" } else { "N" },
                    "999".to_string(),
                )
            } else {
                ("ST", "N", [8, 10, 12, 15, 24, 30][rng.below(6)].to_string())
            };
            let academie = sans_accents(&u.academies[e.academie].libelle);
            out.line(&format!(
                "{academie};{};{};{sta};{recens};{cap}",
                e.uai, mef.mef_stat_11
            ))?;
            rows += 1;
        }
    }
    out.finish()?;
    Ok(rows)
}

/// Parcoursup's apprenticeship list: 4,357 offers at ×1, a CFA's MEF each.
pub fn write_psup(u: &Universe, rng: &mut Rng, path: &Path) -> Result<()> {
    let mefs: Vec<usize> = (0..u.mefs.len())
        .filter(|&m| {
            let f = &u.formations[u.mefs[m].formation];
            u.mefs[m].annee == 1 && f.fermeture.is_none() && !f.commune
        })
        .collect();
    let cfas: Vec<_> = u.etablissements.iter().filter(|e| e.cfa).collect();
    let mut out = Lines::create(path, Encoding::Utf8)?;
    out.line("UAI_GES;UAI_COMPOSANTE;LIB_COMPOSANTE;LIB_INS;UAI_AFF;LIB_AFF;CODECOMMUNE;LIBCOMMUNE;CODEPOSTAL;ACADMIE;MINISTERETUTELLE;LIBMINISTERE;TYPEETA;CODEFORMATION;LIBFORMATION;CODESPCIALIT;LIBSPCIALIT;CODESPFORMATIONINITIALE;CODEMEF")?;
    for i in 0..super::universe::scaled(4_357.0, u.scale) {
        let e = rng.pick(&cfas);
        let ges = if rng.chance(0.8) { e } else { *rng.pick(&cfas) };
        let mef = &u.mefs[*rng.pick(&mefs)];
        let f = &u.formations[mef.formation];
        let dept = &e.uai[1..3];
        out.line(&format!(
            "{};{};{};;{};{};{dept}001;Commune {dept};{dept}000;{};6;Ministère de l'Education nationale et de la Jeunesse;Lycée  classe postbac;{};{} - Services;{};{} - en apprentissage;{};{}",
            ges.uai,
            e.uai,
            e.libelle,
            e.uai,
            e.libelle,
            u.academies[e.academie].libelle,
            40 + i % 10,
            f.niveau().libelle,
            11_000 + i % 900,
            f.libelle,
            10_000 + i % 900,
            mef.mef,
        ))?;
    }
    out.finish()
}
