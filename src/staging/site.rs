//! A site's staging root: the one place that knows its layout, hands out
//! its state store and holds its lock.
//!
//! ```text
//! <staging>/
//!   magsync.lock           the site lock (an OS file lock; see below)
//!   .holders/<pid>.<n>     who holds it, for the message a waiter prints
//!   outbox/  work/  receipts/  undo/  inbox/<channel>/  archive/
//!   state/                 watermarks, fingerprints, channels, inbox, acks
//!   logs/  reports/  report.html
//! ```
//!
//! Every command that writes under the root takes the lock. Commands that
//! only add batches of their own (extract, transform, load, sync, review
//! import) share it: their channel numbers are serialised by a finer lock
//! per channel ([`State::lock_channel`]), and each batch directory is
//! claimed atomically. Commands that move, apply or archive other batches
//! (run, pack, unpack, inbox, undo) hold it alone, so a nightly run never
//! meets a manual command half way. A second writer waits up to
//! `[run] site_lock_wait` seconds, saying whom it waits for, then refuses
//! with a message naming the holder.
//!
//! The lock is `flock(2)` on `magsync.lock`: the kernel releases it when the
//! holder exits, however it exits, so a killed run never leaves a lock a
//! person must remove. The file itself stays; its presence means nothing.

use crate::error::{Error, IoContext, Result};
use crate::staging::state::State;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The staging root of one site.
#[derive(Debug, Clone)]
pub struct Site {
    root: PathBuf,
    lock_wait: Duration,
}

/// How a command holds the site lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Beside other sharing commands (each adds only batches of its own).
    Shared,
    /// Alone (moves, applies or archives batches other commands wrote).
    Alone,
}

impl Site {
    pub fn new(root: PathBuf, lock_wait: Duration) -> Site {
        Site { root, lock_wait }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    /// Extracted batches waiting to be transformed here or carried away.
    pub fn outbox(&self) -> PathBuf {
        self.root.join("outbox")
    }
    /// Transformed (and edited) batches of this site.
    pub fn work(&self) -> PathBuf {
        self.root.join("work")
    }
    /// What loads did: counts and load-time rejects.
    pub fn receipts(&self) -> PathBuf {
        self.root.join("receipts")
    }
    /// Before-images of shop writes (`magsync undo`).
    pub fn undo(&self) -> PathBuf {
        self.root.join("undo")
    }
    /// Batches from other sites, one directory per channel.
    pub fn inbox(&self) -> PathBuf {
        self.root.join("inbox")
    }
    /// Batches acknowledged or applied, kept `transfer.retention_days`.
    pub fn archive(&self) -> PathBuf {
        self.root.join("archive")
    }
    /// One log file per run.
    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }
    /// One JSON report per run.
    pub fn reports(&self) -> PathBuf {
        self.root.join("reports")
    }
    /// The site's one state store.
    pub fn state(&self) -> State {
        State::new(&self.root)
    }

    /// Find a batch by path or by name in this site's staging directories.
    pub fn find(&self, name_or_path: &str) -> Result<PathBuf> {
        let p = PathBuf::from(name_or_path);
        if p.is_dir() {
            return Ok(p);
        }
        for dir in [
            self.outbox(),
            self.work(),
            self.receipts(),
            self.undo(),
            self.inbox(),
        ] {
            let c = dir.join(name_or_path);
            if c.is_dir() {
                return Ok(c);
            }
        }
        Err(Error::batch(
            name_or_path,
            format!(
                "no such batch (neither a directory nor a batch under {})",
                self.root.display()
            ),
        ))
    }

    /// Take the site lock for `command` (how it is named to a waiter).
    pub fn lock(&self, hold: Hold, command: &str) -> Result<SiteLock> {
        let path = self.root.join("magsync.lock");
        let waited = self.lock_wait.as_secs();
        let Some(file) = flock(&path, hold, self.lock_wait, || {
            tracing::warn!(
                "{}: waiting up to {waited} s ([run] site_lock_wait) for {}",
                path.display(),
                self.holders()
            )
        })?
        else {
            return Err(Error::Locked {
                path,
                holders: self.holders(),
                waited,
            });
        };
        // Say who holds it, for the next one to come (and forget the
        // records of holders that were killed).
        let _ = self.holders();
        let dir = self.root.join(".holders");
        std::fs::create_dir_all(&dir).at(&dir)?;
        static HELD: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = HELD.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let me = dir.join(format!("{}.{n}", std::process::id()));
        let text = format!(
            "{}\t{}\t{}\t{command}\n",
            std::process::id(),
            match hold {
                Hold::Shared => "shared",
                Hold::Alone => "alone",
            },
            crate::base::now_utc()
        );
        std::fs::write(&me, text).at(&me)?;
        Ok(SiteLock {
            _file: file,
            holder: me,
        })
    }

