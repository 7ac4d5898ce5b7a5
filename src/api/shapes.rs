//! The JSON shapes of the partners' API (`../shared/API.md`): the field
//! names, their order and their values, from our rows. The mapping of our
//! rates to the API's is `rules::exposition`; our own fields ride along under
//! their own names (`masked`, `origine`, `donnee_source.type_ij|hops|link`,
//! `couverture`, `famille_metiers`, `ij_taux_en_emploi_X_mois`).

use serde_json::{json, Map, Value};

use crate::api::data::{Certification, ReleaseData, Row};
use crate::api::resolve::{Block, Figures, Found};
use crate::rules::exposition::{api_code_type, api_donnee_source_type, api_taux, OurFigures};
use crate::rules::filiere::Filiere;
use crate::rules::masquage::Masked;
use crate::rules::millesime::Millesime;
use crate::rules::niveau::NiveauGeographique;
use crate::stages::indicators::model::DonneeSourceType;
use crate::stages::indicators::terminales::LIEN_FAMILLE_METIERS;
use crate::staging::reference::Reference;

/// What an item is about, beside its figures.
pub struct Subject<'a> {
    /// The code shown as `code_certification`.
    pub code: &'a str,
    pub filiere: Filiere,
    pub millesime: Millesime,
    pub level: NiveauGeographique,
    /// The région's INSEE code (regional and establishment items).
    pub region: Option<&'a str>,
    /// The establishment (establishment items): its row.
    pub etablissement: Option<&'a Row>,
}

/// The API's rates of our figures.
pub fn taux_of(f: &Figures) -> crate::rules::exposition::ApiTaux {
    api_taux(&OurFigures {
        nb_annee_term: f.counts.nb_annee_term,
        nb_poursuite_etudes: f.counts.nb_poursuite_etudes,
        nb_en_emploi_12_mois: f.counts.nb_en_emploi_12_mois,
        nb_en_emploi_18_mois: f.counts.nb_en_emploi_18_mois,
        nb_en_emploi_24_mois: f.counts.nb_en_emploi_24_mois,
        part_en_emploi_6_mois: f.taux.part_en_emploi_6_mois,
        part_poursuite_etudes: f.taux.part_poursuite_etudes,
        part_autres_situations_6_mois: f.taux.part_autres_situations_6_mois,
    })
}

fn place(code: &str, nom: Option<&str>) -> Value {
    json!({"code": code, "nom": nom.unwrap_or("")})
}

/// The fields every item has, in the API's order, up to the figures.
fn head(map: &mut Map<String, Value>, s: &Subject, cert: Option<&Certification>, r: &Reference) {
    let text = |v: Option<&str>| v.filter(|x| !x.is_empty()).map_or(Value::Null, Value::from);
    map.insert("millesime".into(), s.millesime.to_string().into());
    map.insert("code_certification".into(), s.code.into());
    map.insert(
        "code_certification_type".into(),
        api_code_type(s.filiere.code_type()).into(),
    );
    map.insert(
        "code_formation_diplome".into(),
        text(cert.map(|c| &*c.code_formation_diplome)),
    );
    map.insert("libelle".into(), text(cert.map(|c| &*c.libelle)));
    map.insert("filiere".into(), s.filiere.as_str().into());
    map.insert(
        "diplome".into(),
        match cert.filter(|c| !c.niveau_diplome.is_empty()) {
            Some(c) => json!({"code": &*c.niveau_diplome, "libelle": &*c.libelle_niveau_diplome}),
            None => Value::Null,
        },
    );
    if let Some(region) = s.region {
        map.insert(
            "region".into(),
            place(region, r.region(region).map(|x| x.libelle.as_str())),
        );
    }
    if let (NiveauGeographique::Etablissement, Some(e)) = (s.level, s.etablissement) {
        let uai = e.uai.as_deref().unwrap_or("");
        map.insert("uai".into(), uai.into());
        map.insert(
            "libelle_etablissement".into(),
            text(e.libelle_etablissement.as_deref()),
        );
        let academie = e.academie_code.as_deref().unwrap_or("");
        map.insert(
            "academie".into(),
            place(academie, r.academie(academie).map(|a| a.libelle.as_str())),
        );
        // Apprenticeship: the release does not say which role the UAI plays
        // for the CFA (lieu de formation, formateur, gestionnaire).
        let apprentissage = s.filiere == Filiere::Apprentissage;
        let when = |v: Value| if apprentissage { v } else { Value::Null };
        map.insert("uai_type".into(), when("inconnu".into()));
        map.insert("uai_donnee".into(), when(uai.into()));
        map.insert("uai_donnee_type".into(), when("inconnu".into()));
    }
}

