//! The order of a table's primary key on its typed rows, as polars sorts
//! them (missing first, text by its bytes): whether rows are in that order
//! (a release then writes them without sorting), and whether strictly (no
//! key repeated: `validate::TypedRows`).

use std::cmp::Ordering;

use polars::prelude::*;

/// Whether each row's key is at most the next one's, in the order polars
/// sorts them (missing first, text by bytes); `false` for a key column of
/// a type this does not compare, so that the caller sorts.
pub fn in_key_order(df: &DataFrame, key: &[&str]) -> bool {
    adjacent_key_orders(df, key).is_some_and(|orders| !orders.contains(&Ordering::Greater))
}

/// How each row's key compares with the next one's, in the order polars
/// sorts them; `None` for a key column missing or of a type this does not
/// compare.
pub fn adjacent_key_orders(df: &DataFrame, key: &[&str]) -> Option<Vec<Ordering>> {
    /// Decides the pairs of adjacent rows the earlier key columns left equal.
    fn compare<I: Iterator<Item: Ord>>(decided: &mut [Ordering], values: impl Fn() -> I) {
        let pairs = values().zip(values().skip(1));
        for (d, (a, b)) in decided.iter_mut().zip(pairs) {
            if *d == Ordering::Equal {
                *d = a.cmp(&b);
            }
        }
    }
    let mut decided = vec![Ordering::Equal; df.height().saturating_sub(1)];
    for &k in key {
        let series = df.column(k).ok()?.as_materialized_series();
        let compared = match series.dtype() {
            DataType::String => series.str().map(|v| compare(&mut decided, || v.iter())),
            DataType::Int64 => series.i64().map(|v| compare(&mut decided, || v.iter())),
            DataType::Int32 => series.i32().map(|v| compare(&mut decided, || v.iter())),
            DataType::Boolean => series.bool().map(|v| compare(&mut decided, || v.iter())),
            DataType::Date => series
                .date()
                .map(|v| compare(&mut decided, || v.physical().iter())),
            _ => return None,
        };
        compared.ok()?;
    }
    Some(decided)
}

/// The key of row `i`, owned; a missing column reads as missing.
pub fn key_of(df: &DataFrame, i: usize, key: &[&str]) -> Vec<AnyValue<'static>> {
    key.iter()
        .map(|k| {
            df.column(k)
                .and_then(|c| c.get(i))
                .map_or(AnyValue::Null, AnyValue::into_static)
        })
        .collect()
}

/// How key `a` compares with key `b` in the order polars sorts them
/// (missing first); `None` when two values cannot be compared.
pub fn key_cmp(a: &[AnyValue], b: &[AnyValue]) -> Option<Ordering> {
    for (x, y) in a.iter().zip(b) {
        match x.partial_cmp(y)? {
            Ordering::Equal => continue,
            decided => return Some(decided),
        }
    }
    Some(Ordering::Equal)
}

/// Whether key `a` comes at or before key `b` in the order polars sorts
/// them; `false` when two values cannot be compared, so that the caller
/// sorts the whole table.
pub fn key_at_most(a: &[AnyValue], b: &[AnyValue]) -> bool {
    key_cmp(a, b).is_some_and(|o| o != Ordering::Greater)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_order_as_polars_sorts_them() {
        let df = |a: &[Option<&str>], b: &[Option<i64>]| {
            DataFrame::new_infer_height(vec![
                Column::new("a".into(), a),
                Column::new("b".into(), b),
            ])
            .unwrap()
        };
        let key = &["a", "b"];
        assert!(in_key_order(
            &df(&[None, Some("A"), Some("B")], &[Some(3), Some(2), Some(1)]),
            key
        ));
        assert!(in_key_order(
            &df(
                &[Some("a"), Some("a"), Some("b")],
                &[None, Some(1), Some(1)]
            ),
            key
        ));
        assert!(
            in_key_order(&df(&[Some("a"), Some("a")], &[Some(1), Some(1)]), key),
            "ties"
        );
        assert!(!in_key_order(
            &df(&[Some("a"), Some("a")], &[Some(2), Some(1)]),
            key
        ));
        assert!(!in_key_order(
            &df(&[Some("b"), Some("a")], &[Some(1), Some(2)]),
            key
        ));
        assert!(
            !in_key_order(&df(&[Some("a"), None], &[Some(1), Some(2)]), key),
            "missing first"
        );
        assert!(
            !in_key_order(&df(&[Some("a")], &[Some(1)]), &["c"]),
            "no such column"
        );
        let k = |a: &str, b: i64| vec![AnyValue::String(a).into_static(), AnyValue::Int64(b)];
        assert!(key_at_most(&k("a", 2), &k("b", 1)));
        assert!(key_at_most(&k("a", 1), &k("a", 1)));
        assert!(!key_at_most(&k("a", 2), &k("a", 1)));
        assert!(key_at_most(&[AnyValue::Null], &[AnyValue::String("a")]));
        assert_eq!(key_cmp(&k("a", 1), &k("a", 1)), Some(Ordering::Equal));
        assert_eq!(key_cmp(&k("a", 1), &k("a", 2)), Some(Ordering::Less));
        assert_eq!(
            adjacent_key_orders(
                &df(
                    &[Some("a"), Some("a"), Some("b")],
                    &[Some(1), Some(1), Some(0)]
                ),
                key
            ),
            Some(vec![Ordering::Equal, Ordering::Less])
        );
    }
}
