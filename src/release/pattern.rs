//! The small subset of regular expressions the release's Table Schemas use
//! for their `pattern` constraints: anchors `^` `$`, literals, `.`, classes
//! `[0-9A-Z]` (with ranges and `^` negation), groups with alternation
//! `(a|b)`, and the quantifiers `?` `*` `+` `{n}` `{n,}` `{n,m}`.
//!
//! A pattern must match the whole value, as Table Schema validators do
//! (frictionless wraps it in `^…$`). Anything outside the subset is refused
//! when the pattern is compiled, so a schema cannot carry a pattern that `ij`
//! and Python's `re` would read differently; within it, matching is done by
//! the `regex` crate (already built for polars), a linear-time engine.

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Start,
    End,
    Any,
    Char(char),
    Class {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
    Group(Vec<Vec<Node>>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    regex: regex::Regex,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.source == other.source
    }
}

impl Pattern {
    pub fn compile(source: &str) -> Result<Pattern, String> {
        let chars: Vec<char> = source.chars().collect();
        let mut parser = Parser {
            chars: &chars,
            pos: 0,
        };
        // Parsed only to refuse what is outside the subset.
        parser.alternatives()?;
        if parser.pos != chars.len() {
            return Err(format!(
                "pattern {source:?}: unexpected `{}` at {}",
                chars[parser.pos], parser.pos
            ));
        }
        let regex = regex::Regex::new(&format!("^(?:{source})$"))
            .map_err(|e| format!("pattern {source:?}: {e}"))?;
        Ok(Pattern {
            source: source.to_string(),
            regex,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern matches the whole value.
    pub fn is_match(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn error(&self, what: &str) -> String {
        let source: String = self.chars.iter().collect();
        format!("pattern {source:?}: {what} at {}", self.pos)
    }

    fn alternatives(&mut self) -> Result<Vec<Vec<Node>>, String> {
        let mut alts = vec![self.sequence()?];
        while self.peek() == Some('|') {
            self.pos += 1;
            alts.push(self.sequence()?);
        }
        Ok(alts)
    }

    fn sequence(&mut self) -> Result<Vec<Node>, String> {
        let mut seq = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            seq.push(self.quantifier(atom)?);
        }
        Ok(seq)
    }

    fn atom(&mut self) -> Result<Node, String> {
        let c = self.peek().expect("called on a character");
        self.pos += 1;
        Ok(match c {
            '^' => Node::Start,
            '$' => Node::End,
            '.' => Node::Any,
            '(' => {
                if self.peek() == Some('?') {
                    return Err(self.error("group options `(?` are not supported"));
                }
                let alts = self.alternatives()?;
                if self.peek() != Some(')') {
                    return Err(self.error("unclosed group"));
                }
                self.pos += 1;
                Node::Group(alts)
            }
            '[' => self.class()?,
            '\\' => Node::Char(self.escaped()?),
            '*' | '+' | '?' | '{' | '}' | ']' => {
                return Err(self.error(&format!("unexpected `{c}`")));
            }
            c => Node::Char(c),
        })
    }

    fn escaped(&mut self) -> Result<char, String> {
        let c = self.peek().ok_or_else(|| self.error("dangling `\\`"))?;
        self.pos += 1;
        if c.is_ascii_alphanumeric() {
            // \d, \w, \s… are classes with Unicode meanings: refused rather than guessed.
            return Err(self.error(&format!("escape `\\{c}` is not supported; write a class")));
        }
        Ok(c)
    }

    fn class(&mut self) -> Result<Node, String> {
        let negated = self.peek() == Some('^');
        if negated {
            self.pos += 1;
        }
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let c = self.peek().ok_or_else(|| self.error("unclosed class"))?;
            if c == ']' && !first {
                self.pos += 1;
                break;
            }
            first = false;
            self.pos += 1;
            let lo = if c == '\\' { self.escaped()? } else { c };
            if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|&n| n != ']') {
                self.pos += 1;
                let h = self.peek().expect("checked above");
                self.pos += 1;
                let hi = if h == '\\' { self.escaped()? } else { h };
                if hi < lo {
                    return Err(self.error("reversed range"));
                }
                ranges.push((lo, hi));
            } else {
                ranges.push((lo, lo));
            }
        }
        Ok(Node::Class { ranges, negated })
    }

    fn number(&mut self) -> Result<u32, String> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits: String = self.chars[start..self.pos].iter().collect();
        digits.parse().map_err(|_| self.error("expected a number"))
    }

