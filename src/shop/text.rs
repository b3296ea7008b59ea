//! Decoding shop text from the bytes the shop stores.
//!
//! osCommerce 2.3.3 creates its tables without a charset and never sets the
//! connection charset, so what is in a column depends on the server the shop
//! was installed on: proper UTF-8, UTF-8 bytes in latin1 columns (the usual
//! case), or ISO-8859-2 / Windows-1250 bytes from older Polish shops. magsync
//! always reads the raw bytes (`character_set_results = binary`) and decodes
//! them here, once, with the shop's configured encoding.

use crate::config::Encoding;

#[derive(Debug, Clone, Copy)]
pub struct TextCodec {
    encoding: Encoding,
}

impl TextCodec {
    pub fn new(encoding: Encoding) -> TextCodec {
        TextCodec { encoding }
    }

    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Bytes as stored → text. Invalid sequences become U+FFFD (and are
    /// visible in the batch) rather than failing the whole extract.
    pub fn decode(&self, bytes: &[u8]) -> String {
        let mut text = String::new();
        self.decode_into(bytes, &mut text);
        text
    }

    /// [`TextCodec::decode`] into `out` (replacing what it held), reusing
    /// its allocation.
    pub fn decode_into(&self, bytes: &[u8], out: &mut String) {
        out.clear();
        match self.encoding {
            // Checked as a whole first (fast); only text that is not UTF-8
            // goes the slow way, its bad bytes as replacement characters.
            Encoding::Utf8 | Encoding::Latin1Utf8 | Encoding::Auto => {
                match std::str::from_utf8(bytes) {
                    Ok(text) => out.push_str(text),
                    Err(_) => out.push_str(&String::from_utf8_lossy(bytes)),
                }
            }
            Encoding::Latin2 => {
                out.push_str(&encoding_rs::ISO_8859_2.decode_without_bom_handling(bytes).0)
            }
            Encoding::Cp1250 => out.push_str(
                &encoding_rs::WINDOWS_1250
                    .decode_without_bom_handling(bytes)
                    .0,
            ),
        }
    }

    /// Text → the bytes this shop stores.
    pub fn encode(&self, text: &str) -> Vec<u8> {
        match self.encoding {
            Encoding::Utf8 | Encoding::Latin1Utf8 | Encoding::Auto => text.as_bytes().to_vec(),
            Encoding::Latin2 => encoding_rs::ISO_8859_2.encode(text).0.into_owned(),
            Encoding::Cp1250 => encoding_rs::WINDOWS_1250.encode(text).0.into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polish_letters_in_each_encoding() {
        let s = "Zażółć gęślą jaźń ŁÓDŹ";
        for enc in [
            Encoding::Utf8,
            Encoding::Latin1Utf8,
            Encoding::Latin2,
            Encoding::Cp1250,
        ] {
            let c = TextCodec::new(enc);
            assert_eq!(c.decode(&c.encode(s)), s, "{enc:?}");
        }
        // ą is 0xB1 in ISO-8859-2 and 0xB9 in Windows-1250.
        assert_eq!(TextCodec::new(Encoding::Latin2).encode("ą"), vec![0xB1]);
        assert_eq!(TextCodec::new(Encoding::Cp1250).encode("ą"), vec![0xB9]);
    }
}
