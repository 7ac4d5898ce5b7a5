//! The synthetic universe behind `ij synth`: formations with their revision
//! graph and familles de métiers, MEFs, establishments, and which codes each
//! survey counts in which régions. The files are written from it by the
//! sibling modules, so that every code a file cites exists where it should.
//!
//! Shapes follow the real extracts (`../shared/data/real`, measured once,
//! figures in the comments): codes per diploma level, one lineage in two with
//! a revision, splits and merges, links declared by one end only, régions
//! weighted as the regional file's rows.

use super::prng::Rng;

/// A diploma level: its CFD prefix, its count in N_FORMATION_DIPLOME at ×1
/// (the real export: 811 CAP, 462 BTS, 352 bac pro…; V-only levels count the
/// 7,247 codes only V_FORMATION_DIPLOME has), the voie scolaire MEF layout
/// when the level is taught in lycées, and the share of its open codes that
/// the apprenticeship survey counts.
pub struct Level {
    pub prefix: &'static str,
    pub libelle: &'static str,
    pub count: f64,
    pub v_only: bool,
    /// (MEF_STAT_11 prefix, DISPOSITIF_FORMATION, duration in years).
    pub scolaire: Option<(&'static str, &'static str, u32)>,
    pub apprentissage: f64,
}

const fn level(
    prefix: &'static str,
    libelle: &'static str,
    count: f64,
    scolaire: Option<(&'static str, &'static str, u32)>,
    apprentissage: f64,
) -> Level {
    Level {
        prefix,
        libelle,
        count,
        v_only: false,
        scolaire,
        apprentissage,
    }
}

const fn v_level(prefix: &'static str, libelle: &'static str, count: f64, app: f64) -> Level {
    Level {
        prefix,
        libelle,
        count,
        v_only: true,
        scolaire: None,
        apprentissage: app,
    }
}

pub const LEVELS: &[Level] = &[
    level("500", "CAP", 811.0, Some(("322", "240", 2)), 0.75),
    level("320", "BTS", 462.0, Some(("311", "320", 2)), 0.85),
    level("400", "BAC PRO", 352.0, Some(("238", "247", 3)), 0.75),
    level("403", "BAC PRO AG", 64.0, Some(("239", "276", 3)), 0.6),
    level("010", "MC4", 158.0, Some(("231", "253", 1)), 0.7),
    level("510", "CAP AGRI", 230.0, None, 0.2),
    level("450", "BP", 219.0, None, 0.7),
    level("420", "BT", 132.0, None, 0.05),
    level("503", "CAPA", 111.0, None, 0.3),
    level("430", "BTN", 93.0, None, 0.05),
    level("350", "BTSA", 89.0, None, 0.8),
    level("370", "DUT", 85.0, None, 0.05),
    level("323", "BTS AG", 75.0, None, 0.8),
    level("550", "BEP", 70.0, None, 0.05),
    level("463", "BPA", 64.0, None, 0.6),
    level("690", "DIVERS", 60.0, None, 0.0),
    level("446", "BP AG", 120.0, None, 0.5),
    level("560", "CTM", 90.0, None, 0.3),
    level("460", "BTM", 140.0, None, 0.1),
    level("360", "BM", 80.0, None, 0.1),
    level("453", "BPJEPS", 320.0, None, 0.05),
    // 1,873 real licences pro, and the ~500 SISE-like codes the real
    // referential also holds, which the generator does not write.
    v_level("250", "LICENCE PRO", 2400.0, 0.0),
    v_level("135", "MASTER", 1419.0, 0.0),
    v_level("16X", "TITRE 7", 520.0, 0.0),
    v_level("170", "DIPLOME INGE", 482.0, 0.0),
    v_level("26X", "TITRE 6", 462.0, 0.0),
    v_level("205", "DIPLOME VISE", 265.0, 0.0),
    v_level("36X", "TITRE 5", 220.0, 0.25),
    v_level("56M", "TITRE 3 MIN", 187.0, 0.15),
    v_level("56T", "TITRE 3", 139.0, 0.6),
    v_level("46T", "TITRE 4", 420.0, 0.25),
    v_level("36T", "TITRE 5 T", 380.0, 0.25),
    v_level("46X", "TITRE 4 X", 260.0, 0.2),
    v_level("46M", "TITRE 4 MIN", 180.0, 0.2),
    v_level("36C", "TITRE 5 C", 140.0, 0.2),
    v_level("36M", "TITRE 5 MIN", 120.0, 0.2),
    v_level("56X", "TITRE 3 X", 90.0, 0.2),
    v_level("46C", "TITRE 4 C", 60.0, 0.2),
    v_level("56J", "TITRE 3 J", 40.0, 0.2),
];

