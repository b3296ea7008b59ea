//! `magsync.toml`: parsed into typed structs (`deny_unknown_fields`), then
//! checked by [`Config::validate`] without touching any database (Vector's
//! split of pure validation from building connections).
//!
//! Secrets never live in the file: a connection's password comes from the
//! environment variable named by `password_env` or the file named by
//! `password_file`, and a URL that carries a password is refused.

use crate::base::Flow;
use crate::error::{Error, Result};
use crate::staging::Format;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// This site's name (used in batch sources and channel names).
    #[serde(default = "default_site")]
    pub site: String,
    /// Staging root (relative to the config file).
    #[serde(default = "default_staging")]
    pub staging: PathBuf,
    /// Directory of template profiles overriding the built-in ones.
    pub templates: Option<PathBuf>,
    /// Payload format of the batches this site writes.
    #[serde(default)]
    pub format: Format,
    /// What makes the exit code non-zero.
    #[serde(default)]
    pub policy: Policy,
    pub magazyn: Option<MagazynConfig>,
    #[serde(default)]
    pub shops: BTreeMap<String, ShopConfig>,
    #[serde(default)]
    pub transfer: TransferConfig,
    /// Named plans for `magsync run --plan NAME`.
    #[serde(default)]
    pub plans: BTreeMap<String, PlanConfig>,
    #[serde(default)]
    pub run: RunConfig,
    /// Where this file was read from (not a key).
    #[serde(skip)]
    pub path: PathBuf,
}

/// A plan: steps run in order by `magsync run` (`[plans.<name>]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanConfig {
    /// `sync SHOP FLOW`, `extract SHOP FLOW`, `pack DIR`, `unpack DIR`, `inbox`.
    pub steps: Vec<Step>,
}

/// One step of a plan, parsed when the configuration is read (whether its
/// shop exists is checked by [`Config::validate`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "String")]
pub enum Step {
    Sync { shop: String, flow: Flow },
    Extract { shop: String, flow: Flow },
    Pack { dir: PathBuf },
    Unpack { dir: PathBuf },
    Inbox,
}

impl TryFrom<String> for Step {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Step, String> {
        let w: Vec<&str> = s.split_whitespace().collect();
        let flow = |f: &str| {
            Flow::parse(f).ok_or_else(|| {
                format!(
                    "step `{s}`: unknown flow `{f}` (customers, orders, products, prices, catalog)"
                )
            })
        };
        match w.as_slice() {
            ["sync", shop, f] => Ok(Step::Sync {
                shop: shop.to_string(),
                flow: flow(f)?,
            }),
            ["extract", shop, f] => Ok(Step::Extract {
                shop: shop.to_string(),
                flow: flow(f)?,
            }),
            ["pack", d] => Ok(Step::Pack {
                dir: PathBuf::from(d),
            }),
            ["unpack", d] => Ok(Step::Unpack {
                dir: PathBuf::from(d),
            }),
            ["inbox"] => Ok(Step::Inbox),
            _ => Err(format!(
                "step `{s}`: expected `sync SHOP FLOW`, `extract SHOP FLOW`, `pack DIR`, `unpack DIR` or `inbox`"
            )),
        }
    }
}

impl Step {
    /// The shop a step reads, if it reads one.
    pub fn shop(&self) -> Option<(&str, Flow)> {
        match self {
            Step::Sync { shop, flow } | Step::Extract { shop, flow } => Some((shop, *flow)),
            _ => None,
        }
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Sync { shop, flow } => write!(f, "sync {shop} {flow}"),
            Step::Extract { shop, flow } => write!(f, "extract {shop} {flow}"),
            Step::Pack { dir } => write!(f, "pack {}", dir.display()),
            Step::Unpack { dir } => write!(f, "unpack {}", dir.display()),
            Step::Inbox => f.write_str("inbox"),
        }
    }
}

/// The nightly job (`[run]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Days run logs and reports are kept under `<staging>/logs` and `reports`.
    #[serde(default = "default_retention")]
    pub log_retention_days: u32,
    /// Seconds a command waits for the site lock another magsync holds
    /// (a manual extract during the nightly run) before it gives up.
    #[serde(default = "default_site_lock_wait")]
    pub site_lock_wait: u32,
}

