//! Staging of the tabular catalogues (Affelnet 2nde, 1re pro and 2020,
//! Parcoursup apprentissage, generic CSV): one [`Offre`] per row, its
//! filière, capacité and codes read per format, then checked and completed
//! (académie, région) by [`finish`], which the cartographie shares.

use crate::error::{Error, Result};
use crate::input::{RawTable, Row};
use crate::rules::codes::{is_valid_uai, Code};
use crate::rules::filiere::Filiere;
use crate::staging::reference::Reference;

use super::columns::CatalogueColumns;
use super::text::{ascii_key, Table};
use super::{problem, CatalogueFormat, Offre, OffreCodeType};

pub(super) fn new_offre(catalogue: &str, line: u64) -> Offre {
    Offre {
        catalogue: catalogue.into(),
        line,
        uai: Code::default(),
        uai_gestionnaire: Code::default(),
        uai_formateur: Code::default(),
        code: Code::default(),
        code_type: OffreCodeType::Unknown,
        filiere: None,
        academie_libelle: Code::default(),
        academie_code: None,
        region_code: None,
        libelle: String::new(),
        capacite: None,
        problems: Vec::new(),
    }
}

/// One offer per row of `t`, in order: a new `Offre` filled by the layout
/// (`fill`), then checked and completed by [`finish`].
fn offers_of(
    t: &RawTable,
    catalogue: &str,
    reference: &Reference,
    out: &mut Vec<Offre>,
    mut fill: impl FnMut(&Row, &mut Offre),
) {
    for row in t.rows() {
        let mut o = new_offre(catalogue, row.position());
        fill(&row, &mut o);
        out.push(finish(o, "", reference));
    }
}

pub(super) fn stage_table(
    t: &RawTable,
    format: CatalogueFormat,
    columns: &CatalogueColumns,
    catalogue: &str,
    reference: &Reference,
    mac_roman: bool,
) -> Result<Vec<Offre>> {
    let tb = Table::new(t, mac_roman);
    let mut out = Vec::with_capacity(t.len());
    match format {
        CatalogueFormat::Affelnet2nde => affelnet_2nde(t, &tb, catalogue, reference, &mut out)?,
        CatalogueFormat::Affelnet1ProSpe => affelnet_1pro(t, &tb, catalogue, reference, &mut out)?,
        CatalogueFormat::Affelnet2020 => affelnet_2020(t, &tb, catalogue, reference, &mut out)?,
        CatalogueFormat::PsupApprentissage => {
            psup_apprentissage(t, &tb, catalogue, reference, &mut out)?
        }
        CatalogueFormat::Generic => {
            stage_generic(t, &tb, columns, catalogue, reference, &mut out)?;
        }
        CatalogueFormat::PsupCartographie => {
            return Err(Error::file(
                &t.path,
                "the Parcoursup cartographie is read from its JSON export, not a table",
            ))
        }
    }
    Ok(out)
}

/// Affelnet 2nde (`affelnet2nde.csv`): the MEF_STAT_11 of `CO_MEFSTAT`, `CO_STA` for the filière.
fn affelnet_2nde(
    t: &RawTable,
    tb: &Table,
    catalogue: &str,
    reference: &Reference,
    out: &mut Vec<Offre>,
) -> Result<()> {
    let [academie, uai, code, statut] =
        ["Académie", "ID_ETAB", "CO_MEFSTAT", "CO_STA"].map(|n| tb.required(n));
    let (academie, uai, code, statut) = (academie?, uai?, code?, statut?);
    let capacite = tb.optional("VAL_CARSCO");
    offers_of(t, catalogue, reference, out, |row, o| {
        o.uai = tb.code(row, Some(&uai));
        o.code = tb.code(row, Some(&code));
        o.code_type = OffreCodeType::MefStat11;
        o.filiere = filiere_affelnet(o, &tb.text(row, Some(&statut)), false);
        o.academie_libelle = tb.code(row, Some(&academie));
        o.capacite = capacite_affelnet(o, &tb.text(row, capacite.as_ref()));
    });
    Ok(())
}

