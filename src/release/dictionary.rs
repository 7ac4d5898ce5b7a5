//! The release's data dictionary: every published column described once
//! (type, French description, example, constraints), and every published
//! table (title, description, primary key, and the few columns whose meaning
//! differs in it). `schema` turns them into Table Schemas; a column missing
//! here cannot be published.
//!
//! Descriptions are written for the dataset's readers on data.gouv.fr; the
//! facts come from DOMAIN.md and the stages that write the columns.
//!
//! A data table more than code (about 1,100 lines, nine tenths of them
//! column and table descriptions): it stays one file, above the guide's ~800
//! lines, so that every published column is found in one place.

use serde::{Deserialize, Serialize};

use crate::rules::codes::CodeType;
use crate::rules::continuum;
use crate::rules::filiere::Filiere;
use crate::rules::masquage::Masked;
use crate::rules::niveau::NiveauGeographique;
use crate::rules::perimetre::PerimetreEmploi;
use crate::rules::pilotage::{HorsQuadrant, Libelle, Position};
use crate::stages::continuum::{Declaration, LinkType, MefRule, Relation};
use crate::stages::coverage::model::{self as coverage, Status};
use crate::stages::indicators::famille::HorsSomme;
use crate::stages::indicators::model::{DonneeSourceType, Origine};
use crate::stages::indicators::terminales::{LIEN_FAMILLE_METIERS, LIEN_MEME_FORMATION};
use crate::staging::catalogues::OffreCodeType;
use FieldType::Number;

/// The Table Schema types the release uses (`schema` re-exports it: the
/// dictionary is the lower module, `schema` builds on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    Integer,
    Number,
    Boolean,
    Date,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Integer => "integer",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
        }
    }
}

// ---- The dictionary ------------------------------------------------------------

/// One published column, as the dictionary describes it.
#[derive(Debug, Clone, Copy)]
pub struct ColumnDoc {
    pub name: &'static str,
    pub kind: FieldType,
    pub description: &'static str,
    pub example: &'static str,
    pub pattern: Option<&'static str>,
    pub values: &'static [&'static str],
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
    /// Filled on every row of every table that has the column.
    pub required: bool,
}

const fn col(
    name: &'static str,
    kind: FieldType,
    description: &'static str,
    example: &'static str,
) -> ColumnDoc {
    ColumnDoc {
        name,
        kind,
        description,
        example,
        pattern: None,
        values: &[],
        minimum: None,
        maximum: None,
        required: false,
    }
}

const fn text(name: &'static str, description: &'static str, example: &'static str) -> ColumnDoc {
    col(name, FieldType::String, description, example)
}

const fn int(name: &'static str, description: &'static str, example: &'static str) -> ColumnDoc {
    col(name, FieldType::Integer, description, example)
}

const fn flag(name: &'static str, description: &'static str, example: &'static str) -> ColumnDoc {
    col(name, FieldType::Boolean, description, example)
}

const fn date(name: &'static str, description: &'static str, example: &'static str) -> ColumnDoc {
    col(name, FieldType::Date, description, example)
}

/// A head count: an integer, 0 or more.
const fn count(name: &'static str, description: &'static str, example: &'static str) -> ColumnDoc {
    int(name, description, example).range(0, None)
}

/// A percentage: an integer from 0 to 100.
const fn rate(name: &'static str, description: &'static str, example: &'static str) -> ColumnDoc {
    int(name, description, example).range(0, Some(100))
}

impl ColumnDoc {
    const fn pattern(self, pattern: &'static str) -> ColumnDoc {
        ColumnDoc {
            pattern: Some(pattern),
            ..self
        }
    }

    const fn one_of(self, values: &'static [&'static str]) -> ColumnDoc {
        ColumnDoc { values, ..self }
    }

    const fn range(self, minimum: i64, maximum: Option<i64>) -> ColumnDoc {
        ColumnDoc {
            minimum: Some(minimum),
            maximum,
            ..self
        }
    }

    const fn required(self) -> ColumnDoc {
        ColumnDoc {
            required: true,
            ..self
        }
    }
}

/// Code patterns (DOMAIN.md, "Codes").
pub const PATTERN_CFD: &str = "^[0-9A-Z]{8}$";
pub const PATTERN_MEF_STAT_11: &str = "^[0-9A-Z]{11}$";
pub const PATTERN_SISE: &str = "^[0-9A-Z]{7}$";
pub const PATTERN_UAI: &str = "^[0-9]{7}[A-Z]$";
/// A certification code of any of the three kinds: SISE, CFD or MEF_STAT_11.
pub const PATTERN_CODE_CERTIFICATION: &str = "^([0-9A-Z]{7}|[0-9A-Z]{8}|[0-9A-Z]{11})$";
pub const PATTERN_MILLESIME: &str = "^[0-9]{4}(_[0-9]{4})?$";

/// The values of an enum with `ALL` and a `const fn as_str`, in `ALL`'s
/// order: the dictionary's value lists come from the enums that write the
/// columns, so a value renamed or added there is renamed or added here.
macro_rules! values_of {
    ($t:ty) => {
        values_of!($t, ALL)
    };
    ($t:ty, $list:ident) => {{
        const N: usize = <$t>::$list.len();
        const VALUES: [&str; N] = {
            let mut out = [""; N];
            let mut i = 0;
            while i < N {
                out[i] = <$t>::$list[i].as_str();
                i += 1;
            }
            out
        };
        &VALUES
    }};
}

const FILIERES: &[&str] = values_of!(Filiere);
/// `lien` of `certifications_terminales`.
const LIENS: [&str; 2] = [LIEN_MEME_FORMATION, LIEN_FAMILLE_METIERS];
const CODE_TYPES: &[&str] = values_of!(CodeType);
/// `famille_metiers`: issue 6, a common first year's sum of its specialities.
const DONNEE_SOURCE_TYPES: &[&str] = values_of!(DonneeSourceType);