    fn quantifier(&mut self, atom: Node) -> Result<Node, String> {
        let (min, max) = match self.peek() {
            Some('?') => (0, Some(1)),
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('{') => {
                self.pos += 1;
                let min = self.number()?;
                let max = match self.peek() {
                    Some('}') => Some(min),
                    Some(',') => {
                        self.pos += 1;
                        if self.peek() == Some('}') {
                            None
                        } else {
                            Some(self.number()?)
                        }
                    }
                    _ => return Err(self.error("bad repetition")),
                };
                if self.peek() != Some('}') {
                    return Err(self.error("unclosed repetition"));
                }
                if max.is_some_and(|m| m < min) {
                    return Err(self.error("repetition {n,m} with m < n"));
                }
                (min, max)
            }
            _ => return Ok(atom),
        };
        self.pos += 1;
        if matches!(self.peek(), Some('?' | '+')) {
            return Err(self.error("lazy or possessive quantifiers are not supported"));
        }
        if matches!(atom, Node::Start | Node::End) {
            return Err(self.error("an anchor cannot be repeated"));
        }
        Ok(Node::Repeat {
            node: Box::new(atom),
            min,
            max,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_release_patterns_match_as_expected() {
        let cases: &[(&str, &str, bool)] = &[
            ("^[0-9A-Z]{8}$", "40025214", true),
            ("^[0-9A-Z]{8}$", "26Z13999", true),
            ("^[0-9A-Z]{8}$", "4002521", false),
            ("^[0-9A-Z]{8}$", "4002521a", false),
            ("^[0-9A-Z]{8}$", "400252140", false),
            ("^[0-9]{7}[A-Z]$", "0630003L", true),
            ("^[0-9]{7}[A-Z]$", "063003L", false),
            ("^([0-9A-Z]{7}|[0-9A-Z]{8}|[0-9A-Z]{11})$", "2500200", true),
            ("^([0-9A-Z]{7}|[0-9A-Z]{8}|[0-9A-Z]{11})$", "40025214", true),
            (
                "^([0-9A-Z]{7}|[0-9A-Z]{8}|[0-9A-Z]{11})$",
                "23830025510",
                true,
            ),
            (
                "^([0-9A-Z]{7}|[0-9A-Z]{8}|[0-9A-Z]{11})$",
                "238300255",
                false,
            ),
            ("^([0-9A-Z]{7}|[0-9A-Z]{8}|[0-9A-Z]{11})$", "", false),
            ("^[0-9]{4}(_[0-9]{4})?$", "2023", true),
            ("^[0-9]{4}(_[0-9]{4})?$", "2022_2023", true),
            ("^[0-9]{4}(_[0-9]{4})?$", "2022-2023", false),
            ("^[0-9]{4}(_[0-9]{4})?$", "2022_", false),
            ("a+b*c?", "aaab", true),
            ("a+b*c?", "b", false),
            ("[^0-9]{2,}", "ab", true),
            ("[^0-9]{2,}", "a1", false),
            ("x{1,2}", "xxx", false),
            ("L-.+", "L-0102", true),
            ("a\\|b", "a|b", true),
        ];
        for (p, v, expected) in cases {
            let pattern = Pattern::compile(p).unwrap();
            assert_eq!(pattern.is_match(v), *expected, "{p} on {v:?}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_check() {
        for p in ["\\d{4}", "(?i)abc", "[a-", "(ab", "a{2", "a*?", "a{3,1}"] {
            assert!(Pattern::compile(p).is_err(), "{p}");
        }
    }
}
