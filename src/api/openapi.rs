//! `GET /api/doc`: an OpenAPI 3 document built from `route_table::ROUTES`, so
//! that what is documented is what is served.

use serde_json::{json, Map, Value};

use crate::api::route_table::{ParamDoc, RouteDef, ROUTES};
use crate::api::Api;

fn parameter(p: &ParamDoc, location: &str) -> Value {
    let mut schema = if p.integer {
        json!({"type": "integer", "minimum": 1})
    } else {
        json!({"type": "string"})
    };
    if !p.values.is_empty() {
        schema["enum"] = json!(p.values);
    }
    json!({
        "name": p.name,
        "in": location,
        "required": location == "path",
        "description": p.description,
        "example": p.example,
        "schema": schema,
    })
}

fn media(format: &str) -> &'static str {
    match format {
        "svg" => "image/svg+xml",
        "csv" => "text/csv",
        _ => "application/json",
    }
}

fn operation(route: &RouteDef) -> Value {
    let parameters: Vec<Value> = route
        .path_params
        .iter()
        .map(|p| parameter(p, "path"))
        .chain(route.query_params.iter().map(|p| parameter(p, "query")))
        .collect();
    let content: Map<String, Value> = route
        .formats
        .iter()
        .map(|f| {
            (
                media(f).to_string(),
                json!({"schema": {"type": if *f == "json" { "object" } else { "string" }}}),
            )
        })
        .collect();
    let error = json!({"$ref": "#/components/schemas/Erreur"});
    let mut responses = json!({
        "200": {"description": "La réponse", "content": content},
    });
    if !route.path_params.is_empty() || !route.query_params.is_empty() {
        responses["400"] = json!({"description": "Paramètre invalide : la raison est dans message", "content": {"application/json": {"schema": error}}});
        responses["404"] = json!({"description": "Pas de données (data.millesimesDisponible liste les millésimes disponibles)", "content": {"application/json": {"schema": error}}});
    }
    json!({
        "summary": route.summary,
        "operationId": format!("{:?}", route.id),
        "parameters": parameters,
        "responses": responses,
    })
}

/// The document.
pub fn document(api: &Api) -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        paths.insert(
            route.openapi_path.to_string(),
            json!({"get": operation(route)}),
        );
        if route.suffixed {
            for ext in route.formats {
                let mut op = operation(route);
                op["operationId"] = format!("{:?}_{ext}", route.id).into();
                paths.insert(format!("{}.{ext}", route.openapi_path), json!({"get": op}));
            }
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "InserJeunes / InserSup (ij)",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!(
                "Les routes et les champs de l'API Exposition InserJeunes, servis depuis la release {} par `ij serve`. \
    Les taux de l'API (taux_en_emploi_X_mois, taux_en_formation, taux_autres_X_mois) sont rapportés aux inscrits en année terminale ; \
    les taux de ij rapportés aux sortants sont ij_taux_en_emploi_X_mois.",
                api.data.version
            ),
        },
        "paths": paths,
        "components": {"schemas": {"Erreur": {
            "type": "object",
            "required": ["statusCode", "error", "message"],
            "properties": {
                "statusCode": {"type": "integer"},
                "error": {"type": "string"},
                "message": {"type": "string"},
                "data": {"type": "object", "properties": {
                    "millesime": {"type": "string"},
                    "millesimesDisponible": {"type": "array", "items": {"type": "string"}}
                }}
            }
        }}},
    })
}