    /// The live holders, as a person reads them ("pid 812, `magsync run`,
    /// since 2026-12-02T01:00:00Z"). Records of processes that are gone
    /// are removed on the way.
    fn holders(&self) -> String {
        let dir = self.root.join(".holders");
        let mut out = Vec::new();
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let Ok(text) = std::fs::read_to_string(e.path()) else {
                continue;
            };
            let f: Vec<&str> = text.trim_end().splitn(4, '\t').collect();
            let [pid, hold, since, command] = f[..] else {
                continue;
            };
            if pid.parse::<u32>().is_ok_and(|p| !alive(p)) {
                let _ = std::fs::remove_file(e.path());
                continue;
            }
            let hold = if hold == "shared" { ", shared" } else { "" };
            out.push(format!("pid {pid}, `{command}`{hold}, since {since}"));
        }
        if out.is_empty() {
            "another magsync (which one it did not say)".into()
        } else {
            out.sort();
            format!("another magsync ({})", out.join("; "))
        }
    }
}

/// An OS file lock (`flock(2)`) on `path`, waiting up to `wait` (calling
/// `waiting` once when it starts to wait); `None` when it is still taken
/// then. The one lock mechanism: the site lock and each channel's.
pub(crate) fn flock(
    path: &Path,
    hold: Hold,
    wait: Duration,
    mut waiting: impl FnMut(),
) -> Result<Option<std::fs::File>> {
    let dir = path.parent().expect("a lock file lives in a directory");
    std::fs::create_dir_all(dir).at(dir)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .at(path)?;
    let deadline = Instant::now() + wait;
    let mut said = false;
    loop {
        let tried = match hold {
            Hold::Shared => file.try_lock_shared(),
            Hold::Alone => file.try_lock(),
        };
        match tried {
            Ok(()) => return Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => {
                let now = Instant::now();
                if now >= deadline {
                    return Ok(None);
                }
                if !said {
                    said = true;
                    waiting();
                }
                std::thread::sleep(Duration::from_millis(20).min(deadline - now));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(path, e)),
        }
    }
}

fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true // cannot tell: keep the record
    }
}

/// Held while a command writes; released when dropped (or when the
/// process ends, however it ends).
#[derive(Debug)]
pub struct SiteLock {
    _file: std::fs::File,
    holder: PathBuf,
}

impl Drop for SiteLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.holder);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(dir: &Path, wait_ms: u64) -> Site {
        Site::new(dir.to_path_buf(), Duration::from_millis(wait_ms))
    }

    #[test]
    fn sharing_commands_run_together_and_one_alone_waits_then_names_them() {
        let tmp = tempfile::tempdir().unwrap();
        let s = site(tmp.path(), 200);
        let a = s.lock(Hold::Shared, "magsync extract --shop s1").unwrap();
        let b = s.lock(Hold::Shared, "magsync sync").unwrap();
        let t0 = Instant::now();
        let e = s.lock(Hold::Alone, "magsync run").unwrap_err();
        assert!(t0.elapsed() >= Duration::from_millis(200), "it waited");
        let msg = e.to_string();
        assert!(
            msg.contains("`magsync extract --shop s1`, shared")
                && msg.contains("`magsync sync`, shared")
                && msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        drop((a, b));
        let run = s.lock(Hold::Alone, "magsync run").unwrap();
        let e = s.lock(Hold::Shared, "magsync extract").unwrap_err();
        assert!(e.to_string().contains("`magsync run`, since"), "{e}");
        drop(run);
        s.lock(Hold::Shared, "magsync extract").unwrap();
    }

    #[test]
    fn a_waiter_gets_the_lock_when_the_holder_lets_go() {
        let tmp = tempfile::tempdir().unwrap();
        let s = site(tmp.path(), 5_000);
        let held = s.lock(Hold::Alone, "magsync run").unwrap();
        let s2 = s.clone();
        let t = std::thread::spawn(move || s2.lock(Hold::Alone, "magsync inbox").map(|_| ()));
        std::thread::sleep(Duration::from_millis(150));
        drop(held);
        t.join().unwrap().unwrap();
    }
}
