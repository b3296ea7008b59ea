//! XML Schemas of the staging entities, generated from the entity
//! definitions. The shipped copies in `templates/staging/*.xsd` are checked
//! against this generator by a test (`MAGSYNC_WRITE_XSD=1 cargo test xsd`
//! rewrites them after a schema change).

use super::codec::XML_NS;
use super::schema::{ColType, Entity};
use std::fmt::Write;

pub fn xsd_for(e: &Entity) -> String {
    let mut s = String::new();
    let _ = writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        s,
        "<!-- magsync staging format 1.x: entity `{}` ({}). Generated from src/staging/entities.rs. -->",
        e.name, e.description
    );
    let _ = writeln!(
        s,
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:ms="{XML_NS}" targetNamespace="{XML_NS}" elementFormDefault="qualified">"#
    );
    s.push_str(concat!(
        "  <xs:simpleType name=\"flag\">\n",
        "    <xs:restriction base=\"xs:string\"><xs:enumeration value=\"0\"/><xs:enumeration value=\"1\"/></xs:restriction>\n",
        "  </xs:simpleType>\n",
        "  <xs:simpleType name=\"dateTime\">\n",
        "    <xs:restriction base=\"xs:string\"><xs:pattern value=\"\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z?\"/></xs:restriction>\n",
        "  </xs:simpleType>\n",
    ));
    let _ = writeln!(s, r#"  <xs:element name="{}">"#, e.file);
    s.push_str("    <xs:complexType>\n      <xs:sequence>\n");
    record(&mut s, e, "        ");
    s.push_str("      </xs:sequence>\n    </xs:complexType>\n  </xs:element>\n</xs:schema>\n");
    s
}

/// `<xs:element>` of one record (repeated), its fields, and nested children.
fn record(s: &mut String, e: &Entity, pad: &str) {
    let _ = writeln!(
        s,
        r#"{pad}<xs:element name="{}" minOccurs="0" maxOccurs="unbounded">"#,
        e.record
    );
    let _ = writeln!(s, "{pad}  <xs:complexType>\n{pad}    <xs:sequence>");
    for c in e.columns {
        let min = if c.required { "" } else { r#" minOccurs="0""# };
        let facets = match (c.ty, c.max_len) {
            (ColType::Decimal(places), _) => Some(format!(
                r#"<xs:restriction base="xs:decimal"><xs:fractionDigits value="{places}"/><xs:pattern value="-?[0-9]+(\.[0-9]+)?"/></xs:restriction>"#
            )),
            (ColType::Text | ColType::Code, Some(n)) => Some(format!(
                r#"<xs:restriction base="xs:string"><xs:maxLength value="{n}"/></xs:restriction>"#
            )),
            _ => None,
        };
        match facets {
            Some(f) => {
                let _ = writeln!(
                    s,
                    r#"{pad}      <xs:element name="{}"{min}><xs:simpleType>{f}</xs:simpleType></xs:element>"#,
                    c.name
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    r#"{pad}      <xs:element name="{}" type="{}"{min}/>"#,
                    c.name,
                    c.ty.xsd_type()
                );
            }
        }
    }
    if let Some(child) = e.child {
        let _ = writeln!(
            s,
            r#"{pad}      <xs:element name="{}" minOccurs="0">"#,
            child.file
        );
        let _ = writeln!(
            s,
            "{pad}        <xs:complexType>\n{pad}          <xs:sequence>"
        );
        record(s, child, &format!("{pad}            "));
        let _ = writeln!(
            s,
            "{pad}          </xs:sequence>\n{pad}        </xs:complexType>\n{pad}      </xs:element>"
        );
    }
    let _ = writeln!(
        s,
        "{pad}    </xs:sequence>\n{pad}  </xs:complexType>\n{pad}</xs:element>"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staging::entities;

    #[test]
    fn shipped_xsds_match_the_entities() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/staging");
        for e in entities::XML_ENTITIES {
            let path = dir.join(format!("{}.xsd", e.file));
            let want = xsd_for(e);
            if std::env::var_os("MAGSYNC_WRITE_XSD").is_some() {
                std::fs::write(&path, &want).unwrap();
            }
            let have = std::fs::read_to_string(&path).unwrap();
            assert_eq!(
                have,
                want,
                "{} is stale: run MAGSYNC_WRITE_XSD=1 cargo test xsd",
                path.display()
            );
        }
    }
}