/// Affelnet 1re pro (`affelnet1PROspe.csv`): no code, the MEF's label; `Code Ministère` tells agriculture.
fn affelnet_1pro(
    t: &RawTable,
    tb: &Table,
    catalogue: &str,
    reference: &Reference,
    out: &mut Vec<Offre>,
) -> Result<()> {
    let uai = tb.required("Etablissement d'accueil")?;
    let libelle = tb.required("Libellé du MEF national de rattachement")?;
    let statut = tb.required("Statut Offre de formation")?;
    let ministere = tb.optional("Code Ministère");
    let capacite = tb.optional("Capacité d'affectation");
    offers_of(t, catalogue, reference, out, |row, o| {
        o.uai = tb.code(row, Some(&uai));
        o.libelle = tb.text(row, Some(&libelle));
        let agricole = ascii_key(&tb.text(row, ministere.as_ref())) == "AGRICULTURE";
        o.filiere = filiere_affelnet(o, &tb.text(row, Some(&statut)), agricole);
        o.capacite = capacite_affelnet(o, &tb.text(row, capacite.as_ref()));
    });
    Ok(())
}

/// Affelnet 2020 (`2020_05_12_AFFELNET.csv`): a MEF and a trailing `0`; the filière from the establishment, mnemonic and label.
fn affelnet_2020(
    t: &RawTable,
    tb: &Table,
    catalogue: &str,
    reference: &Reference,
    out: &mut Vec<Offre>,
) -> Result<()> {
    let uai = tb.required("UAI")?;
    let academie = tb.required("ACADEMIE")?;
    let code = tb.required("CODE_FORMATION_ACCUEIL_BAN")?;
    let [ministere, type_etab, mnemonique, libelle] = [
        "MINISTERE",
        "TYPE_ETABLISSEMENT",
        "MNEMONIQUE_FORMATION_ACCUEIL",
        "LIBELLE_FORMATION_ACCUEIL_BAN",
    ]
    .map(|n| tb.optional(n));
    offers_of(t, catalogue, reference, out, |row, o| {
        o.uai = tb.code(row, Some(&uai));
        o.academie_libelle = tb.code(row, Some(&academie));
        o.libelle = tb.text(row, libelle.as_ref());
        let raw = tb.code(row, Some(&code));
        // A MEF and a trailing `0` (see the module doc).
        o.code = match raw.strip_suffix('0') {
            Some(mef) if raw.len() == 11 => mef.into(),
            _ => raw,
        };
        o.code_type = OffreCodeType::Mef;
        o.filiere = filiere_affelnet_2020(
            &tb.text(row, type_etab.as_ref()),
            &tb.text(row, mnemonique.as_ref()),
            &o.libelle,
            &tb.text(row, ministere.as_ref()),
        );
    });
    Ok(())
}

/// Parcoursup's apprenticeship list: the MEF of `CODEMEF`, the three UAIs, the label of formation and speciality.
fn psup_apprentissage(
    t: &RawTable,
    tb: &Table,
    catalogue: &str,
    reference: &Reference,
    out: &mut Vec<Offre>,
) -> Result<()> {
    let uai = tb.required("UAI_AFF")?;
    let gestionnaire = tb.required("UAI_GES")?;
    let code = tb.required("CODEMEF")?;
    let [composante, academie, formation, specialite] = [
        "UAI_COMPOSANTE",
        "ACADÉMIE",
        "LIBFORMATION",
        "LIBSPÉCIALITÉ",
    ]
    .map(|n| tb.optional(n));
    offers_of(t, catalogue, reference, out, |row, o| {
        o.uai = tb.code(row, Some(&uai));
        o.uai_gestionnaire = tb.code(row, Some(&gestionnaire));
        o.uai_formateur = tb.code(row, composante.as_ref());
        o.code = tb.code(row, Some(&code));
        o.code_type = OffreCodeType::Mef;
        o.filiere = Some(Filiere::Apprentissage);
        o.academie_libelle = tb.code(row, academie.as_ref());
        let parts = [
            tb.text(row, formation.as_ref()),
            tb.text(row, specialite.as_ref()),
        ];
        o.libelle = parts
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" - ");
    });
    Ok(())
}

