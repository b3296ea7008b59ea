//! Exact money: `rust_decimal`, rounded half-up (away from zero) to the
//! grosz as Polish invoices require (art. 106e ust. 11 ustawy o VAT).

use rust_decimal::{Decimal, RoundingStrategy};
use std::str::FromStr;

pub fn round2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

pub fn round4(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
}

/// Canonical text with a fixed number of places (`12.50`).
pub fn fmt(d: Decimal, places: u32) -> String {
    let mut r = d.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(places);
    if r.is_zero() {
        r.set_sign_positive(true);
    }
    r.to_string()
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

    mod rust_decimal_macros_free {
        pub fn dec(s: &str) -> rust_decimal::Decimal {
            s.parse().unwrap()
        }
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
