//! A generator of Polish osCommerce 2.3.3 shop data (deterministic for a
//! seed), used by `magsync demo` (into an SQLite shop) and by the tests (into
//! MariaDB with the 2.3.3 schema). Every value goes in through bound
//! parameters, on both databases.
//!
//! What it makes real shops have: diacritics in names, streets and cities;
//! companies with a NIP written in the company name (with dashes, with `PL`,
//! a few with a wrong checksum); postcodes typed without the dash; e-mails in
//! mixed case; foreign customers; phpass password hashes (which must never
//! leave the shop).

use crate::error::Result;
use crate::shop::ShopDb;
use crate::templates::{Params, Sql};

/// Every demo password hash contains this, so tests can prove none leaks.
pub const SECRET_MARKER: &str = "QXSECRETHASHQX";

pub const FIRST: &[&str] = &[
    "Łukasz",
    "Małgorzata",
    "Zofia",
    "Grzegorz",
    "Paweł",
    "Agnieszka",
    "Jędrzej",
    "Żaneta",
    "Ścibor",
    "Bożena",
    "Krzysztof",
    "Anna",
    "Józef",
    "Jolanta",
    "Wojciech",
    "Aleksandra",
];
pub const LAST: &[&str] = &[
    "Wąsowicz",
    "Żółkiewski",
    "Śliwińska",
    "Kowalski",
    "Nowak",
    "Grabowska",
    "Łęcki",
    "Dąbrowski",
    "Wiśniewska",
    "Szczęsny",
    "Kaczmarek",
    "Zieliński",
    "Chrząszcz",
    "Górecka",
    "Pająk",
    "Bąk",
];
const CITIES: &[(&str, &str)] = &[
    ("Kraków", "31042"),
    ("Łódź", "90-001"),
    ("Gdańsk", "80-831"),
    ("Wrocław", "50-077"),
    ("Poznań", "61 001"),
    ("Zielona Góra", "65-001"),
    ("Bielsko-Biała", "43300"),
    ("Szczecin", "70-001"),
    ("Warszawa", "00950"),
    ("Częstochowa", "42-200"),
];
const STREETS: &[&str] = &[
    "ul. Źródlana",
    "ul. Świętokrzyska",
    "al. Niepodległości",
    "ul. Łąkowa",
    "ul. Żeromskiego",
    "ul. Kościuszki",
    "os. Złota Jesień",
    "ul. Wąska",
];
const COMPANY_WORDS: &[&str] = &[
    "Hurtownia",
    "Przedsiębiorstwo",
    "Zakład",
    "Sklep",
    "Pracownia",
];

/// A small deterministic random generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

/// A NIP with a valid checksum (or, if `valid` is false, a wrong last digit).
pub fn make_nip(rng: &mut Rng, valid: bool) -> String {
    loop {
        let mut d: Vec<u32> = (0..9).map(|_| (rng.next_u64() % 10) as u32).collect();
        if d[0] == 0 {
            d[0] = 5;
        }
        const W: [u32; 9] = [6, 5, 7, 2, 3, 4, 5, 6, 7];
        let r = W.iter().zip(&d).map(|(w, x)| w * x).sum::<u32>() % 11;
        if r == 10 {
            continue;
        }
        d.push(if valid { r } else { (r + 1) % 10 });
        return d
            .iter()
            .map(|x| char::from_digit(*x, 10).unwrap())
            .collect();
    }
}

/// NIP as people write it: `123-456-32-18`, `PL1234563218`, `123-45-63-218`.
pub fn written_nip(nip: &str, style: usize) -> String {
    match style % 3 {
        0 => format!("{}-{}-{}-{}", &nip[..3], &nip[3..6], &nip[6..8], &nip[8..]),
        1 => format!("PL{nip}"),
        _ => format!("{}-{}-{}-{}", &nip[..3], &nip[3..5], &nip[5..7], &nip[7..]),
    }
}

/// One generated customer (what the shop holds).
#[derive(Debug, Clone)]
pub struct Customer {
    pub id: i64,
    pub firstname: String,
    pub lastname: String,
    pub email: String,
    pub telephone: String,
    pub company: Option<String>,
    pub nip: Option<String>,
    pub street: String,
    pub postcode: String,
    pub city: String,
    pub country_id: i64,
    pub created: String,
}