/// The generic layout, under its own column names or those `columns` maps
/// (issue 9). `uai` and `code` are required; a mapped column must exist.
fn stage_generic(
    t: &RawTable,
    tb: &Table,
    columns: &CatalogueColumns,
    catalogue: &str,
    reference: &Reference,
    out: &mut Vec<Offre>,
) -> Result<()> {
    let required = |field: &str| {
        tb.optional(columns.column(field)).ok_or_else(|| {
            let what = if columns.is_mapped(field) {
                format!("column {} (columns.{field})", columns.column(field))
            } else {
                format!("required column {field}")
            };
            Error::file(
                &t.path,
                format!(
                    "missing {what} (columns found: {}); name the catalogue's columns with `columns = {{ uai = \"…\", code = \"…\", filiere = \"…\" }}` (or --column FIELD=COLUMN)",
                    t.headers.join(", ")
                ),
            )
        })
    };
    let optional = |field: &str| -> Result<Option<crate::input::Col>> {
        if columns.is_mapped(field) {
            required(field).map(Some)
        } else {
            Ok(tb.optional(field))
        }
    };
    let (uai, code) = (required("uai")?, required("code")?);
    // The plain generic layout requires its filière column; a mapped one
    // without it takes the default filière, else the code's (coverage).
    let filiere = optional("filiere")?;
    if filiere.is_none() && columns.names.is_empty() && columns.default_filiere.is_none() {
        required("filiere")?;
    }
    let code_type = optional("code_type")?;
    let academie = optional("academie")?;
    let libelle = optional("libelle")?;
    let capacite = optional("capacite")?;
    let gestionnaire = optional("uai_gestionnaire")?;
    let formateur = optional("uai_formateur")?;
    offers_of(t, catalogue, reference, out, |row, o| {
        o.uai = tb.code(row, Some(&uai));
        o.uai_gestionnaire = tb.code(row, gestionnaire.as_ref());
        o.uai_formateur = tb.code(row, formateur.as_ref());
        o.code = tb.code(row, Some(&code));
        let declared = tb.text(row, code_type.as_ref());
        o.code_type =
            OffreCodeType::parse(&declared).unwrap_or_else(|| OffreCodeType::from_shape(&o.code));
        match columns.filiere(&tb.text(row, filiere.as_ref())) {
            Ok(f) => o.filiere = f,
            Err(_) => o.problems.push(problem::UNKNOWN_FILIERE.into()),
        }
        o.academie_libelle = tb.code(row, academie.as_ref());
        o.libelle = tb.text(row, libelle.as_ref());
        o.capacite = parse_capacite(o, &tb.text(row, capacite.as_ref()), None);
    });
    Ok(())
}

/// `CO_STA` / `Statut Offre de formation`: ST voie scolaire, AP apprentissage.
fn filiere_affelnet(o: &mut Offre, statut: &str, agricole: bool) -> Option<Filiere> {
    match statut.to_ascii_uppercase().as_str() {
        "ST" if agricole => Some(Filiere::Agricole),
        "ST" => Some(Filiere::Pro),
        "AP" => Some(Filiere::Apprentissage),
        _ => {
            o.problems.push(problem::UNKNOWN_FILIERE.into());
            None
        }
    }
}

