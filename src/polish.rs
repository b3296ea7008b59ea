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
    let upper = text.to_uppercase();
    let start = upper.find("NIP").map(|i| i + 3).unwrap_or(0);
    let hay: Vec<char> = upper[start..].chars().collect();
    let mut i = 0;
    while i < hay.len() {
        if hay[i].is_ascii_digit()
            && (i == 0 || !hay[i - 1].is_ascii_alphanumeric() || hay[i - 1] == 'L')
        {
            let mut digits = String::new();
            let mut j = i;
            while j < hay.len() && (hay[j].is_ascii_digit() || hay[j] == '-' || hay[j] == ' ') {
                if hay[j].is_ascii_digit() {
                    digits.push(hay[j]);
                }
                j += 1;
            }
            let ends_clean = j >= hay.len() || !hay[j].is_ascii_alphanumeric();
            if digits.len() == 10 && ends_clean {
                return Some(digits);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    None
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