fn default_site_lock_wait() -> u32 {
    600
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            log_retention_days: default_retention(),
            site_lock_wait: default_site_lock_wait(),
        }
    }
}

/// Moving batches between sites on removable media (`[transfer]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferConfig {
    /// Encrypt packed files to these age recipients (`age1…` public keys).
    #[serde(default)]
    pub encrypt_to: Vec<String>,
    /// Or encrypt (and decrypt) with a passphrase from this variable …
    pub passphrase_env: Option<String>,
    /// … or from this file (readable by you only).
    pub passphrase_file: Option<PathBuf>,
    /// age identity (`AGE-SECRET-KEY-…` lines) to decrypt packed files.
    pub identity_file: Option<PathBuf>,
    /// Days acknowledged and applied batches stay in `archive/` (default 30).
    #[serde(default = "default_retention")]
    pub retention_days: u32,
}

fn default_retention() -> u32 {
    30
}

impl Default for TransferConfig {
    fn default() -> Self {
        TransferConfig {
            encrypt_to: Vec::new(),
            passphrase_env: None,
            passphrase_file: None,
            identity_file: None,
            retention_days: default_retention(),
        }
    }
}

pub use crate::base::Policy;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MagazynConfig {
    /// `sqlite://path` (relative paths are relative to the config file) or
    /// `firebird://user@host:3050/path/to/db.fdb` (password from
    /// `password_env` / `password_file`). Absent at a site that cannot
    /// reach the Magazyn.
    pub url: Option<String>,
    /// The site the Magazyn is at (names the channel batches travel on).
    pub site: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    /// Create the reference schema (and configured warehouses and price
    /// lists) when the database is new. Default true for SQLite.
    #[serde(default = "yes")]
    pub create: bool,
    /// Seconds a load waits for data another program holds (a row on
    /// Firebird, the file on SQLite) before it rolls back and tries again
    /// (three attempts in all).
    #[serde(default = "lock_wait")]
    pub lock_wait: u32,
}

fn lock_wait() -> u32 {
    DEFAULT_LOCK_WAIT
}

/// Seconds a write waits for data another program holds (a Magazyn row or
/// file), unless `[magazyn] lock_wait` says otherwise.
pub const DEFAULT_LOCK_WAIT: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    #[default]
    Utf8,
    Latin1Utf8,
    Latin2,
    Cp1250,
    Auto,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf8",
            Encoding::Latin1Utf8 => "latin1-utf8",
            Encoding::Latin2 => "latin2",
            Encoding::Cp1250 => "cp1250",
            Encoding::Auto => "auto",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum NipSource {
    /// A column named `nip` returned by the customers template (add e.g.
    /// `a.entry_nip AS nip` to a copied template); otherwise none.
    Column,
    /// The column if the template returns one, else a NIP written in
    /// `entry_company` ("Firma Sp. z o.o., NIP 123-456-32-18").
    #[default]
    ColumnOrCompany,
    /// No NIP.
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopConfig {
    /// `mysql://user@host:port/db` (or `sqlite://path` for the demo shop).
    /// Absent at a site that cannot reach the shop.
    pub url: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    #[serde(default = "default_profile")]
    pub profile: String,
    #[serde(default)]
    pub encoding: Encoding,
    #[serde(default = "one")]
    pub language_id: i64,
    #[serde(default = "default_warehouse")]
    pub warehouse: String,
    /// Price list pushed to the shop ("" = the good's base price).
    #[serde(default)]
    pub price_list: String,
    /// Price list filled from the shop.
    #[serde(default)]
    pub import_price_list: String,
    #[serde(default)]
    pub order_prefix: String,
    #[serde(default)]
    pub order_suffix: String,
    #[serde(default)]
    pub customer_code_prefix: String,
    #[serde(default)]
    pub nip_source: NipSource,
    /// Incremental extracts re-read this many minutes before the last
    /// acknowledged signpost (clock skew, DST, slow transactions).
    #[serde(default = "default_overlap")]
    pub overlap_minutes: u32,
    #[serde(default)]
    pub map: Maps,
    #[serde(default)]
    pub orders: OrdersConfig,
    #[serde(default)]
    pub products: ProductsConfig,
    #[serde(default)]
    pub catalog: CatalogConfig,
    #[serde(default)]
    pub prices: PricesConfig,
    /// The site the shop is at (names the channel products travel on).
    pub site: Option<String>,
}

/// Whether `prefix + digits + suffix` of two shops can be the same text:
/// when one prefix is the other followed by digits only, and one suffix the
/// other preceded by digits only ("S" and "S1" meet at S12 = S + 12 = S1 + 2).
pub fn numbers_can_meet(a: (&str, &str), b: (&str, &str)) -> bool {
    fn digits_apart(x: &str, y: &str, at_end: bool) -> bool {
        let (short, long) = if x.len() <= y.len() { (x, y) } else { (y, x) };
        let rest = if at_end {
            long.strip_suffix(short)
        } else {
            long.strip_prefix(short)
        };
        rest.is_some_and(|r| r.bytes().all(|c| c.is_ascii_digit()))
    }
    digits_apart(a.0, b.0, false) && digits_apart(a.1, b.1, true)
}

/// Status codes of the stock osCommerce statuses, used where the shop's
/// `map.order_status` does not name the status: Pending and Processing stay
/// open (their name), Delivered is realized.
pub const DEFAULT_ORDER_STATUS: &[(&str, &str)] = &[("Delivered", "realized")];

/// The install's stock status ids (the same in every language pack: a
/// Polish shop calls 3 "Wysłane" or "Dostarczone"): 3, Delivered, is
/// realized unless the map names it.
pub const DEFAULT_ORDER_STATUS_IDS: &[(i64, &str)] = &[(3, "realized")];

impl Maps {
    /// The Magazyn status of a shop status (name, id): the shop's map by
    /// name, else the defaults for the stock statuses (by English name, then
    /// by id), else the name itself.
    pub fn order_status_code<'a>(&'a self, name: &'a str, id: Option<i64>) -> &'a str {
        self.order_status
            .get(name)
            .map(String::as_str)
            .or_else(|| {
                DEFAULT_ORDER_STATUS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, c)| *c)
            })
            .or_else(|| {
                DEFAULT_ORDER_STATUS_IDS
                    .iter()
                    .find(|(i, _)| Some(*i) == id)
                    .map(|(_, c)| *c)
            })
            .unwrap_or(name)
    }
}

