//! Optional encryption of packed files with age (customer data is personal
//! data): to recipients' public keys, or with a passphrase. The files are
//! ordinary age files, so the `age`/`rage` tools can open them by hand.

use crate::config::Config;
use crate::error::{Error, Result};
use age::secrecy::SecretString;
use std::io::{Read, Write};
use std::path::Path;
use std::str::FromStr;

fn passphrase(cfg: &Config) -> Result<Option<SecretString>> {
    let t = &cfg.transfer;
    Ok(
        crate::config::password(&t.passphrase_env, &t.passphrase_file, cfg, "transfer")?
            .map(SecretString::from),
    )
}

/// Whether `pack` encrypts, by the configuration.
pub fn encrypts(cfg: &Config) -> bool {
    !cfg.transfer.encrypt_to.is_empty()
        || cfg.transfer.passphrase_env.is_some()
        || cfg.transfer.passphrase_file.is_some()
}

/// Wrap `out` (the file `file` being written) in an age encryptor per the
/// configuration.
pub fn encrypt_to<W: Write>(
    cfg: &Config,
    out: W,
    file: &Path,
) -> Result<age::stream::StreamWriter<W>> {
    let bad = |m: String| Error::Config {
        path: cfg.path.clone(),
        message: m,
    };
    let encryptor = if !cfg.transfer.encrypt_to.is_empty() {
        let recipients = cfg
            .transfer
            .encrypt_to
            .iter()
            .map(|r| {
                age::x25519::Recipient::from_str(r)
                    .map_err(|e| bad(format!("transfer.encrypt_to: `{r}`: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| bad(format!("transfer.encrypt_to: {e}")))?
    } else {
        let p = passphrase(cfg)?
            .ok_or_else(|| bad("transfer: no recipients and no passphrase".into()))?;
        age::Encryptor::with_user_passphrase(p)
    };
    encryptor.wrap_output(out).map_err(|e| Error::Transfer {
        file: file.to_path_buf(),
        message: format!("encrypting: {e}"),
    })
}

/// Decrypt an age file (`input`, read from `file`) with the configured
/// identity or passphrase.
pub fn decrypt<R: Read>(cfg: &Config, input: R, file: &Path) -> Result<impl Read> {
    let refuse = |m: String| Error::Transfer {
        file: file.to_path_buf(),
        message: m,
    };
    let mut identities: Vec<Box<dyn age::Identity>> = Vec::new();
    if let Some(f) = &cfg.transfer.identity_file {
        let p = cfg.resolve(f);
        crate::config::private_file(&p, cfg, "transfer.identity_file")?;
        let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("AGE-SECRET-KEY-"))
        {
            let id = age::x25519::Identity::from_str(line).map_err(|e| Error::Config {
                path: cfg.path.clone(),
                message: format!("transfer.identity_file {}: {e}", p.display()),
            })?;
            identities.push(Box::new(id));
        }
    }
    if let Some(p) = passphrase(cfg)? {
        identities.push(Box::new(age::scrypt::Identity::new(p)));
    }
    if identities.is_empty() {
        return Err(refuse(
            "is encrypted, and no transfer.identity_file or passphrase is configured to open it"
                .into(),
        ));
    }
    let d =
        age::Decryptor::new(input).map_err(|e| refuse(format!("not a readable age file: {e}")))?;
    d.decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .map_err(|e| {
            refuse(format!(
                "cannot be decrypted with the configured key or passphrase: {e}"
            ))
        })
}