fn filiere_affelnet_2020(
    type_etab: &str,
    mnemonique: &str,
    libelle: &str,
    ministere: &str,
) -> Option<Filiere> {
    let mnemonique = mnemonique.to_uppercase();
    let apprentissage = type_etab.to_uppercase().contains("APPRENTI")
        || says_apprentissage(&libelle.to_uppercase())
        || mnemonique.starts_with("AP")
        || mnemonique.ends_with("_AP")
        || mnemonique.ends_with("-AP");
    if apprentissage {
        return Some(Filiere::Apprentissage);
    }
    match ascii_key(ministere).as_str() {
        "AGRICULTURE" => Some(Filiere::Agricole),
        "EDUCATIONNATIONALE" => Some(Filiere::Pro),
        _ => None,
    }
}

/// `APPR`, `(APPR)`, `APPRENT.`, `APPRENTISSAGE`, but not `APPROVISIONNEMENT`.
fn says_apprentissage(label: &str) -> bool {
    label
        .match_indices("APPR")
        .any(|(i, _)| !label[i + 4..].starts_with('O'))
}

/// Affelnet writes 999 for "no capacity set".
fn capacite_affelnet(o: &mut Offre, value: &str) -> Option<i64> {
    parse_capacite(o, value, Some(999))
}

fn parse_capacite(o: &mut Offre, value: &str, unset: Option<i64>) -> Option<i64> {
    if value.is_empty() {
        return None;
    }
    match value.parse::<i64>() {
        Ok(n) if n >= 0 && Some(n) != unset => Some(n),
        Ok(n) if n >= 0 => None,
        _ => {
            o.problems.push(problem::INVALID_CAPACITE.into());
            None
        }
    }
}

/// Whether a code stands for no code: `AFFECTATION`, or a MEF_STAT_11 or
/// MEF whose CFD part is `99999` (`99990099999`, `23820099999`).
fn is_placeholder(code: &str, code_type: OffreCodeType) -> bool {
    code.chars().all(|c| c.is_ascii_alphabetic())
        || match code_type {
            OffreCodeType::MefStat11 => code.len() == 11 && code.ends_with("99999"),
            OffreCodeType::Mef => code.get(3..8) == Some("99999"),
            _ => false,
        }
}