/// The MEF_STAT_11 prefix and dispositif of each level's apprentice MEFs,
/// one per level so that no two levels' codes meet (same order as [`LEVELS`]).
const APPRENTIS: [(&str, &str); 39] = {
    let mut out = [("", ""); 39];
    let codes = [
        "2A0", "2A1", "2A2", "2A3", "2A4", "2A5", "2A6", "2A7", "2A8", "2A9", "2B0", "2B1", "2B2",
        "2B3", "2B4", "2B5", "2B6", "2B7", "2B8", "2B9", "2C0", "2C1", "2C2", "2C3", "2C4", "2C5",
        "2C6", "2C7", "2C8", "2C9", "2D0", "2D1", "2D2", "2D3", "2D4", "2D5", "2D6", "2D7", "2D8",
    ];
    let mut i = 0;
    while i < 39 {
        out[i] = (codes[i], codes[i]);
        i += 1;
    }
    out
};

/// The régions (INSEE code, InserJeunes code, label) and their weight: the
/// real regional file's rows per région.
pub const REGIONS: &[(&str, &str, &str, f64)] = &[
    ("01", "07", "Guadeloupe", 908.0),
    ("02", "12", "Martinique", 848.0),
    ("03", "08", "Guyane", 746.0),
    ("04", "11", "La Réunion", 1655.0),
    ("11", "10", "Île-de-France", 3774.0),
    ("24", "04", "Centre-Val de Loire", 2134.0),
    ("27", "02", "Bourgogne-Franche-Comté", 2467.0),
    ("28", "14", "Normandie", 2542.0),
    ("32", "09", "Hauts-de-France", 2996.0),
    ("44", "06", "Grand Est", 3075.0),
    ("52", "17", "Pays de la Loire", 2816.0),
    ("53", "03", "Bretagne", 2392.0),
    ("75", "15", "Nouvelle-Aquitaine", 3414.0),
    ("76", "16", "Occitanie", 3277.0),
    ("84", "01", "Auvergne-Rhône-Alpes", 3700.0),
    ("93", "18", "Provence-Alpes-Côte d'Azur", 2840.0),
    ("94", "05", "Corse", 738.0),
];

/// How many régions a code is counted in, for 1..=17 (the real regional
/// file's rows per millésime, voie and code).
const REGIONS_PER_CODE: [f64; 17] = [
    1659.0, 781.0, 493.0, 384.0, 285.0, 251.0, 234.0, 217.0, 191.0, 212.0, 239.0, 314.0, 336.0,
    220.0, 191.0, 197.0, 240.0,
];

/// The millésimes of the regional file, by their last year.
pub const MILLESIMES: [i32; 4] = [2020, 2021, 2022, 2023];

#[derive(Debug, Clone)]
pub struct Formation {
    pub cfd: String,
    pub level: usize,
    pub libelle: String,
    pub ouverture: i32,
    pub fermeture: Option<i32>,
    /// ANCIEN_DIPLOME_n and NOUVEAU_DIPLOME_n as written (a few are truncated
    /// or cite codes the tables lack, as in the real export).
    pub anciens: Vec<String>,
    pub nouveaux: Vec<String>,
    pub famille: Option<usize>,
    /// A famille's common first year (2nde professionnelle commune).
    pub commune: bool,
    /// Régions the surveys count this code in (indices in [`REGIONS`]).
    pub regions: Vec<usize>,
    pub survey_apprentissage: bool,
    pub survey_scolaire: bool,
    /// Where its class sizes sit in the distribution, kept across régions
    /// and millésimes so that a large training stays large.
    pub size: f64,
}