/// How Magazyn goods become shop prices and stock (`[shops.<id>.products]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductsConfig {
    /// Stock pushed = quantity − reserved (true) or quantity (false) …
    #[serde(default = "yes")]
    pub subtract_reserved: bool,
    /// … − this safety buffer, floored at 0.
    #[serde(default)]
    pub safety_buffer: i64,
    /// Set products_status 0 when the stock pushed is at or below this
    /// (and 1 above it). Absent: magsync never changes products_status.
    pub hide_at_or_below: Option<i64>,
    /// Create goods the shop lacks as inactive products (default: list them).
    #[serde(default)]
    pub create_missing: bool,
    /// End the running specials that hide the price pushed (kept for
    /// `magsync undo`); by default they are only reported (`special_active`).
    #[serde(default)]
    pub end_specials: bool,
    /// A Magazyn price list ("Promocja") that drives the shop's specials: a
    /// good on it gets a special at its price (created or repriced), a
    /// product with a running special that is not on it has it ended.
    pub specials_price_list: Option<String>,
    /// Category of created products (default: the shop's first root category).
    pub category_id: Option<i64>,
    /// The shop's `products_model` length (12 in osCommerce 2.3.3): a longer
    /// good code cannot become a product.
    #[serde(default = "default_model_length")]
    pub model_length: usize,
}

/// Shop products into the goods register (`[shops.<id>.catalog]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogConfig {
    /// Fields of existing goods the shop may overwrite (`name`,
    /// `description`, `vat_symbol`, `weight`, `manufacturer`, `ean`).
    /// Default none: existing definitions are never overwritten.
    #[serde(default)]
    pub update: Vec<String>,
    /// The Magazyn's code length: a longer model is a reject.
    #[serde(default = "default_code_length")]
    pub code_length: usize,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        CatalogConfig {
            update: Vec::new(),
            code_length: default_code_length(),
        }
    }
}

fn default_code_length() -> usize {
    20
}

pub const CATALOG_FIELDS: &[&str] = &[
    "name",
    "description",
    "vat_symbol",
    "weight",
    "manufacturer",
    "ean",
];

