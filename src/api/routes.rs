//! `answer` turns one request into one reply, the same bytes whoever asks:
//! the server sends it, `ij api export` writes it. The routes themselves
//! are defined once, in `route_table` (re-exported here), which the OpenAPI
//! document reads too.

use serde_json::{json, Map, Value};

use crate::api::bulk;
use crate::api::query::CodeRef;
use crate::api::query::{parse_codes, parse_region, parse_uai, split_extension, ApiError, Params};
use crate::api::resolve::{find_filieres, find_one, Figures, Scope};
use crate::api::route_table::{RouteId, DIRECTION, IMAGE_ON_ERROR, THEME, VUE};
use crate::api::shapes::{block_item, single_item, taux_of};
use crate::api::widget::{self, Bloc, Direction, Theme, Trois, Widget};
use crate::api::{openapi, Api};
use crate::rules::filiere::Filiere;
use crate::rules::millesime::Millesime;
use crate::rules::niveau::NiveauGeographique;

/// A reply, as bytes: the server sends it, the export writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

pub const JSON: &str = "application/json; charset=utf-8";
pub const SVG: &str = "image/svg+xml; charset=utf-8";
pub const CSV: &str = "text/csv; charset=utf-8";

impl Reply {
    pub fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            content_type: JSON,
            body: serde_json::to_vec(value).expect("a JSON value serializes"),
        }
    }
    pub fn error(e: &ApiError) -> Reply {
        Reply::json(e.status, &e.body())
    }
    fn svg(text: String) -> Reply {
        Reply {
            status: 200,
            content_type: SVG,
            body: text.into_bytes(),
        }
    }
}

/// Answers one request: the route, its path parameters (decoded), its query string.
pub fn answer(api: &Api, id: RouteId, path: &[&str], query: Option<&str>) -> Reply {
    match try_answer(api, id, path, query) {
        Ok(r) => r,
        Err(e) => Reply::error(&e),
    }
}

fn try_answer(
    api: &Api,
    id: RouteId,
    path: &[&str],
    query: Option<&str>,
) -> Result<Reply, ApiError> {
    let params = Params::parse(query)?;
    let arg = |i: usize| path.get(i).copied().unwrap_or("");
    match id {
        RouteId::Health => Ok(Reply::json(200, &health(api))),
        RouteId::Doc => Ok(Reply::json(200, &openapi::document(api))),
        RouteId::CertificationsList | RouteId::RegionalesList | RouteId::FormationsList => {
            let level = match id {
                RouteId::CertificationsList => NiveauGeographique::National,
                RouteId::RegionalesList => NiveauGeographique::Region,
                _ => NiveauGeographique::Etablissement,
            };
            bulk_reply(api, level, &params, None, arg(0))
        }
        RouteId::RegionalesOfRegion => {
            let (region, ext) = split_extension(arg(0));
            let region = parse_region(region, &api.reference)?;
            bulk_reply(
                api,
                NiveauGeographique::Region,
                &params,
                Some(region),
                ext.unwrap_or("json"),
            )
        }
        RouteId::Certification => single(api, NiveauGeographique::National, "", arg(0), &params),
        RouteId::Regionale => {
            let region = parse_region(arg(0), &api.reference)?;
            single(api, NiveauGeographique::Region, &region, arg(1), &params)
        }
        RouteId::Formation => {
            let (stem, ext) = split_extension(arg(0));
            let (uai, code) = stem.split_once('-').ok_or_else(|| {
                ApiError::bad_request(
                    "Formation attendue sous la forme {uai}-{code} : 0630003L-40025214",
                )
            })?;
            let uai = parse_uai(uai)?;
            let code = format!("{code}.{}", ext.unwrap_or("json"));
            single(api, NiveauGeographique::Etablissement, &uai, &code, &params)
        }
    }
}