pub fn customers(n: usize, seed: u64) -> Vec<Customer> {
    let mut rng = Rng::new(seed);
    (1..=n as i64)
        .map(|id| {
            let first = rng.pick(FIRST).to_string();
            let last = rng.pick(LAST).to_string();
            let (city, postcode, country_id) = if id % 17 == 0 {
                ("Berlin".to_string(), "10115".to_string(), 2)
            } else {
                let (c, p) = CITIES[rng.below(CITIES.len())];
                (c.to_string(), p.to_string(), 1)
            };
            let (company, nip) = if id % 5 == 0 {
                let nip = make_nip(&mut rng, id % 35 != 0);
                let name = format!(
                    "{} {} Sp. z o.o., NIP {}",
                    rng.pick(COMPANY_WORDS),
                    last,
                    written_nip(&nip, id as usize / 5)
                );
                (Some(name), Some(nip))
            } else {
                (None, None)
            };
            let ascii = |s: &str| -> String {
                s.chars()
                    .map(|c| match c {
                        'ą' => 'a',
                        'ć' => 'c',
                        'ę' => 'e',
                        'ł' => 'l',
                        'ń' => 'n',
                        'ó' => 'o',
                        'ś' => 's',
                        'ź' | 'ż' => 'z',
                        'Ą' => 'A',
                        'Ć' => 'C',
                        'Ę' => 'E',
                        'Ł' => 'L',
                        'Ń' => 'N',
                        'Ó' => 'O',
                        'Ś' => 'S',
                        'Ź' | 'Ż' => 'Z',
                        c => c,
                    })
                    .collect()
            };
            let email = if id % 2 == 0 {
                format!("{}.{}{id}@Example.PL", ascii(&first), ascii(&last))
            } else {
                format!(
                    "{}.{}{id}@example.pl",
                    ascii(&first).to_lowercase(),
                    ascii(&last).to_uppercase()
                )
            };
            Customer {
                id,
                telephone: format!(
                    "+48 {} {:03} {:03}",
                    500 + rng.below(300),
                    rng.below(1000),
                    rng.below(1000)
                ),
                street: format!(
                    "{} {}/{}",
                    rng.pick(STREETS),
                    1 + rng.below(120),
                    1 + rng.below(30)
                ),
                created: format!(
                    "2025-{:02}-{:02} {:02}:{:02}:00",
                    1 + (id % 12),
                    1 + (id % 28),
                    id % 24,
                    id % 60
                ),
                firstname: first,
                lastname: last,
                email,
                company,
                nip,
                postcode,
                city,
                country_id,
            }
        })
        .collect()
}

/// The countries and zones the generated customers use.
pub async fn populate_countries(db: &mut ShopDb) -> Result<()> {
    let sql = Sql::parse(
        "demo:countries",
        "INSERT INTO countries (countries_id, countries_name, countries_iso_code_2, countries_iso_code_3, address_format_id) VALUES (:id, :name, :iso2, :iso3, 1)",
    )?;
    for (id, name, iso2, iso3) in [
        (1, "Polska", "PL", "POL"),
        (2, "Niemcy", "DE", "DEU"),
        (3, "Czechy", "CZ", "CZE"),
    ] {
        db.execute(
            &sql,
            &Params::new()
                .set("id", id as i64)
                .set("name", name)
                .set("iso2", iso2)
                .set("iso3", iso3),
        )
        .await?;
    }
    Ok(())
}

/// Insert customers with their default address and customers_info row,
/// in one transaction.
pub async fn populate_customers(db: &mut ShopDb, list: &[Customer]) -> Result<()> {
    let c_sql = Sql::parse(
        "demo:customers",
        "INSERT INTO customers (customers_id, customers_gender, customers_firstname, customers_lastname, customers_email_address, customers_default_address_id, customers_telephone, customers_password, customers_newsletter) VALUES (:id, 'm', :first, :last, :email, :id, :phone, :password, '0')",
    )?;
    let a_sql = Sql::parse(
        "demo:address_book",
        "INSERT INTO address_book (address_book_id, customers_id, entry_company, entry_firstname, entry_lastname, entry_street_address, entry_postcode, entry_city, entry_country_id, entry_zone_id) VALUES (:id, :id, :company, :first, :last, :street, :postcode, :city, :country, 0)",
    )?;
    let i_sql = Sql::parse(
        "demo:customers_info",
        "INSERT INTO customers_info (customers_info_id, customers_info_number_of_logons, customers_info_date_account_created) VALUES (:id, 0, :created)",
    )?;
    let begin = if db.dialect() == "mysql" {
        "START TRANSACTION"
    } else {
        "BEGIN"
    };
    db.run_script(begin, "demo data").await?;
    for c in list {
        let p = Params::new()
            .set("id", c.id)
            .set("first", c.firstname.as_str())
            .set("last", c.lastname.as_str())
            .set("email", c.email.as_str())
            .set("phone", c.telephone.as_str())
            .set("password", format!("$P$D{SECRET_MARKER}{:016}", c.id))
            .set("company", c.company.clone())
            .set("street", c.street.as_str())
            .set("postcode", c.postcode.as_str())
            .set("city", c.city.as_str())
            .set("country", c.country_id)
            .set("created", c.created.as_str());
        db.execute(&c_sql, &p).await?;
        db.execute(&a_sql, &p).await?;
        db.execute(&i_sql, &p).await?;
    }
    db.run_script("COMMIT", "demo data").await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_nips_check() {
        let mut rng = Rng::new(7);
        for _ in 0..100 {
            assert!(crate::polish::nip_checksum_ok(&make_nip(&mut rng, true)));
            assert!(!crate::polish::nip_checksum_ok(&make_nip(&mut rng, false)));
        }
    }

    #[test]
    fn written_nips_normalise_back() {
        let nip = "1234563218";
        for style in 0..3 {
            let w = written_nip(nip, style);
            assert_eq!(
                crate::polish::find_nip_in_text(&format!("Firma X, NIP {w}")).as_deref(),
                Some(nip),
                "{w}"
            );
        }
    }
}