/// Shop prices into the import price list (`[shops.<id>.prices]`).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PricesConfig {
    /// Take the active special (status 1, not expired) where there is one.
    #[serde(default)]
    pub use_special: bool,
    /// Add goods not yet on the list (default: only update those on it).
    #[serde(default)]
    pub add_missing: bool,
}

fn default_model_length() -> usize {
    12
}

impl Default for ProductsConfig {
    fn default() -> Self {
        ProductsConfig {
            subtract_reserved: true,
            safety_buffer: 0,
            hide_at_or_below: None,
            create_missing: false,
            end_specials: false,
            specials_price_list: None,
            category_id: None,
            model_length: default_model_length(),
        }
    }
}

/// How shop orders become Magazyn orders (`[shops.<id>.orders]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrdersConfig {
    /// The order description; `{payment}`, `{shipping}`, `{status}`,
    /// `{order}` (shop order number), `{currency}` and `{comment}` (what the
    /// customer wrote at checkout, also kept in `customer_comment`) are filled in.
    #[serde(default = "default_description")]
    pub description: String,
    /// Service code of the delivery line when `map.shipping` has no entry.
    #[serde(default = "default_shipping_code")]
    pub shipping_code: String,
    /// VAT rate of the delivery line. Default: worked out from the order's
    /// tax totals (what the shop charged), 23 when the delivery was free.
    /// A decimal written as a string ("23"): never floating point.
    pub shipping_vat_rate: Option<String>,
    /// A Magazyn gross total further than this from the shop's total (in the
    /// order's currency) is reported for that order.
    /// A decimal written as a string ("0.02").
    #[serde(default = "default_tolerance")]
    pub total_tolerance: String,
    /// A line whose good the Magazyn does not know: "one-off" keeps it as a
    /// one-off line (reported), "reject" rejects the whole order.
    #[serde(default)]
    pub unknown_goods: UnknownGoods,
    /// Record a goods issue (`goods_issues`, lowering `stock.quantity`) when
    /// an order becomes realized, and reverse it when the order goes back to
    /// an open status. Only for a Magazyn no warehouse program keeps: a real
    /// warehouse issues goods itself. Off by default.
    #[serde(default)]
    pub goods_issues: bool,
}