/// The counts and the API's rates.
fn figures(map: &mut Map<String, Value>, f: &Figures) {
    let c = &f.counts;
    let t = taux_of(f);
    let n = |v: Option<i64>| v.map_or(Value::Null, Value::from);
    for (k, v) in [
        ("nb_annee_term", c.nb_annee_term),
        ("nb_poursuite_etudes", c.nb_poursuite_etudes),
        ("nb_en_emploi_6_mois", c.nb_en_emploi_6_mois),
        ("nb_en_emploi_12_mois", c.nb_en_emploi_12_mois),
        ("nb_en_emploi_18_mois", c.nb_en_emploi_18_mois),
        ("nb_en_emploi_24_mois", c.nb_en_emploi_24_mois),
        ("nb_sortant", c.nb_sortant),
        ("taux_rupture_contrats", None),
        ("taux_en_formation", t.taux_en_formation),
        ("taux_en_emploi_6_mois", t.taux_en_emploi_6_mois),
        ("taux_en_emploi_12_mois", t.taux_en_emploi_12_mois),
        ("taux_en_emploi_18_mois", t.taux_en_emploi_18_mois),
        ("taux_en_emploi_24_mois", t.taux_en_emploi_24_mois),
        ("taux_autres_6_mois", t.taux_autres_6_mois),
        ("taux_autres_12_mois", t.taux_autres_12_mois),
        ("taux_autres_18_mois", t.taux_autres_18_mois),
        ("taux_autres_24_mois", t.taux_autres_24_mois),
    ] {
        map.insert(k.into(), n(v));
    }
    let s = &f.salaires;
    for (k, v) in [
        ("salaire_12_mois_q1", s.salaire_12_mois_q1),
        ("salaire_12_mois_q2", s.salaire_12_mois_q2),
        ("salaire_12_mois_q3", s.salaire_12_mois_q3),
    ] {
        map.insert(k.into(), v.map_or(Value::Null, Value::from));
    }
}

/// Closure, former label, famille de métiers.
fn certification_tail(
    map: &mut Map<String, Value>,
    cert: Option<&Certification>,
    data: &ReleaseData,
    source: Option<&Row>,
) {
    map.insert(
        "formation_fermee".into(),
        cert.is_some_and(|c| c.formation_fermee).into(),
    );
    map.insert(
        "date_fermeture".into(),
        cert.and_then(|c| c.date_fermeture.as_deref())
            .map_or(Value::Null, Value::from),
    );
    // The former training's label, when the figures are its own.
    let ancien = source
        .filter(|r| r.donnee_source.kind == DonneeSourceType::Ancienne)
        .and_then(|r| r.donnee_source.code.as_deref())
        .and_then(|code| data.certifications.get(code.split('|').next()?))
        .map(|c| &*c.libelle)
        .filter(|l| !l.is_empty());
    map.insert(
        "libelle_ancien".into(),
        ancien.map_or(Value::Null, Value::from),
    );
    map.insert(
        "familleMetier".into(),
        match cert.filter(|c| !c.famille_metiers_code.is_empty()) {
            Some(c) => json!({
                "code": &*c.famille_metiers_code,
                "libelle": &*c.famille_metiers_libelle,
                "isAnneeCommune": c.seconde_commune,
            }),
            None => Value::Null,
        },
    );
}

fn donnee_source(code: &str, row: Option<&Row>) -> Value {
    let Some(row) = row else {
        return json!({"code_certification": code, "type": "self", "type_ij": "propre"});
    };
    let s = &row.donnee_source;
    // The API's code is the one the figures are read from: the former or
    // new code of the continuum, else the code itself.
    let from = match s.kind {
        DonneeSourceType::Ancienne | DonneeSourceType::Nouvelle => {
            s.code.as_deref().unwrap_or(&row.code)
        }
        _ => &row.code,
    };
    let mut v = json!({
        "code_certification": from,
        "type": api_donnee_source_type(s.kind),
        "type_ij": s.kind.as_str(),
    });
    if let Some(h) = s.hops {
        v["hops"] = h.into();
    }
    if let Some(l) = s.link.as_deref() {
        v["link"] = l.into();
    }
    if let Some(c) = s.code.as_deref() {
        v["codes"] = c.split('|').collect::<Vec<_>>().into();
    }
    v
}

