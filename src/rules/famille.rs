//! Familles de métiers: which CFD is a family's common first year (the
//! "seconde commune" shared by its specialities, DOMAIN.md).
//!
//! The `bcn` stage flags them in the referential (`seconde_commune`); the
//! indicators stage applies the same rule again when it reads an older
//! referential without that column. Both call [`is_annee_commune`].

/// Whether a CFD is a common first year: it is in a famille de métiers, and
/// either the family link table tags one of its MEFs as the family's common
/// year (`tagged`), or all of its MEFs are first years (`annees`, the
/// ANNEE_DISPOSITIF of each of its MEFs). A CFD without any MEF is not one:
/// nothing says it is a first year.
pub fn is_annee_commune(
    in_famille: bool,
    tagged: bool,
    annees: impl IntoIterator<Item = Option<u32>>,
) -> bool {
    if !in_famille {
        return false;
    }
    if tagged {
        return true;
    }
    let mut any = false;
    for annee in annees {
        if annee != Some(1) {
            return false;
        }
        any = true;
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_cfd_whose_mefs_are_all_first_years() {
        assert!(is_annee_commune(true, false, [Some(1), Some(1)]));
        assert!(!is_annee_commune(true, false, [Some(1), Some(2)]));
        // An unknown year is not a first year.
        assert!(!is_annee_commune(true, false, [Some(1), None]));
    }

    #[test]
    fn a_tagged_cfd_is_one_whatever_its_years() {
        assert!(is_annee_commune(true, true, [Some(1), Some(2), Some(3)]));
        assert!(is_annee_commune(true, true, []));
    }

    #[test]
    fn never_outside_a_family_nor_without_mefs() {
        assert!(!is_annee_commune(false, false, [Some(1)]));
        assert!(!is_annee_commune(false, true, [Some(1)]));
        assert!(!is_annee_commune(true, false, []));
    }
}
