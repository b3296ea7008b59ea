//! Polish conventions: NIP (VAT id) normalisation and checksum, postal codes,
//! and the case-insensitive keys customers are matched on.

/// NIP with separators and a leading `PL` removed: `PL 123-456-32-18` →
/// `1234563218`. Foreign VAT ids keep their letters (upper-cased).
pub fn normalize_nip(raw: &str) -> String {
    let compact: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_uppercase();
    match compact.strip_prefix("PL") {
        Some(rest) if rest.bytes().all(|b| b.is_ascii_digit()) => rest.to_string(),
        _ => compact,
    }
}

/// The NIP checksum: weights 6,5,7,2,3,4,5,6,7 over the first nine digits,
/// sum mod 11 equals the tenth digit (a remainder of 10 is never valid).
pub fn nip_checksum_ok(nip: &str) -> bool {
    let d: Vec<u32> = nip.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 10 || nip.chars().count() != 10 {
        return false;
    }
    const W: [u32; 9] = [6, 5, 7, 2, 3, 4, 5, 6, 7];
    let sum: u32 = W.iter().zip(&d).map(|(w, x)| w * x).sum();
    let r = sum % 11;
    r != 10 && r == d[9]
}

/// Find a NIP written inside a company name, e.g. `ABC Sp. z o.o. NIP
/// 123-456-32-18` or `… (PL1234563218)`: the first run of digits, spaces and
/// dashes holding exactly ten digits, after the word NIP if there is one.
pub fn find_nip_in_text(text: &str) -> Option<String> {
    locate_nip_in_text(text).map(|(nip, _)| nip)
}