/// Our own fields: why figures are withheld, where they come from, the
/// rates over leavers, the code's coverage in the release's catalogues.
fn ours(
    map: &mut Map<String, Value>,
    f: &Figures,
    row: Option<&Row>,
    code: &str,
    data: &ReleaseData,
) {
    map.insert(
        "masked".into(),
        f.masked.map_or(Value::Null, |m| Value::from(m.as_str())),
    );
    map.insert(
        "origine".into(),
        row.map_or(Value::Null, |r| Value::from(&*r.origine)),
    );
    let t = &f.taux;
    for (k, v) in [
        ("ij_taux_en_emploi_6_mois", t.taux_en_emploi_6_mois),
        ("ij_taux_en_emploi_12_mois", t.taux_en_emploi_12_mois),
        ("ij_taux_en_emploi_18_mois", t.taux_en_emploi_18_mois),
        ("ij_taux_en_emploi_24_mois", t.taux_en_emploi_24_mois),
    ] {
        map.insert(k.into(), v.map_or(Value::Null, Value::from));
    }
    let couverture: Vec<Value> = data
        .couverture
        .get(code)
        .into_iter()
        .flatten()
        .map(|c| json!({"catalogue": &*c.catalogue, "offres": c.offres, "couvertes": c.couvertes}))
        .collect();
    map.insert("couverture".into(), couverture.into());
}

/// The specialities of a common first year (its famille de métiers).
fn famille(map: &mut Map<String, Value>, code: &str, data: &ReleaseData) {
    let specialites: Vec<&str> = data
        .terminales
        .get(code)
        .into_iter()
        .flatten()
        .filter(|t| &*t.lien == LIEN_FAMILLE_METIERS)
        .map(|t| &*t.code)
        .collect();
    if !specialites.is_empty() {
        map.insert(
            "famille_metiers".into(),
            json!({"specialites": specialites}),
        );
    }
}

/// A row of a bulk list (no `_meta`).
pub fn bulk_item(row: &Row, level: NiveauGeographique, data: &ReleaseData, r: &Reference) -> Value {
    let cert = data.certifications.get(&row.code);
    let subject = Subject {
        code: &row.code,
        filiere: row.filiere,
        millesime: row.millesime,
        level,
        region: row.region_code.as_deref(),
        etablissement: Some(row),
    };
    let f = Figures::of_row(row);
    let mut map = Map::new();
    head(&mut map, &subject, cert, r);
    figures(&mut map, &f);
    certification_tail(&mut map, cert, data, Some(row));
    map.insert("certificationsTerminales".into(), json!([]));
    map.insert("donnee_source".into(), donnee_source(&row.code, Some(row)));
    ours(&mut map, &f, Some(row), &row.code, data);
    Value::Object(map)
}

/// A single item: the code asked, its figures and how they were found.
pub fn single_item(
    found: &Found,
    level: NiveauGeographique,
    place: &str,
    data: &ReleaseData,
    r: &Reference,
) -> Value {
    let code = found.code.code.as_str();
    let cert = data.certifications.get(code);
    let row = match found.rows.as_slice() {
        [one] => Some(*one),
        _ => None,
    };
    let subject = Subject {
        code,
        filiere: found.filiere,
        millesime: found.millesime,
        level,
        region: match level {
            NiveauGeographique::National => None,
            NiveauGeographique::Region => Some(place),
            NiveauGeographique::Etablissement => {
                found.rows.first().and_then(|r| r.region_code.as_deref())
            }
        },
        etablissement: found.rows.first().copied(),
    };
    let mut map = Map::new();
    head(&mut map, &subject, cert, r);
    figures(&mut map, &found.figures);
    certification_tail(&mut map, cert, data, row);
    let terminales: Vec<Value> = found
        .terminales
        .iter()
        .map(|t| json!({"code_certification": &**t}))
        .collect();
    map.insert("certificationsTerminales".into(), terminales.into());
    let source = if found.terminales.is_empty() {
        row
    } else {
        None
    };
    map.insert("donnee_source".into(), donnee_source(code, source));
    ours(&mut map, &found.figures, row, code, data);
    famille(&mut map, code, data);
    map.insert("_meta".into(), meta(found, &subject, cert, data, r));
    Value::Object(map)
}