/// Every column the release publishes, described once.
/// Written in a description where the release says the threshold its run
/// used (`TableSchema::with_seuil`): a release built with `seuil = 10` must
/// not say 20.
pub const SEUIL_PLACEHOLDER: &str = "{seuil}";

pub const DICTIONARY: &[ColumnDoc] = &[
    // -- Keys and codes
    text(
        "millesime",
        "Millésime : l'année de la cohorte observée (2021), ou la paire d'années cumulées (2022_2023) des données régionales et par établissement. Forme canonique : années triées, jointes par un tiret bas.",
        "2022_2023",
    )
    .pattern(PATTERN_MILLESIME)
    .required(),
    text(
        "filiere",
        "Filière : pro (voie scolaire de l'Éducation nationale), apprentissage, agricole (voie scolaire de l'enseignement agricole) ou superieur (enseignement supérieur, InserSup).",
        "apprentissage",
    )
    .one_of(FILIERES)
    .required(),
    text(
        "code_certification",
        "Code de la certification : MEF_STAT_11 (11 caractères) pour la voie scolaire, CFD (code formation diplôme, 8 caractères) pour l'apprentissage, code SISE (7 caractères) pour le supérieur.",
        "40025214",
    )
    .pattern(PATTERN_CODE_CERTIFICATION)
    .required(),
    text(
        "code_certification_type",
        "Nature du code de la certification : cfd, mef_stat_11 ou sise.",
        "cfd",
    )
    .one_of(CODE_TYPES)
    .required(),
    text(
        "code_formation_diplome",
        "Code formation diplôme (CFD, 8 caractères) de la certification dans la BCN ; pour un MEF, le CFD dont il est une année. Vide si la BCN ne le donne pas.",
        "40025214",
    )
    .pattern(PATTERN_CFD),
    text(
        "mef",
        "Code MEF (module élémentaire de formation, 10 caractères) de la BCN, pour une certification de la voie scolaire.",
        "2472551331",
    )
    .pattern("^[0-9A-Z]{10}$"),
    text(
        "dispositif_formation",
        "Dispositif de formation du MEF (ses 3 premiers caractères) dans la BCN.",
        "247",
    )
    .pattern("^[0-9A-Z]{3}$"),
    text(
        "uai",
        "Numéro UAI de l'établissement : 7 chiffres et une lettre de contrôle ; les 3 premiers caractères donnent le département.",
        "0630003L",
    )
    .pattern(PATTERN_UAI),
    // -- BCN labels and dates
    text(
        "libelle",
        "Libellé court de la formation dans la BCN (vide si le code n'y figure pas).",
        "BAC PRO MAINT.VEHIC.OPT.A VOIT.PARTIC.",
    ),
    text(
        "libelle_long",
        "Libellé long de la formation dans la BCN.",
        "MAINTENANCE DES VEHICULES OPTION A VOITURES PARTICULIERES (BAC PRO)",
    ),
    text(
        "niveau_formation_diplome",
        "Niveau de formation du diplôme dans la BCN : les 3 premiers caractères du CFD (par exemple 400 pour le baccalauréat professionnel) ; pour un diplôme du supérieur, le niveau de son type de diplôme SISE (2 caractères).",
        "400",
    )
    .pattern("^[0-9A-Z]{2,3}$"),
    text(
        "libelle_niveau_formation_diplome",
        "Libellé du niveau de formation du diplôme (table N_NIVEAU_FORMATION_DIPLOME de la BCN).",
        "BAC PROFESSIONNEL",
    ),
    text(
        "type_diplome",
        "Type de diplôme (sigle de la BCN : CAP, BAC PRO, BTS, LIC PRO, BUT…).",
        "BAC PRO",
    ),
    text(
        "niveau_diplome",
        "Niveau du diplôme dans le cadre national des certifications (3 : CAP, 4 : baccalauréat, 5 : BTS, 6 : licence, 7 : master), ou MC pour une mention complémentaire ; déduit du premier caractère du CFD.",
        "4",
    ),
    text(
        "libelle_niveau_diplome",
        "Libellé du niveau du diplôme (CAP, BAC, BTS, LICENCE, MASTER, MENTION COMPLEMENTAIRE).",
        "BAC",
    ),
    date(
        "date_ouverture",
        "Date d'ouverture de la formation dans la BCN (AAAA-MM-JJ).",
        "2019-09-01",
    ),
    date(
        "date_fermeture",
        "Date de fermeture de la formation dans la BCN (AAAA-MM-JJ) ; vide si elle est ouverte.",
        "2024-08-31",
    ),
    flag(
        "formation_fermee",
        "true si la formation est fermée dans la BCN à la date de référence du traitement (1er septembre suivant le dernier millésime, sauf réglage contraire).",
        "false",
    ),
    flag(
        "code_connu_bcn",
        "true si le code de la certification figure dans la BCN.",
        "true",
    ),
    int(
        "date_premiere_session",
        "Année de la première session d'examen du diplôme (BCN).",
        "2010",
    ),
    int(
        "date_derniere_session",
        "Année de la dernière session d'examen du diplôme (BCN).",
        "2023",
    ),
    int(
        "duree_dispositif",
        "Durée du cycle de formation du MEF, en années (BCN).",
        "3",
    )
    .range(0, None),
    int(
        "annee_dispositif",
        "Année du MEF dans son cycle de formation (1 pour une première année ; BCN).",
        "1",
    )
    .range(0, None),
    text(
        "famille_metiers_code",
        "Code du groupe de formations (famille de métiers ou baccalauréat professionnel à options) auquel la formation appartient (BCN, N_GROUPE_FORMATION).",
        "G0003",
    ),
    text(
        "famille_metiers_libelle",
        "Libellé de la famille de métiers (BCN, N_GROUPE_FORMATION).",
        "Construction durable du bâtiment et des travaux publics",
    ),
    text(
        "familles_metiers_codes",
        "Toutes les familles de métiers de la formation, codes triés et séparés par | (une formation peut appartenir à plusieurs familles ; famille_metiers_code est la plus petite).",
        "G0003|G0008",
    ),
    text(
        "famille_metiers_code_spec_pro",
        "Code de la famille de métiers dans la table N_FAMILLE_METIER_SPEC_PRO de la BCN (001…), quand il est connu.",
        "001",
    ),
    flag(
        "seconde_commune",
        "true pour une seconde commune : la première année partagée par les spécialités d'une famille de métiers (tous ses MEF sont des premières années, ou la BCN la désigne comme telle).",
        "false",
    ),
    text(
        "source_table",
        "Table de la BCN d'où provient la ligne.",
        "N_FORMATION_DIPLOME",
    )
    .one_of(&[
        "N_FORMATION_DIPLOME",
        "V_FORMATION_DIPLOME",
        "N_FORMATION_DIPLOME_ENQUETE_51",
        "N_MEF",
        "N_DIPLOME_SISE",
    ])
    .required(),
    // -- Continuum
    text(
        "ancien_code",
        "Code de la formation remplacée (l'ancienne) ; tel que la BCN le déclare, il peut être malformé (voir malformed_code).",
        "32031308",
    )
    .required(),
    text(
        "nouveau_code",
        "Code de la formation qui la remplace (la nouvelle), tel que la BCN le déclare.",
        "32031310",
    )
    .required(),
    text(
        "link_type",
        "Forme du lien : one_to_one (l'ancien code a un seul successeur qui a un seul prédécesseur), split (un ancien, plusieurs nouveaux), merge (plusieurs anciens, un nouveau), many_to_many.",
        "one_to_one",
    )
    .one_of(values_of!(LinkType))
    .required(),
    text(
        "declared_by",
        "Qui déclare le lien dans la BCN : ancien (l'ancien code liste le nouveau), nouveau (le nouveau liste l'ancien), both (les deux), projected (lien de MEF déduit du lien de leurs CFD).",
        "both",
    )
    .one_of(&Declaration::DECLARED_BY)
    .required(),
    flag(
        "ancien_in_bcn",
        "true si l'ancien code figure dans la BCN.",
        "true",
    ),
    flag(
        "nouveau_in_bcn",
        "true si le nouveau code figure dans la BCN.",
        "true",
    ),
    flag(
        "malformed_code",
        "true si l'un des deux codes n'a pas la forme d'un code de certification (la BCN contient des codes tronqués).",
        "false",
    ),
    text(
        "lineage_id",
        "Identifiant de la lignée : L- suivi du plus petit code de l'ensemble des formations reliées entre elles.",
        "L-32031308",
    )
    .required(),
    text(
        "via_cfd_ancien",
        "Pour un lien entre MEF : le CFD de l'ancien MEF, dont le lien a été projeté.",
        "40025510",
    )
    .pattern(PATTERN_CFD),
    text(
        "via_cfd_nouveau",
        "Pour un lien entre MEF : le CFD du nouveau MEF.",
        "40025513",
    )
    .pattern(PATTERN_CFD),
    text(
        "mef_rule",
        "Pour un lien entre MEF : la règle qui a apparié les MEF des deux CFD (single_mef : un seul MEF de chaque côté ; same_dispositif_and_prefix : même dispositif de formation et mêmes 4 premiers caractères du MEF_STAT_11).",
        "single_mef",
    )
    .one_of(values_of!(MefRule)),
    text(
        "related_code",
        "Code d'un ancêtre ou d'un descendant de la certification dans sa lignée.",
        "32031310",
    )
    .required(),
    text(
        "relation",
        "Relation du code apparenté à la certification : ancetre (formation qu'elle remplace, directement ou non) ou descendant (formation qui la remplace).",
        "descendant",
    )
    .one_of(values_of!(Relation))
    .required(),
    int(
        "hops",
        "Nombre de liens de rénovation entre la certification et le code apparenté.",
        "1",
    )
    .range(0, None)
    .required(),
    flag(
        "one_to_one_path",
        "true si le chemin entre les deux codes ne passe que par des liens un pour un (les seuls que suit la politique stricte du continuum).",
        "true",
    ),
    // -- Territories
    text(
        "region_code",
        "Code INSEE de la région (2 chiffres).",
        "84",
    )
    .pattern("^[0-9]{2}$"),
    text(
        "region_libelle",
        "Nom de la région.",
        "Auvergne-Rhône-Alpes",
    ),
    text(
        "region_code_ij",
        "Code de la région dans les fichiers InserJeunes (différent du code INSEE).",
        "01",
    )
    .pattern("^[0-9]{2}$"),
    text(
        "region_libelle_source",
        "Nom de la région tel que l'écrit le fichier source.",
        "AUVERGNE-RHONE-ALPES",
    ),
    text(
        "academie_code",
        "Code de l'académie (2 chiffres).",
        "06",
    )
    .pattern("^[0-9]{2}$"),
    text(
        "academie_libelle",
        "Nom de l'académie.",
        "Clermont-Ferrand",
    ),
    text(
        "departement_code",
        "Code du département sur 3 caractères, tel que l'UAI le porte (063 pour le Puy-de-Dôme, 620 pour la Corse-du-Sud, 971 pour la Guadeloupe).",
        "063",
    )
    .pattern("^[0-9]{3}$"),
    text(
        "departement_libelle",
        "Nom du département.",
        "Puy-de-Dôme",
    ),
    text(
        "libelle_etablissement",
        "Nom de l'établissement, tel que le donne la source (ou, quand elle n'en donne pas, l'annuaire des établissements).",
        "Lycée professionnel des Canuts",
    ),
    text(
        "nature_uai_libelle",
        "Nature de l'établissement selon l'annuaire de l'éducation ou ACCE (LYCEE PROFESSIONNEL, CFA…). Vide sans annuaire ou pour un UAI qu'il ne connaît pas.",
        "LYCEE PROFESSIONNEL",
    ),
    text(
        "etat_etablissement",
        "État de l'établissement selon l'annuaire de l'éducation ou ACCE : ouvert (ou à fermer) ou ferme. Vide sans annuaire ou pour un UAI qu'il ne connaît pas.",
        "ouvert",
    )
    .one_of(&["ouvert", "ferme"]),
    // -- Head counts
    count(
        "nb_annee_term",
        "Nombre d'élèves, apprentis ou étudiants inscrits en année terminale de la formation (InserSup : sortants et poursuivants). Publié même sous le seuil de diffusion.",
        "53",
    ),
    count(
        "nb_sortant",
        "Nombre de sortants : inscrits en année terminale qui ne poursuivent pas d'études (nb_annee_term − nb_poursuite_etudes quand la source ne le donne pas). Vide sous le seuil de diffusion.",
        "41",
    ),
    count(
        "nb_poursuite_etudes",
        "Nombre d'inscrits en année terminale qui poursuivent des études l'année suivante. Vide sous le seuil de diffusion.",
        "12",
    ),
    count(
        "nb_en_emploi_6_mois",
        "Nombre de sortants en emploi salarié 6 mois après la sortie de formation. Vide sous le seuil de diffusion.",
        "28",
    ),
    count(
        "nb_en_emploi_12_mois",
        "Nombre de sortants en emploi salarié 12 mois après la sortie de formation. Vide sous le seuil de diffusion.",
        "31",
    ),
    count(
        "nb_en_emploi_18_mois",
        "Nombre de sortants en emploi salarié 18 mois après la sortie de formation. Vide sous le seuil de diffusion.",
        "33",
    ),
    count(
        "nb_en_emploi_24_mois",
        "Nombre de sortants en emploi salarié 24 mois après la sortie de formation. Vide sous le seuil de diffusion.",
        "34",
    ),
    count(
        "nb_diplome",
        "Nombre de diplômés parmi les inscrits en année terminale, quand la source le donne (InserSup). Vide sous le seuil de diffusion.",
        "101",
    ),
    // -- Rates (percent, integers)
    rate(
        "taux_en_emploi_6_mois",
        "Taux d'emploi salarié à 6 mois, en pourcentage entier : 100 × nb_en_emploi_6_mois / nb_sortant, arrondi au plus proche (au pair en cas d'égalité). Vide sous le seuil de diffusion.",
        "68",
    ),
    rate(
        "taux_en_emploi_12_mois",
        "Taux d'emploi salarié à 12 mois, en pourcentage entier : 100 × nb_en_emploi_12_mois / nb_sortant. Vide sous le seuil de diffusion.",
        "76",
    ),
    rate(
        "taux_en_emploi_18_mois",
        "Taux d'emploi salarié à 18 mois, en pourcentage entier : 100 × nb_en_emploi_18_mois / nb_sortant. Vide sous le seuil de diffusion.",
        "80",
    ),
    rate(
        "taux_en_emploi_24_mois",
        "Taux d'emploi salarié à 24 mois, en pourcentage entier : 100 × nb_en_emploi_24_mois / nb_sortant. Vide sous le seuil de diffusion.",
        "83",
    ),
    rate(
        "taux_poursuite_etudes",
        "Taux de poursuite d'études, en pourcentage entier : 100 × nb_poursuite_etudes / nb_annee_term. Vide sous le seuil de diffusion.",
        "23",
    ),
    rate(
        "part_en_emploi_6_mois",
        "Devenir des inscrits en année terminale : part en emploi salarié à 6 mois, en pourcentage entier de nb_annee_term. Les trois parts (emploi, études, autres situations) font 100.",
        "53",
    ),
    rate(
        "part_poursuite_etudes",
        "Devenir des inscrits en année terminale : part en poursuite d'études, en pourcentage entier de nb_annee_term.",
        "23",
    ),
    rate(
        "part_autres_situations_6_mois",
        "Devenir des inscrits en année terminale : part dans une autre situation à 6 mois (ni en emploi salarié ni en études), soit 100 moins les deux autres parts, au moins 0.",
        "24",
    ),
    rate(
        "taux_en_emploi_6_mois_attendu",
        "Taux d'emploi à 6 mois attendu de l'établissement compte tenu de ses élèves et de son territoire (modèle de la DEPP), en pourcentage entier.",
        "54",
    ),
    int(
        "valeur_ajoutee_6_mois",
        "Valeur ajoutée de l'établissement pour l'emploi à 6 mois : taux constaté moins taux attendu, en points de pourcentage (peut être négative).",
        "4",
    )
    .range(-100, Some(100)),
    // -- Salaries
    col(
        "salaire_12_mois_q1",
        Number,
        "Premier quartile du salaire mensuel net en euros des sortants en emploi salarié 12 mois après la sortie, quand la source le donne. Vide sous le seuil de diffusion.",
        "1650.0",
    )
    .range(0, None),
    col(
        "salaire_12_mois_q2",
        Number,
        "Médiane du salaire mensuel net en euros des sortants en emploi salarié 12 mois après la sortie, quand la source la donne. Vide sous le seuil de diffusion.",
        "1850.0",
    )
    .range(0, None),
    col(
        "salaire_12_mois_q3",
        Number,
        "Troisième quartile du salaire mensuel net en euros des sortants en emploi salarié 12 mois après la sortie, quand la source le donne. Vide sous le seuil de diffusion.",
        "2120.0",
    )
    .range(0, None),
    // -- Familles de métiers: a common first year and its specialities
    text(
        "niveau_geographique",
        "Niveau des chiffres : national, region (région de region_code) ou etablissement (établissement uai).",
        "region",
    )
    .one_of(values_of!(NiveauGeographique))
    .required(),
    text(
        "code_lieu",
        "Le lieu des chiffres : FR au niveau national, le code INSEE de la région au niveau régional, l'UAI au niveau de l'établissement.",
        "84",
    )
    .pattern("^(FR|[0-9]{2}|[0-9]{7}[A-Z])$")
    .required(),
    text(
        "code_certification_specialite",
        "Code de la certification d'année terminale d'une spécialité de la famille de métiers (MEF_STAT_11 en voie scolaire, CFD en apprentissage).",
        "23830023102",
    )
    .pattern(PATTERN_CODE_CERTIFICATION)
    .required(),
    text(
        "libelle_specialite",
        "Libellé de la spécialité dans la BCN.",
        "TLEPRO TRAVAUX PUBLICS",
    ),
    text(
        "code_formation_diplome_specialite",
        "Code formation diplôme (CFD) de la spécialité.",
        "40023102",
    )
    .pattern(PATTERN_CFD),
    flag(
        "specialite_fermee",
        "true si la spécialité est fermée dans la BCN à la date de référence ; elle reste listée.",
        "false",
    ),
    flag(
        "dans_somme",
        "true si les effectifs de la spécialité entrent dans la somme de la famille (ligne de la seconde commune).",
        "true",
    )
    .required(),
    text(
        "raison_hors_somme",
        "Pourquoi la ligne n'entre pas dans la somme de la famille : sans_effectifs (la source ne donne que des taux), effectifs_non_diffuses (seul l'effectif en année terminale est connu), deja_comptee (ses chiffres viennent du continuum et sont déjà comptés), ligne_propre_remplacee (la ligne propre de la seconde commune, listée sous son propre code : la somme de la famille la remplace dans la table de son niveau). Vide si elle y entre.",
        "effectifs_non_diffuses",
    )
    .one_of(values_of!(HorsSomme)),
    // -- Establishment-wide figures
    text(
        "source",
        "Publication dont viennent les chiffres de l'établissement : open_data (jeu InserJeunes de data.education.gouv.fr) ou depp_valeur_ajoutee (fichiers annuels de la DEPP). Les deux couvrent certains établissements avec des valeurs parfois révisées : les deux sont gardées.",
        "open_data",
    )
    .one_of(&["open_data", "depp_valeur_ajoutee"])
    .required(),
    // -- Threshold, origin and continuum
    text(
        "masked",
        "Pourquoi des valeurs sont masquées : sous_seuil (moins de {seuil} inscrits en année terminale, le seuil du traitement : seul nb_annee_term est publié), sortants_sous_seuil (trop peu de sortants : les taux d'emploi ne sont pas publiés, comme dans la source), non_diffuse (la source ne publie pas ces chiffres). Vide si rien n'est masqué.",
        "sous_seuil",
    )
    .one_of(values_of!(Masked)),
    text(
        "origine",
        "Origine des effectifs : source (donnés tels quels par le fichier source), somme_regions (somme des données régionales), somme_etablissements (somme des données par établissement), somme_specialites (seconde commune : somme des spécialités de sa famille de métiers).",
        "source",
    )
    .one_of(values_of!(Origine))
    .required(),
    text(
        "donnee_source_type",
        "propre si les chiffres sont ceux de la certification elle-même ; ancienne s'ils viennent de la formation qu'elle remplace (donnée issue d'une formation historique), nouvelle s'ils viennent de celle qui la remplace (donnée issue d'une formation rénovée), par le continuum ; famille_metiers pour une seconde commune dont les chiffres sont la somme des spécialités de sa famille de métiers.",
        "propre",
    )
    .one_of(DONNEE_SOURCE_TYPES)
    .required(),
    text(
        "donnee_source_code",
        "Pour une donnée du continuum : le code (ou les codes, séparés par |) dont viennent les chiffres.",
        "32031308",
    ),
    int(
        "donnee_source_hops",
        "Pour une donnée du continuum : nombre de liens de rénovation entre la certification et le code source.",
        "1",
    )
    .range(0, None),
    text(
        "donnee_source_link",
        "Pour une donnée du continuum : forme des liens suivis (one_to_one sous la politique stricte ; merge ou split sous la politique de lignée).",
        "one_to_one",
    )
    .one_of(values_of!(continuum::Via)),
    // -- Terminal certifications
    text(
        "code_certification_terminale",
        "Code de la certification d'année terminale à laquelle mène la certification (une première année mène à sa terminale, une seconde commune à chaque spécialité de sa famille de métiers).",
        "23830025510",
    )
    .pattern(PATTERN_CODE_CERTIFICATION)
    .required(),
    text(
        "libelle_terminale",
        "Libellé BCN de la certification d'année terminale.",
        "TLEPRO MAINT.VEHIC.OPT.A VOIT.PARTIC.",
    ),
    text(
        "code_formation_diplome_terminale",
        "CFD de la certification d'année terminale.",
        "40025510",
    )
    .pattern(PATTERN_CFD),
    text(
        "lien",
        "Comment la première année mène à la terminale : meme_formation (même CFD) ou famille_metiers (seconde commune d'une famille de métiers).",
        "meme_formation",
    )
    .one_of(&LIENS)
    .required(),
    // -- Comparability of millésimes (issue 14)
    text(
        "perimetre_emploi",
        "Emplois comptés par les taux d'emploi du millésime : prive (emploi salarié privé seulement, InserJeunes jusqu'au millésime 2020_2021), prive_public_partiel (emploi public compté pour une partie de la cohorte : 2021_2022), prive_public (privé et public : InserJeunes à partir de 2022_2023, InserSup toujours). Les taux d'emploi de part et d'autre de cette rupture ne sont pas comparables.",
        "prive_public",
    )
    .one_of(values_of!(PerimetreEmploi))
    .required(),
    // -- Steering (pilotage table, issue 14)
    rate(
        "taux_devenir_favorable",
        "Part des inscrits en année terminale en poursuite d'études ou en emploi salarié à 6 mois : (nb_poursuite_etudes + nb_en_emploi_6_mois) / nb_annee_term, en pourcentage entier ; vide sous le seuil.",
        "71",
    ),
    rate(
        "reference_taux_en_emploi_6_mois",
        "Taux d'emploi à 6 mois de référence : somme des emplois sur somme des sortants des formations du même niveau de diplôme (niveau_formation_diplome), au même lieu et au même millésime (données propres de la source, petits effectifs compris).",
        "58",
    ),
    rate(
        "reference_taux_poursuite_etudes",
        "Taux de poursuite d'études de référence : somme des poursuites sur somme des inscrits en année terminale des formations du même niveau, au même lieu et au même millésime.",
        "41",
    ),
    rate(
        "reference_taux_devenir_favorable",
        "Taux de devenir favorable de référence, des formations du même niveau, au même lieu et au même millésime.",
        "75",
    ),
    int(
        "ecart_taux_en_emploi_6_mois",
        "Écart en points entre le taux d'emploi à 6 mois de la formation et sa référence (calculé sur les taux exacts, arrondi au plus proche, au pair en cas d'égalité).",
        "-7",
    )
    .range(-100, Some(100)),
    int(
        "ecart_taux_poursuite_etudes",
        "Écart en points entre le taux de poursuite d'études de la formation et sa référence.",
        "4",
    )
    .range(-100, Some(100)),
    int(
        "ecart_taux_devenir_favorable",
        "Écart en points entre le taux de devenir favorable de la formation et sa référence.",
        "-2",
    )
    .range(-100, Some(100)),
    rate(
        "reference_nationale_taux_en_emploi_6_mois",
        "Taux d'emploi à 6 mois de référence au niveau national : formations du même niveau de diplôme et du même millésime, toutes régions.",
        "60",
    ),
    rate(
        "reference_nationale_taux_poursuite_etudes",
        "Taux de poursuite d'études de référence au niveau national, même niveau de diplôme et même millésime.",
        "40",
    ),
    rate(
        "reference_nationale_taux_devenir_favorable",
        "Taux de devenir favorable de référence au niveau national, même niveau de diplôme et même millésime.",
        "76",
    ),
    text(
        "position",
        "Quadrant de la formation face à sa référence (égalité comptée comme au-dessus) : Q1 (emploi et poursuite au-dessus), Q2 (emploi au-dessus, poursuite en dessous), Q3 (emploi en dessous, poursuite au-dessus), Q4 (les deux en dessous : formation « peu insérante »), hors_quadrant (un taux ou la référence manque : voir raison_hors_quadrant), non_classe (seconde commune, sans devenir propre).",
        "Q1",
    )
    .one_of(values_of!(Position))
    .required(),
    text(
        "raison_hors_quadrant",
        "Pourquoi la formation est hors quadrant : effectif_sous_seuil (moins d'inscrits en année terminale que le seuil), sortants_sous_seuil (trop peu de sortants pour un taux d'emploi), donnees_manquantes (la source ne donne pas le détail), reference_absente (aucune formation du même niveau à comparer). Vide sinon.",
        "sortants_sous_seuil",
    )
    .one_of(values_of!(HorsQuadrant)),
    col(
        "quartile_1_emploi",
        Number,
        "Lignes nationales : premier quartile des taux d'emploi à 6 mois publiés (entiers) des certifications du même niveau de diplôme, de la même filière et du même millésime (interpolation linéaire entre les rangs).",
        "48.5",
    )
    .range(0, Some(100)),
    col(
        "quartile_3_emploi",
        Number,
        "Lignes nationales : troisième quartile des mêmes taux.",
        "71.0",
    )
    .range(0, Some(100)),
    text(
        "libelle_emploi",
        "Lignes nationales : position du taux d'emploi à 6 mois face aux quartiles de son niveau : tres_favorable (au moins le troisième quartile), dans_la_moyenne (au-dessus du premier), plutot_difficile (sinon). Vide sans taux publié.",
        "dans_la_moyenne",
    )
    .one_of(values_of!(Libelle)),
    // -- Coverage of a catalogue (coverage stage)
    text(
        "catalogue",
        "Nom du fichier du catalogue de formations dont vient l'offre.",
        "affelnet2nde.csv",
    )
    .required(),
    int(
        "line",
        "Ligne de l'offre dans le fichier du catalogue (l'en-tête est la ligne 1 ; pour un fichier JSON, rang de l'enregistrement).",
        "2",
    )
    .range(1, None)
    .required(),
    text(
        "uai_gestionnaire",
        "UAI de l'établissement gestionnaire de l'offre d'apprentissage, tel que l'écrit le catalogue (vide s'il ne le donne pas).",
        "0631234A",
    ),
    text(
        "uai_formateur",
        "UAI de l'établissement formateur de l'offre d'apprentissage, tel que l'écrit le catalogue (vide s'il ne le donne pas).",
        "0631234A",
    ),
    count(
        "capacite",
        "Capacité d'accueil de l'offre, quand le catalogue la donne.",
        "24",
    ),
    text(
        "problemes",
        "Défauts de la ligne du catalogue, séparés par | : empty_uai, invalid_uai, invalid_uai_gestionnaire, invalid_uai_formateur, empty_code, invalid_code, placeholder_code, unknown_filiere, unknown_academie, unknown_region, invalid_capacite. Vide si aucun.",
        "invalid_uai|empty_code",
    ),
    text(
        "status",
        "Couverture de l'offre : covered (un indicateur peut être affiché), ou la raison de son absence : below_threshold (sous le seuil de diffusion : toutes les lignes d'indicateurs trouvées pour l'offre sont masquées, masked = sous_seuil, moins de {seuil} inscrits en année terminale, ou non_diffuse ; une ligne sortants_sous_seuil montre encore son taux de poursuite d'études et couvre l'offre), new_formation (première session après le dernier millésime), unknown_code (code absent de la BCN), invalid_uai, several_terminal_formations (première année ambiguë), closed_establishment (l'annuaire des établissements dit l'UAI fermé), no_data (pas de raison évidente).",
        "covered",
    )
    .one_of(values_of!(Status))
    .required(),
    flag(
        "covered",
        "true si un indicateur peut être affiché pour l'offre (status = covered).",
        "true",
    ),
    text(
        "via",
        "Pour une offre couverte, comment son indicateur a été trouvé : direct (son propre code), continuum (code rénové), terminal_year (première année, par l'année terminale), famille_metiers (seconde commune, par sa famille de métiers), uai_reconciliation (site d'apprentissage, par son formateur ou son gestionnaire).",
        "direct",
    )
    .one_of(values_of!(coverage::Via)),
    text(
        "level",
        "Pour une offre couverte, le niveau de l'indicateur trouvé : etablissement, region ou national.",
        "etablissement",
    )
    .one_of(values_of!(NiveauGeographique, PROCHE_EN_PREMIER)),
    count(
        "specialites_avec_donnees",
        "Pour une seconde commune : nombre de spécialités de sa famille de métiers qui ont un indicateur publié.",
        "3",
    ),
];