impl Default for OrdersConfig {
    fn default() -> Self {
        OrdersConfig {
            description: default_description(),
            shipping_code: default_shipping_code(),
            shipping_vat_rate: None,
            total_tolerance: default_tolerance(),
            goods_issues: false,
            unknown_goods: UnknownGoods::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownGoods {
    #[default]
    OneOff,
    Reject,
}

fn default_description() -> String {
    "Płatność: {payment}; Dostawa: {shipping}; Status w sklepie: {status}".into()
}
fn default_shipping_code() -> String {
    "TRANSPORT".into()
}
fn default_tolerance() -> String {
    "0.02".into()
}

impl OrdersConfig {
    pub fn tolerance(&self) -> rust_decimal::Decimal {
        self.total_tolerance
            .parse()
            .unwrap_or(rust_decimal::Decimal::new(2, 2))
    }
    pub fn shipping_rate(&self) -> Option<rust_decimal::Decimal> {
        self.shipping_vat_rate
            .as_deref()
            .and_then(|s| s.parse().ok())
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Maps {
    #[serde(default)]
    pub shipping: BTreeMap<String, String>,
    #[serde(default)]
    pub order_status: BTreeMap<String, String>,
    #[serde(default)]
    pub tax_class: BTreeMap<String, String>,
    #[serde(default)]
    pub payment: BTreeMap<String, String>,
    /// Order totals that become fee or discount lines: the total's class
    /// (`ot_loworderfee`) or title → Magazyn service code. Default `OPLATA`
    /// for fees, `RABAT` for discounts.
    #[serde(default)]
    pub fees: BTreeMap<String, String>,
}

fn default_site() -> String {
    "local".into()
}
fn default_staging() -> PathBuf {
    "staging".into()
}
fn default_profile() -> String {
    "oscommerce-2.3".into()
}
fn default_warehouse() -> String {
    "MAG".into()
}
fn default_overlap() -> u32 {
    120
}
fn one() -> i64 {
    1
}
fn yes() -> bool {
    true
}

impl Config {
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: format!("cannot read: {e} (create one with `magsync init`)"),
        })?;
        let mut cfg = Config::parse(&text, path)?;
        cfg.path = path.to_path_buf();
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        toml::from_str::<Config>(text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: describe_toml_error(text, &e),
        })
    }

    /// Checks that need no connection.
    pub fn validate(&self) -> Result<()> {
        let bad = |message: String| Error::Config {
            path: self.path.clone(),
            message,
        };
        if !crate::staging::batch::is_valid_name(&self.site) {
            return Err(bad(format!(
                "site = \"{}\": use lower-case letters, digits, `_`, `-`, `.`",
                self.site
            )));
        }
        if let Some(url) = self.magazyn.as_ref().and_then(|m| m.url.as_ref()) {
            check_url(url, "magazyn.url").map_err(bad)?;
            if url.starts_with("firebird://") {
                FirebirdUrl::parse(url).map_err(|m| bad(format!("magazyn.url: {m}")))?;
            } else if !url.starts_with("sqlite:") {
                return Err(bad(format!(
                    "magazyn.url: the Magazyn is sqlite://path or firebird://user@host:3050/path/to/db.fdb (got `{}`)",
                    redact_url(url)
                )));
            }
        }
        for (name, plan) in &self.plans {
            for step in &plan.steps {
                if let Some((shop, _)) = step.shop()
                    && !self.shops.contains_key(shop)
                {
                    return Err(bad(format!(
                        "plans.{name}: step `{step}`: no shop `{shop}` in the configuration"
                    )));
                }
            }
        }
        for (id, shop) in &self.shops {
            if !crate::staging::batch::is_valid_name(id) || id.contains('.') {
                return Err(bad(format!(
                    "[shops.{id}]: a shop id may hold lower-case letters, digits, `_` and `-` only"
                )));
            }
            if let Some(url) = &shop.url {
                check_url(url, &format!("shops.{id}.url")).map_err(bad)?;
                if !(url.starts_with("mysql:")
                    || url.starts_with("mariadb:")
                    || url.starts_with("sqlite:"))
                {
                    return Err(bad(format!(
                        "shops.{id}.url: expected mysql://… (got `{}`)",
                        redact_url(url)
                    )));
                }
            }
            if let Some(f) = shop
                .catalog
                .update
                .iter()
                .find(|f| !CATALOG_FIELDS.contains(&f.as_str()))
            {
                return Err(bad(format!(
                    "shops.{id}.catalog.update: unknown field `{f}` (fields: {})",
                    CATALOG_FIELDS.join(", ")
                )));
            }
            let dec_ok = |v: &str| crate::money::parse(v).is_ok() && !v.is_empty();
            if !dec_ok(&shop.orders.total_tolerance) {
                return Err(bad(format!(
                    "shops.{id}.orders.total_tolerance = \"{}\": expected a decimal such as \"0.02\"",
                    shop.orders.total_tolerance
                )));
            }
            if let Some(r) = &shop.orders.shipping_vat_rate
                && !dec_ok(r)
            {
                return Err(bad(format!(
                    "shops.{id}.orders.shipping_vat_rate = \"{r}\": expected a decimal such as \"23\""
                )));
            }
            if shop.order_prefix.len() + shop.order_suffix.len() > 40 {
                return Err(bad(format!(
                    "shops.{id}: order_prefix + order_suffix leave too little of the 50-character Magazyn order number"
                )));
            }
        }
        // Shops never touch each other's records: two shops that could make
        // the same order number or customer code are refused, not merged.
        let shops: Vec<(&String, &ShopConfig)> = self.shops.iter().collect();
        for (i, (a, sa)) in shops.iter().enumerate() {
            for (b, sb) in &shops[i + 1..] {
                if numbers_can_meet(
                    (&sa.order_prefix, &sa.order_suffix),
                    (&sb.order_prefix, &sb.order_suffix),
                ) {
                    return Err(bad(format!(
                        "shops {a} and {b} could give two orders the same Magazyn number \
                         (order_prefix \"{}\" / \"{}\", order_suffix \"{}\" / \"{}\"): \
                         give each shop its own order_prefix, e.g. \"{}/\"",
                        sa.order_prefix,
                        sb.order_prefix,
                        sa.order_suffix,
                        sb.order_suffix,
                        b.to_uppercase()
                    )));
                }
                if numbers_can_meet(
                    (&sa.customer_code_prefix, ""),
                    (&sb.customer_code_prefix, ""),
                ) {
                    return Err(bad(format!(
                        "shops {a} and {b} could give two customers the same Magazyn code \
                         (customer_code_prefix \"{}\" / \"{}\"): give each shop its own, e.g. \"{}-\"",
                        sa.customer_code_prefix,
                        sb.customer_code_prefix,
                        b.to_uppercase()
                    )));
                }
            }
        }
        Ok(())
    }

    /// The directory relative paths in the config are resolved against.
    pub fn base_dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."))
    }

    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir().join(p)
        }
    }

    pub fn staging_root(&self) -> PathBuf {
        self.resolve(&self.staging)
    }

    /// The staging root as the one type that knows its layout, state and lock.
    pub fn site(&self) -> crate::staging::Site {
        crate::staging::Site::new(
            self.staging_root(),
            std::time::Duration::from_secs(self.run.site_lock_wait.into()),
        )
    }

    pub fn shop(&self, id: &str) -> Result<&ShopConfig> {
        self.shops.get(id).ok_or_else(|| Error::Config {
            path: self.path.clone(),
            message: format!(
                "no shop `{id}` (configured: {})",
                self.shops.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        })
    }

    pub fn magazyn(&self) -> Result<&MagazynConfig> {
        self.magazyn.as_ref().ok_or_else(|| Error::Config {
            path: self.path.clone(),
            message: "no [magazyn] section: this site cannot reach the Magazyn".into(),
        })
    }
}