fn dispositif(filiere: Filiere) -> &'static str {
    if filiere == Filiere::Superieur {
        "InserSup"
    } else {
        "InserJeunes"
    }
}

/// `_meta`: a title, what the figures are, and why some are missing.
fn meta(
    found: &Found,
    s: &Subject,
    cert: Option<&Certification>,
    data: &ReleaseData,
    r: &Reference,
) -> Value {
    let libelle = cert.map(|c| &*c.libelle).filter(|l| !l.is_empty());
    let mut details = format!(
        "Données {} pour la certification {}{} pour le millésime {}",
        dispositif(s.filiere),
        s.code,
        libelle.map(|l| format!(" ({l})")).unwrap_or_default(),
        s.millesime
    );
    if let (NiveauGeographique::Region, Some(region)) = (s.level, s.region) {
        let nom = r.region(region).map_or(region, |x| x.libelle.as_str());
        details.push_str(&format!(" dans la région {nom}"));
    }
    let mut messages = masked_messages(found.figures.masked, data.seuil);
    if !found.terminales.is_empty() {
        let codes: Vec<&str> = found.terminales.iter().map(|t| &**t).collect();
        messages.push(format!(
            "Les données sont celles de l'année terminale : {}",
            codes.join(", ")
        ));
    }
    if let [row] = found.rows.as_slice() {
        let s = &row.donnee_source;
        match (s.kind, s.code.as_deref()) {
            (DonneeSourceType::Ancienne, Some(c)) => messages.push(format!(
                "Les données sont celles de l'ancienne certification {c} (continuum)"
            )),
            (DonneeSourceType::Nouvelle, Some(c)) => messages.push(format!(
                "Les données sont celles de la nouvelle certification {c} (continuum)"
            )),
            (DonneeSourceType::FamilleMetiers, Some(c)) => messages.push(format!(
                "Les données sont la somme des spécialités de la famille de métiers : {}",
                c.replace('|', ", ")
            )),
            _ => {}
        }
    }
    json!({
        "titre": format!("Certification {}", s.code),
        "details": details,
        "messages": messages,
    })
}

/// Why figures are missing, in words.
pub fn masked_messages(masked: Option<Masked>, seuil: i64) -> Vec<String> {
    match masked {
        Some(Masked::SousSeuil) => vec![format!(
            "Les effectifs sont inférieurs au seuil de diffusion ({seuil} élèves en année terminale) : seul l'effectif en année terminale est publié"
        )],
        Some(Masked::SortantsSousSeuil) => vec![format!(
            "Moins de {seuil} sortants : les taux d'emploi rapportés aux sortants ne sont pas publiés"
        )],
        Some(Masked::NonDiffuse) => {
            vec!["La source ne diffuse aucun indicateur pour cette certification".to_string()]
        }
        _ => Vec::new(),
    }
}

/// One block of the filières view: the sum's figures and its codes.
pub fn block_item(block: &Block, data: &ReleaseData) -> Value {
    let mut codes: Vec<&str> = block.rows.iter().map(|r| &*r.code).collect();
    codes.sort_unstable();
    codes.dedup();
    let mut cfds: Vec<&str> = codes
        .iter()
        .filter_map(|c| data.certifications.get(*c))
        .map(|c| &*c.code_formation_diplome)
        .filter(|c| !c.is_empty())
        .collect();
    cfds.sort_unstable();
    cfds.dedup();
    let mut map = Map::new();
    map.insert("millesime".into(), block.millesime.to_string().into());
    map.insert("filiere".into(), block.filiere.as_str().into());
    map.insert("codes_certifications".into(), json!(codes));
    map.insert("codes_formation_diplome".into(), json!(cfds));
    figures(&mut map, &block.figures);
    map.insert(
        "masked".into(),
        block
            .figures
            .masked
            .map_or(Value::Null, |m| Value::from(m.as_str())),
    );
    map.insert(
        "_meta".into(),
        json!({
            "titre": format!("Filière {}", block.filiere.as_str()),
            "details": format!(
                "Données {} pour le millésime {}, somme de {} certification(s)",
                dispositif(block.filiere),
                block.millesime,
                codes.len()
            ),
            "messages": masked_messages(block.figures.masked, data.seuil),
        }),
    );
    Value::Object(map)
}
