//! The routes, defined once: `ROUTES` is what the server registers, what
//! `GET /api/doc` documents (OpenAPI 3) and what `ij api export` writes.
//! Data only, below both `routes` (which answers them) and `openapi` (which
//! documents them), so that neither imports the other's module for it.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteId {
    Health,
    Doc,
    CertificationsList,
    Certification,
    RegionalesList,
    RegionalesOfRegion,
    Regionale,
    FormationsList,
    Formation,
}

/// How a parameter is documented.
#[derive(Debug, Clone, Copy)]
pub struct ParamDoc {
    pub name: &'static str,
    pub description: &'static str,
    pub example: &'static str,
    /// The values it takes, when it is a choice.
    pub values: &'static [&'static str],
    pub integer: bool,
}

const fn p(name: &'static str, description: &'static str, example: &'static str) -> ParamDoc {
    ParamDoc {
        name,
        description,
        example,
        values: &[],
        integer: false,
    }
}

const fn choice(
    name: &'static str,
    description: &'static str,
    values: &'static [&'static str],
) -> ParamDoc {
    ParamDoc {
        name,
        description,
        example: values[0],
        values,
        integer: false,
    }
}

const fn int(name: &'static str, description: &'static str, example: &'static str) -> ParamDoc {
    ParamDoc {
        name,
        description,
        example,
        values: &[],
        integer: true,
    }
}

/// A route: its path as axum matches it, as OpenAPI writes it, and its parameters.
#[derive(Debug, Clone, Copy)]
pub struct RouteDef {
    pub id: RouteId,
    pub path: &'static str,
    pub openapi_path: &'static str,
    pub summary: &'static str,
    pub path_params: &'static [ParamDoc],
    pub query_params: &'static [ParamDoc],
    /// Answer formats, the first the default (`json`, `svg`, `csv`).
    pub formats: &'static [&'static str],
    /// `.json` / `.csv` are written as a suffix of the path itself.
    pub suffixed: bool,
}

const CODES: ParamDoc = p(
    "codes",
    "Un code ou plusieurs séparés par , ou | ; préfixe facultatif CFD:, MEFSTAT11:, SISE: (sinon 8 caractères : CFD, 11 : MEF_STAT_11, 7 : SISE). Suffixe .json ou .svg.",
    "40025214",
);
const REGION: ParamDoc = p(
    "region",
    "Code INSEE de la région (84) ou code postal (69003).",
    "84",
);
const MILLESIME: ParamDoc = p(
    "millesime",
    "2023 ou 2022_2023 ; par défaut le dernier millésime de la filière.",
    "2022_2023",
);
pub const VUE: ParamDoc = choice(
    "vue",
    "filieres : un bloc par filière (voie scolaire, apprentissage), sommes par CFD.",
    &["filieres"],
);
pub const DIRECTION: ParamDoc = choice(
    "direction",
    "Widget : disposition (vertical : 320 px de large).",
    &["vertical", "horizontal"],
);
pub const THEME: ParamDoc = choice("theme", "Widget : thème.", &["dsfr", "lba"]);
pub const IMAGE_ON_ERROR: ParamDoc = choice(
    "imageOnError",
    "Widget sans donnée : une image d'erreur (true), une 404 (false), une image vide (empty).",
    &["false", "true", "empty"],
);
const MILLESIMES: ParamDoc = p(
    "millesimes",
    "Millésimes, séparés par des virgules.",
    "2023",
);
const CODE_CERTIFICATIONS: ParamDoc = p(
    "code_certifications",
    "Codes de certification, séparés par des virgules.",
    "40025214",
);
const REGIONS: ParamDoc = p("regions", "Régions (code INSEE ou code postal).", "84");
const PAGE: ParamDoc = int("page", "Page, à partir de 1.", "1");
const ITEMS: ParamDoc = int(
    "items_par_page",
    "Éléments par page (10 par défaut, 1000 au plus).",
    "10",
);

const SINGLE: &[ParamDoc] = &[MILLESIME, VUE, DIRECTION, THEME, IMAGE_ON_ERROR];

