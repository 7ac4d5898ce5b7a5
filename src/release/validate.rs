//! Checks a release's CSV files against their own Table Schemas, inside the
//! tool, before the release is moved into place: the bytes (UTF-8, no BOM,
//! `\n` line ends), the header (the schema's fields, in order), every cell
//! (type, required, pattern, enum, minimum, maximum) and the uniqueness of the
//! primary key. It implements the parts of Table Schema the release uses, the
//! way frictionless (the validator behind Validata) reads them; the tests also
//! run frictionless itself on the result.
//!
//! Every problem names the file, the line, the column, the value and the
//! check that failed. This module reads; `build` decides what to do. A CSV
//! this process wrote from typed rows was checked on those rows as it was
//! written (`typed`): it is read back only when that check had a doubt.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use crate::output::page_cache::DropBehind;
use crate::release::pattern::Pattern;
use crate::release::schema::{
    compile, field_of, Field, FieldType, TableSchema, COVERAGE_TABLE, DICTIONARY, TABLES,
};

mod typed;
pub use typed::{Checks, TypedRows};

/// How many problems are kept per file (the count goes on).
const MAX_PROBLEMS: usize = 20;

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, relative to the release folder.
    pub file: String,
    /// 1-based; the header is line 1; 0 for the whole file.
    pub line: u64,
    /// 1-based column and its name, when the problem is in a cell or a column.
    pub column: Option<(usize, String)>,
    /// The name of the check: `encoding`, `header`, `type`, `required`,
    /// `pattern`, `enum`, `minimum`, `maximum`, `primary-key`, `row-width`.
    pub check: &'static str,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some((index, name)) = &self.column {
            write!(f, ":{index} ({name})")?;
        }
        write!(f, ": check `{}` failed: {}", self.check, self.message)
    }
}

/// What validating one CSV found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub rows: usize,
    /// The first problems (at most `MAX_PROBLEMS`).
    pub problems: Vec<Problem>,
    /// Every problem, counted.
    pub problem_count: usize,
}

impl Outcome {
    fn push(&mut self, p: Problem) {
        self.problem_count += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(p);
        }
    }

    /// The rows and problems of `other`, after this outcome's.
    fn append(&mut self, other: Outcome) {
        self.rows += other.rows;
        self.problem_count += other.problem_count;
        let room = MAX_PROBLEMS.saturating_sub(self.problems.len());
        self.problems.extend(other.problems.into_iter().take(room));
    }
}

/// A field ready to check cells: its pattern compiled.
struct Checker<'a> {
    field: &'a Field,
    pattern: Option<Pattern>,
    /// The last value that passed: a cell's checks depend on its value
    /// alone, and a table sorted by its key repeats its key columns' values
    /// row after row (issue 13: checks were a quarter of a release's time).
    last_passed: Option<String>,
}

impl Checker<'_> {
    /// Checks one cell (`check_cell`), skipping a value that just passed.
    fn check(&mut self, value: &str) -> Result<(), (&'static str, String)> {
        if self.last_passed.as_deref() == Some(value) {
            return Ok(());
        }
        check_cell(self.field, &self.pattern, value)?;
        let last = self.last_passed.get_or_insert_with(String::new);
        last.clear();
        last.push_str(value);
        Ok(())
    }
}

/// Validates the CSV at `path` (named `file` in messages) against `schema`.
/// `separator` is the release's CSV separator. The file is streamed rather
/// than held (a release's table can be larger than the memory a run should
/// take, issue 13), and read once: its bytes are checked as its rows are
/// read. It is read again only when its primary keys are not in ascending
/// order (see `Keys`).
pub fn validate_csv(
    path: &Path,
    file: &str,
    schema: &TableSchema,
    separator: u8,
) -> Result<Outcome, String> {
    let read_error = |e: std::io::Error| format!("{}: cannot read: {e}", path.display());
    // Read once, from start to end: its pages are let go behind the
    // reader (a ×100 release's tables are gigabytes).
    let open = || {
        std::fs::File::open(path)
            .map(DropBehind::new)
            .map_err(read_error)
    };
    let mut encoding = Encoding::default();
    let mut source = Checked {
        inner: open()?,
        encoding: &mut encoding,
    };
    let in_order = check_rows(&mut source, file, schema, separator, Keys::Ascending)?;
    // The bytes after the last row read (a header refused, a key out of
    // order) are checked too.
    std::io::copy(&mut source, &mut std::io::sink()).map_err(read_error)?;
    let mut out = Outcome::default();
    if !encoding.finish(file, &mut out) {
        return Ok(out);
    }
    let rows = match in_order {
        Some(rows) => rows,
        None => check_rows_again(open, file, schema, separator)?,
    };
    out.append(rows);
    Ok(out)
}

