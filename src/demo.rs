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
use crate::templates::{Params, Sql, Value};

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

/// Multi-row INSERTs with bound values: how the generator fills a shop
/// quickly (hundreds of rows per statement, every value a parameter).
pub struct Bulk {
    head: String,
    width: usize,
    max_rows: usize,
    values: Vec<Value>,
}

impl Bulk {
    pub fn new(table: &str, columns: &[&str]) -> Bulk {
        Bulk {
            head: format!("INSERT INTO {table} ({}) VALUES ", columns.join(", ")),
            width: columns.len(),
            max_rows: (30_000 / columns.len()).min(500),
            values: Vec::new(),
        }
    }

    pub async fn row(&mut self, db: &mut ShopDb, row: Vec<Value>) -> Result<()> {
        debug_assert_eq!(row.len(), self.width);
        self.values.extend(row);
        if self.values.len() >= self.max_rows * self.width {
            self.flush(db).await?;
        }
        Ok(())
    }

    pub async fn flush(&mut self, db: &mut ShopDb) -> Result<()> {
        if self.values.is_empty() {
            return Ok(());
        }
        let one = format!("({})", vec!["?"; self.width].join(", "));
        let rows = self.values.len() / self.width;
        let text = format!("{}{}", self.head, vec![one; rows].join(", "));
        db.execute_values(&text, "demo:bulk", self.values.iter().collect())
            .await?;
        self.values.clear();
        Ok(())
    }
}

fn t(s: &str) -> Value {
    Value::Text(s.to_string())
}
fn opt(s: &Option<String>) -> Value {
    s.clone().map_or(Value::Null, Value::Text)
}

async fn begin(db: &mut ShopDb) -> Result<()> {
    let begin = if db.dialect() == "mysql" {
        "START TRANSACTION"
    } else {
        "BEGIN"
    };
    db.run_script(begin, "demo data").await
}

