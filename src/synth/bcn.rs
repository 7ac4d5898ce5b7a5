//! The BCN tables of the synthetic universe, in the real exports' layouts:
//! N_FORMATION_DIPLOME in Windows-1252 with its 52 columns, the V_ view and
//! N_MEF in UTF-8 with a BOM, the famille tables as the real folder has them.

use std::path::Path;

use super::universe::{Universe, LEVELS};
use super::writer::{Encoding, Lines};
use crate::error::Result;

const N_FORMATION_HEADER: &str = "FORMATION_DIPLOME;NIVEAU_FORMATION_DIPLOME;GROUPE_SPECIALITE;LETTRE_SPECIALITE;ANCIEN_RECME;LIBELLE_COURT;LIBELLE_STAT_33;LIBELLE_LONG_200;DATE_OUVERTURE;DATE_FERMETURE;ANCIEN_DIPLOME_1;ANCIEN_DIPLOME_2;ANCIEN_DIPLOME_3;ANCIEN_DIPLOME_4;ANCIEN_DIPLOME_5;ANCIEN_DIPLOME_6;ANCIEN_DIPLOME_7;NOUVEAU_DIPLOME_1;NOUVEAU_DIPLOME_2;NOUVEAU_DIPLOME_3;NOUVEAU_DIPLOME_4;NOUVEAU_DIPLOME_5;NOUVEAU_DIPLOME_6;NOUVEAU_DIPLOME_7;UNITE_CAPITALISABLE;DATE_PREMIERE_SESSION;DATE_DERNIERE_SESSION;DATE_ARRETE_CREATION;DATE_ARRETE_ABROGATION;DATE_ARRETE_MODIFICATION_1;DATE_ARRETE_MODIFICATION_2;DATE_ARRETE_MODIFICATION_3;DATE_ARRETE_MODIFICATION_4;DATE_ARRETE_MODIFICATION_5;DATE_ARRETE_MODIFICATION_6;DATE_ARRETE_MODIFICATION_7;DATE_ARRETE_MODIFICATION_8;DATE_ARRETE_MODIFICATION_9;DATE_ARRETE_MODIFICATION_10;COMMENTAIRE;NATURE_FORMATION_DIPLOME;GESTIONNAIRE_FORMATION_DIPLOME;DATE_INTERVENTION;NB_MEF_OUVERT;NB_MEF_FERME;ID_DOCUMENT;CITE_DOMAINE_FORMATION;DATE_SESSION_RATTRAPAGE;OBSERVATION;N_COMMENTAIRE;CITE_DOMAINE_DETAILLE;NIVEAU_QUALIFICATION_RNCP";
const V_FORMATION_HEADER: &str = "FORMATION_DIPLOME;NIVEAU_FORMATION_DIPLOME;GROUPE_SPECIALITE;LETTRE_SPECIALITE;ANCIEN_RECME;LIBELLE_COURT;LIBELLE_STAT_33;LIBELLE_LONG_200;DATE_OUVERTURE;DATE_FERMETURE;UNITE_CAPITALISABLE;DATE_PREMIERE_SESSION;DATE_DERNIERE_SESSION;DATE_ARRETE_CREATION;DATE_ARRETE_ABROGATION;DATE_ARRETE_MODIFICATION_1;DATE_ARRETE_MODIFICATION_2;DATE_ARRETE_MODIFICATION_3;DATE_ARRETE_MODIFICATION_4;DATE_ARRETE_MODIFICATION_5;DATE_ARRETE_MODIFICATION_6;DATE_ARRETE_MODIFICATION_7;DATE_ARRETE_MODIFICATION_8;DATE_ARRETE_MODIFICATION_9;DATE_ARRETE_MODIFICATION_10;COMMENTAIRE;NATURE_FORMATION_DIPLOME;GESTIONNAIRE_FORMATION_DIPLOME;DATE_INTERVENTION;ID_DOCUMENT;CITE_DOMAINE_FORMATION;NIVEAU_QUALIFICATION_RNCP";
const MEF_HEADER: &str = "MEF;DISPOSITIF_FORMATION;FORMATION_DIPLOME;DUREE_DISPOSITIF;ANNEE_DISPOSITIF;LIBELLE_COURT;LIBELLE_LONG;DATE_OUVERTURE;DATE_FERMETURE;STATUT_MEF;NB_OPTION_OBLIGATOIRE;NB_OPTION_FACULTATIF;RENFORCEMENT_LANGUE;DUREE_PROJET;DUREE_STAGE;HORAIRE;MEF_INSCRIPTION_SCOLARITE;MEF_STAT_11;MEF_STAT_9;DATE_INTERVENTION;LIBELLE_EDITION;N_COMMENTAIRE";