/// The dictionary's entry for a column.
pub fn column_doc(name: &str) -> Option<&'static ColumnDoc> {
    DICTIONARY.iter().find(|c| c.name == name)
}

// ---- The tables ----------------------------------------------------------------

/// Where a published table comes from, and how it is described.
#[derive(Debug, Clone, Copy)]
pub struct TableDoc {
    /// The name of the table in the stage's folder.
    pub source: &'static str,
    /// The stage folder under the run folder (`coverage` tables are one level deeper).
    pub stage: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub primary_key: &'static [&'static str],
    /// Columns the dictionary marks required that may be empty in this table.
    pub optional: &'static [&'static str],
    /// Columns whose meaning in this table differs from the dictionary's:
    /// they are described here instead.
    pub overrides: &'static [ColumnDoc],
}

impl TableDoc {
    /// How this table's column is described: its override, else the dictionary.
    pub fn column(&self, name: &str) -> Option<&'static ColumnDoc> {
        self.overrides
            .iter()
            .find(|c| c.name == name)
            .or_else(|| column_doc(name))
    }
}

pub const TABLES: &[TableDoc] = &[
    TableDoc {
        source: "formations_referentiel",
        stage: "bcn",
        title: "Référentiel des formations (BCN)",
        description: "Une ligne par code de certification de la BCN (Banque centrale des nominations du ministère de l'Éducation nationale) : CFD, MEF_STAT_11 ou code SISE, avec ses libellés, niveaux, dates d'ouverture et de fermeture et sa famille de métiers.",
        primary_key: &["code_certification"],
        optional: &[],
        overrides: &[],
    },
    TableDoc {
        source: "continuum_links",
        stage: "continuum",
        title: "Continuum : liens entre formations rénovées",
        description: "Une ligne par lien entre une formation et celle qui la remplace après rénovation (table N_FORMATION_DIPLOME de la BCN, déclarations symétrisées ; liens de MEF projetés depuis ceux de leurs CFD).",
        primary_key: &["code_certification_type", "ancien_code", "nouveau_code"],
        optional: &[],
        overrides: &[],
    },
    TableDoc {
        source: "continuum_lineage",
        stage: "continuum",
        title: "Continuum : lignées des formations",
        description: "Une ligne par certification et par ancêtre ou descendant dans sa lignée de rénovations, avec le nombre de liens qui les séparent.",
        primary_key: &[
            "code_certification_type",
            "code_certification",
            "related_code",
            "relation",
        ],
        optional: &[],
        overrides: &[],
    },
    TableDoc {
        source: "certifications",
        stage: "indicators",
        title: "Insertion et poursuite d'études par certification (national)",
        description: "Indicateurs InserJeunes et InserSup au niveau national : une ligne par millésime, filière et certification. Taux d'emploi salarié à 6, 12, 18 et 24 mois, taux de poursuite d'études, devenir des inscrits en année terminale ; rien n'est publié sous le seuil de diffusion.",
        primary_key: &["millesime", "filiere", "code_certification"],
        optional: &[],
        overrides: &[],
    },
    TableDoc {
        source: "regionales",
        stage: "indicators",
        title: "Insertion et poursuite d'études par certification et par région",
        description: "Indicateurs InserJeunes et InserSup par région : une ligne par millésime, filière, certification et région (code INSEE).",
        primary_key: &["millesime", "filiere", "code_certification", "region_code"],
        optional: &[],
        overrides: &[],
    },
    TableDoc {
        source: "formations",
        stage: "indicators",
        title: "Insertion et poursuite d'études par formation et par établissement",
        description: "Indicateurs InserJeunes et InserSup par établissement : une ligne par millésime, filière, certification et établissement (UAI), avec son territoire.",
        primary_key: &["millesime", "filiere", "code_certification", "uai"],
        optional: &[],
        overrides: &[],
    },
    TableDoc {
        source: "etablissements",
        stage: "indicators",
        title: "Indicateurs par établissement (toutes formations)",
        description: "Taux d'emploi et de poursuite d'études et valeur ajoutée des lycées professionnels et des CFA, toutes formations confondues : une ligne par millésime, filière, établissement (UAI) et publication (open data ou fichiers de la DEPP).",
        primary_key: &["millesime", "filiere", "uai", "source"],
        optional: &[],
        overrides: &[],
    },
    TableDoc {
        source: "certifications_terminales",
        stage: "indicators",
        title: "Certifications d'année terminale",
        description: "Pour chaque certification de première année, la ou les certifications d'année terminale auxquelles elle mène (même formation, ou spécialités d'une famille de métiers pour une seconde commune) : leurs indicateurs sont ceux à afficher.",
        primary_key: &["code_certification", "code_certification_terminale"],
        optional: &[],
        overrides: &[],
    },
    TableDoc {
        source: "familles_specialites",
        stage: "indicators",
        title: "Familles de métiers : les spécialités d'une seconde commune et leurs indicateurs",
        description: "Pour chaque seconde commune d'une famille de métiers, à chaque niveau (national, région, établissement) et millésime : chacune des spécialités auxquelles elle mène, avec ses propres indicateurs, et si elle entre dans la somme publiée pour la seconde commune. Une plateforme peut ainsi afficher la famille ou ses spécialités.",
        primary_key: &[
            "millesime",
            "filiere",
            "niveau_geographique",
            "code_lieu",
            "code_certification",
            "code_certification_specialite",
        ],
        optional: &[],
        overrides: &[],
    },
    TableDoc {
        source: "pilotage",
        stage: "indicators",
        title: "Pilotage : chaque formation face à la moyenne de son niveau",
        description: "Pour chaque millésime, filière (voie scolaire et apprentissage), région et au niveau national, chaque certification InserJeunes avec ses taux d'emploi à 6 mois, de poursuite d'études et de devenir favorable, les taux de référence de son niveau de diplôme au même lieu et au niveau national, les écarts en points et son quadrant (Q4 : formation « peu insérante ») comme les calcule la plateforme de pilotage ; au niveau national, les quartiles des taux d'emploi du niveau et le libellé qui en découle.",
        primary_key: &[
            "millesime",
            "filiere",
            "niveau_geographique",
            "code_lieu",
            "code_certification",
        ],
        optional: &[],
        overrides: &[],
    },
];