/// Validates CSV bytes against `schema` (see `validate_csv`): the bytes,
/// the header, then each row's width, cells and primary key.
pub fn validate_bytes(
    bytes: &[u8],
    file: &str,
    schema: &TableSchema,
    separator: u8,
) -> Result<Outcome, String> {
    let mut encoding = Encoding::default();
    encoding.feed(bytes);
    let mut out = Outcome::default();
    if !encoding.finish(file, &mut out) {
        return Ok(out);
    }
    let rows = match check_rows(bytes, file, schema, separator, Keys::Ascending)? {
        Some(rows) => rows,
        None => check_rows_again(|| Ok(bytes), file, schema, separator)?,
    };
    out.append(rows);
    Ok(out)
}

/// Reads through to `inner`, the encoding checks fed with every byte read.
struct Checked<'e, R> {
    inner: R,
    encoding: &'e mut Encoding,
}

impl<R: std::io::Read> std::io::Read for Checked<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.encoding.feed(&buf[..n]);
        Ok(n)
    }
}

/// How rows' primary keys are compared.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keys {
    /// Each with the one before only ([`key_order`]): while every key is
    /// above the previous one, none can repeat, and nothing is kept. A
    /// release's tables are written in their key's order, so this is the
    /// only pass they need (issue 13: a set of every row's key hash was a
    /// tenth of the checks' time, and their memory). A key that is not
    /// above the previous one stops the check, for the rows to be read
    /// again with [`Keys::Hashed`] keys.
    Ascending,
    /// By a 64-bit hash: nothing allocated per row. A hash seen twice
    /// stops the check, for the rows to be read again [`Keys::Exact`]ly
    /// (one key repeated, or two whose hashes collide: the message needs
    /// the first line of the key in any case).
    Hashed,
    /// By their bytes, each with the line it first appeared on.
    Exact,
}

/// [`check_rows`] of rows whose keys were not in ascending order: with
/// hashed keys, then, if a hash repeats, exact ones, which always give an
/// outcome.
fn check_rows_again<R: std::io::Read>(
    open: impl Fn() -> Result<R, String>,
    file: &str,
    schema: &TableSchema,
    separator: u8,
) -> Result<Outcome, String> {
    if let Some(rows) = check_rows(open()?, file, schema, separator, Keys::Hashed)? {
        return Ok(rows);
    }
    let checked = check_rows(open()?, file, schema, separator, Keys::Exact)?;
    Ok(checked.expect("exact keys decide every row"))
}

/// The header, then each row's width, cells and primary key. `None` when
/// the keys (`keys`) cannot decide: not ascending, or a hash seen twice;
/// the rows are then to be checked again with the next way of comparing
/// keys. Bytes that are not UTF-8 give problems here that the caller
/// does not report (the encoding's own say it).
fn check_rows(
    bytes: impl std::io::Read,
    file: &str,
    schema: &TableSchema,
    separator: u8,
    keys: Keys,
) -> Result<Option<Outcome>, String> {
    let mut out = Outcome::default();
    let mut checkers: Vec<Checker> = schema
        .fields
        .iter()
        .map(|field| {
            Ok(Checker {
                field,
                pattern: compile(field)?,
                last_passed: None,
            })
        })
        .collect::<Result<_, String>>()?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(bytes);
    let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
    if let Err(p) = check_header(reader.records().next(), &names, file) {
        out.push(p);
        return Ok(Some(out));
    }
    let mut keys = PrimaryKeys::new(schema, &names, file, keys)?;
    // One record, refilled row after row.
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                out.push(problem(file, line, None, "row-width", e.to_string()));
                continue;
            }
        }
        out.rows += 1;
        let line = record.position().map_or(out.rows as u64 + 1, |p| p.line());
        if record.len() != names.len() {
            let message = format!("{} cells; the header has {}", record.len(), names.len());
            out.push(problem(file, line, None, "row-width", message));
            continue;
        }
        for (i, (value, checker)) in record.iter().zip(&mut checkers).enumerate() {
            if let Err((check, message)) = checker.check(value) {
                let column = Some((i + 1, checker.field.name.clone()));
                out.push(problem(file, line, column, check, message));
            }
        }
        match keys.check(&record, line) {
            KeyCheck::New => {}
            KeyCheck::Repeated(message) => {
                out.push(problem(file, line, None, "primary-key", message))
            }
            KeyCheck::Undecided => return Ok(None),
        }
    }
    Ok(Some(out))
}