pub const ROUTES: &[RouteDef] = &[
    RouteDef {
        id: RouteId::Health,
        path: "/api",
        openapi_path: "/api",
        summary: "État du service : version de ij, release servie et ses tables",
        path_params: &[],
        query_params: &[],
        formats: &["json"],
        suffixed: false,
    },
    RouteDef {
        id: RouteId::Doc,
        path: "/api/doc",
        openapi_path: "/api/doc",
        summary: "Ce document OpenAPI 3, généré depuis la définition des routes",
        path_params: &[],
        query_params: &[],
        formats: &["json"],
        suffixed: false,
    },
    RouteDef {
        id: RouteId::CertificationsList,
        path: "/api/inserjeunes/certifications",
        openapi_path: "/api/inserjeunes/certifications",
        summary: "Liste des certifications (national), paginée",
        path_params: &[],
        query_params: &[MILLESIMES, CODE_CERTIFICATIONS, PAGE, ITEMS],
        formats: &["json", "csv"],
        suffixed: true,
    },
    RouteDef {
        id: RouteId::Certification,
        path: "/api/inserjeunes/certifications/{codes}",
        openapi_path: "/api/inserjeunes/certifications/{codes}",
        summary: "Une certification au niveau national (JSON ou widget SVG)",
        path_params: &[CODES],
        query_params: SINGLE,
        formats: &["json", "svg"],
        suffixed: false,
    },
    RouteDef {
        id: RouteId::RegionalesList,
        path: "/api/inserjeunes/regionales",
        openapi_path: "/api/inserjeunes/regionales",
        summary: "Liste des certifications par région, paginée",
        path_params: &[],
        query_params: &[REGIONS, MILLESIMES, CODE_CERTIFICATIONS, PAGE, ITEMS],
        formats: &["json", "csv"],
        suffixed: true,
    },
    RouteDef {
        id: RouteId::RegionalesOfRegion,
        path: "/api/inserjeunes/regionales/{region}",
        openapi_path: "/api/inserjeunes/regionales/{region}",
        summary: "Liste des certifications d'une région, paginée (suffixe .json ou .csv)",
        path_params: &[REGION],
        query_params: &[MILLESIMES, CODE_CERTIFICATIONS, PAGE, ITEMS],
        formats: &["json", "csv"],
        suffixed: false,
    },
    RouteDef {
        id: RouteId::Regionale,
        path: "/api/inserjeunes/regionales/{region}/certifications/{codes}",
        openapi_path: "/api/inserjeunes/regionales/{region}/certifications/{codes}",
        summary: "Une certification dans une région (JSON ou widget SVG)",
        path_params: &[REGION, CODES],
        query_params: SINGLE,
        formats: &["json", "svg"],
        suffixed: false,
    },
    RouteDef {
        id: RouteId::FormationsList,
        path: "/api/inserjeunes/formations",
        openapi_path: "/api/inserjeunes/formations",
        summary: "Liste des formations par établissement, paginée",
        path_params: &[],
        query_params: &[
            p(
                "uais",
                "UAI des établissements, séparés par des virgules.",
                "0630003L",
            ),
            REGIONS,
            p(
                "academies",
                "Codes des académies, séparés par des virgules.",
                "06",
            ),
            MILLESIMES,
            CODE_CERTIFICATIONS,
            PAGE,
            ITEMS,
        ],
        formats: &["json", "csv"],
        suffixed: true,
    },
    RouteDef {
        id: RouteId::Formation,
        path: "/api/inserjeunes/formations/{formation}",
        openapi_path: "/api/inserjeunes/formations/{formation}",
        summary: "Une formation d'un établissement : {uai}-{code} (JSON ou widget SVG)",
        path_params: &[p(
            "formation",
            "L'UAI et le code, séparés par un tiret : 0630003L-40025214 (suffixe .json ou .svg).",
            "0630003L-40025214",
        )],
        query_params: &[MILLESIME, DIRECTION, THEME, IMAGE_ON_ERROR],
        formats: &["json", "svg"],
        suffixed: false,
    },
];
