//! The release's `README.md`, in French, for the dataset's page on
//! data.gouv.fr: what the data are, where they come from, the rules that
//! made them (rates, threshold, continuum, millésimes), the files with their
//! rows, the coverage figures when the coverage stage ran, and the licence.
//!
//! Built only from the release's own content and the run's record, in a
//! fixed order: the same release gives the same bytes.

use std::fmt::Write as _;

use serde_json::Value;

use crate::error::Result;
use crate::release::package::{
    coverage_summaries, Context, LICENCE_PATH, LICENCE_TITLE, PACKAGE_DESCRIPTION, PACKAGE_TITLE,
    SOURCES,
};

/// Renders `README.md`, section by section (each function below writes one).
pub fn render(ctx: &Context) -> Result<String> {
    let mut md = String::new();
    let seuil = ctx
        .run
        .and_then(|r| r.setting("seuil"))
        .unwrap_or_else(|| crate::rules::rates::SEUIL_DEFAUT.to_string());
    let policy = ctx
        .run
        .and_then(|r| r.setting("continuum_policy"))
        .unwrap_or_else(|| "strict".into());

    header(&mut md, ctx);
    donnees(&mut md);
    sources(&mut md, ctx)?;
    regles(&mut md, &seuil, &policy);
    fichiers(&mut md, ctx);
    couverture(&mut md, ctx)?;
    licence(&mut md);
    Ok(md)
}

/// Title, version, date, the tool and the pipeline, the description.
fn header(md: &mut String, ctx: &Context) {
    let _ = writeln!(md, "# {PACKAGE_TITLE}\n");
    let _ = writeln!(md, "Version : `{}`", ctx.version);
    if let Some(date) = ctx.date {
        let _ = writeln!(md, "\nDate de publication : {date}");
    }
    if let Some(run) = ctx.run {
        let _ = writeln!(
            md,
            "\nProduite par `ij` {} (chaîne de traitement `{}`).",
            env!("CARGO_PKG_VERSION"),
            run.pipeline
        );
    }
    let _ = writeln!(md, "\n{PACKAGE_DESCRIPTION}\n");
}

/// "Les données": what InserJeunes and InserSup measure, the codes.
fn donnees(md: &mut String) {
    md.push_str("## Les données\n\n");
    md.push_str(
        "InserJeunes mesure ce que deviennent les élèves et les apprentis de la voie professionnelle \
(du CAP au BTS, en lycée professionnel, en CFA ou dans l'enseignement agricole) : combien sont \
en emploi salarié 6, 12, 18 et 24 mois après leur sortie de formation, combien poursuivent \
leurs études. InserSup mesure la même chose pour les sortants de l'enseignement supérieur. \
Ces indicateurs sont affichés sur les plateformes d'orientation (Parcoursup, Affelnet, \
Onisep…).\n\n",
    );
    md.push_str(
        "Une *certification* est désignée par son code : MEF_STAT_11 (11 caractères) pour la voie \
scolaire, CFD (code formation diplôme, 8 caractères) pour l'apprentissage, code SISE \
(7 caractères) pour le supérieur. Un établissement est désigné par son UAI (7 chiffres et une \
lettre de contrôle). La *filière* vaut `pro` (voie scolaire de l'Éducation nationale), \
`apprentissage`, `agricole` ou `superieur`.\n\n",
    );
}

/// "Sources": the publications, and every file the run read with its SHA-256.
fn sources(md: &mut String, ctx: &Context) -> Result<()> {
    md.push_str("## Sources\n\n");
    for (title, path) in SOURCES {
        let _ = writeln!(md, "- {title} : <{path}>");
    }
    if let Some(run) = ctx.run {
        let inputs = run.inputs();
        if !inputs.is_empty() {
            let _ = writeln!(
                md,
                "\nFichiers lus par la chaîne de traitement, désignés par leur nom et leur empreinte SHA-256 (aussi dans `manifest.json`) :\n"
            );
            for (input, _) in inputs {
                let name = crate::release::package::file_name(&input.path);
                let sha = crate::release::package::input_hash(run, &input)?.sha256;
                match input.rows {
                    Some(rows) => {
                        let _ = writeln!(md, "- `{name}` ({rows} lignes, SHA-256 `{sha}`)");
                    }
                    None => {
                        let _ = writeln!(md, "- `{name}` (SHA-256 `{sha}`)");
                    }
                }
            }
        }
    }
    md.push('\n');

    Ok(())
}