fn problem(
    file: &str,
    line: u64,
    column: Option<(usize, String)>,
    check: &'static str,
    message: String,
) -> Problem {
    Problem {
        file: file.to_string(),
        line,
        column,
        check,
        message,
    }
}

/// The bytes themselves: UTF-8 without BOM, `\n` line ends, a last `\n`,
/// checked as the bytes come, in chunks of any size.
#[derive(Default)]
struct Encoding {
    /// The bytes seen so far.
    offset: usize,
    /// The first three bytes (the BOM is looked for there).
    head: Vec<u8>,
    /// The end of the last chunk when it cut a character in two.
    pending: Vec<u8>,
    /// The first invalid sequence, as `std::str::Utf8Error` says it.
    not_utf8: Option<String>,
    /// `\n` seen before the first `\r`, and the line of that `\r`.
    newlines: u64,
    first_cr: Option<u64>,
    last: Option<u8>,
}

impl Encoding {
    fn feed(&mut self, chunk: &[u8]) {
        if chunk.is_empty() {
            return;
        }
        if self.head.len() < 3 {
            let n = (3 - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..n]);
        }
        self.check_utf8(chunk);
        if self.first_cr.is_none() {
            let newlines = |bytes: &[u8]| memchr::memchr_iter(b'\n', bytes).count() as u64;
            match memchr::memchr(b'\r', chunk) {
                Some(i) => self.first_cr = Some(self.newlines + newlines(&chunk[..i]) + 1),
                None => self.newlines += newlines(chunk),
            }
        }
        self.last = chunk.last().copied();
        self.offset += chunk.len();
    }

    /// UTF-8, across chunks: a character cut by the chunk's end is kept
    /// for the next one.
    fn check_utf8(&mut self, chunk: &[u8]) {
        if self.not_utf8.is_some() {
            return;
        }
        let start = self.offset - self.pending.len();
        let joined;
        let bytes = if self.pending.is_empty() {
            chunk
        } else {
            joined = [std::mem::take(&mut self.pending).as_slice(), chunk].concat();
            &joined
        };
        if let Err(e) = std::str::from_utf8(bytes) {
            let at = start + e.valid_up_to();
            match e.error_len() {
                Some(n) => {
                    self.not_utf8 = Some(format!(
                        "invalid utf-8 sequence of {n} bytes from index {at}"
                    ))
                }
                None => self.pending = bytes[e.valid_up_to()..].to_vec(),
            }
        }
    }

    /// Records the problems found; `false` when the bytes are not UTF-8 (no
    /// cell can be read then).
    fn finish(self, file: &str, out: &mut Outcome) -> bool {
        if self.head.starts_with(&[0xEF, 0xBB, 0xBF]) {
            let message = "the file starts with a BOM".into();
            out.push(problem(file, 0, None, "encoding", message));
        }
        let start = self.offset - self.pending.len();
        let not_utf8 = self.not_utf8.or_else(|| {
            (!self.pending.is_empty())
                .then(|| format!("incomplete utf-8 byte sequence from index {start}"))
        });
        if let Some(e) = not_utf8 {
            out.push(problem(
                file,
                0,
                None,
                "encoding",
                format!("not UTF-8: {e}"),
            ));
            return false;
        }
        if let Some(line) = self.first_cr {
            let message = "a `\\r`: line ends must be `\\n`".into();
            out.push(problem(file, line, None, "encoding", message));
        }
        if self.last.is_some_and(|b| b != b'\n') {
            let message = "the last line does not end with `\\n`".into();
            out.push(problem(file, 0, None, "encoding", message));
        }
        true
    }
}

/// The header is the schema's fields, in order: else no row is checked
/// (every cell would be read against the wrong field).
fn check_header(
    header: Option<csv::Result<csv::StringRecord>>,
    names: &[&str],
    file: &str,
) -> Result<(), Problem> {
    let header = match header {
        None => return Err(problem(file, 1, None, "header", "the file is empty".into())),
        Some(Err(e)) => return Err(problem(file, 1, None, "header", e.to_string())),
        Some(Ok(header)) => header,
    };
    let found: Vec<&str> = header.iter().collect();
    if found != names {
        let message = format!(
            "the header is `{}`; the schema's fields are `{}`",
            found.join(","),
            names.join(",")
        );
        return Err(problem(file, 1, None, "header", message));
    }
    Ok(())
}

/// The primary key's values seen so far, to report a repeated one with the
/// line it first appeared on.
struct PrimaryKeys<'s> {
    names: &'s [String],
    /// The key's columns (none: no key to check).
    columns: Vec<usize>,
    seen: KeysSeen,
    buffer: Vec<u8>,
}

