//! Exact money: `rust_decimal`, rounded half-up (away from zero) to the
//! grosz as Polish invoices require (art. 106e ust. 11 ustawy o VAT).
//!
//! The one home of money arithmetic: every flow (and the demo, and the
//! tests) takes net ↔ gross and VAT from here, so the rule is written once.
//! Every operation on amounts from outside is checked: `None` means out of
//! range (beyond 28 digits, or a VAT rate of -100 % or below), which a flow
//! turns into a reject, never a panic.

use rust_decimal::{Decimal, RoundingStrategy};
use std::str::FromStr;

pub fn round2(d: Decimal) -> Decimal {
    round_to(d, 2)
}

pub fn round4(d: Decimal) -> Decimal {
    round_to(d, 4)
}

/// `1 + rate/100` for a VAT rate in percent; `None` out of range or when
/// the factor would not be positive.
pub fn vat_factor(rate: Decimal) -> Option<Decimal> {
    Decimal::ONE
        .checked_add(rate.checked_div(Decimal::ONE_HUNDRED)?)
        .filter(|f| f.is_sign_positive() && !f.is_zero())
}

/// The net of a gross at `rate` %, rounded half-up to `places` (4 for a
/// shop's net price, 2 for an invoice line).
pub fn net_of_gross(gross: Decimal, rate: Decimal, places: u32) -> Option<Decimal> {
    Some(round_to(gross.checked_div(vat_factor(rate)?)?, places))
}

/// The gross of a net at `rate` %, rounded half-up to `places`. At 2 places
/// this is what osCommerce shows for a net price (`tep_add_tax`, then
/// rounding to the currency's places).
pub fn gross_of_net(net: Decimal, rate: Decimal, places: u32) -> Option<Decimal> {
    Some(round_to(net.checked_mul(vat_factor(rate)?)?, places))
}

/// The VAT of a net at `rate` %, to the grosz.
pub fn vat_of_net(net: Decimal, rate: Decimal) -> Option<Decimal> {
    Some(round2(
        net.checked_mul(rate)?.checked_div(Decimal::ONE_HUNDRED)?,
    ))
}

fn round_to(d: Decimal, places: u32) -> Decimal {
    d.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
}

/// `d` rounded half-up to exactly `places` places (`12.5` → `12.50`), never
/// a negative zero: the amount as a staging file writes it.
pub fn fixed(d: Decimal, places: u32) -> Decimal {
    let mut r = round_to(d, places);
    r.rescale(places);
    if r.is_zero() {
        r.set_sign_positive(true);
    }
    r
}

/// Canonical text with a fixed number of places (`12.50`).
pub fn fmt(d: Decimal, places: u32) -> String {
    text(fixed(d, places))
}

/// A decimal's text exactly as `Decimal` displays it (`to_string`),
/// written directly from its digits and scale: a load writes millions of
/// amounts, and the formatting machinery cost it a twentieth of its time.
pub fn text(d: Decimal) -> String {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(d.mantissa().unsigned_abs());
    let scale = d.scale() as usize;
    let mut out = String::with_capacity(digits.len() + scale + 3);
    if d.is_sign_negative() {
        out.push('-');
    }
    match digits.len().checked_sub(scale) {
        _ if scale == 0 => out.push_str(digits),
        Some(whole) if whole > 0 => {
            out.push_str(&digits[..whole]);
            out.push('.');
            out.push_str(&digits[whole..]);
        }
        _ => {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', scale - digits.len()));
            out.push_str(digits);
        }
    }
    out
}

/// Whether `b` is a decimal exactly as `Decimal` displays it (text a
/// database sends can be kept as it is): `-?D+(.D+)?`, no
/// leading zero on the whole part, no negative zero, at most 20
/// characters (well within a `Decimal`'s 28 digits).
pub fn is_displayed_form(b: &[u8]) -> bool {
    if b.len() > 20 || b.starts_with(b"-0") {
        return false;
    }
    let body = b.strip_prefix(b"-").unwrap_or(b);
    let (whole, frac) = match body.iter().position(|&c| c == b'.') {
        Some(p) => (&body[..p], Some(&body[p + 1..])),
        None => (body, None),
    };
    let digits = |d: &[u8]| !d.is_empty() && d.iter().all(u8::is_ascii_digit);
    digits(whole) && (whole.len() == 1 || whole[0] != b'0') && frac.is_none_or(digits)
}

/// Parse a staging decimal (validated before; an empty value is zero).
pub fn parse(s: &str) -> Result<Decimal, String> {
    if s.is_empty() {
        return Ok(Decimal::ZERO);
    }
    Decimal::from_str(s).map_err(|e| format!("`{s}`: {e}"))
}