/// Insert customers with their default address and customers_info row,
/// in one transaction.
pub async fn populate_customers(db: &mut ShopDb, list: &[Customer]) -> Result<()> {
    let mut c = Bulk::new(
        "customers",
        &[
            "customers_id",
            "customers_gender",
            "customers_firstname",
            "customers_lastname",
            "customers_email_address",
            "customers_default_address_id",
            "customers_telephone",
            "customers_password",
            "customers_newsletter",
        ],
    );
    let mut a = Bulk::new(
        "address_book",
        &[
            "address_book_id",
            "customers_id",
            "entry_company",
            "entry_firstname",
            "entry_lastname",
            "entry_street_address",
            "entry_postcode",
            "entry_city",
            "entry_country_id",
            "entry_zone_id",
        ],
    );
    let mut i = Bulk::new(
        "customers_info",
        &[
            "customers_info_id",
            "customers_info_number_of_logons",
            "customers_info_date_account_created",
        ],
    );
    begin(db).await?;
    for x in list {
        c.row(
            db,
            vec![
                Value::Int(x.id),
                t("m"),
                t(&x.firstname),
                t(&x.lastname),
                t(&x.email),
                Value::Int(x.id),
                t(&x.telephone),
                Value::Text(format!("$P$D{SECRET_MARKER}{:016}", x.id)),
                t("0"),
            ],
        )
        .await?;
        a.row(
            db,
            vec![
                Value::Int(x.id),
                Value::Int(x.id),
                opt(&x.company),
                t(&x.firstname),
                t(&x.lastname),
                t(&x.street),
                t(&x.postcode),
                t(&x.city),
                Value::Int(x.country_id),
                Value::Int(0),
            ],
        )
        .await?;
        i.row(db, vec![Value::Int(x.id), Value::Int(0), t(&x.created)])
            .await?;
    }
    for b in [&mut c, &mut a, &mut i] {
        b.flush(db).await?;
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

// ---------------------------------------------------------------- catalog

use rust_decimal::Decimal;

/// Tax classes of the generated shop: (class id, rate %, description).
pub const TAX_CLASSES: &[(i64, i64, &str)] =
    &[(1, 23, "VAT 23%"), (2, 8, "VAT 8%"), (3, 5, "VAT 5%")];

/// Order statuses: (id, Polish name, English name, public).
pub const STATUSES: &[(i64, &str, &str, i64)] = &[
    (1, "Oczekujące", "Pending", 1),
    (2, "W realizacji", "Processing", 1),
    (3, "Wysłane", "Delivered", 1),
    (4, "PayPal [Transactions]", "PayPal [Transactions]", 0),
    (5, "Anulowane", "Cancelled", 1),
    (
        6,
        "Preparing [PayPal Standard]",
        "Preparing [PayPal Standard]",
        0,
    ),
];

/// Shipping methods as `ot_shipping` titles, with their net cost.
pub const SHIPPING: &[(&str, &str)] = &[
    ("Kurier DPD (Kurier DPD):", "15.0000"),
    ("Paczkomaty InPost (Paczkomat):", "9.9900"),
    ("Odbiór osobisty (W sklepie):", "0.0000"),
];
pub const PAYMENTS: &[&str] = &["Przelew bankowy", "Płatność przy odbiorze", "PayPal"];

const PRODUCT_NOUNS: &[&str] = &[
    "Kubek ceramiczny",
    "Koszulka bawełniana",
    "Książka kucharska",
    "Żarówka LED",
    "Herbata zielona",
    "Śrubokręt płaski",
    "Łyżka drewniana",
    "Ręcznik kąpielowy",
    "Czekolada gorzka",
    "Zeszyt w kratkę",
];
const PRODUCT_ADJ: &[&str] = &[
    "żółty",
    "zielony",
    "duży",
    "mały",
    "klasyczny",
    "ekologiczny",
    "świąteczny",
];
/// Gross prices a shop owner types (the awkward ones on purpose).
const GROSS: &[&str] = &[
    "19.99", "49.00", "0.01", "7.77", "129.90", "3.50", "999.99", "12.34", "24.60", "1.99",
];

#[derive(Debug, Clone)]
pub struct Product {
    pub id: i64,
    pub model: String,
    pub name_pl: String,
    pub name_en: String,
    pub tax_class: i64,
    pub rate: Decimal,
    pub gross: Decimal,
    /// Net as osCommerce stores it: round(gross / (1 + rate), 4).
    pub price: Decimal,
    pub quantity: i64,
}

pub fn products(n: usize, seed: u64) -> Vec<Product> {
    let mut rng = Rng::new(seed ^ 0xA5A5);
    (1..=n as i64)
        .map(|id| {
            let (class, rate, _) = TAX_CLASSES[rng.below(TAX_CLASSES.len())];
            let gross: Decimal = rng.pick(GROSS).parse().expect("valid literal");
            let rate = Decimal::from(rate);
            let price = crate::money::net_of_gross(gross, rate, 4).expect("a Polish VAT rate");
            let noun = rng.pick(PRODUCT_NOUNS);
            let adj = rng.pick(PRODUCT_ADJ);
            Product {
                id,
                model: format!("PL-{id:05}"),
                name_pl: format!("{noun} {adj}"),
                name_en: format!("Product {id} ({adj})"),
                tax_class: class,
                rate,
                gross,
                price,
                quantity: 10 + rng.below(90) as i64,
            }
        })
        .collect()
}

/// Languages, currencies, settings, taxes, statuses and products.
pub async fn populate_catalog(db: &mut ShopDb, products: &[Product]) -> Result<()> {
    let begin = if db.dialect() == "mysql" {
        "START TRANSACTION"
    } else {
        "BEGIN"
    };
    db.run_script(begin, "demo catalog").await?;
    let now = "2025-01-01 00:00:00";
    let exec = |sql: &str| Sql::parse("demo:catalog", sql);
    let lang = exec(
        "INSERT INTO languages (languages_id, name, code, directory, sort_order) VALUES (:id, :name, :code, :name, :id)",
    )?;
    for (id, name, code) in [(1i64, "Polski", "pl"), (2, "English", "en")] {
        db.execute(
            &lang,
            &Params::new()
                .set("id", id)
                .set("name", name)
                .set("code", code),
        )
        .await?;
    }
    let cur = exec(
        "INSERT INTO currencies (title, code, symbol_right, decimal_point, thousands_point, decimal_places, value) VALUES (:title, :code, :sym, ',', ' ', '2', :value)",
    )?;
    for (title, code, sym, value) in [
        ("Złoty", "PLN", " zł", "1.00000000"),
        ("Euro", "EUR", " €", "0.23000000"),
    ] {
        db.execute(
            &cur,
            &Params::new()
                .set("title", title)
                .set("code", code)
                .set("sym", sym)
                .set("value", value),
        )
        .await?;
    }
    let conf = exec(
        "INSERT INTO configuration (configuration_title, configuration_key, configuration_value, configuration_description, configuration_group_id, date_added) VALUES (:key, :key, :value, '', 1, :now)",
    )?;
    let checkout = Checkout::default().settings();
    for (key, value) in checkout
        .into_iter()
        .chain([("DEFAULT_CURRENCY", "PLN"), ("STORE_COUNTRY", "1")])
    {
        db.execute(
            &conf,
            &Params::new()
                .set("key", key)
                .set("value", value)
                .set("now", now),
        )
        .await?;
    }
    db.execute(&exec("INSERT INTO geo_zones (geo_zone_id, geo_zone_name, geo_zone_description, date_added) VALUES (1, 'Polska', 'VAT PL', :now)")?, &Params::new().set("now", now)).await?;
    db.execute(&exec("INSERT INTO zones_to_geo_zones (zone_country_id, zone_id, geo_zone_id, date_added) VALUES (1, 0, 1, :now)")?, &Params::new().set("now", now)).await?;
    let tc = exec(
        "INSERT INTO tax_class (tax_class_id, tax_class_title, tax_class_description, date_added) VALUES (:id, :title, :title, :now)",
    )?;
    let tr = exec(
        "INSERT INTO tax_rates (tax_zone_id, tax_class_id, tax_priority, tax_rate, tax_description, date_added) VALUES (1, :id, 1, :rate, :title, :now)",
    )?;
    for (id, rate, title) in TAX_CLASSES {
        let p = Params::new()
            .set("id", *id)
            .set("title", *title)
            .set("rate", format!("{rate}.0000"))
            .set("now", now);
        db.execute(&tc, &p).await?;
        db.execute(&tr, &p).await?;
    }
    let st = exec(
        "INSERT INTO orders_status (orders_status_id, language_id, orders_status_name, public_flag, downloads_flag) VALUES (:id, :lang, :name, :public, 0)",
    )?;
    for (id, pl, en, public) in STATUSES {
        for (lang, name) in [(1i64, pl), (2, en)] {
            db.execute(
                &st,
                &Params::new()
                    .set("id", *id)
                    .set("lang", lang)
                    .set("name", *name)
                    .set("public", *public),
            )
            .await?;
        }
    }
    db.execute(&exec("INSERT INTO manufacturers (manufacturers_id, manufacturers_name, date_added) VALUES (1, 'Fabryka Łódź', :now)")?, &Params::new().set("now", now)).await?;
    let pr = exec(
        "INSERT INTO products (products_id, products_quantity, products_model, products_price, products_date_added, products_weight, products_status, products_tax_class_id, manufacturers_id) VALUES (:id, :qty, :model, :price, :now, '0.50', 1, :class, 1)",
    )?;
    let pd = exec(
        "INSERT INTO products_description (products_id, language_id, products_name, products_description) VALUES (:id, :lang, :name, :descr)",
    )?;
    for p in products {
        db.execute(
            &pr,
            &Params::new()
                .set("id", p.id)
                .set("qty", p.quantity)
                .set("model", p.model.as_str())
                .set("price", crate::money::fmt(p.price, 4))
                .set("now", now)
                .set("class", p.tax_class),
        )
        .await?;
        for (lang, name) in [(1i64, &p.name_pl), (2, &p.name_en)] {
            db.execute(
                &pd,
                &Params::new()
                    .set("id", p.id)
                    .set("lang", lang)
                    .set("name", name.as_str())
                    .set("descr", format!("<p>{name}</p>")),
            )
            .await?;
        }
    }
    db.run_script("COMMIT", "demo catalog").await?;
    Ok(())
}

// ----------------------------------------------------------------- orders

#[derive(Debug, Clone)]
pub struct OrderLine {
    pub product: Product,
    pub quantity: i64,
    /// (option, value, price adjustment)
    pub attributes: Vec<(String, String, Decimal)>,
    pub final_price: Decimal,
}

#[derive(Debug, Clone)]
pub struct Order {
    pub id: i64,
    pub customer: Customer,
    pub delivery_name: String,
    pub delivery_street: String,
    pub delivery_city: String,
    pub delivery_postcode: String,
    pub payment: String,
    pub status: i64,
    pub currency: String,
    pub currency_value: Decimal,
    pub lines: Vec<OrderLine>,
    pub shipping_title: String,
    /// Net, as the shipping module quotes it.
    pub shipping_cost: Decimal,
    pub date_purchased: String,
    /// How the shop computed the totals.
    pub checkout: Checkout,
    /// Bought without an account (an add-on's guest checkout): the order
    /// says `customers_id` 0 and holds the buyer itself.
    pub guest: bool,
    /// What the customer wrote at checkout (the first status history row).
    pub comment: String,
    /// The core low order fee (`ot_loworderfee`), net, in the 23 % class
    /// (tax class 1); zero: none.
    pub low_order_fee: Decimal,
    /// A coupon of an add-on (`ot_coupon`), the net amount taken off goods
    /// at 23 % with its VAT; zero: none.
    pub coupon: Decimal,
}

/// The shop settings an order's totals were computed under, the ones
/// osCommerce 2.3.3's `order::cart()` and order-total modules depend on.
///
/// The real checkout (`../shared/storefront`) is the reference: unit prices
/// are rounded to the currency's decimals before the quantity multiplies
/// them (`currencies::calculate_price`), net or gross as the shop displays
/// them, and the modules run in `MODULE_ORDER_TOTAL_INSTALLED` order, not in
/// sort order: in the fresh-install order (subtotal, tax, shipping, total)
/// `ot_tax` is written before `ot_shipping` adds the delivery's VAT, which
/// then reaches `ot_total` but no `ot_tax` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkout {
    /// `DISPLAY_PRICE_WITH_TAX`.
    pub prices_with_tax: bool,
    /// VAT rate (%) of the delivery's tax class; zero: untaxed (class 0).
    pub shipping_rate: Decimal,
    /// `ot_tax` runs before `ot_shipping` (the fresh-install module order).
    pub tax_before_shipping: bool,
}

impl Default for Checkout {
    /// The generated shops: net prices, delivery in the 23 % class, the
    /// modules in sort order.
    fn default() -> Self {
        Checkout {
            prices_with_tax: false,
            shipping_rate: Decimal::from(23),
            tax_before_shipping: false,
        }
    }
}

impl Checkout {
    /// The shop's `configuration` values that say so (the delivery is the
    /// flat module; tax class 1 is the 23 % class of [`TAX_CLASSES`] and of
    /// the real storefront).
    pub fn settings(&self) -> [(&'static str, &'static str); 4] {
        [
            (
                "DISPLAY_PRICE_WITH_TAX",
                if self.prices_with_tax {
                    "true"
                } else {
                    "false"
                },
            ),
            (
                "MODULE_ORDER_TOTAL_INSTALLED",
                if self.tax_before_shipping {
                    "ot_subtotal.php;ot_tax.php;ot_shipping.php;ot_total.php"
                } else {
                    "ot_subtotal.php;ot_shipping.php;ot_tax.php;ot_total.php"
                },
            ),
            ("MODULE_SHIPPING_INSTALLED", "flat.php"),
            (
                "MODULE_SHIPPING_FLAT_TAX_CLASS",
                if self.shipping_rate.is_zero() {
                    "0"
                } else {
                    "1"
                },
            ),
        ]
    }
}

impl Order {
    /// The order totals as osCommerce 2.3.3's checkout writes them under
    /// `self.checkout`: (class, title, value, sort order), values in the
    /// default currency to 4 places as the `orders_total` column keeps them.
    pub fn totals(&self) -> Vec<(&'static str, String, Decimal, i64)> {
        let c = &self.checkout;
        let hundred = Decimal::from(100);
        let mut subtotal = Decimal::ZERO;
        let mut tax_sum = Decimal::ZERO;
        // tax_groups: one per tax description, in the order first met.
        let mut groups: Vec<(String, Decimal)> = Vec::new();
        fn add(groups: &mut Vec<(String, Decimal)>, title: String, v: Decimal) {
            match groups.iter_mut().find(|(t, _)| *t == title) {
                Some((_, s)) => *s += v,
                None => groups.push((title, v)),
            }
        }
        for l in &self.lines {
            let rate = l.product.rate / hundred;
            let unit = if c.prices_with_tax {
                crate::money::round2(l.final_price + l.final_price * rate)
            } else {
                crate::money::round2(l.final_price)
            };
            let shown = unit * Decimal::from(l.quantity);
            subtotal += shown;
            let tax = if c.prices_with_tax {
                shown - shown / (Decimal::ONE + rate)
            } else {
                rate * shown
            };
            tax_sum += tax;
            add(&mut groups, format!("VAT {}%:", l.product.rate), tax);
        }
        let mut total = if c.prices_with_tax {
            subtotal + self.shipping_cost
        } else {
            subtotal + tax_sum + self.shipping_cost
        };
        let r4 = crate::money::round4;
        let mut out = vec![(
            "ot_subtotal",
            "Suma częściowa:".to_string(),
            r4(subtotal),
            1,
        )];
        let tax_rows = |groups: &[(String, Decimal)]| {
            groups
                .iter()
                .filter(|(_, v)| *v > Decimal::ZERO)
                .map(|(t, v)| ("ot_tax", t.clone(), r4(*v), 3))
                .collect::<Vec<_>>()
        };
        let mut rows_tax = Vec::new();
        if c.tax_before_shipping {
            rows_tax = tax_rows(&groups);
        }
        let ship_tax = self.shipping_cost * c.shipping_rate / hundred;
        let mut shipping = self.shipping_cost;
        if !c.shipping_rate.is_zero() {
            add(&mut groups, format!("VAT {}%:", c.shipping_rate), ship_tax);
            total += ship_tax;
            if c.prices_with_tax {
                shipping += ship_tax;
            }
        }
        if !c.tax_before_shipping {
            rows_tax = tax_rows(&groups);
        }
        // A coupon add-on: the amount off at 23 %, shown net or gross as the
        // shop shows prices, its VAT off the total too.
        let vat23 = Decimal::new(23, 2);
        if !self.coupon.is_zero() {
            let shown = if c.prices_with_tax {
                self.coupon + self.coupon * vat23
            } else {
                self.coupon
            };
            out.push(("ot_coupon", "Kupon rabatowy:".to_string(), -r4(shown), 2));
            total -= self.coupon + self.coupon * vat23;
        }
        out.push(("ot_shipping", self.shipping_title.clone(), r4(shipping), 2));
        out.extend(rows_tax);
        // ot_loworderfee (sort order 4) runs after ot_tax: its VAT reaches
        // the total, not the tax rows; the value is tep_add_tax(fee).
        if !self.low_order_fee.is_zero() {
            let tax = self.low_order_fee * vat23;
            let shown = if c.prices_with_tax {
                self.low_order_fee + tax
            } else {
                self.low_order_fee
            };
            out.push((
                "ot_loworderfee",
                "Opłata za małe zamówienie:".to_string(),
                r4(shown),
                4,
            ));
            total += self.low_order_fee + tax;
        }
        out.push(("ot_total", "Razem:".to_string(), r4(total), 4));
        out
    }

    /// What the customer was shown as the total, in the order's currency.
    pub fn total_in_currency(&self) -> Decimal {
        let total = self
            .totals()
            .iter()
            .find(|t| t.0 == "ot_total")
            .map(|t| t.2)
            .unwrap_or_default();
        crate::money::round2(total * self.currency_value)
    }
}

/// `n` orders of the given customers for the given products: 1–5 lines,
/// attributes on some, a few EUR orders, some cancelled, some still
/// "Preparing" (hosted payment not finished).
pub fn orders(n: usize, customers: &[Customer], products: &[Product], seed: u64) -> Vec<Order> {
    orders_from(1, n, customers, products, seed)
}

/// `n` orders numbered from `first` (for generating a large shop in chunks).
pub fn orders_from(
    first: i64,
    n: usize,
    customers: &[Customer],
    products: &[Product],
    seed: u64,
) -> Vec<Order> {
    let mut rng = Rng::new((seed ^ 0x5A5A).wrapping_add(first as u64));
    (first..first + n as i64)
        .map(|id| {
            let customer = customers[rng.below(customers.len())].clone();
            let lines = (0..1 + rng.below(5))
                .map(|_| {
                    let product = products[rng.below(products.len())].clone();
                    let mut attributes = Vec::new();
                    if rng.below(3) == 0 {
                        attributes.push((
                            "Kolor".to_string(),
                            rng.pick(&["żółty", "czerwony", "zielony"]).to_string(),
                            Decimal::ZERO,
                        ));
                    }
                    if rng.below(4) == 0 {
                        attributes.push((
                            "Rozmiar".to_string(),
                            "XL".to_string(),
                            Decimal::new(50000, 4),
                        ));
                    }
                    let final_price =
                        product.price + attributes.iter().map(|a| a.2).sum::<Decimal>();
                    OrderLine {
                        quantity: 1 + rng.below(4) as i64,
                        product,
                        attributes,
                        final_price,
                    }
                })
                .collect();
            let (title, cost) = SHIPPING[rng.below(SHIPPING.len())];
            let other = rng.below(4) == 0;
            let eur = id % 6 == 0;
            let status = match id % 20 {
                7 => 6,  // Preparing [PayPal Standard]
                13 => 5, // Anulowane
                _ => 1 + rng.below(3) as i64,
            };
            Order {
                id,
                delivery_name: if other {
                    "Anna Nowak".into()
                } else {
                    format!("{} {}", customer.firstname, customer.lastname)
                },
                delivery_street: if other {
                    "ul. Długa 1".into()
                } else {
                    customer.street.clone()
                },
                delivery_city: if other {
                    "Gdańsk".into()
                } else {
                    customer.city.clone()
                },
                delivery_postcode: if other {
                    "80-827".into()
                } else {
                    customer.postcode.clone()
                },
                customer,
                payment: rng.pick(PAYMENTS).to_string(),
                status,
                currency: if eur { "EUR".into() } else { "PLN".into() },
                currency_value: if eur {
                    Decimal::new(230000, 6)
                } else {
                    Decimal::new(1_000000, 6)
                },
                lines,
                shipping_title: title.to_string(),
                shipping_cost: cost.parse().expect("valid literal"),
                date_purchased: format!(
                    "2025-{:02}-{:02} {:02}:{:02}:{:02}",
                    1 + (id % 12),
                    1 + (id % 28),
                    id % 24,
                    id % 60,
                    id % 60
                ),
                checkout: Checkout::default(),
                guest: false,
                comment: String::new(),
                low_order_fee: Decimal::ZERO,
                coupon: Decimal::ZERO,
            }
        })
        .collect()
}

/// Record in the shop's `configuration` that its orders were computed
/// under `checkout` (a shop made by [`populate_catalog`] has the default).
pub async fn set_checkout(db: &mut ShopDb, checkout: &Checkout) -> Result<()> {
    configure(db, &checkout.settings()).await
}

/// Set `configuration` values, adding the keys a shop lacks (a module the
/// admin installs adds its keys).
pub async fn configure(db: &mut ShopDb, settings: &[(&str, &str)]) -> Result<()> {
    let update = Sql::parse(
        "demo:configure",
        "UPDATE configuration SET configuration_value = :value WHERE configuration_key = :key",
    )?;
    let insert = Sql::parse(
        "demo:configure",
        "INSERT INTO configuration (configuration_title, configuration_key, configuration_value, configuration_description, configuration_group_id, date_added)
         SELECT :key, :key, :value, '', 6, '2025-01-01 00:00:00' FROM countries
         WHERE countries_id = 1 AND NOT EXISTS (SELECT 1 FROM configuration WHERE configuration_key = :key)",
    )?;
    for (key, value) in settings {
        let p = Params::new().set("key", *key).set("value", *value);
        db.execute(&update, &p).await?;
        db.execute(&insert, &p).await?;
    }
    Ok(())
}

/// Write orders the way `checkout_process.php` does: the order, its totals,
/// a status history row (not for "Preparing" orders), its lines and their
/// attributes.
pub async fn populate_orders(db: &mut ShopDb, orders: &[Order]) -> Result<()> {
    let mut o_bulk = Bulk::new(
        "orders",
        &[
            "orders_id",
            "customers_id",
            "customers_name",
            "customers_company",
            "customers_street_address",
            "customers_city",
            "customers_postcode",
            "customers_country",
            "customers_telephone",
            "customers_email_address",
            "customers_address_format_id",
            "delivery_name",
            "delivery_street_address",
            "delivery_city",
            "delivery_postcode",
            "delivery_country",
            "delivery_address_format_id",
            "billing_name",
            "billing_company",
            "billing_street_address",
            "billing_city",
            "billing_postcode",
            "billing_country",
            "billing_address_format_id",
            "payment_method",
            "cc_type",
            "cc_owner",
            "cc_number",
            "cc_expires",
            "date_purchased",
            "orders_status",
            "currency",
            "currency_value",
        ],
    );
    let mut t_bulk = Bulk::new(
        "orders_total",
        &["orders_id", "title", "text", "value", "class", "sort_order"],
    );
    let mut h_bulk = Bulk::new(
        "orders_status_history",
        &[
            "orders_id",
            "orders_status_id",
            "date_added",
            "customer_notified",
            "comments",
        ],
    );
    let mut p_bulk = Bulk::new(
        "orders_products",
        &[
            "orders_products_id",
            "orders_id",
            "products_id",
            "products_model",
            "products_name",
            "products_price",
            "final_price",
            "products_tax",
            "products_quantity",
        ],
    );
    let mut a_bulk = Bulk::new(
        "orders_products_attributes",
        &[
            "orders_id",
            "orders_products_id",
            "products_options",
            "products_options_values",
            "options_values_price",
            "price_prefix",
        ],
    );
    begin(db).await?;
    for o in orders {
        let c = &o.customer;
        let country = if c.country_id == 1 {
            "Polska"
        } else {
            "Niemcy"
        };
        let cname = format!("{} {}", c.firstname, c.lastname);
        o_bulk
            .row(
                db,
                vec![
                    Value::Int(o.id),
                    Value::Int(if o.guest { 0 } else { c.id }),
                    t(&cname),
                    opt(&c.company),
                    t(&c.street),
                    t(&c.city),
                    t(&c.postcode),
                    t(country),
                    t(&c.telephone),
                    t(&c.email),
                    Value::Int(1),
                    t(&o.delivery_name),
                    t(&o.delivery_street),
                    t(&o.delivery_city),
                    t(&o.delivery_postcode),
                    t("Polska"),
                    Value::Int(1),
                    t(&cname),
                    opt(&c.company),
                    t(&c.street),
                    t(&c.city),
                    t(&c.postcode),
                    t(country),
                    Value::Int(1),
                    t(&o.payment),
                    t(""),
                    t(""),
                    t(""),
                    t(""),
                    t(&o.date_purchased),
                    Value::Int(o.status),
                    t(&o.currency),
                    Value::Text(crate::money::fmt(o.currency_value, 6)),
                ],
            )
            .await?;
        for (class, title, value, sort) in o.totals() {
            let text = format!(
                "{} {}",
                crate::money::fmt(value * o.currency_value, 2),
                o.currency
            );
            t_bulk
                .row(
                    db,
                    vec![
                        Value::Int(o.id),
                        Value::Text(title),
                        Value::Text(text),
                        Value::Text(crate::money::fmt(value, 4)),
                        t(class),
                        Value::Int(sort),
                    ],
                )
                .await?;
        }
        if o.status != 6 {
            h_bulk
                .row(
                    db,
                    vec![
                        Value::Int(o.id),
                        Value::Int(o.status),
                        t(&o.date_purchased),
                        Value::Int(1),
                        t(&o.comment),
                    ],
                )
                .await?;
        }
        for (i, l) in o.lines.iter().enumerate() {
            let opid = o.id * 10 + i as i64; // at most 5 lines an order
            p_bulk
                .row(
                    db,
                    vec![
                        Value::Int(opid),
                        Value::Int(o.id),
                        Value::Int(l.product.id),
                        t(&l.product.model),
                        t(&l.product.name_pl),
                        Value::Text(crate::money::fmt(l.product.price, 4)),
                        Value::Text(crate::money::fmt(l.final_price, 4)),
                        Value::Text(crate::money::fmt(l.product.rate, 4)),
                        Value::Int(l.quantity),
                    ],
                )
                .await?;
            for (option, value, price) in &l.attributes {
                a_bulk
                    .row(
                        db,
                        vec![
                            Value::Int(o.id),
                            Value::Int(opid),
                            t(option),
                            t(value),
                            Value::Text(crate::money::fmt(*price, 4)),
                            t("+"),
                        ],
                    )
                    .await?;
            }
        }
    }
    for b in [
        &mut o_bulk,
        &mut t_bulk,
        &mut h_bulk,
        &mut p_bulk,
        &mut a_bulk,
    ] {
        b.flush(db).await?;
    }
    db.run_script("COMMIT", "demo orders").await?;
    Ok(())
}