fn bulk_reply(
    api: &Api,
    level: NiveauGeographique,
    params: &Params,
    region: Option<String>,
    ext: &str,
) -> Result<Reply, ApiError> {
    let list = bulk::list(api, level, params, region)?;
    match ext {
        "csv" => Ok(Reply {
            status: 200,
            content_type: CSV,
            body: bulk::csv(api, level, &list).into_bytes(),
        }),
        "json" | "" => Ok(Reply::json(200, &list)),
        other => Err(ApiError::bad_request(format!(
            "Format inconnu « {other} » (json ou csv)"
        ))),
    }
}

/// The widget parameters, checked (also on `.json`, so a typo is told).
struct WidgetParams {
    direction: Direction,
    theme: Theme,
    on_error: &'static str,
}

fn widget_params(params: &Params) -> Result<WidgetParams, ApiError> {
    let direction = match params.choice("direction", DIRECTION.values, "vertical")? {
        "horizontal" => Direction::Horizontal,
        _ => Direction::Vertical,
    };
    let theme = match params.choice("theme", THEME.values, "dsfr")? {
        "lba" => Theme::Lba,
        _ => Theme::Dsfr,
    };
    let on_error = params.choice("imageOnError", IMAGE_ON_ERROR.values, "false")?;
    Ok(WidgetParams {
        direction,
        theme,
        on_error,
    })
}

/// A single-item route: one code, several codes, or the filières view.
fn single(
    api: &Api,
    level: NiveauGeographique,
    place: &str,
    codes: &str,
    params: &Params,
) -> Result<Reply, ApiError> {
    let (codes, ext) = split_extension(codes);
    let svg = match ext {
        None | Some("json") => false,
        Some("svg") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Format inconnu « {other} » (json ou svg)"
            )))
        }
    };
    let codes = parse_codes(codes)?;
    let millesime = params.millesime()?;
    let vue = params.choice("vue", VUE.values, "")? == "filieres";
    let widget = widget_params(params)?;
    if level == NiveauGeographique::Etablissement && (codes.len() > 1 || vue) {
        return Err(ApiError::bad_request(
            "Une formation se demande pour un seul code, sans vue=filieres",
        ));
    }
    let asked = Asked {
        api,
        scope: Scope { level, place },
        svg,
        widget,
    };
    let answer = if codes.len() == 1 && !vue {
        asked.one(&codes[0], millesime)
    } else {
        asked.blocks(&codes, vue, millesime)
    };
    answer.or_else(|e| asked.on_error(e))
}

/// A single-item request, checked: where, which format, which widget.
struct Asked<'a> {
    api: &'a Api,
    scope: Scope<'a>,
    svg: bool,
    widget: WidgetParams,
}

