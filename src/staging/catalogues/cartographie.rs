//! Staging of the Parcoursup cartographie, an ODS JSON export: one
//! [`Offre`] per record, its filière told from the apprentissage, type and
//! filière fields.

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Location, Result};
use crate::input::json;
use crate::rules::filiere::Filiere;
use crate::staging::reference::Reference;

use super::tables::{finish, new_offre};
use super::Offre;

/// The Parcoursup cartographie, an ODS export: an array of records whose
/// `fields` hold the values (ODS v1), or of flat records; `{"results": […]}`
/// (ODS v2 API) is read too.
pub(super) fn read_cartographie(
    path: &Path,
    catalogue: &str,
    reference: &Reference,
) -> Result<Vec<Offre>> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let expected = "expected the ODS export of fr-esr-cartographie_formations_parcoursup: an array of records, or {\"results\": [...]}";
    let (records, _) = json::read_records(path, &bytes)?;
    let mut all_fields = Vec::with_capacity(records.len());
    for (i, record) in records.iter().enumerate() {
        let Value::Object(map) = record else {
            return Err(Error::at(
                path,
                Location::Record {
                    index: i as u64 + 1,
                    field: None,
                },
                format!("not an object; {expected}"),
            ));
        };
        let fields = match map.get("fields") {
            Some(Value::Object(f)) => f,
            _ => map,
        };
        all_fields.push(fields);
    }
    if !all_fields.is_empty() && !all_fields.iter().any(|f| f.contains_key("etab_uai")) {
        return Err(Error::file(
            path,
            format!("missing required field etab_uai in every record; {expected}"),
        ));
    }
    let get = |f: &serde_json::Map<String, Value>, key: &str| -> String {
        match f.get(key) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.trim().to_string(),
            Some(other) => other.to_string(),
        }
    };
    let mut out = Vec::with_capacity(all_fields.len());
    for (i, f) in all_fields.into_iter().enumerate() {
        let mut o = new_offre(catalogue, i as u64 + 1);
        o.uai = get(f, "etab_uai").into();
        o.libelle = get(f, "nm");
        o.filiere = filiere_cartographie(&get(f, "app"), &get(f, "tf"), &get(f, "fl"));
        out.push(finish(o, &get(f, "region"), reference));
    }
    Ok(out)
}

/// `app` set → apprentissage; else by the types of formation `tf`
/// (`|`-separated) and, for a BTSA, the label `fl`.
fn filiere_cartographie(app: &str, tf: &str, fl: &str) -> Option<Filiere> {
    if !app.is_empty() {
        return Some(Filiere::Apprentissage);
    }
    let types: Vec<&str> = tf.split('|').map(str::trim).collect();
    if types
        .iter()
        .any(|t| t.starts_with("BTS") || t.starts_with("Mentions complémentaires"))
    {
        let label = fl.split_once('|').map_or(fl, |(_, l)| l);
        return Some(if label.starts_with("BTSA") {
            Filiere::Agricole
        } else {
            Filiere::Pro
        });
    }
    let superieur = ["Licence", "BUT", "DUT", "DEUST", "Master"];
    if types
        .iter()
        .any(|t| superieur.iter().any(|s| t.starts_with(s)))
    {
        return Some(Filiere::Superieur);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staging::catalogues::tests::{load, problems};
    use crate::staging::catalogues::CatalogueFormat;

    #[test]
    fn cartographie_reads_ods_fields() {
        let text = r#"[
 {"datasetid": "x", "fields": {"etab_uai": "0332813D", "nm": "BTS - Services - NDRC - en apprentissage", "app": "Formations en apprentissage", "tf": "BTS - BTSA - BTSM", "fl": "11418|BTS - NDRC", "region": "Nouvelle-Aquitaine", "gta": 14117}},
 {"fields": {"etab_uai": "0330028B", "nm": "BTSA - Viticulture", "tf": "BTS - BTSA - BTSM", "fl": "1|BTSA - Viticulture", "region": "Nouvelle-Aquitaine"}},
 {"fields": {"etab_uai": "0333298F", "nm": "L1 - Psychologie", "tf": "Etudes de santé|Licence", "region": "Nouvelle-Aquitaine"}},
 {"fields": {"etab_uai": "0330021U", "nm": "CPGE - MPSI", "tf": "CPGE", "region": "Atlantide"}},
 {"etab_uai": "", "nm": "flat record"}
]"#;
        let (f, offres) = load("carto.json", text.as_bytes(), None);
        assert_eq!(f, CatalogueFormat::PsupCartographie);
        assert_eq!(offres.len(), 5);
        let o = &offres[0];
        assert_eq!((o.line, o.filiere), (1, Some(Filiere::Apprentissage)));
        assert_eq!(o.libelle, "BTS - Services - NDRC - en apprentissage");
        assert_eq!(
            (o.academie_code.as_deref(), o.region_code.as_deref()),
            (Some("04"), Some("75"))
        );
        assert_eq!(problems(o), ["empty_code"]);
        assert_eq!(offres[1].filiere, Some(Filiere::Agricole));
        assert_eq!(offres[2].filiere, Some(Filiere::Superieur));
        assert_eq!(offres[3].filiere, None);
        assert_eq!(problems(&offres[3]), ["empty_code", "unknown_region"]);
        assert_eq!(
            problems(&offres[4]),
            ["empty_uai", "empty_code", "unknown_academie"]
        );
    }
}