impl Formation {
    pub fn niveau(&self) -> &'static Level {
        &LEVELS[self.level]
    }

    /// Whether the survey of the millésime ending in `year` counts it.
    pub fn surveyed_in(&self, year: i32) -> bool {
        let duree = self.niveau().scolaire.map_or(2, |s| s.2) as i32;
        self.ouverture + duree <= year && self.fermeture.is_none_or(|f| f >= year - 1)
    }
}

#[derive(Debug, Clone)]
pub struct Mef {
    pub mef: String,
    pub dispositif: &'static str,
    pub formation: usize,
    pub duree: u32,
    pub annee: u32,
    pub mef_stat_11: String,
    pub scolaire: bool,
}

#[derive(Debug, Clone)]
pub struct Famille {
    pub groupe: String,
    pub spec_pro: String,
    pub libelle: String,
    pub commune: usize,
    pub specialites: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Etablissement {
    pub uai: String,
    pub libelle: String,
    pub academie: usize,
    pub region: usize,
    pub cfa: bool,
    /// First millésime (last year) it has figures for.
    pub depuis: i32,
}

pub struct Academie {
    pub code: String,
    pub libelle: String,
    pub region: usize,
    pub departements: Vec<String>,
}

pub struct Universe {
    pub scale: f64,
    pub formations: Vec<Formation>,
    pub mefs: Vec<Mef>,
    pub familles: Vec<Famille>,
    pub academies: Vec<Academie>,
    pub etablissements: Vec<Etablissement>,
}

const WORDS: &[&str] = &[
    "MAINTENANCE",
    "VEHICULES",
    "CUISINE",
    "COMMERCE",
    "VENTE",
    "ELECTRICITE",
    "MENUISERIE",
    "AGENCEMENT",
    "ESTHETIQUE",
    "COIFFURE",
    "LOGISTIQUE",
    "TRANSPORT",
    "ACCUEIL",
    "SECURITE",
    "BOULANGERIE",
    "PATISSERIE",
    "PLOMBERIE",
    "CHAUFFAGE",
    "FROID",
    "CLIMATISATION",
    "MECANIQUE",
    "CHAUDRONNERIE",
    "USINAGE",
    "MICROTECHNIQUES",
    "SOINS",
    "SERVICES",
    "PERSONNE",
    "HORTICULTURE",
    "PAYSAGE",
    "FORET",
    "VITICULTURE",
    "ELEVAGE",
    "GESTION",
    "ADMINISTRATION",
    "NUMERIQUE",
    "RESEAUX",
    "BATIMENT",
    "TRAVAUX",
    "PUBLICS",
    "CARROSSERIE",
    "PEINTURE",
    "MODE",
    "METIERS",
    "ENERGIE",
    "AERONAUTIQUE",
    "NAUTISME",
    "HOTELLERIE",
    "RESTAURATION",
    "BOUCHERIE",
    "OPTIQUE",
];

/// A label of two or three words, some with an accented form in the long
/// label (`é` is where Windows-1252 and UTF-8 differ).
pub fn libelle(rng: &mut Rng) -> String {
    let n = 2 + rng.below(2);
    let words: Vec<&str> = (0..n).map(|_| *rng.pick(WORDS)).collect();
    words.join(" ")
}

/// The 5 characters after a CFD's level prefix, distinct for each `i`:
/// digits while they last (as the real codes), then a letter and base 36.
fn suffix(i: usize) -> String {
    if i < 100_000 {
        format!("{:05}", (i * 37 + 21_100) % 100_000)
    } else {
        let mut j = i - 100_000;
        let mut s = String::new();
        for _ in 0..4 {
            s.insert(
                0,
                char::from_digit((j % 36) as u32, 36)
                    .unwrap()
                    .to_ascii_uppercase(),
            );
            j /= 36;
        }
        s.insert(0, (b'A' + (j % 26) as u8) as char);
        s
    }
}

/// The number of items a real count becomes at this scale (at least one).
pub fn scaled(count: f64, scale: f64) -> usize {
    ((count * scale).round() as usize).max(1)
}

impl Universe {
    pub fn build(scale: f64, rng: &Rng) -> Universe {
        let mut u = Universe {
            scale,
            formations: Vec::new(),
            mefs: Vec::new(),
            familles: Vec::new(),
            academies: academies(),
            etablissements: Vec::new(),
        };
        let mut next = vec![0usize; LEVELS.len()];
        u.lineages(&mut rng.fork("lineages"), &mut next);
        u.familles(&mut rng.fork("familles"), &mut next);
        u.surveys(&mut rng.fork("surveys"));
        u.mefs();
        u.etablissements(&mut rng.fork("etablissements"));
        u
    }