/// The coverage table of one catalogue, published as `coverage_offers_<name>`.
/// Its offers are a platform's catalogue as written: codes and UAIs may be
/// malformed (that is what `problemes` reports), so they carry no pattern.
pub const COVERAGE_TABLE: TableDoc = TableDoc {
    source: "coverage_offers",
    stage: "coverage",
    title: "Couverture d'un catalogue de formations",
    description: "Une ligne par offre de formation du catalogue d'une plateforme (Affelnet, Parcoursup…) : si un indicateur InserJeunes ou InserSup peut être affiché pour elle, comment il a été trouvé et ses principaux taux ; sinon la raison de son absence.",
    primary_key: &["catalogue", "line"],
    optional: &[
        "filiere",
        "code_certification",
        "millesime",
        "donnee_source_type",
        "dernier_millesime_disponible",
    ],
    overrides: COVERAGE_COLUMNS,
};

/// The coverage columns whose meaning differs from the dictionary's.
const COVERAGE_COLUMNS: &[ColumnDoc] = &[
    text(
        "uai",
        "UAI de l'établissement de l'offre, tel que l'écrit le catalogue (il peut être invalide : voir problemes).",
        "0630003L",
    ),
    text(
        "code",
        "Code de la formation tel que l'écrit le catalogue (MEF_STAT_11, CFD, MEF ou SISE ; il peut être invalide : voir problemes).",
        "23830025510",
    ),
    text(
        "code_type",
        "Nature du code du catalogue : mef_stat_11, cfd, sise, mef, ou unknown (vide, fictif ou mal formé).",
        "mef_stat_11",
    )
    .one_of(values_of!(OffreCodeType))
    .required(),
    text(
        "libelle",
        "Libellé de la formation, tel que l'écrit le catalogue, sinon celui de la BCN.",
        "BAC PRO MAINTENANCE DES VEHICULES",
    ),
    text(
        "academie_libelle",
        "Académie de l'offre, telle que l'écrit le catalogue.",
        "Clermont-Ferrand",
    ),
    text(
        "filiere",
        "Filière de l'offre (pro, apprentissage, agricole ou superieur) ; vide si le catalogue ne la donne pas ou si aucune filière ne mesure cette formation.",
        "pro",
    )
    .one_of(FILIERES),
    text(
        "code_certification",
        "Code de la certification dont l'indicateur est affiché (ou recherché) pour l'offre.",
        "23830025510",
    )
    .pattern(PATTERN_CODE_CERTIFICATION),
    text(
        "millesime",
        "Millésime de l'indicateur affiché pour l'offre : toujours le dernier millésime de sa filière (règle de couverture : un millésime plus ancien n'est jamais utilisé).",
        "2022_2023",
    )
    .pattern(PATTERN_MILLESIME),
    text(
        "dernier_millesime_disponible",
        "Pour une offre non couverte : le millésime le plus récent, antérieur au dernier millésime de sa filière, où l'un de ses codes a une ligne (information : ces chiffres ne sont pas affichés). Vide sinon.",
        "2020_2021",
    )
    .pattern(PATTERN_MILLESIME),
    rate(
        "taux_en_emploi_6_mois",
        "Taux d'emploi salarié à 6 mois de l'indicateur affiché pour l'offre, en pourcentage entier (vide si l'offre n'est pas couverte ou si le taux n'est pas publié).",
        "68",
    ),
    rate(
        "taux_poursuite_etudes",
        "Taux de poursuite d'études de l'indicateur affiché pour l'offre, en pourcentage entier (vide si l'offre n'est pas couverte ou si le taux n'est pas publié).",
        "23",
    ),
    rate(
        "part_en_emploi_6_mois",
        "Part en emploi salarié à 6 mois des inscrits en année terminale, de l'indicateur affiché pour l'offre, en pourcentage entier (vide si l'offre n'est pas couverte ou si la part n'est pas publiée).",
        "53",
    ),
    text(
        "donnee_source_type",
        "Origine des chiffres de l'indicateur affiché : propre, ancienne ou nouvelle (continuum), famille_metiers (somme des spécialités d'une seconde commune) ; vide si l'offre n'est pas couverte.",
        "propre",
    )
    .one_of(DONNEE_SOURCE_TYPES),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The words of a text: runs of letters, digits and `_`.
    fn words(text: &str) -> Vec<&str> {
        text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .collect()
    }

    /// `status = below_threshold` and `masked` name one threshold
    /// (`Masked::NON_PUBLIES`): the description of `below_threshold` names
    /// the `masked` values that publish nothing, then those that still
    /// cover an offer, as `rules::masquage` decides.
    #[test]
    fn below_threshold_is_described_by_the_masked_values_that_publish_nothing() {
        let d = column_doc("status").unwrap().description;
        let start = d
            .find("below_threshold (")
            .expect("below_threshold described");
        let part = &d[start..start + d[start..].find("), ").unwrap()];
        let (masks, still_shown) = part.split_once(" ; ").expect("two clauses");
        let masks = words(&masks[masks.find("masked =").expect("names masked")..]);
        let still_shown = words(still_shown);
        for m in Masked::ALL {
            let hides = !Masked::is_published(Some(m));
            assert_eq!(masks.contains(&m.as_str()), hides, "{part}");
            assert_eq!(still_shown.contains(&m.as_str()), !hides, "{part}");
        }
        assert!(part.contains(SEUIL_PLACEHOLDER), "the run's seuil: {part}");
    }
}
