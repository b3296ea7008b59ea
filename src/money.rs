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
    fixed(d, places).to_string()
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