/// Line and column plus toml's own message (which names the key).
fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().to_string();
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before
                .rfind('\n')
                .map_or(before.len(), |i| before.len() - i - 1)
                + 1;
            let snippet = text.lines().nth(line - 1).unwrap_or("").trim();
            format!("line {line}, column {col}: {msg} (at `{snippet}`)")
        }
        None => msg,
    }
}

/// Where a `firebird://user@host:port/database` URL points.
#[derive(Debug, Clone, PartialEq)]
pub struct FirebirdUrl {
    pub user: String,
    pub host: String,
    pub port: u16,
    /// A path on the server (`/var/lib/firebird/3.0/data/firma.fdb`,
    /// `C:/DGCS/FIRMA.FDB`) or an alias from the server's databases.conf.
    pub database: String,
}

impl FirebirdUrl {
    pub fn parse(url: &str) -> std::result::Result<FirebirdUrl, String> {
        let bad = |m: &str| {
            format!(
                "Magazyn URL {}: {m} (expected firebird://user@host:3050/path/to/db.fdb)",
                redact_url(url)
            )
        };
        let rest = url
            .strip_prefix("firebird://")
            .ok_or_else(|| bad("not a firebird:// URL"))?;
        let (authority, path) = rest.split_once('/').ok_or_else(|| bad("no database"))?;
        let (user, hostport) = authority
            .rsplit_once('@')
            .ok_or_else(|| bad("no user (user@host)"))?;
        if user.contains(':') {
            return Err(bad(
                "a password in the URL; use [magazyn] password_env or password_file",
            ));
        }
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| bad("bad port"))?),
            None => (hostport, 3050),
        };
        // `/C:/x.fdb` is a Windows path; `/name` without a directory an alias;
        // anything else an absolute path on the server.
        let database = if path.len() > 2 && path.as_bytes()[1] == b':' {
            path.to_string()
        } else if path.contains('/') {
            format!("/{path}")
        } else {
            path.to_string()
        };
        if database.is_empty() || host.is_empty() || user.is_empty() {
            return Err(bad("user, host and database are all needed"));
        }
        Ok(FirebirdUrl {
            user: user.into(),
            host: host.into(),
            port,
            database,
        })
    }
}

fn check_url(url: &str, key: &str) -> std::result::Result<(), String> {
    if let Some((_, rest)) = url.split_once("://") {
        let authority = rest.split('/').next().unwrap_or("");
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && userinfo.contains(':')
        {
            return Err(format!(
                "{key}: the URL contains a password; put it in an environment variable (password_env) or a file (password_file) instead"
            ));
        }
    }
    Ok(())
}