fn ouverture(year: i32) -> String {
    format!("01/09/{year}")
}

fn fermeture(year: Option<i32>) -> String {
    year.map_or(String::new(), |y| format!("31/08/{y}"))
}

fn padded(codes: &[String]) -> String {
    (0..7)
        .map(|i| codes.get(i).map_or("", String::as_str))
        .collect::<Vec<_>>()
        .join(";")
}

pub fn write(u: &Universe, dir: &Path) -> Result<()> {
    let mut n = Lines::create(&dir.join("nFormationDiplome_.csv"), Encoding::Windows1252)?;
    let mut v = Lines::create(&dir.join("vFormationDiplome_.csv"), Encoding::Utf8Bom)?;
    n.line(N_FORMATION_HEADER)?;
    v.line(V_FORMATION_HEADER)?;
    for f in &u.formations {
        let l = f.niveau();
        let gs = &f.cfd[3..6];
        let long = format!("{} ({})", f.libelle, l.libelle);
        let stat33: String = f.libelle.chars().take(33).collect();
        let premiere = f.ouverture + l.scolaire.map_or(2, |s| s.2) as i32;
        let derniere = f.fermeture.map_or(String::new(), |y| y.to_string());
        let commentaire = if f.anciens.is_empty() {
            ""
        } else {
            "Rénovation du diplôme"
        };
        let (o, fe) = (ouverture(f.ouverture), fermeture(f.fermeture));
        if !l.v_only {
            n.line(&format!(
                "{cfd};{niv};{gs};S;;{court};{stat33};{long};{o};{fe};{anc};{nou};;{premiere};{derniere};{o};;;;;;;;;;;;{commentaire};1;DGESCO A2-3;10/12/2020;2;0;;520;;;;0521;03",
                cfd = f.cfd,
                niv = l.prefix,
                court = l.libelle,
                anc = padded(&f.anciens),
                nou = padded(&f.nouveaux),
            ))?;
        }
        v.line(&format!(
            "{cfd};{niv};{gs};S;;{court};{stat33};{long};{o};{fe};N;{premiere};{derniere};{o};;;;;;;;;;;;{commentaire};1;DGESCO A2-3;06/01/2024;;520;03",
            cfd = f.cfd,
            niv = l.prefix,
            court = l.libelle,
        ))?;
    }
    n.finish()?;
    v.finish()?;

    let mut m = Lines::create(&dir.join("nMef.csv"), Encoding::Utf8Bom)?;
    m.line(MEF_HEADER)?;
    for mef in &u.mefs {
        let f = &u.formations[mef.formation];
        let court = format!("{}{} {}", mef.annee, f.niveau().libelle, &f.cfd[3..]);
        m.line(&format!(
            "{};{};{};{};{};{court};{court} {};{};{};3;0;;N;;;N;O;{};{};26/11/2024;{};",
            mef.mef,
            mef.dispositif,
            f.cfd,
            mef.duree,
            mef.annee,
            f.libelle,
            ouverture(f.ouverture),
            fermeture(f.fermeture),
            mef.mef_stat_11,
            &mef.mef_stat_11[..9],
            f.libelle.to_lowercase(),
        ))?;
    }
    m.finish()?;

    let mut niv = Lines::create(&dir.join("nNiveauFormationDiplome_.csv"), Encoding::Utf8)?;
    niv.line("NIVEAU_FORMATION_DIPLOME;NIVEAU_INTERMINISTERIEL;LIBELLE_COURT;LIBELLE_100;ANCIEN_NIVEAU;DATE_OUVERTURE;DATE_FERMETURE;DATE_INTERVENTION;N_COMMENTAIRE;NIVEAU_QUALIFICATION_RNCP")?;
    for l in LEVELS {
        niv.line(&format!(
            "{};{};{};{};;;;08/11/2021;;03",
            l.prefix,
            &l.prefix[..1],
            l.libelle,
            l.libelle
        ))?;
    }
    niv.finish()?;

    write_familles(u, dir)
}

