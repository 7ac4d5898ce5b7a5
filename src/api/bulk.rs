//! The bulk lists (`/certifications`, `/regionales`, `/formations`, as
//! `.json` or `.csv`): filtered by their parameters, paginated, items
//! without `_meta`; CSV with `;` and nested fields flattened (`diplome_code`).

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::api::data::Row;
use crate::api::query::{
    millesime_candidates, parse_codes, parse_millesime, parse_region, parse_uai, shorten, ApiError,
    Params,
};
use crate::api::shapes::bulk_item;
use crate::api::Api;
use crate::rules::millesime::Millesime;
use crate::rules::niveau::NiveauGeographique;

/// The filters of a bulk request, checked.
#[derive(Debug, Default)]
struct Filters {
    millesimes: BTreeSet<Millesime>,
    codes: BTreeSet<String>,
    regions: BTreeSet<String>,
    uais: BTreeSet<String>,
    academies: BTreeSet<String>,
}

impl Filters {
    fn parse(
        api: &Api,
        level: NiveauGeographique,
        params: &Params,
        region: Option<String>,
    ) -> Result<Filters, ApiError> {
        let mut f = Filters::default();
        for m in params.list("millesimes") {
            f.millesimes
                .extend(millesime_candidates(parse_millesime(&m)?));
        }
        if let Some(codes) = params.get("code_certifications") {
            f.codes = parse_codes(codes)?.into_iter().map(|c| c.code).collect();
        }
        if level != NiveauGeographique::National {
            for r in params.list("regions") {
                f.regions.insert(parse_region(&r, &api.reference)?);
            }
        }
        f.regions.extend(region);
        if level == NiveauGeographique::Etablissement {
            for u in params.list("uais") {
                f.uais.insert(parse_uai(&u)?);
            }
            for a in params.list("academies") {
                let code = api
                    .reference
                    .academie(&a)
                    .ok_or_else(|| {
                        ApiError::bad_request(format!("Académie inconnue « {} »", shorten(&a)))
                    })?
                    .code
                    .clone();
                f.academies.insert(code);
            }
        }
        Ok(f)
    }

    fn keeps(&self, r: &Row) -> bool {
        let is_in = |set: &BTreeSet<String>, v: Option<&str>| {
            set.is_empty() || v.is_some_and(|v| set.contains(v))
        };
        (self.millesimes.is_empty() || self.millesimes.contains(&r.millesime))
            && (self.codes.is_empty() || self.codes.contains(&*r.code))
            && is_in(&self.regions, r.region_code.as_deref())
            && is_in(&self.uais, r.uai.as_deref())
            && is_in(&self.academies, r.academie_code.as_deref())
    }
}

/// A bulk list: its items and pagination, as JSON.
pub fn list(
    api: &Api,
    level: NiveauGeographique,
    params: &Params,
    region: Option<String>,
) -> Result<Value, ApiError> {
    let filters = Filters::parse(api, level, params, region)?;
    let (page, per_page) = params.pagination()?;
    let table = api.data.table(level);
    let mut total = 0usize;
    let first = (page - 1).saturating_mul(per_page);
    let mut items = Vec::new();
    for r in table.rows.iter().filter(|r| filters.keeps(r)) {
        if total >= first && items.len() < per_page {
            items.push(bulk_item(r, level, &api.data, &api.reference));
        }
        total += 1;
    }
    let mut body = Map::new();
    body.insert(level.table().into(), items.into());
    body.insert(
        "pagination".into(),
        json!({
            "page": page,
            "items_par_page": per_page,
            "nombre_de_page": total.div_ceil(per_page),
            "total": total,
        }),
    );
    Ok(Value::Object(body))
}

/// The CSV of a bulk list: one line per item, `;`-separated, the columns of
/// an item of the table (nested objects flattened as `parent_child`).
pub fn csv(api: &Api, level: NiveauGeographique, list: &Value) -> String {
    let items = list[level.table()].as_array().cloned().unwrap_or_default();
    // The columns of any item of this table, so that an empty page has a header.
    let template = api
        .data
        .table(level)
        .rows
        .first()
        .map(|r| bulk_item(r, level, &api.data, &api.reference));
    let Some(template) = template.or_else(|| items.first().cloned()) else {
        return String::new();
    };
    let columns: Vec<String> = flatten(&template).into_iter().map(|(k, _)| k).collect();
    let mut out = columns.join(";");
    out.push('\n');
    for item in &items {
        let cells = flatten(item);
        let line: Vec<String> = columns
            .iter()
            .map(|c| {
                cells
                    .iter()
                    .find(|(k, _)| k == c)
                    .map(|(_, v)| quote(v))
                    .unwrap_or_default()
            })
            .collect();
        out.push_str(&line.join(";"));
        out.push('\n');
    }
    out
}

/// The nested objects of an item and their fields: flattened as
/// `parent_child` whether the item has the object or null.
const NESTED: &[(&str, &[&str])] = &[
    ("diplome", &["code", "libelle"]),
    ("region", &["code", "nom"]),
    ("academie", &["code", "nom"]),
    ("familleMetier", &["code", "libelle", "isAnneeCommune"]),
    (
        "donnee_source",
        &[
            "code_certification",
            "type",
            "type_ij",
            "hops",
            "link",
            "codes",
        ],
    ),
];

fn flatten(item: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Value::Object(map) = item {
        for (k, v) in map {
            match NESTED.iter().find(|(name, _)| name == k) {
                Some((_, fields)) => {
                    for f in *fields {
                        out.push((format!("{k}_{f}"), cell(&v[*f])));
                    }
                }
                None => out.push((k.clone(), cell(v))),
            }
        }
    }
    out
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => {
            a.iter().map(cell).collect::<Vec<_>>().join("|")
        }
        other => other.to_string(),
    }
}

fn quote(v: &str) -> String {
    if v.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}