/// "Règles de calcul": rates, threshold (the run's `seuil`), continuum (its
/// policy), millésimes, sums, families, coverage.
fn regles(md: &mut String, seuil: &str, policy: &str) {
    md.push_str("## Règles de calcul\n\n");
    md.push_str(
        "- **Taux d'emploi** à 6, 12, 18 et 24 mois : `nb_en_emploi_X_mois / nb_sortant`, où les \
sortants sont les inscrits en année terminale qui ne poursuivent pas d'études. **Taux de \
poursuite d'études** : `nb_poursuite_etudes / nb_annee_term`. Les taux sont des pourcentages \
entiers, arrondis au plus proche (au pair en cas d'égalité).\n",
    );
    md.push_str(
        "- **Devenir** des inscrits en année terminale (`part_*`) : en emploi à 6 mois, en études, \
autres situations ; les trois parts sont rapportées à `nb_annee_term` et font 100.\n",
    );
    let _ = writeln!(
        md,
        "- **Seuil de diffusion** : aucun taux ni effectif n'est publié pour moins de {seuil} \
inscrits en année terminale ; seul `nb_annee_term` reste publié, et la colonne `masked` dit \
pourquoi des valeurs manquent (`sous_seuil`, `sortants_sous_seuil`, `non_diffuse`)."
    );
    let _ = writeln!(
        md,
        "- **Continuum** (politique `{policy}`) : quand une formation est rénovée, elle change de \
code ; la BCN relie l'ancien et le nouveau code. Une certification sans données propres reçoit \
celles de la formation qu'elle remplace ou qui la remplace, en ne suivant que des liens un pour \
un (l'ancien code a un seul successeur, qui n'a qu'un prédécesseur), pour le même millésime. \
Les colonnes `donnee_source_type` (`propre`, `ancienne` : donnée issue d'une formation \
historique, `nouvelle` : donnée issue d'une formation rénovée, `famille_metiers` : somme des \
spécialités d'une seconde commune), `donnee_source_code`, \
`donnee_source_hops` et `donnee_source_link` disent d'où viennent les chiffres."
    );
    md.push_str(
        "- **Millésimes** : l'année de la cohorte (`2021`) pour les données nationales, la paire \
d'années cumulées (`2022_2023`) pour les données régionales et par établissement ; les \
écritures des sources (`cumul 2022-2023`, `2022-2023`) sont ramenées à cette forme canonique.\n",
    );
    md.push_str(
        "- **Sources multiples** : la colonne `origine` dit si les effectifs sont ceux de la \
source ou la somme des données régionales, par établissement ou des spécialités d'une famille \
de métiers (seconde commune).\n",
    );
    md.push_str(
        "- **Sommes nationales** (`origine = somme_regions`) : quand la source ne donne pas de \
ligne nationale, les effectifs des régions sont additionnés. Une région dont la ligne ne donne \
que `nb_annee_term` (la source ne diffuse pas le détail d'un groupe de moins de 5 élèves) est \
laissée hors de la somme dès qu'une autre région a le détail : les taux décrivent alors les \
élèves effectivement comptés, et `nb_annee_term` national peut être inférieur à la simple somme \
des `nb_annee_term` régionaux. Si aucune région n'a le détail, seul `nb_annee_term` est sommé.\n",
    );
    md.push_str(
        "- **Familles de métiers** : une seconde commune n'a pas de devenir propre ; à chaque \
niveau où ses spécialités ont des effectifs, sa ligne est la somme de ses spécialités \
(`donnee_source_type = famille_metiers`, seuil appliqué à la somme) et remplace la ligne \
propre qu'elle pouvait avoir, qui reste visible dans `familles_specialites` \
(`raison_hors_somme = ligne_propre_remplacee`).\n",
    );
    md.push_str(
        "- **Couverture des catalogues** : chaque offre est rapprochée du dernier millésime de \
sa filière, à chaque niveau (établissement, région, national) ; un millésime plus ancien \
n'est jamais utilisé, et une offre dont les codes n'ont de chiffres que dans un millésime \
plus ancien n'est pas couverte (`dernier_millesime_disponible` le donne à titre \
d'information).\n\n",
    );
}