/// The checks every format shares: UAIs, code, territory; then the problems
/// in their canonical order. `region_libelle`: a région name, when given.
pub(super) fn finish(mut o: Offre, region_libelle: &str, reference: &Reference) -> Offre {
    if o.uai.is_empty() {
        o.problems.push(problem::EMPTY_UAI.into());
    } else if !is_valid_uai(&o.uai) {
        o.problems.push(problem::INVALID_UAI.into());
    }
    if !o.uai_gestionnaire.is_empty() && !is_valid_uai(&o.uai_gestionnaire) {
        o.problems.push(problem::INVALID_UAI_GESTIONNAIRE.into());
    }
    if !o.uai_formateur.is_empty() && !is_valid_uai(&o.uai_formateur) {
        o.problems.push(problem::INVALID_UAI_FORMATEUR.into());
    }

    if o.code.is_empty() {
        o.problems.push(problem::EMPTY_CODE.into());
        o.code_type = OffreCodeType::Unknown;
    } else if is_placeholder(&o.code, o.code_type) {
        o.problems.push(problem::PLACEHOLDER_CODE.into());
        o.code_type = OffreCodeType::Unknown;
    } else if !o.code_type.is_valid(&o.code) {
        o.problems.push(problem::INVALID_CODE.into());
        o.code_type = OffreCodeType::Unknown;
    }

    // The académie: by the name written, else by a UAI's département.
    let written = std::mem::take(&mut o.academie_libelle);
    let by_name = if written.is_empty() {
        None
    } else {
        reference
            .academie_by_name(&written)
            .or_else(|| reference.academie(&written))
    };
    if let Some(a) = by_name {
        o.academie_code = Some(a.code.as_str().into());
        o.region_code = Some(a.region_code.as_str().into()).filter(|r: &Code| !r.is_empty());
    } else {
        if !written.is_empty() {
            o.problems.push(problem::UNKNOWN_ACADEMIE.into());
        }
        let departement = [&o.uai, &o.uai_formateur, &o.uai_gestionnaire]
            .into_iter()
            .find_map(|u| reference.departement_of_uai(u));
        match departement {
            Some(d) => {
                o.academie_code =
                    Some(d.academie_code.as_str().into()).filter(|c: &Code| !c.is_empty());
                o.region_code =
                    Some(d.region_code.as_str().into()).filter(|r: &Code| !r.is_empty());
            }
            None if written.is_empty() => o.problems.push(problem::UNKNOWN_ACADEMIE.into()),
            None => {}
        }
    }
    o.academie_libelle = written;
    if !region_libelle.is_empty() {
        match reference.region_by_name(region_libelle) {
            Some(r) if o.region_code.is_none() => o.region_code = Some(r.code.as_str().into()),
            Some(_) => {}
            None => o.problems.push(problem::UNKNOWN_REGION.into()),
        }
    }

    let rank = |p: &String| {
        problem::ALL
            .iter()
            .position(|a| a == p)
            .unwrap_or(usize::MAX)
    };
    o.problems.sort_by_key(rank);
    o.problems.dedup();
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staging::catalogues::tests::{load, problems};

    #[test]
    fn affelnet2nde_keeps_every_row_and_records_problems() {
        let text = "Académie;ID_ETAB;CO_MEFSTAT;CO_STA;FL_VRECENS;VAL_CARSCO\n\
            Aix-Marseille;0131445A;23810025516;ST;N;24\n\
            Orleans;0451653C;24110022140;AP;O;999\n\
            Nvelle-Caledonie;9830001J;23810020006;ST;N;12\n\
            Reims;0081152j;;AP;O;abc\n\
            Polynesie;0131445A;99990099999;XX;N;\n";
        let (f, offres) = load("affelnet2nde.csv", text.as_bytes(), None);
        assert_eq!(f, CatalogueFormat::Affelnet2nde);
        assert_eq!(offres.len(), 5);
        let o = &offres[0];
        assert_eq!(
            (o.line, o.uai.as_str(), o.code.as_str()),
            (2, "0131445A", "23810025516")
        );
        assert_eq!(o.code_type, OffreCodeType::MefStat11);
        assert_eq!(o.filiere, Some(Filiere::Pro));
        assert_eq!(
            (o.academie_code.as_deref(), o.region_code.as_deref()),
            (Some("02"), Some("93"))
        );
        assert_eq!(o.capacite, Some(24));
        assert!(o.problems.is_empty(), "{o:?}");
        // Apprentissage; 999 is "no capacity set"; Orleans is Orléans-Tours.
        assert_eq!(offres[1].filiere, Some(Filiere::Apprentissage));
        assert_eq!(offres[1].capacite, None);
        assert_eq!(offres[1].academie_code.as_deref(), Some("18"));
        // An académie the referential lacks, and a UAI whose département it lacks.
        assert_eq!(problems(&offres[2]), ["unknown_academie"]);
        assert_eq!(offres[2].academie_code, None);
        assert_eq!(
            problems(&offres[3]),
            ["invalid_uai", "empty_code", "invalid_capacite"]
        );
        assert_eq!(offres[3].code_type, OffreCodeType::Unknown);
        // Unknown académie, but the UAI gives the territory.
        let o = &offres[4];
        assert_eq!(
            problems(o),
            ["placeholder_code", "unknown_filiere", "unknown_academie"]
        );
        assert_eq!((o.academie_code.as_deref(), o.filiere), (Some("02"), None));
    }

    #[test]
    fn affelnet1pro_keeps_the_label_and_tells_agriculture() {
        let text = "Etablissement d'accueil;Sigle de l'établissement d'accueil;Libellé du MEF national de rattachement;Code Ministère;Statut Offre de formation;Capacité carte scolaire;Capacité d'affectation\n\
            0010001W;LP;1ERPRO MENUISERIE ALUMINIUM-VERRE;MINISTERE DE L'EDUCATION NATIONALE;ST;15;14\n\
            0010001W;LPA;1ERPRO AGROEQUIPEMENT;AGRICULTURE;ST;12;12\n\
            0010001W;CFA;1ERPRO AGROEQUIPEMENT;AGRICULTURE;AP;999;999\n";
        let (f, offres) = load("affelnet1PROspe.csv", text.as_bytes(), None);
        assert_eq!(f, CatalogueFormat::Affelnet1ProSpe);
        let o = &offres[0];
        assert_eq!(o.libelle, "1ERPRO MENUISERIE ALUMINIUM-VERRE");
        assert_eq!((o.code.as_str(), o.code_type), ("", OffreCodeType::Unknown));
        assert_eq!(problems(o), ["empty_code"]);
        assert_eq!((o.capacite, o.filiere), (Some(14), Some(Filiere::Pro)));
        // No académie column: the UAI's (Ain → Lyon), no problem.
        assert_eq!(
            (o.academie_code.as_deref(), o.region_code.as_deref()),
            (Some("10"), Some("84"))
        );
        assert_eq!(offres[1].filiere, Some(Filiere::Agricole));
        assert_eq!(
            (offres[2].filiere, offres[2].capacite),
            (Some(Filiere::Apprentissage), None)
        );
    }

    #[test]
    fn affelnet2020_reads_padded_mac_roman_and_strips_the_mef_suffix() {
        let mut bytes = b"UAI;COMMUNE;ACADEMIE;MINISTERE;TYPE_ETABLISSEMENT;MNEMONIQUE_FORMATION_ACCUEIL;CODE_SPECIALITE_FORMATION_ACCUEIL;LIBELLE_FORMATION_ACCUEIL_BAN;CODE_FORMATION_ACCUEIL_BAN\n".to_vec();
        bytes.extend_from_slice(b"0040007L ; DIGNE      ; AIX-MARSEILLE   ; Education Nationale ; LYCEE PROFESSIONNEL  ;  1CAP2  ;  22140 ;  1CAP2  COMMERCIALISATION  ;  24122140210   \n");
        bytes.extend_from_slice(b"0451653C ; ORLEANS    ; ORLEANS-TOURS   ; Agriculture ; CENTRE DE FORMATION D APPRENTIS ;  CAP_AP  ;  3121A ;  \x83QUIPIER POLYVALENT ;  AFFECTATION \n");
        bytes.extend_from_slice(b"0142059M ; CAEN       ; CAEN            ; Agriculture ; LYCEE  ;  2DPROA  ;  21207 ;  2DPROA CONDUITE ;  27621207310 \n");
        bytes.extend_from_slice(b"         ;            ; POLYNESIE       ;  ;  ;  ;  ;  ;  \n");
        let (f, offres) = load("2020_05_12_AFFELNET.csv", &bytes, None);
        assert_eq!(f, CatalogueFormat::Affelnet2020);
        assert_eq!(offres.len(), 4);
        let o = &offres[0];
        assert_eq!(
            (o.code.as_str(), o.code_type),
            ("2412214021", OffreCodeType::Mef)
        );
        assert_eq!(
            (o.filiere, o.academie_code.as_deref()),
            (Some(Filiere::Pro), Some("02"))
        );
        assert!(o.problems.is_empty(), "{o:?}");
        let o = &offres[1];
        assert_eq!(o.libelle, "ÉQUIPIER POLYVALENT");
        assert_eq!(
            (o.filiere, o.code_type),
            (Some(Filiere::Apprentissage), OffreCodeType::Unknown)
        );
        assert_eq!(problems(o), ["placeholder_code"]);
        assert_eq!(offres[2].filiere, Some(Filiere::Agricole));
        assert_eq!(offres[2].academie_code.as_deref(), Some("70"));
        assert!(
            says_apprentissage("2NDPRO (APPR) MAINT") && says_apprentissage("1CAP2 MACON APPR")
        );
        assert!(!says_apprentissage("BAC PRO LOGIST. APPROVISIONNEMENT"));
        assert_eq!(
            problems(&offres[3]),
            ["empty_uai", "empty_code", "unknown_academie"]
        );
    }

    #[test]
    fn psup_apprentissage_matches_the_odd_header_and_repairs_labels() {
        // Mac Roman bytes, as the real file: 0x83 É, 0x8E é.
        let mut bytes = b"UAI_GES;UAI_COMPOSANTE;UAI_AFF;ACAD\x83MIE;LIBFORMATION;CODESP\x83CIALIT\x83;LIBSP\x83CIALIT\x83;CODEMEF\n".to_vec();
        bytes.extend_from_slice(b"0595821G;0595821G;0595821G;Lille;BTS - Services;11423;Management Commercial Op\x8Erationnel - en apprentissage;3113121321\n");
        bytes.extend_from_slice(
            b"0451653C;0131445A;0131445A;Cr\x8Eteil;BTS - Production;1436;Electrotechnique;\n",
        );
        bytes.extend_from_slice(b"0451653D;0131445A;0131445A;Cr\x8Eteil;BTS;1;X;31131213\n");
        let (f, offres) = load("listeFormationApprentissagePsup.csv", &bytes, None);
        assert_eq!(f, CatalogueFormat::PsupApprentissage);
        let o = &offres[0];
        assert_eq!(
            (o.code.as_str(), o.code_type),
            ("3113121321", OffreCodeType::Mef)
        );
        assert_eq!(o.filiere, Some(Filiere::Apprentissage));
        assert_eq!(
            o.libelle,
            "BTS - Services - Management Commercial Opérationnel - en apprentissage"
        );
        assert_eq!(
            (o.academie_code.as_deref(), o.region_code.as_deref()),
            (Some("09"), Some("32"))
        );
        assert!(o.problems.is_empty(), "{o:?}");
        let o = &offres[1];
        assert_eq!(
            (
                o.uai.as_str(),
                o.uai_gestionnaire.as_str(),
                o.uai_formateur.as_str()
            ),
            ("0131445A", "0451653C", "0131445A")
        );
        assert_eq!(
            (o.academie_libelle.as_str(), o.academie_code.as_deref()),
            ("Créteil", Some("24"))
        );
        assert_eq!(problems(o), ["empty_code"]);
        assert_eq!(
            problems(&offres[2]),
            ["invalid_uai_gestionnaire", "invalid_code"]
        );
    }

    #[test]
    fn generic_tells_code_types_by_length() {
        let text = "uai;code;filiere;libelle;capacite;academie\n\
            0595821G;40025513;apprentissage;Bac pro;;Lille\n\
            0131445A;23810025513;scolaire;;24;02\n\
            0062205P;2400074;superieur;;;\n\
            0062205P;2472551333;;;;\n\
            0062205P;4002;alternance;;;\n";
        let (f, offres) = load("generic.csv", text.as_bytes(), None);
        assert_eq!(f, CatalogueFormat::Generic);
        let types: Vec<_> = offres.iter().map(|o| o.code_type).collect();
        assert_eq!(
            types,
            [
                OffreCodeType::Cfd,
                OffreCodeType::MefStat11,
                OffreCodeType::Sise,
                OffreCodeType::Mef,
                OffreCodeType::Unknown
            ]
        );
        assert_eq!(offres[1].academie_code.as_deref(), Some("02"));
        assert_eq!(
            (offres[1].filiere, offres[1].capacite),
            (Some(Filiere::Pro), Some(24))
        );
        assert_eq!(offres[3].filiere, None);
        assert!(offres[3].problems.is_empty());
        assert_eq!(problems(&offres[4]), ["invalid_code", "unknown_filiere"]);
    }
}