    fn new_formation(&mut self, rng: &mut Rng, level: usize, next: &mut [usize]) -> usize {
        let cfd = format!("{}{}", LEVELS[level].prefix, suffix(next[level]));
        next[level] += 1;
        self.formations.push(Formation {
            cfd,
            level,
            libelle: libelle(rng),
            ouverture: 0,
            fermeture: None,
            anciens: Vec::new(),
            nouveaux: Vec::new(),
            famille: None,
            commune: false,
            regions: Vec::new(),
            survey_apprentissage: false,
            survey_scolaire: false,
            size: rng.unit(),
        });
        self.formations.len() - 1
    }

    /// Declares a revision link, usually at both ends; one in seven is
    /// declared by one end only (212 of the real 1,532 links).
    fn link(&mut self, rng: &mut Rng, old: usize, new: usize) {
        let (ancien, nouveau) = (
            self.formations[old].cfd.clone(),
            self.formations[new].cfd.clone(),
        );
        let r = rng.unit();
        if r >= 0.07 {
            // A truncated code now and then, as the real export has eight.
            let written = if rng.chance(0.005) {
                ancien[..7].to_string()
            } else {
                ancien
            };
            self.formations[new].anciens.push(written);
        }
        if !(0.07..0.14).contains(&r) {
            self.formations[old].nouveaux.push(nouveau);
        }
    }

    /// Lineages of each level: one to five generations renewed every 3 to 9
    /// years, 7 % splits and 9 % merges, the last generation closed one time in
    /// two (calibrated so that the ×1 run's continuum tables and the rows the
    /// strict continuum adds are the real run's size).
    fn lineages(&mut self, rng: &mut Rng, next: &mut [usize]) {
        for (level, l) in LEVELS.iter().enumerate() {
            let codes = scaled(l.count, self.scale);
            let start = self.formations.len();
            while self.formations.len() - start < codes {
                let gens = [1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5][rng.below(12)];
                let mut year = rng.range(1982, 2019) as i32;
                let mut current = self.new_formation(rng, level, next);
                self.formations[current].ouverture = year;
                for _ in 1..gens {
                    let renewal = year + rng.range(3, 9) as i32;
                    if renewal > 2024 {
                        break;
                    }
                    self.formations[current].fermeture = Some(renewal - 1);
                    let new = self.new_formation(rng, level, next);
                    self.formations[new].ouverture = renewal;
                    self.link(rng, current, new);
                    if rng.chance(0.07) {
                        // A split: the old code leads to two or three.
                        for _ in 0..1 + rng.below(2) {
                            let other = self.new_formation(rng, level, next);
                            self.formations[other].ouverture = renewal;
                            self.link(rng, current, other);
                        }
                    } else if rng.chance(0.09) {
                        // A merge: another closed code joins the new one.
                        let other = self.new_formation(rng, level, next);
                        self.formations[other].ouverture = year - rng.range(0, 6) as i32;
                        self.formations[other].fermeture = Some(renewal - 1);
                        self.link(rng, other, new);
                    }
                    if rng.chance(0.01) {
                        // A dangling link: a code the tables lack.
                        let ghost = format!("{}{}", l.prefix, suffix(90_000 + rng.below(9_999)));
                        self.formations[new].anciens.push(ghost);
                    }
                    current = new;
                    year = renewal;
                }
                if rng.chance(0.5) {
                    let closed = year + rng.range(3, 30) as i32;
                    if closed <= 2024 {
                        self.formations[current].fermeture = Some(closed);
                    }
                }
            }
        }
    }