/// "Fichiers": the formats, the spreadsheet protection, every table and file.
fn fichiers(md: &mut String, ctx: &Context) {
    md.push_str("## Fichiers\n\n");
    md.push_str("Chaque table est publiée en CSV (UTF-8 sans BOM, ");
    let _ = write!(md, "séparateur `{}`, ", ctx.csv_separator as char);
    md.push_str(
        "guillemets selon la RFC 4180, fins de ligne `\\n`, point décimal, dates AAAA-MM-JJ, \
valeur manquante vide) et en Parquet (compression zstd, colonnes typées : entiers, dates, \
booléens, codes en texte), avec son schéma de table (`<table>.schema.json`, au format \
Table Schema de schema.data.gouv.fr). Les lignes sont triées par la clé primaire de la table.\n\n",
    );
    md.push_str(
        "Protection des tableurs (injection de formules, recommandations OWASP) : dans les \
fichiers CSV seulement, une cellule de texte qui commence par `=`, `+`, `-`, `@`, une \
tabulation ou un retour chariot (et n'est pas un simple nombre comme `-3`) est écrite précédée \
d'une apostrophe (`'=…`), pour qu'un tableur l'affiche comme du texte au lieu de l'exécuter. \
Les fichiers Parquet gardent la valeur exacte. Les codes (CFD, MEF_STAT_11, SISE, UAI) ne sont \
jamais concernés : leur format n'admet que des lettres et des chiffres.",
    );
    let neutralised: Vec<String> = ctx
        .tables
        .iter()
        .filter(|t| t.formula_cells > 0)
        .map(|t| format!("`{}` ({})", t.csv(), t.formula_cells))
        .collect();
    if neutralised.is_empty() {
        md.push_str(" Aucune cellule de cette publication n'est concernée.\n\n");
    } else {
        let _ = writeln!(
            md,
            " Cellules concernées dans cette publication : {}.\n",
            neutralised.join(", ")
        );
    }
    md.push_str("| table | contenu | lignes | clé primaire |\n|---|---|---:|---|\n");
    for t in ctx.tables {
        let _ = writeln!(
            md,
            "| `{}` (`.csv`, `.parquet`, `.schema.json`) | {} | {} | {} |",
            t.name,
            t.title,
            t.rows,
            t.doc
                .primary_key
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    md.push('\n');
    for e in ctx.extras {
        let what = if e.file.ends_with(".json") {
            "chiffres de couverture"
        } else {
            "rapport de couverture (HTML)"
        };
        let _ = writeln!(md, "- `{}` : {what} du catalogue `{}`", e.file, e.catalogue);
    }
    md.push_str(
        "- `datapackage.json` : description du jeu de données (Data Package Frictionless), avec \
l'empreinte et la taille de chaque CSV ; `frictionless validate datapackage.json` le vérifie.\n",
    );
    md.push_str(
        "- `manifest.json` : version de l'outil, chaîne de traitement et réglages, empreinte \
SHA-256 et lignes de chaque fichier lu et de chaque fichier publié, lignes lues, écrites et \
rejetées par étape.\n",
    );
    md.push('\n');
}

/// "Couverture des catalogues", when the coverage stage ran.
fn couverture(md: &mut String, ctx: &Context) -> Result<()> {
    let coverage = coverage_summaries(ctx)?;
    if !coverage.is_empty() {
        md.push_str("## Couverture des catalogues\n\n");
        md.push_str(
            "Part des offres de formation de chaque catalogue pour lesquelles un indicateur peut \
être affiché, et raisons de l'absence des autres.\n\n",
        );
        md.push_str(
            "| catalogue | offres | couvertes | taux de couverture |\n|---|---:|---:|---:|\n",
        );
        for (catalogue, s) in &coverage {
            let _ = writeln!(
                md,
                "| `{catalogue}` | {} | {} | {} % |",
                number(s.get("offers")),
                number(s.get("covered")),
                number(s.get("coverage_rate")),
            );
        }
        md.push('\n');
        for (catalogue, s) in &coverage {
            if let Some(Value::Object(by_status)) = s.get("by_status") {
                let parts: Vec<String> = by_status
                    .iter()
                    .filter(|(_, v)| v.as_u64() != Some(0))
                    .map(|(k, v)| format!("{k} : {}", number(Some(v))))
                    .collect();
                let _ = writeln!(md, "- `{catalogue}` : {}", parts.join(", "));
            }
        }
        md.push('\n');
    }

    Ok(())
}

/// "Licence".
fn licence(md: &mut String) {
    md.push_str("## Licence\n\n");
    let _ = writeln!(
        md,
        "Ces données sont publiées sous la {LICENCE_TITLE} (Etalab) : <{LICENCE_PATH}>. \
Réutilisation libre, y compris commerciale, sous réserve de mentionner la source \
(« InserJeunes, DEPP et DARES ; InserSup, SIES ; BCN ») et la date de mise à jour."
    );
}

/// A JSON number as written (`45.1`, `12`), or `?` when absent.
fn number(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => "?".into(),
    }
}