impl Asked<'_> {
    /// A widget without data: an error image, an empty one, or the error
    /// itself (a 404), as `imageOnError` asks; JSON is always the error.
    fn on_error(&self, e: ApiError) -> Result<Reply, ApiError> {
        let w = &self.widget;
        match (self.svg, w.on_error) {
            (true, "true") => Ok(Reply::svg(widget::render_error(
                w.theme,
                w.direction,
                &e.message,
            ))),
            (true, "empty") => Ok(Reply::svg(widget::render_empty(w.theme))),
            _ => Err(e),
        }
    }

    /// The widget showing `code` (the codes asked, `first` naming it:
    /// its id and label) with these blocks.
    fn widget(
        &self,
        code: &str,
        first: &str,
        millesime: Millesime,
        insersup: bool,
        blocs: Vec<Bloc>,
    ) -> Widget {
        let Scope { level, place } = self.scope;
        Widget {
            theme: self.widget.theme,
            direction: self.widget.direction,
            id: widget_id(level, place, first),
            code: code.to_string(),
            libelle: libelle(self.api, first),
            millesime,
            insersup,
            region: (level == NiveauGeographique::Region)
                .then(|| self.api.reference.region(place).map(|r| r.libelle.clone()))
                .flatten(),
            blocs,
        }
    }

    /// One code: its row (or sum) as JSON, or its widget.
    fn one(&self, code: &CodeRef, millesime: Option<Millesime>) -> Result<Reply, ApiError> {
        let found = find_one(&self.api.data, self.scope, code, millesime)?;
        if !self.svg {
            let Scope { level, place } = self.scope;
            let item = single_item(&found, level, place, &self.api.data, &self.api.reference);
            return Ok(Reply::json(200, &item));
        }
        let figures = trois(&found.figures);
        if figures.is_empty() {
            return Err(ApiError::not_found("Pas de données pour la certification"));
        }
        let blocs = vec![Bloc {
            titre: None,
            figures,
        }];
        let insersup = found.filiere == Filiere::Superieur;
        let w = self.widget(&code.code, &code.code, found.millesime, insersup, blocs);
        Ok(Reply::svg(widget::render(&w)))
    }

    /// Several codes, or the filières view: one block per filière.
    fn blocks(
        &self,
        codes: &[CodeRef],
        vue: bool,
        millesime: Option<Millesime>,
    ) -> Result<Reply, ApiError> {
        let blocks = find_filieres(&self.api.data, self.scope, codes, vue, millesime)?;
        if !self.svg {
            let mut body = Map::new();
            for b in &blocks {
                body.insert(b.filiere.as_str().into(), block_item(b, &self.api.data));
            }
            return Ok(Reply::json(200, &Value::Object(body)));
        }
        let blocs: Vec<Bloc> = blocks
            .iter()
            .map(|b| Bloc {
                titre: Some(voie(b.filiere).to_string()),
                figures: trois(&b.figures),
            })
            .collect();
        if blocs.iter().all(|b| b.figures.is_empty()) {
            return Err(ApiError::not_found("Pas de données pour la certification"));
        }
        let newest = blocks
            .iter()
            .map(|b| b.millesime)
            .max()
            .expect("one block at least");
        let all: Vec<&str> = codes.iter().map(|c| c.code.as_str()).collect();
        let insersup = blocks.iter().all(|b| b.filiere == Filiere::Superieur);
        let w = self.widget(&all.join(", "), &codes[0].code, newest, insersup, blocs);
        Ok(Reply::svg(widget::render(&w)))
    }
}

/// The widget's three figures of an answer's rates.
fn trois(figures: &Figures) -> Trois {
    let t = taux_of(figures);
    Trois {
        emploi_6_mois: t.taux_en_emploi_6_mois,
        formation: t.taux_en_formation,
        autres_6_mois: t.taux_autres_6_mois,
    }
}

fn voie(f: Filiere) -> &'static str {
    match f {
        Filiere::Pro => "Pour la voie scolaire",
        Filiere::Apprentissage => "Pour la voie apprentissage",
        Filiere::Agricole => "Pour l'enseignement agricole",
        Filiere::Superieur => "Pour l'enseignement supérieur",
    }
}

fn libelle(api: &Api, code: &str) -> String {
    api.data
        .certifications
        .get(code)
        .map(|c| c.libelle.to_string())
        .unwrap_or_default()
}

/// Unique on a page that embeds several widgets inline (codes, régions and
/// UAIs are [0-9A-Z]: checked before).
fn widget_id(level: NiveauGeographique, place: &str, code: &str) -> String {
    let place: String = place.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("ij-{}-{place}-{code}", level.table())
}

/// `GET /api`: what is served.
pub fn health(api: &Api) -> Value {
    let mut latest = Map::new();
    for level in NiveauGeographique::ALL {
        let t = api.data.table(level);
        let by_filiere: Map<String, Value> = t
            .millesimes
            .keys()
            .filter_map(|f| {
                Some((
                    f.as_str().to_string(),
                    Value::from(t.latest(*f)?.to_string()),
                ))
            })
            .collect();
        latest.insert(level.table().into(), Value::Object(by_filiere));
    }
    json!({
        "name": "ij",
        "version": env!("CARGO_PKG_VERSION"),
        "release": api.data.version,
        "seuil": api.data.seuil,
        "tables": api.data.tables,
        "rows": {
            "certifications": api.data.national.rows.len(),
            "regionales": api.data.regionales.rows.len(),
            "formations": api.data.formations.rows.len(),
        },
        "dernier_millesime": latest,
    })
}