/// A URL safe to print: any password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if let Some((userinfo, host)) = authority.rsplit_once('@') {
            let user = userinfo.split(':').next().unwrap_or("");
            return format!("{scheme}://{user}:***@{host}{path}");
        }
    }
    url.to_string()
}

/// A file holding a secret must be readable by its owner only (mode 0600
/// or stricter) on Unix; anything else is refused, naming the file.
pub fn private_file(path: &Path, cfg: &Config, key: &str) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(path) {
            let mode = m.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(Error::Config {
                    path: cfg.path.clone(),
                    message: format!(
                        "{key} {}: mode {mode:o} lets others read a secret; `chmod 600` it",
                        path.display()
                    ),
                });
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (path, cfg, key);
    Ok(())
}

/// Read a connection password from the environment or a file.
pub fn password(
    env: &Option<String>,
    file: &Option<PathBuf>,
    cfg: &Config,
    what: &str,
) -> Result<Option<String>> {
    if let Some(var) = env {
        return match std::env::var(var) {
            Ok(v) => Ok(Some(v)),
            Err(_) => Err(Error::Config {
                path: cfg.path.clone(),
                message: format!("{what}.password_env: environment variable {var} is not set"),
            }),
        };
    }
    if let Some(f) = file {
        let p = cfg.resolve(f);
        private_file(&p, cfg, &format!("{what}.password_file"))?;
        let v = std::fs::read_to_string(&p).map_err(|e| Error::Config {
            path: cfg.path.clone(),
            message: format!("{what}.password_file {}: {e}", p.display()),
        })?;
        return Ok(Some(v.trim_end_matches(['\r', '\n']).to_string()));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shops_that_could_share_numbers_are_refused_naming_the_prefixes() {
        let two = |a: &str, b: &str| format!("[shops.a]\n{a}\n[shops.b]\n{b}\n");
        // The defaults: both shops' order 2 would be Magazyn order "2".
        let cfg = Config::parse(&two("", ""), Path::new("m.toml")).unwrap();
        let err = cfg.validate().unwrap_err().to_string();
        assert!(
            err.contains("shops a and b") && err.contains("order_prefix"),
            "{err}"
        );
        // "S" + 12 = "S1" + 2.
        let cfg = Config::parse(
            &two(
                "order_prefix = \"S\"\ncustomer_code_prefix = \"A-\"",
                "order_prefix = \"S1\"\ncustomer_code_prefix = \"B-\"",
            ),
            Path::new("m.toml"),
        )
        .unwrap();
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("\"S\" / \"S1\"")
        );
        // Orders apart, customers not.
        let cfg = Config::parse(
            &two("order_prefix = \"A/\"", "order_prefix = \"B/\""),
            Path::new("m.toml"),
        )
        .unwrap();
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("customer_code_prefix"), "{err}");
        let cfg = Config::parse(
            &two(
                "order_prefix = \"A/\"\ncustomer_code_prefix = \"A-\"",
                "order_prefix = \"B/\"\ncustomer_code_prefix = \"B-\"",
            ),
            Path::new("m.toml"),
        )
        .unwrap();
        cfg.validate().unwrap();
        assert!(!numbers_can_meet(("S", "/1"), ("S", "/2")));
        assert!(!numbers_can_meet(("S", "-1"), ("S", "")));
        assert!(numbers_can_meet(("S", "1"), ("S", ""))); // S51 = S5 + 1 = S51
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let text = "site = \"office\"\n[shops.s1]\nurl = \"mysql://u@h/db\"\nwarehose = \"MAG\"\n";
        let err = Config::parse(text, Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 4"), "{err}");
        assert!(err.contains("warehose"), "{err}");
    }

    #[test]
    fn password_in_url_refused_and_redacted() {
        let text = "[shops.s1]\nurl = \"mysql://osc:sekret@h/db\"\n";
        let cfg = Config::parse(text, Path::new("m.toml")).unwrap();
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("password"));
        assert!(!err.contains("sekret"));
        assert_eq!(
            redact_url("mysql://osc:sekret@h:3306/db"),
            "mysql://osc:***@h:3306/db"
        );
    }

    #[test]
    fn wrong_type_is_an_error() {
        let text = "[shops.s1]\nlanguage_id = \"one\"\n";
        let err = Config::parse(text, Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
    }
}
