//! `magsync pack --out DIR`, `magsync unpack PATH`, `magsync inbox`,
//! `magsync status`: moving batches between sites (SPEC §4).

use crate::base::Exit;
use crate::config::Config;
use crate::transfer;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct PackArgs {
    /// The medium: a directory (one file per channel is written there).
    #[arg(long)]
    pub out: PathBuf,
    /// Only batches from this sequence number on (resend part of a channel).
    #[arg(long)]
    pub from: Option<u64>,
}

#[derive(clap::Args, Debug)]
pub struct UnpackArgs {
    /// A packed file, or a directory of them (the medium).
    pub path: PathBuf,
}

pub fn pack(cfg: &Config, a: PackArgs) -> anyhow::Result<Exit> {
    let packed = transfer::pack::pack(cfg, &a.out, a.from)?;
    if packed.is_empty() {
        println!("nothing to pack: no unacknowledged batch for another site");
    }
    for p in &packed {
        println!(
            "{} ({} bytes{}): channel {}",
            p.file.display(),
            p.bytes,
            if p.encrypted { ", encrypted" } else { "" },
            p.manifest.channel
        );
        for b in &p.manifest.batches {
            println!(
                "  #{:<6} {:<10} {:<11} {}",
                b.sequence, b.flow, b.stage, b.batch_id
            );
        }
    }
    Ok(Exit::Done)
}

pub fn unpack(cfg: &Config, a: UnpackArgs) -> anyhow::Result<Exit> {
    let files = transfer::unpack::files(&a.path)?;
    if files.is_empty() {
        println!("no packed files at {}", a.path.display());
    }
    let mut worst = Exit::Done;
    for f in files {
        match transfer::unpack::unpack_file(cfg, &f) {
            Ok(u) => {
                println!(
                    "{}: channel {}, {} filed, {} already here",
                    f.display(),
                    u.channel,
                    u.filed.len(),
                    u.already.len()
                );
                for (seq, id) in &u.filed {
                    println!("  #{seq:<6} {id}");
                }
            }
            Err(e) => {
                eprintln!("magsync: {e}");
                worst = Exit::Failed;
            }
        }
    }
    Ok(worst)
}

pub async fn inbox(cfg: &Config) -> anyhow::Result<Exit> {
    let reports = transfer::inbox::run(cfg).await?;
    if reports.is_empty() {
        println!("inbox empty");
    }
    let mut worst = Exit::Done;
    for r in reports {
        println!("channel {}", r.channel);
        for (seq, id, what) in &r.applied {
            println!("  applied #{seq} {id}: {what}");
        }
        if !r.duplicates.is_empty() {
            println!(
                "  skipped (already applied, receipt sent again): {:?}",
                r.duplicates
            );
        }
        if !r.waiting_for.is_empty() {
            println!(
                "  waiting: sequence {:?} missing; later batches wait for it",
                r.waiting_for
            );
            worst = worst.max(Exit::Rejects);
        }
        if let Some(e) = &r.error {
            eprintln!("magsync: {e}");
            worst = Exit::Failed;
        }
    }
    Ok(worst)
}

pub fn status(cfg: &Config) -> anyhow::Result<Exit> {
    println!(
        "site {} (staging {})",
        cfg.site,
        cfg.staging_root().display()
    );
    let pending = transfer::pack::pending(cfg)?;
    let channels_dir = cfg.staging_root().join("state/channels");
    let mut out_channels: Vec<String> = std::fs::read_dir(&channels_dir)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .trim_end_matches(".toml")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default();
    out_channels.sort();
    let st = cfg.site().state();
    println!("outgoing channels");
    for ch in out_channels
        .iter()
        .filter(|c| c.starts_with(&format!("{}-to-", cfg.site)))
    {
        let c = st.channel(ch)?;
        let acks: transfer::AckState = cfg.site().state().load("acks", ch)?;
        let last_ack = acks
            .acknowledged
            .keys()
            .filter_map(|k| k.parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        let waiting: Vec<u64> = pending
            .get(ch)
            .map(|v| {
                v.iter()
                    .filter_map(|b| b.meta.channel.as_ref().map(|c| c.sequence))
                    .collect()
            })
            .unwrap_or_default();
        println!(
            "  {ch}: last sent #{}, last acknowledged #{last_ack}, pending {waiting:?}",
            c.last_sequence
        );
    }
    println!("incoming channels");
    for dir in transfer::batch_dirs(&transfer::inbox_dir(cfg)) {
        let ch = dir.file_name().expect("dir").to_string_lossy().into_owned();
        let s: transfer::InboxState = cfg.site().state().load("inbox", &ch)?;
        let mut waiting: Vec<u64> = transfer::batch_dirs(&dir)
            .iter()
            .filter_map(|d| crate::staging::Batch::open(d).ok())
            .filter_map(|b| b.meta.channel.map(|c| c.sequence))
            .collect();
        waiting.sort();
        let gap: Vec<u64> = match waiting.first() {
            Some(first) if *first > s.last_applied + 1 => (s.last_applied + 1..*first).collect(),
            _ => Vec::new(),
        };
        println!(
            "  {ch}: last applied #{}, waiting in inbox {waiting:?}, missing {gap:?}",
            s.last_applied
        );
    }
    println!("watermarks (acknowledged)");
    for id in cfg.shops.keys() {
        for flow in ["catalog", "customers", "orders", "prices"] {
            let f = st.flow(id, flow)?;
            if f.acknowledged.is_some() || f.extracted.is_some() {
                let ack = f.acknowledged.as_ref().map_or("-".to_string(), |m| {
                    format!(
                        "{} (#{} ids)",
                        m.to.clone().unwrap_or_default(),
                        m.max_id.unwrap_or(0)
                    )
                });
                let ext = f
                    .extracted
                    .as_ref()
                    .map_or("-".to_string(), |m| m.to.clone().unwrap_or_default());
                println!("  {id} {flow}: acknowledged {ack}, last extracted {ext}");
            }
        }
    }
    Ok(Exit::Done)
}