/// The keys of the rows read so far. Each key is one byte string (each
/// field prefixed by its length, so no two keys can join the same), not a
/// vector of strings, hashed with a fixed-seed foldhash (nothing here needs
/// SipHash's defence against chosen keys, and it was a tenth of the checks'
/// time).
enum KeysSeen {
    /// The previous row's key, one value after the other (`ends`: where
    /// each value ends in `values`), and which key columns hold integers.
    Previous {
        values: Vec<u8>,
        ends: Vec<usize>,
        integers: Vec<bool>,
    },
    /// Their hashes: a key kept per row was a fifth of a release's checks
    /// (issue 13).
    Hashes(HashSet<u64, foldhash::fast::FixedState>),
    /// The keys, each with the line it first appeared on.
    Keys(HashMap<Box<[u8]>, u64, foldhash::fast::FixedState>),
}

/// What a row's key is, beside the keys before it.
enum KeyCheck {
    New,
    /// Already seen: the message says where.
    Repeated(String),
    /// Not above the previous key (with ascending keys), or its hash
    /// was seen (with hashed keys): the rows are to be read again.
    Undecided,
}

impl<'s> PrimaryKeys<'s> {
    fn new(
        schema: &'s TableSchema,
        names: &[&str],
        file: &str,
        keys: Keys,
    ) -> Result<Self, String> {
        let columns = schema
            .primary_key
            .iter()
            .map(|k| {
                names.iter().position(|n| n == k).ok_or_else(|| {
                    format!("{file}: the primary key `{k}` is not a field of the schema")
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(PrimaryKeys {
            names: &schema.primary_key,
            columns,
            seen: match keys {
                Keys::Ascending => KeysSeen::Previous {
                    values: Vec::new(),
                    ends: Vec::new(),
                    integers: schema
                        .primary_key
                        .iter()
                        .map(|k| {
                            schema
                                .fields
                                .iter()
                                .any(|f| &f.name == k && f.kind == FieldType::Integer)
                        })
                        .collect(),
                },
                Keys::Hashed => KeysSeen::Hashes(HashSet::default()),
                Keys::Exact => KeysSeen::Keys(HashMap::default()),
            },
            buffer: Vec::new(),
        })
    }

    /// Whether the row's key was seen before.
    fn check(&mut self, record: &csv::StringRecord, line: u64) -> KeyCheck {
        if self.columns.is_empty() {
            return KeyCheck::New;
        }
        if let KeysSeen::Previous {
            values,
            ends,
            integers,
        } = &mut self.seen
        {
            let above = ends.is_empty() || {
                let previous = ends.iter().scan(0, |start, &end| {
                    let value = &values[*start..end];
                    *start = end;
                    Some(value)
                });
                let current = self.columns.iter().map(|&i| record[i].as_bytes());
                key_order(integers, previous, current) == std::cmp::Ordering::Less
            };
            if !above {
                return KeyCheck::Undecided;
            }
            values.clear();
            ends.clear();
            for &i in &self.columns {
                values.extend_from_slice(record[i].as_bytes());
                ends.push(values.len());
            }
            return KeyCheck::New;
        }
        self.buffer.clear();
        for &i in &self.columns {
            let value = record[i].as_bytes();
            self.buffer.extend_from_slice(&value.len().to_le_bytes());
            self.buffer.extend_from_slice(value);
        }
        match &mut self.seen {
            KeysSeen::Hashes(hashes) => {
                use std::hash::BuildHasher as _;
                let hash = foldhash::fast::FixedState::default().hash_one(self.buffer.as_slice());
                if hashes.insert(hash) {
                    KeyCheck::New
                } else {
                    KeyCheck::Undecided
                }
            }
            KeysSeen::Keys(keys) => {
                if let Some(first) = keys.get(self.buffer.as_slice()) {
                    let values: Vec<&str> = self.columns.iter().map(|&i| &record[i]).collect();
                    return KeyCheck::Repeated(format!(
                        "({}) = ({}) is already on line {first}",
                        self.names.join(", "),
                        values.join(", ")
                    ));
                }
                keys.insert(self.buffer.as_slice().into(), line);
                KeyCheck::New
            }
            KeysSeen::Previous { .. } => unreachable!("decided above"),
        }
    }
}

/// The order in which keys are checked to be ascending: value by value, an
/// integer column's by number (an empty cell first, then integers, then
/// any other text by its bytes), any other column's by its bytes (ISO
/// dates, codes, the empty cell first). A total order, so keys strictly
/// ascending in it are distinct. Two integers written differently but
/// equal (`1`, `01`) compare equal: the rows are then read again, and
/// their keys compared as text, as before.
fn key_order<'a>(
    integers: &[bool],
    a: impl Iterator<Item = &'a [u8]>,
    b: impl Iterator<Item = &'a [u8]>,
) -> std::cmp::Ordering {
    /// (0) empty, (1, n) an integer of up to 18 digits, (2) anything else.
    fn rank(v: &[u8]) -> (u8, i64) {
        let digits = v.strip_prefix(b"-").unwrap_or(v);
        if v.is_empty() {
            (0, 0)
        } else if !digits.is_empty() && digits.len() <= 18 && digits.iter().all(u8::is_ascii_digit)
        {
            let n = digits
                .iter()
                .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
            (1, if digits.len() < v.len() { -n } else { n })
        } else {
            (2, 0)
        }
    }
    for ((&integer, x), y) in integers.iter().zip(a).zip(b) {
        let order = if integer {
            let (rx, ry) = (rank(x), rank(y));
            rx.cmp(&ry).then_with(|| match rx.0 {
                2 => x.cmp(y),
                _ => std::cmp::Ordering::Equal,
            })
        } else {
            x.cmp(y)
        };
        if order != std::cmp::Ordering::Equal {
            return order;
        }
    }
    std::cmp::Ordering::Equal
}

/// Checks one cell against its field. `Err((check, message))` on a problem.
pub fn check_cell(
    field: &Field,
    pattern: &Option<Pattern>,
    value: &str,
) -> Result<(), (&'static str, String)> {
    let c = &field.constraints;
    if value.is_empty() {
        // "" is the release's only missing value.
        if c.required {
            return Err((
                "required",
                "the value is missing; the column is required".into(),
            ));
        }
        return Ok(());
    }
    let number = check_type(field, value)?;
    if let Some(p) = pattern {
        if !p.is_match(value) {
            return Err((
                "pattern",
                format!("{value:?} does not match {}", p.as_str()),
            ));
        }
    }
    if let Some(values) = &c.values {
        if !values.iter().any(|v| v == value) {
            return Err((
                "enum",
                format!("{value:?} is not one of {}", values.join(", ")),
            ));
        }
    }
    match number {
        Some(x) => check_range(c.minimum, c.maximum, value, x),
        None => Ok(()),
    }
}

/// A filled cell read as its field's type (the first check, as in
/// frictionless); a number's value, for the range checks.
fn check_type(field: &Field, value: &str) -> Result<Option<f64>, (&'static str, String)> {
    match field.kind {
        FieldType::String => Ok(None),
        FieldType::Integer => {
            let digits = value.strip_prefix('-').unwrap_or(value);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(("type", format!("{value:?} is not an integer")));
            }
            // Up to 18 digits fit an i64 exactly: no float parsing then.
            if digits.len() <= 18 {
                let n = digits
                    .bytes()
                    .fold(0i64, |n, b| n * 10 + i64::from(b - b'0'));
                let n = if digits.len() < value.len() { -n } else { n };
                return Ok(Some(n as f64));
            }
            Ok(Some(value.parse::<f64>().expect("digits parse")))
        }
        FieldType::Number => parse_number(value).map(Some).ok_or_else(|| {
            (
                "type",
                format!("{value:?} is not a number (digits, `.` as decimal point)"),
            )
        }),
        FieldType::Boolean => {
            let trues = field.true_values.as_deref().unwrap_or_default();
            let falses = field.false_values.as_deref().unwrap_or_default();
            if !trues.iter().chain(falses).any(|v| v == value) {
                return Err((
                    "type",
                    format!("{value:?} is not a boolean (true or false)"),
                ));
            }
            Ok(None)
        }
        FieldType::Date => {
            let ok =
                value.len() == 10 && chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok();
            if !ok {
                return Err(("type", format!("{value:?} is not a date (AAAA-MM-JJ)")));
            }
            Ok(None)
        }
    }
}

/// A number against the field's `minimum` and `maximum`.
fn check_range(
    minimum: Option<i64>,
    maximum: Option<i64>,
    value: &str,
    x: f64,
) -> Result<(), (&'static str, String)> {
    if let Some(min) = minimum {
        if x < min as f64 {
            return Err(("minimum", format!("{value} is below the minimum {min}")));
        }
    }
    if let Some(max) = maximum {
        if x > max as f64 {
            return Err(("maximum", format!("{value} is above the maximum {max}")));
        }
    }
    Ok(())
}

/// A decimal number written plainly: optional `-`, digits, optional `.`
/// and digits, optional exponent. Never `NaN`, `inf` or a decimal comma.
fn parse_number(value: &str) -> Option<f64> {
    let body = value.strip_prefix('-').unwrap_or(value);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (mantissa, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return None;
    }
    if let Some(e) = exponent {
        if !digits(e.strip_prefix(['-', '+']).unwrap_or(e)) {
            return None;
        }
    }
    value.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Checks the dictionary itself: unique names, examples valid against their
/// own constraints, patterns the validator understands. Run by the tests and
/// before every release.
pub fn check_dictionary() -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for d in DICTIONARY {
        if !seen.insert(d.name) {
            return Err(format!("column `{}` is described twice", d.name));
        }
    }
    let overrides = TABLES
        .iter()
        .chain([&COVERAGE_TABLE])
        .flat_map(|t| t.overrides);
    for d in DICTIONARY.iter().chain(overrides) {
        if d.description.trim().is_empty() || d.example.is_empty() {
            return Err(format!(
                "column `{}` lacks a description or an example",
                d.name
            ));
        }
        let field = field_of(d, false);
        check_cell(&field, &compile(&field)?, d.example)
            .map_err(|(check, m)| format!("the example of `{}` fails `{check}`: {m}", d.name))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::schema::{table_schema, SourceColumn};

    #[test]
    fn dictionary_is_consistent() {
        check_dictionary().unwrap();
    }

    fn schema() -> TableSchema {
        let cols: Vec<SourceColumn> = [
            ("millesime", FieldType::String),
            ("filiere", FieldType::String),
            ("code_certification", FieldType::String),
            ("nb_annee_term", FieldType::Integer),
            ("taux_en_emploi_6_mois", FieldType::Integer),
            ("salaire_12_mois_q1", FieldType::Number),
            ("formation_fermee", FieldType::Boolean),
            ("date_fermeture", FieldType::Date),
        ]
        .iter()
        .map(|(n, k)| SourceColumn {
            name: n.to_string(),
            kind: Some(*k),
        })
        .collect();
        let certifications = TABLES
            .iter()
            .find(|t| t.source == "certifications")
            .unwrap();
        table_schema(certifications, "c", "C", &cols, "1").unwrap()
    }

    const HEADER: &str = "millesime,filiere,code_certification,nb_annee_term,taux_en_emploi_6_mois,salaire_12_mois_q1,formation_fermee,date_fermeture\n";

    fn problems(body: &str) -> Vec<String> {
        let text = format!("{HEADER}{body}");
        let out = validate_bytes(text.as_bytes(), "c.csv", &schema(), b',').unwrap();
        out.problems.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn a_valid_file_passes() {
        assert!(problems("2023,pro,23830025510,53,68,1650.5,false,2024-08-31\n2022_2023,apprentissage,40025214,12,,,true,\n").is_empty());
    }

    /// A repeated key is reported with the line it first appeared on, and
    /// every other problem of the file as well, whether the file is read
    /// from disk or from memory (keys are first compared by hash, then the
    /// rows read again with exact keys).
    #[test]
    fn a_repeated_key_is_reported_with_its_first_line_and_the_rest() {
        let body = "2023,pro,40025214,1,1,,true,\n\
                    2023,pro,40025214,1,x,,true,\n\
                    2023,pro,23830025510,1,1,,true,\n\
                    2023,pro,40025214,2,2,,true,\n";
        let text = format!("{HEADER}{body}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.csv");
        std::fs::write(&path, &text).unwrap();
        let from_disk = validate_csv(&path, "c.csv", &schema(), b',').unwrap();
        let from_memory = validate_bytes(text.as_bytes(), "c.csv", &schema(), b',').unwrap();
        for out in [from_disk, from_memory] {
            let found: Vec<String> = out.problems.iter().map(|p| p.to_string()).collect();
            assert_eq!(out.problem_count, 3, "{found:?}");
            assert!(found[0].starts_with("c.csv:3:5 (taux_en_emploi_6_mois): check `type` failed"));
            assert!(found[1].starts_with("c.csv:3: check `primary-key` failed: "));
            assert!(found[1].ends_with("is already on line 2"), "{found:?}");
            assert!(found[2].starts_with("c.csv:5: check `primary-key` failed: "));
            assert!(found[2].ends_with("is already on line 2"), "{found:?}");
        }
    }

    /// Keys in ascending order are checked with the previous row's only;
    /// a repeated key, adjacent in a sorted file or far from its first in
    /// an unsorted one, is found either way, with its first line.
    #[test]
    fn keys_in_order_or_not_give_the_same_problems() {
        let sorted = "2022_2023,apprentissage,40025214,1,1,,true,\n\
                      2023,apprentissage,40025214,1,1,,true,\n\
                      2023,pro,23830025510,1,1,,true,\n\
                      2023,pro,40025214,1,1,,true,\n";
        assert!(problems(sorted).is_empty(), "{:?}", problems(sorted));
        let unsorted = "2023,pro,40025214,1,1,,true,\n\
                        2022_2023,apprentissage,40025214,1,1,,true,\n";
        assert!(problems(unsorted).is_empty(), "{:?}", problems(unsorted));
        let adjacent = "2023,pro,23830025510,1,1,,true,\n\
                        2023,pro,40025214,1,1,,true,\n\
                        2023,pro,40025214,2,x,,true,\n";
        let found = problems(adjacent);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("c.csv:4:5 (taux_en_emploi_6_mois): check `type`"));
        assert!(found[1].starts_with("c.csv:4: check `primary-key` failed"));
        assert!(found[1].ends_with("is already on line 3"), "{found:?}");
    }

    /// Read from disk in one pass (its bytes checked as its rows are read)
    /// or from memory, a file gives the same problems, bytes after a
    /// refused header or a key out of order included.
    #[test]
    fn a_file_read_once_gives_the_problems_of_its_bytes() {
        let row = "2023,pro,40025214,1,1,,true,\n";
        let texts: Vec<Vec<u8>> = vec![
            format!("{HEADER}{row}").into_bytes(),
            [format!("x,{HEADER}{row}").as_bytes(), b"\xe9\n"].concat(),
            format!("x,{HEADER}{row}2023,pro,1\r\n").into_bytes(),
            [format!("{HEADER}{row}{row}").as_bytes(), b"a\r\n\xe9"].concat(),
            format!("\u{feff}{HEADER}{row}").into_bytes(),
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.csv");
        for text in texts {
            std::fs::write(&path, &text).unwrap();
            let from_disk = validate_csv(&path, "c.csv", &schema(), b',').unwrap();
            let from_memory = validate_bytes(&text, "c.csv", &schema(), b',').unwrap();
            assert_eq!(from_disk.problems, from_memory.problems, "{text:?}");
            assert_eq!(from_disk.rows, from_memory.rows);
            assert_eq!(from_disk.problem_count, from_memory.problem_count);
        }
    }

    /// The ascending order: integers by value, the empty cell first, other
    /// text by bytes after the integers; other columns by bytes.
    #[test]
    fn the_key_order_reads_integers_as_numbers() {
        use std::cmp::Ordering::*;
        let order = |integers: &[bool], a: &[&str], b: &[&str]| {
            let bytes = |k: &[&str]| k.iter().map(|v| v.as_bytes().to_vec()).collect::<Vec<_>>();
            let (a, b) = (bytes(a), bytes(b));
            key_order(
                integers,
                a.iter().map(Vec::as_slice),
                b.iter().map(Vec::as_slice),
            )
        };
        assert_eq!(order(&[true], &["9"], &["10"]), Less);
        assert_eq!(order(&[false], &["9"], &["10"]), Greater);
        assert_eq!(order(&[true], &["-3"], &["2"]), Less);
        assert_eq!(order(&[true], &[""], &["-3"]), Less);
        assert_eq!(order(&[true], &["12"], &["x"]), Less);
        assert_eq!(order(&[true], &["1"], &["01"]), Equal, "read again");
        assert_eq!(order(&[false, true], &["a", "10"], &["a", "9"]), Greater);
        assert_eq!(order(&[false, true], &["a", "10"], &["b", "9"]), Less);
        assert_eq!(order(&[false], &[""], &["a"]), Less);
    }

    /// A value that passed is not checked again on the next rows; one that
    /// failed is, and an empty cell is never taken for a value that passed.
    #[test]
    fn repeated_values_are_checked_as_the_first() {
        let bad =
            problems("2023,pro,23830025510,53,abc,,false,\n2023,pro,23830025511,53,abc,,false,\n");
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert!(
            bad.iter().all(|p| p.contains("check `type` failed")),
            "{bad:?}"
        );
        let missing = problems("2023,pro,23830025510,53,,,false,\n,pro,23830025511,53,,,false,\n");
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert!(
            missing[0].contains(":3:1 (millesime): check `required` failed"),
            "{missing:?}"
        );
    }

    #[test]
    fn each_check_names_file_line_column_and_check() {
        let cases = [
            (
                "2023-2024,pro,40025214,1,1,,true,\n",
                "c.csv:2:1 (millesime): check `pattern` failed",
            ),
            (
                "2023,voie,40025214,1,1,,true,\n",
                "c.csv:2:2 (filiere): check `enum` failed",
            ),
            (
                "2023,pro,,1,1,,true,\n",
                "c.csv:2:3 (code_certification): check `required` failed",
            ),
            (
                "2023,pro,40025214,nd,1,,true,\n",
                "c.csv:2:4 (nb_annee_term): check `type` failed",
            ),
            (
                "2023,pro,40025214,-3,1,,true,\n",
                "c.csv:2:4 (nb_annee_term): check `minimum` failed",
            ),
            (
                "2023,pro,40025214,1,120,,true,\n",
                "c.csv:2:5 (taux_en_emploi_6_mois): check `maximum` failed",
            ),
            (
                "2023,pro,40025214,1,1,NaN,true,\n",
                "c.csv:2:6 (salaire_12_mois_q1): check `type` failed",
            ),
            (
                "2023,pro,40025214,1,1,\"1650,5\",true,\n",
                "c.csv:2:6 (salaire_12_mois_q1): check `type` failed",
            ),
            (
                "2023,pro,40025214,1,1,,oui,\n",
                "c.csv:2:7 (formation_fermee): check `type` failed",
            ),
            (
                "2023,pro,40025214,1,1,,true,31/08/2024\n",
                "c.csv:2:8 (date_fermeture): check `type` failed",
            ),
            (
                "2023,pro,40025214,1,1,,true\n",
                "c.csv:2: check `row-width` failed",
            ),
            (
                "2023,pro,40025214,1,1,,true,\n2023,pro,40025214,2,2,,true,\n",
                "c.csv:3: check `primary-key` failed",
            ),
        ];
        for (body, expected) in cases {
            let found = problems(body);
            assert!(
                found.iter().any(|p| p.starts_with(expected)),
                "{body}: {found:?}"
            );
        }
    }

    /// The bytes' checks say the same whether the file comes in one piece
    /// or cut anywhere, a character cut in two included.
    #[test]
    fn the_bytes_checks_do_not_depend_on_how_the_file_is_cut() {
        let texts: [&[u8]; 6] = [
            "a,é\nb,c\n".as_bytes(),
            "\u{feff}a,é\r\nb,€\n".as_bytes(),
            "a,b\nc,d".as_bytes(),
            b"a,\xe9t\xe9\nb,c\n",
            b"a,b\nc,\xe2\x82",
            b"",
        ];
        let whole = |bytes: &[u8]| {
            let mut e = Encoding::default();
            e.feed(bytes);
            let mut out = Outcome::default();
            let ok = e.finish("f.csv", &mut out);
            (ok, out.problems)
        };
        for text in texts {
            let expected = whole(text);
            for size in 1..=4 {
                let mut e = Encoding::default();
                for chunk in text.chunks(size) {
                    e.feed(chunk);
                }
                let mut out = Outcome::default();
                let ok = e.finish("f.csv", &mut out);
                assert_eq!((ok, out.problems), expected, "{text:?} in chunks of {size}");
            }
            // And as std says it, for the text in one piece.
            if let Err(e) = std::str::from_utf8(text) {
                assert_eq!(
                    expected.1.last().unwrap().message,
                    format!("not UTF-8: {e}")
                );
            }
        }
        let (ok, problems) = whole("\u{feff}a\r\nb".as_bytes());
        let lines: Vec<_> = problems
            .iter()
            .map(|p| (p.line, p.message.as_str()))
            .collect();
        assert!(ok);
        assert_eq!(
            lines,
            [
                (0, "the file starts with a BOM"),
                (1, "a `\\r`: line ends must be `\\n`"),
                (0, "the last line does not end with `\\n`")
            ]
        );
    }

    #[test]
    fn bytes_rules() {
        let s = schema();
        let text = format!("\u{feff}{HEADER}2023,pro,40025214,1,1,,true,\r\n");
        let out = validate_bytes(text.as_bytes(), "c.csv", &s, b',').unwrap();
        let checks: Vec<_> = out.problems.iter().map(|p| p.check).collect();
        assert!(checks.contains(&"encoding"), "{:?}", out.problems);
        assert_eq!(
            out.problems
                .iter()
                .filter(|p| p.check == "encoding")
                .count(),
            2,
            "BOM and CR: {:?}",
            out.problems
        );
        let out = validate_bytes(HEADER.replace(',', ";").as_bytes(), "c.csv", &s, b';').unwrap();
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let out = validate_bytes(HEADER.as_bytes(), "c.csv", &s, b';').unwrap();
        assert_eq!(out.problems[0].check, "header");
    }

    #[test]
    fn numbers_are_written_plainly() {
        for ok in ["0", "1650.0", "-2.5", "1e3", "1.5E-2"] {
            assert!(parse_number(ok).is_some(), "{ok}");
        }
        for bad in ["NaN", "inf", "1,5", ".5", "5.", "+1", "1e", "", "-"] {
            assert!(parse_number(bad).is_none(), "{bad}");
        }
    }
}