fn write_familles(u: &Universe, dir: &Path) -> Result<()> {
    let mut g = Lines::create(&dir.join("n_groupe_formation_.csv"), Encoding::Utf8Bom)?;
    let mut lg = Lines::create(&dir.join("n_lien_formation_groupe_.csv"), Encoding::Utf8Bom)?;
    let mut fm = Lines::create(&dir.join("n_famille_metier_spec_pro.csv"), Encoding::Utf8)?;
    let mut lm = Lines::create(&dir.join("n_lien_mef_famille_metier.csv"), Encoding::Utf8)?;
    g.line("GROUPE_FORMATION;TYPE_GROUPE_FORMATION;LIBELLE_COURT;LIBELLE_LONG;LIBELLE_EDITION;DATE_OUVERTURE;DATE_FERMETURE;DATE_INTERVENTION;N_COMMENTAIRE")?;
    lg.line("GROUPE_FORMATION;FORMATION_DIPLOME;DATE_OUVERTURE;DATE_FERMETURE;DATE_INTERVENTION;N_COMMENTAIRE")?;
    fm.line("FAMILLE_METIER;LIBELLE_LONG;LIBELLE_EDITION;DATE_OUVERTURE;DATE_FERMETURE;DATE_INTERVENTION;N_COMMENTAIRE")?;
    lm.line(
        "FAMILLE_METIER;MEF;DATE_OUVERTURE;DATE_FERMETURE;DATE_INTERVENTION;N_COMMENTAIRE;tag",
    )?;
    let mut mefs_of: Vec<Vec<&super::universe::Mef>> = vec![Vec::new(); u.formations.len()];
    for mef in u.mefs.iter().filter(|m| m.scolaire) {
        mefs_of[mef.formation].push(mef);
    }
    for fam in &u.familles {
        let court: String = fam.libelle.chars().take(20).collect();
        let edition = sentence_case(&fam.libelle);
        g.line(&format!(
            "{};TG01;{court};{};{edition};01/09/2019;;22/05/2025;",
            fam.groupe, fam.libelle
        ))?;
        fm.line(&format!(
            "{};{};{edition};01/09/2019;;10/02/2020;",
            fam.spec_pro, fam.libelle
        ))?;
        for &f in std::iter::once(&fam.commune).chain(&fam.specialites) {
            lg.line(&format!(
                "{};{};01/09/2019;;23/05/2025;",
                fam.groupe, u.formations[f].cfd
            ))?;
        }
        for mef in &mefs_of[fam.commune] {
            lm.line(&format!(
                "{};{};01/09/2019;;26/04/2023;;2NDE PRO COMMUNE",
                fam.spec_pro, mef.mef
            ))?;
        }
        for mef in fam
            .specialites
            .iter()
            .flat_map(|&s| &mefs_of[s])
            .filter(|m| m.annee > 1)
        {
            lm.line(&format!(
                "{};{};01/09/2019;;28/02/2020;;",
                fam.spec_pro, mef.mef
            ))?;
        }
    }
    g.finish()?;
    lg.finish()?;
    fm.finish()?;
    lm.finish()
}

fn sentence_case(s: &str) -> String {
    let lower = s.to_lowercase();
    let mut c = lower.chars();
    c.next()
        .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}