/// The sum of a space- or comma-separated list of decimals (how extract
/// templates return a class of order totals with several rows).
pub fn sum_list(s: &str) -> Result<Decimal, String> {
    s.split([' ', ','])
        .filter(|p| !p.is_empty())
        .try_fold(Decimal::ZERO, |sum, p| {
            let d = Decimal::from_str(p.trim()).map_err(|e| format!("`{p}`: {e}"))?;
            sum.checked_add(d)
                .ok_or_else(|| format!("`{s}`: the sum is out of range (beyond 28 digits)"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros_free::dec;

    /// Text taken as canonical is exactly what `Decimal` displays, so a
    /// DECIMAL copied from the shop is the batch's text byte for byte; the rest goes
    /// through the parse.
    #[test]
    fn a_decimal_copied_as_text_is_what_decimal_displays() {
        let canonical = [
            "0",
            "0.0000",
            "12.3400",
            "-12.3400",
            "5",
            "100",
            "0.0001",
            "99999999999.9999",
        ];
        let other = [
            // (-0.5 is parsed: the rule keeps out every negative zero.)
            "",
            "-",
            ".5",
            "5.",
            "007",
            "00.5",
            "-0.0000",
            "-0",
            "-0.5",
            "1e3",
            "+5",
            "1,5",
            "5x",
            "123456789012345678901",
        ];
        for s in canonical.iter().chain(&other) {
            if is_displayed_form(s.as_bytes()) {
                let d = Decimal::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"));
                assert_eq!(d.to_string(), *s);
            }
        }
        let taken: Vec<&str> = canonical
            .iter()
            .chain(&other)
            .copied()
            .filter(|s| is_displayed_form(s.as_bytes()))
            .collect();
        assert_eq!(taken, canonical);
    }

    #[test]
    fn text_is_what_decimal_displays() {
        let mut values: Vec<Decimal> = [
            "0",
            "0.00",
            "1",
            "-1",
            "12.50",
            "-0.05",
            "0.0001",
            "100",
            "1.000",
            "-12345.6789",
            "79228162514264337593543950335",
            "-79228162514264337593543950335",
            "0.0000000000000000000000000001",
            "-7.9228162514264337593543950335",
        ]
        .iter()
        .map(|s| dec(s))
        .collect();
        // Negative zero (a sum that went below zero and came back, say).
        values.push(Decimal::from_parts(0, 0, 0, true, 2));
        for m in [0i64, 1, 9, 10, 99, 101, 123456, -5, -100] {
            for scale in 0..=8 {
                values.push(Decimal::new(m, scale));
            }
        }
        for d in values {
            assert_eq!(text(d), d.to_string(), "{d:?}");
        }
    }

    mod rust_decimal_macros_free {
        pub fn dec(s: &str) -> rust_decimal::Decimal {
            s.parse().unwrap()
        }
    }

    #[test]
    fn net_and_gross_at_polish_rates() {
        // 19.99 gross at 23 %: 16.252032… net, 16.2520 to 4 places, and
        // that net shows 19.99 again.
        assert_eq!(
            net_of_gross(dec("19.99"), dec("23"), 4),
            Some(dec("16.2520"))
        );
        assert_eq!(
            gross_of_net(dec("16.2520"), dec("23"), 2),
            Some(dec("19.99"))
        );
        assert_eq!(net_of_gross(dec("10.80"), dec("8"), 2), Some(dec("10.00")));
        assert_eq!(gross_of_net(dec("0.01"), dec("5"), 2), Some(dec("0.01")));
        assert_eq!(vat_of_net(dec("100.05"), dec("23")), Some(dec("23.01")));
        assert_eq!(gross_of_net(dec("7"), dec("0"), 2), Some(dec("7.00")));
        // Out of range: never a panic.
        assert_eq!(vat_factor(dec("-100")), None);
        assert_eq!(net_of_gross(dec("1"), dec("-150"), 2), None);
        assert_eq!(gross_of_net(Decimal::MAX, dec("23"), 2), None);
        assert_eq!(vat_of_net(Decimal::MAX, dec("23")), None);
    }

    #[test]
    fn half_up() {
        assert_eq!(fmt(round2(dec("0.125")), 2), "0.13");
        assert_eq!(fmt(round2(dec("-0.125")), 2), "-0.13");
        assert_eq!(fmt(round2(dec("2.675")), 2), "2.68");
        assert_eq!(fmt(dec("-0.0001"), 2), "0.00");
        assert_eq!(fmt(dec("12.5"), 4), "12.5000");
    }

    #[test]
    fn lists() {
        assert_eq!(sum_list("1.2500 3.0001").unwrap(), dec("4.2501"));
        assert_eq!(sum_list("").unwrap(), Decimal::ZERO);
        assert!(sum_list("1.2.3").is_err());
        let big = "79228162514264337593543950335";
        assert!(sum_list(&format!("{big} {big}")).is_err());
    }
}