    /// Familles de métiers: 19 at ×1, each a common first year (a bac pro
    /// CFD with a first-year MEF only) and up to 22 open bac pro drawn as its
    /// specialities (about 7 kept each, 148 links at ×1 as in the real table).
    fn familles(&mut self, rng: &mut Rng, next: &mut [usize]) {
        let bac = LEVELS.iter().position(|l| l.prefix == "400").unwrap();
        let open: Vec<usize> = (0..self.formations.len())
            .filter(|&i| self.formations[i].level == bac && self.formations[i].fermeture.is_none())
            .collect();
        let mut taken = vec![false; self.formations.len()];
        for k in 0..scaled(19.0, self.scale) {
            let commune = self.new_formation(rng, bac, next);
            self.formations[commune].ouverture = 2019 + rng.below(4) as i32;
            self.formations[commune].commune = true;
            self.formations[commune].famille = Some(k);
            let mut specialites = Vec::new();
            for _ in 0..16 + rng.below(7) {
                let s = open[rng.below(open.len())];
                if !taken.get(s).copied().unwrap_or(true) {
                    taken[s] = true;
                    self.formations[s].famille = Some(k);
                    specialites.push(s);
                }
            }
            let libelle = self.formations[commune].libelle.clone();
            self.familles.push(Famille {
                groupe: format!("G{:04}", k + 3),
                spec_pro: format!("{:03}", k + 1),
                libelle,
                commune,
                specialites,
            });
        }
    }

    /// Which codes each survey counts, and in which régions.
    fn surveys(&mut self, rng: &mut Rng) {
        let weights: Vec<f64> = REGIONS.iter().map(|r| r.3).collect();
        for f in &mut self.formations {
            let l = &LEVELS[f.level];
            f.survey_apprentissage = !f.commune && rng.chance((1.15 * l.apprentissage).min(1.0));
            f.survey_scolaire = !f.commune && l.scolaire.is_some() && rng.chance(0.88);
            // A renewed training is an established one, taught in more régions.
            let mut k = 1 + rng.weighted(&REGIONS_PER_CODE);
            if !f.anciens.is_empty() {
                k = k.max(1 + rng.weighted(&REGIONS_PER_CODE));
            }
            let mut w = weights.clone();
            for _ in 0..k {
                let r = rng.weighted(&w);
                w[r] = 0.0;
                f.regions.push(r);
            }
            f.regions.sort_unstable();
        }
    }

    /// N_MEF: each year of a voie scolaire level, the same for apprentices
    /// of half the bac pro and CAP codes, one MEF for most other codes.
    fn mefs(&mut self) {
        for (i, f) in self.formations.iter().enumerate() {
            let l = &LEVELS[f.level];
            let sfx = &f.cfd[3..];
            let push = |mefs: &mut Vec<Mef>, stat: &str, disp: &'static str, duree, annee, sco| {
                mefs.push(Mef {
                    mef: format!("{disp}{sfx}{duree}{annee}"),
                    dispositif: disp,
                    formation: i,
                    duree,
                    annee,
                    mef_stat_11: format!("{stat}{annee}00{sfx}"),
                    scolaire: sco,
                })
            };
            if f.commune {
                push(&mut self.mefs, "238", "247", 3, 1, true);
            } else if let Some((stat, disp, duree)) = l.scolaire {
                for annee in 1..=duree {
                    push(&mut self.mefs, stat, disp, duree, annee, true);
                }
                if f.size < 0.6 && duree > 1 {
                    let (stat, disp) = APPRENTIS[f.level];
                    for annee in 1..=duree {
                        push(&mut self.mefs, stat, disp, duree, annee, false);
                    }
                }
            } else if !l.v_only && f.size < 0.95 {
                let (stat, disp) = APPRENTIS[f.level];
                let duree = if f.size < 0.3 { 2 } else { 1 };
                for annee in 1..=duree {
                    push(&mut self.mefs, stat, disp, duree, annee, false);
                }
            }
        }
    }