/// The NIP of [`find_nip_in_text`] and the byte range of the text it takes:
/// the digits, a `PL` directly before them, the word `NIP` (with `:`, `.`,
/// `-` or blanks) directly before that, and brackets around all of it.
pub fn locate_nip_in_text(text: &str) -> Option<(String, std::ops::Range<usize>)> {
    // Work on the original characters (upper-casing can change byte
    // lengths, e.g. `ß`), comparing ASCII case-insensitively.
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let upper = |k: usize| chars[k].1.to_ascii_uppercase();
    let is_label = |k: usize| {
        k + 3 <= chars.len() && upper(k) == 'N' && upper(k + 1) == 'I' && upper(k + 2) == 'P'
    };
    let label = (0..chars.len()).find(|&k| is_label(k));
    let from = label.map_or(0, |k| k + 3);
    let mut i = from;
    while i < chars.len() {
        let c = chars[i].1;
        let after_pl = i >= 1 && upper(i - 1) == 'L';
        if c.is_ascii_digit() && (i == 0 || !chars[i - 1].1.is_alphanumeric() || after_pl) {
            let (mut digits, mut j, mut last) = (String::new(), i, i);
            while j < chars.len()
                && (chars[j].1.is_ascii_digit() || matches!(chars[j].1, '-' | ' '))
            {
                if chars[j].1.is_ascii_digit() {
                    digits.push(chars[j].1);
                    last = j;
                }
                j += 1;
            }
            // Clean: no letter or digit right after the last digit.
            let ends_clean = chars
                .get(last + 1)
                .is_none_or(|(_, c)| !c.is_alphanumeric());
            if digits.len() == 10 && ends_clean {
                let mut s = i;
                if after_pl && i >= 2 && upper(i - 2) == 'P' {
                    s = i - 2;
                }
                // The label, when only punctuation stands between it and the number.
                if let Some(k) = label {
                    let gap = &chars[k + 3..s];
                    if gap
                        .iter()
                        .all(|&(_, c)| matches!(c, ' ' | ':' | '.' | '-' | '#'))
                        && (k == 0 || !chars[k - 1].1.is_alphanumeric())
                    {
                        s = k;
                    }
                }
                let mut e = last + 1;
                if s > 0 && e < chars.len() && chars[s - 1].1 == '(' && chars[e].1 == ')' {
                    (s, e) = (s - 1, e + 1);
                }
                let end = chars.get(e).map_or(text.len(), |&(b, _)| b);
                return Some((digits, chars[s].0..end));
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    None
}

/// The text with the NIP of [`locate_nip_in_text`] taken out, and the
/// punctuation that joined it to the rest: `Firma Sp. z o.o., NIP
/// 123-456-32-18` → `Firma Sp. z o.o.`; `ABC (PL1234563218) Kraków` → `ABC
/// Kraków`. The text unchanged when it holds no NIP.
pub fn strip_nip_from_text(text: &str) -> String {
    let Some((_, r)) = locate_nip_in_text(text) else {
        return text.to_string();
    };
    let sep = |c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-' | '–' | '/');
    let left = text[..r.start].trim_end_matches(sep);
    let right = text[r.end..].trim_start_matches(sep);
    let joint = format!(
        "{}{}",
        &text[left.len()..r.start],
        &text[r.end..text.len() - right.len()]
    );
    match (left.is_empty(), right.is_empty()) {
        (true, _) => right.to_string(),
        (_, true) => left.to_string(),
        _ if joint.contains(',') => format!("{left}, {right}"),
        _ => format!("{left} {right}"),
    }
}

/// A Polish postcode as `dd-ddd` when it has exactly five digits and nothing
/// else but separators; `None` when it does not look Polish.
pub fn normalize_pl_postcode(raw: &str) -> Option<String> {
    let t = raw.trim();
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || c == '-' || c == ' ')
    {
        return None;
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    (digits.len() == 5).then(|| format!("{}-{}", &digits[..2], &digits[2..]))
}

/// Case-insensitive key of a name: trimmed, inner white space collapsed,
/// lower-cased with full Unicode rules (`ŁÓDŹ` → `łódź`).
pub fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nip() {
        assert_eq!(normalize_nip("PL 123-456-32-18"), "1234563218");
        assert_eq!(normalize_nip("123-45-63-218"), "1234563218");
        assert!(nip_checksum_ok("1234563218"));
        assert!(!nip_checksum_ok("1234563219"));
        assert!(!nip_checksum_ok("123456321"));
        assert_eq!(normalize_nip("DE123456789"), "DE123456789");
    }

    #[test]
    fn nip_in_company_name() {
        assert_eq!(
            find_nip_in_text("Hurtownia Żak Sp. z o.o., NIP 123-456-32-18").as_deref(),
            Some("1234563218")
        );
        assert_eq!(
            find_nip_in_text("Kowalski (PL1234563218)").as_deref(),
            Some("1234563218")
        );
        assert_eq!(find_nip_in_text("Firma 2000 Sp. z o.o."), None);
        assert_eq!(find_nip_in_text("tel. 601 234 567"), None);
        assert_eq!(
            find_nip_in_text("Straße NIP 1234563218").as_deref(),
            Some("1234563218")
        );
    }

    #[test]
    fn nip_text_leaves_the_name() {
        for (text, name) in [
            (
                "Hurtownia Żak Sp. z o.o., NIP 123-456-32-18",
                "Hurtownia Żak Sp. z o.o.",
            ),
            ("Kowalski (PL1234563218)", "Kowalski"),
            ("NIP: 123 456 32 18 Firma X", "Firma X"),
            (
                "Firma X nip.1234563218, oddział Kraków",
                "Firma X, oddział Kraków",
            ),
            ("ABC (PL1234563218) Kraków", "ABC Kraków"),
            ("Firma Y 1234563218", "Firma Y"),
            ("Größe GmbH NIP 1234563218", "Größe GmbH"),
            ("SNIPER Sp. j. 1234563218", "SNIPER Sp. j."),
            ("Firma 2000 Sp. z o.o.", "Firma 2000 Sp. z o.o."),
            ("NIP 1234563218", ""),
        ] {
            assert_eq!(strip_nip_from_text(text), name, "{text}");
        }
    }

    #[test]
    fn postcodes() {
        assert_eq!(normalize_pl_postcode("00950").as_deref(), Some("00-950"));
        assert_eq!(normalize_pl_postcode(" 31-042 ").as_deref(), Some("31-042"));
        assert_eq!(normalize_pl_postcode("SW1A 1AA"), None);
        assert_eq!(normalize_pl_postcode("1234"), None);
    }

    #[test]
    fn keys() {
        assert_eq!(name_key("  ŁUKASZ   Żółć "), "łukasz żółć");
        assert_eq!(
            email_key(" Jan.Kowalski@Example.PL"),
            "jan.kowalski@example.pl"
        );
    }
}
