//! Text put into HTML or SVG (the coverage report, the pilotage page, the
//! API's widgets): one escaper for all of them.

/// Escapes `&`, `<`, `>`, `"` and `'`, and drops the control characters XML
/// 1.0 forbids (all below U+0020 but tab and line feed): a label read from
/// an export may hold one, and an SVG holding it does not open.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped_and_forbidden_controls_dropped() {
        assert_eq!(
            escape(r#"a & b < c > d " e ' f"#),
            "a &amp; b &lt; c &gt; d &quot; e &#39; f"
        );
        assert_eq!(escape("a\u{1}b\r<\n\tc"), "ab&lt;\n\tc");
    }
}
