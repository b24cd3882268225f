//! Writing YAML text: the two writers (`hopsim import`'s export and `hopsim compile`'s
//! plan) share how a scalar is quoted and how a multi-line text becomes a block.

use std::fmt::Write;

/// A YAML scalar, plain when that reads back as the same string, double-quoted otherwise
/// (YAML 1.1 booleans and nulls, numbers, indicators, `: ` and ` #` inside).
pub(crate) fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./: ".contains(c))
        && !s.starts_with(['-', ':', '.', ' '])
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && !s.contains(" #")
        && s.parse::<f64>().is_err()
        && !matches!(
            s,
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~"
        );
    if plain {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// `KEY: TEXT` at `ind` as a block scalar (with the chomping indicator that keeps its
/// trailing newlines), or JSON-quoted when a block cannot hold it (a first line that
/// starts with a space, a line that starts with a tab, a CR anywhere). Tabs inside a line
/// (an /etc/hosts) stay as they are.
pub(crate) fn block(out: &mut String, ind: &str, key: &str, text: &str) {
    let first = text.lines().next().unwrap_or("");
    if text.is_empty()
        || first.starts_with(' ')
        || text.lines().any(|l| l.starts_with('\t'))
        || text.contains('\r')
    {
        let _ = writeln!(
            out,
            "{ind}{key}: {}",
            serde_json::to_string(text).unwrap_or_default()
        );
        return;
    }
    let chomp = if !text.ends_with('\n') {
        "-"
    } else if text.ends_with("\n\n") {
        "+"
    } else {
        ""
    };
    let _ = writeln!(out, "{ind}{key}: |{chomp}");
    for l in text.split_inclusive('\n') {
        let l = l.trim_end_matches('\n');
        if !l.is_empty() {
            out.push_str(ind);
            out.push_str("  ");
            out.push_str(l);
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_read_back_as_strings() {
        assert_eq!(scalar("10.0.0.1/24"), "10.0.0.1/24");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("1.5"), "\"1.5\"");
        assert_eq!(scalar("a: b"), "\"a: b\"");
        assert_eq!(scalar(""), "\"\"");
    }

    #[test]
    fn blocks_keep_their_trailing_newlines() {
        for text in [
            "a\nb\n",
            "a\nb",
            "a\n\n",
            "a\n\nb\n",
            " lead\n",
            "tab\there\n",
            "\tlead\n",
            "127.0.0.1\tlocalhost\n::1\tlocalhost\n",
        ] {
            let mut out = String::new();
            block(&mut out, "", "k", text);
            let v: std::collections::BTreeMap<String, String> =
                serde_saphyr::from_str(&out).expect("yaml");
            assert_eq!(v["k"], text, "{out}");
        }
    }
}