    /// Lycées (2,955 at ×1, the DEPP pro files' establishments) and CFAs
    /// (2,758, the CFA file's last year), spread over the académies.
    fn etablissements(&mut self, rng: &mut Rng) {
        let weights: Vec<f64> = self
            .academies
            .iter()
            .map(|a| REGIONS[a.region].3 / 3.0)
            .collect();
        let mut seq = vec![0usize; self.academies.len()];
        for (cfa, count) in [(false, 3100.0), (true, 2900.0)] {
            for _ in 0..scaled(count, self.scale) {
                let a = rng.weighted(&weights);
                let academie = &self.academies[a];
                let dept = &academie.departements[seq[a] % academie.departements.len()];
                let digits = format!(
                    "{}{:04}",
                    &dept[..3],
                    (seq[a] / academie.departements.len()) % 10_000
                );
                seq[a] += 1;
                let n: u32 = digits.parse().unwrap_or(0);
                let letter = b"ABCDEFGHJKLMNPRSTUVWXYZ"[(n % 23) as usize] as char;
                let kind = if cfa {
                    "Centre de formation d'apprentis"
                } else {
                    "Lycée professionnel"
                };
                let nom = libelle(rng).to_lowercase();
                self.etablissements.push(Etablissement {
                    uai: format!("{digits}{letter}"),
                    libelle: format!("{kind} {nom}"),
                    academie: a,
                    region: academie.region,
                    cfa,
                    depuis: [2019, 2019, 2020, 2021, 2022, 2023][rng.below(6)],
                });
            }
        }
    }
}

/// Académies and their départements, from the repository's reference tables.
fn academies() -> Vec<Academie> {
    let mut out: Vec<Academie> = Vec::new();
    for line in include_str!("../../reference/academies.csv")
        .lines()
        .skip(1)
    {
        let cols: Vec<&str> = line.split(';').collect();
        if let Some(region) = REGIONS.iter().position(|r| r.0 == cols[2]) {
            out.push(Academie {
                code: cols[0].to_string(),
                libelle: cols[1].to_string(),
                region,
                departements: Vec::new(),
            });
        }
    }
    for line in include_str!("../../reference/departements.csv")
        .lines()
        .skip(1)
    {
        let cols: Vec<&str> = line.split(';').collect();
        let dept = cols[0];
        if dept.len() == 3 && dept.bytes().all(|b| b.is_ascii_digit()) {
            if let Some(a) = out.iter_mut().find(|a| a.code == cols[2]) {
                a.departements.push(dept.to_string());
            }
        }
    }
    out.retain(|a| !a.departements.is_empty());
    out
}

/// A label in upper case without accents, as the DEPP and CFA files write
/// régions (`AUVERGNE-RHONE-ALPES`, `PROVENCE-ALPES-COTE D'AZUR`).
pub fn upper_ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'ë' | 'É' => 'E',
            'ô' | 'ö' => 'O',
            'î' | 'ï' | 'Î' => 'I',
            'à' | 'â' => 'A',
            'ç' => 'C',
            'û' | 'ù' => 'U',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_are_distinct_and_codes_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for i in (0..100_000).step_by(7).chain(100_000..100_500) {
            let s = suffix(i);
            assert_eq!(s.len(), 5);
            assert!(crate::rules::codes::is_code_chars(&s));
            assert!(seen.insert(s));
        }
    }

    #[test]
    fn universe_has_links_families_and_valid_uais() {
        let u = Universe::build(0.05, &Rng::new(1));
        assert!(u.formations.iter().any(|f| !f.anciens.is_empty()));
        assert!(
            !u.familles.is_empty() && u.familles.iter().all(|f| u.formations[f.commune].commune)
        );
        assert!(u
            .etablissements
            .iter()
            .all(|e| crate::rules::codes::is_valid_uai(&e.uai)));
        assert!(u
            .mefs
            .iter()
            .all(|m| m.mef.len() == 10 && m.mef_stat_11.len() == 11));
        assert_eq!(
            upper_ascii("Provence-Alpes-Côte d'Azur"),
            "PROVENCE-ALPES-COTE D'AZUR"
        );
    }
}
