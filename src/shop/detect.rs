//! Which encoding a shop's text is in (`encoding = "auto"`), decided once
//! per run from the column character sets and a sample of real text:
//!
//! - bytes that are valid UTF-8 and hold Polish letters: UTF-8 — in latin1
//!   columns that is `latin1-utf8` (the usual 2.3.3 install), else `utf8`;
//! - bytes in the ISO-8859-2 / Windows-1250 Polish range: the two differ in
//!   ą, ś, ź, Ą, Ś, Ź (and Windows-1250 uses 0x80–0x9F, control characters
//!   in ISO-8859-2), so the bytes that only one of them gives those letters
//!   decide;
//! - no letter beyond ASCII at all: nothing to decide, `utf8` is harmless.
//!
//! Never per value: one shop, one encoding.

use crate::config::Encoding;

/// Bytes that are Polish letters in Windows-1250 only: Ś Ź ś ź Ą ą.
const CP1250_ONLY: [u8; 6] = [0x8C, 0x8F, 0x9C, 0x9F, 0xA5, 0xB9];
/// Bytes that are Polish letters in ISO-8859-2 only: Ą Ś Ź ą ś ź.
const LATIN2_ONLY: [u8; 6] = [0xA1, 0xA6, 0xAC, 0xB1, 0xB6, 0xBC];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    pub encoding: Encoding,
    /// Why, in a sentence.
    pub reason: String,
    /// A few sample values decoded with the chosen encoding.
    pub evidence: Vec<String>,
}

/// Decide from raw sample values and whether the text columns are latin1.
pub fn detect(samples: &[Vec<u8>], latin1_columns: bool) -> Detection {
    let non_ascii: Vec<&Vec<u8>> = samples
        .iter()
        .filter(|s| s.iter().any(|b| *b >= 0x80))
        .collect();
    let pick = |enc: Encoding, reason: String| {
        let codec = super::TextCodec::new(enc);
        let evidence = non_ascii.iter().take(5).map(|s| codec.decode(s)).collect();
        Detection {
            encoding: enc,
            reason,
            evidence,
        }
    };
    if non_ascii.is_empty() {
        return pick(
            Encoding::Utf8,
            format!(
                "{} sampled values, none with letters beyond ASCII: any encoding reads them alike",
                samples.len()
            ),
        );
    }
    let utf8 = non_ascii
        .iter()
        .filter(|s| std::str::from_utf8(s).is_ok())
        .count();
    if utf8 * 10 >= non_ascii.len() * 9 {
        let (enc, where_) = if latin1_columns {
            (Encoding::Latin1Utf8, "UTF-8 bytes in latin1 columns")
        } else {
            (Encoding::Utf8, "UTF-8 in UTF-8 columns")
        };
        return pick(
            enc,
            format!(
                "{utf8} of {} values with non-ASCII letters are valid UTF-8: {where_}",
                non_ascii.len()
            ),
        );
    }
    let count = |set: &[u8]| -> usize {
        non_ascii
            .iter()
            .flat_map(|s| s.iter())
            .filter(|b| set.contains(b))
            .count()
    };
    let (cp, l2) = (count(&CP1250_ONLY), count(&LATIN2_ONLY));
    if cp > l2 {
        pick(
            Encoding::Cp1250,
            format!(
                "single-byte Polish text: {cp} bytes that are Polish letters only in Windows-1250, {l2} only in ISO-8859-2"
            ),
        )
    } else {
        pick(
            Encoding::Latin2,
            format!(
                "single-byte Polish text: {l2} bytes that are Polish letters only in ISO-8859-2, {cp} only in Windows-1250"
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shop::TextCodec;

    fn samples(enc: Encoding) -> Vec<Vec<u8>> {
        let c = TextCodec::new(enc);
        [
            "Wąsowicz",
            "Kraków",
            "Źródło",
            "Świętosław Ąbc",
            "Nowak",
            "Łódź",
            "zażółć gęślą jaźń",
        ]
        .iter()
        .map(|s| c.encode(s))
        .collect()
    }

    #[test]
    fn each_encoding_is_recognised() {
        assert_eq!(
            detect(&samples(Encoding::Utf8), false).encoding,
            Encoding::Utf8
        );
        assert_eq!(
            detect(&samples(Encoding::Utf8), true).encoding,
            Encoding::Latin1Utf8
        );
        assert_eq!(
            detect(&samples(Encoding::Latin2), true).encoding,
            Encoding::Latin2
        );
        assert_eq!(
            detect(&samples(Encoding::Cp1250), true).encoding,
            Encoding::Cp1250
        );
        let d = detect(&samples(Encoding::Cp1250), true);
        assert!(d.evidence.iter().any(|e| e == "Wąsowicz"), "{d:?}");
        assert_eq!(detect(&[b"Nowak".to_vec()], true).encoding, Encoding::Utf8);
    }
}
