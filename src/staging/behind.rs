//! Files written behind the caller: a thread of the file's own does the
//! system calls (and the SHA-256 of a payload file) while the caller goes on
//! making the next records.
//!
//! An extract is one thread turning shop rows into batch records, and on a
//! 200 000-order shop a sixth of that thread's time was the kernel copying
//! full buffers into the page cache and the hashing of them, time during
//! which no row was read. [`WriteBehind`] fills a buffer of [`CHUNK`] bytes
//! (as much as the buffered writer before it held: a full disk is met at the
//! same place)
//! and hands it to its thread, which writes and hashes it and hands it back
//! for reuse: three buffers at most, whatever the file's size. The bytes
//! reach the file in the order they were written, so the digest is the
//! digest of the file.
//!
//! An error of the thread (a full disk) stops it: the caller's next write,
//! or [`WriteBehind::finish`], returns that error. A writer dropped without
//! `finish` (an error elsewhere) stops its thread and waits for it, so no
//! thread outlives the file it writes.

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, Sender, SyncSender, TryRecvError, channel, sync_channel};
use std::thread::JoinHandle;

/// Bytes handed to the thread at once.
pub const CHUNK: usize = 1 << 16;

/// What the thread leaves: the file, its digest (when hashed) and size.
pub struct Written {
    pub file: File,
    pub sha256: Option<String>,
    pub bytes: u64,
}

/// A file written by a thread of its own; see the module notes.
pub struct WriteBehind {
    buf: Vec<u8>,
    full: Option<SyncSender<Vec<u8>>>,
    empty: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<io::Result<Written>>>,
}

impl WriteBehind {
    /// Write `file`; with `hash`, its SHA-256 comes back from
    /// [`WriteBehind::finish`].
    pub fn new(file: File, hash: bool) -> io::Result<WriteBehind> {
        // One buffer queued while one is written: the caller waits only
        // when the disk is slower than it.
        let (full, chunks) = sync_channel::<Vec<u8>>(1);
        let (back, empty) = channel::<Vec<u8>>();
        let thread = std::thread::Builder::new()
            .name("write-behind".into())
            .spawn(move || write_chunks(file, hash, chunks, back))?;
        Ok(WriteBehind {
            buf: Vec::with_capacity(CHUNK),
            full: Some(full),
            empty,
            thread: Some(thread),
        })
    }

    /// Hand the buffer to the thread and take an empty one.
    fn ship(&mut self) -> io::Result<()> {
        let next = match self.empty.try_recv() {
            Ok(b) => b,
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => Vec::with_capacity(CHUNK),
        };
        let chunk = std::mem::replace(&mut self.buf, next);
        let sent = self.full.as_ref().map(|f| f.send(chunk));
        match sent {
            Some(Ok(())) => Ok(()),
            // The thread stopped: its error is the answer.
            _ => Err(self.stop().err().unwrap_or_else(stopped)),
        }
    }

    /// Close the queue and wait for the thread.
    fn stop(&mut self) -> io::Result<Written> {
        self.full = None;
        match self.thread.take() {
            Some(t) => t.join().unwrap_or_else(|_| Err(stopped())),
            None => Err(stopped()),
        }
    }

    /// Write what is left and wait for the thread: the file (not synced),
    /// its digest when hashed, its size.
    pub fn finish(mut self) -> io::Result<Written> {
        if !self.buf.is_empty() {
            self.ship()?;
        }
        self.stop()
    }
}

fn stopped() -> io::Error {
    io::Error::other("the file's writer thread stopped")
}

/// The thread: each chunk written, hashed and handed back.
fn write_chunks(
    mut file: File,
    hash: bool,
    chunks: Receiver<Vec<u8>>,
    back: Sender<Vec<u8>>,
) -> io::Result<Written> {
    let mut hasher = hash.then(Sha256::new);
    let mut bytes = 0u64;
    for mut chunk in chunks {
        file.write_all(&chunk)?;
        if let Some(h) = hasher.as_mut() {
            h.update(&chunk);
        }
        bytes += chunk.len() as u64;
        chunk.clear();
        // The caller may have finished: a buffer nobody takes is dropped.
        let _ = back.send(chunk);
    }
    Ok(Written {
        file,
        sha256: hasher.map(|h| super::bag::hex(&h.finalize())),
        bytes,
    })
}

impl Write for WriteBehind {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.ship()?;
        }
        Ok(data.len())
    }

    /// Hands the buffer to the thread; the bytes reach the file before
    /// [`WriteBehind::finish`] returns.
    fn flush(&mut self) -> io::Result<()> {
        match self.buf.is_empty() {
            true => Ok(()),
            false => self.ship(),
        }
    }
}

impl Drop for WriteBehind {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_and_its_digest_are_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let mut w = WriteBehind::new(File::create(&path).unwrap(), true).unwrap();
        // Pieces of every size around a chunk, 2.5 chunks in all.
        let mut expect = Vec::new();
        let mut n = 0u8;
        while expect.len() < CHUNK * 5 / 2 {
            let piece: Vec<u8> = (0..(n as usize * 997) % (CHUNK + 7))
                .map(|i| (i as u8) ^ n)
                .collect();
            w.write_all(&piece).unwrap();
            expect.extend_from_slice(&piece);
            n = n.wrapping_add(1);
        }
        w.flush().unwrap();
        w.write_all(b"tail").unwrap();
        expect.extend_from_slice(b"tail");
        let done = w.finish().unwrap();
        drop(done.file);
        assert_eq!(done.bytes, expect.len() as u64);
        assert_eq!(std::fs::read(&path).unwrap(), expect);
        assert_eq!(
            done.sha256.as_deref(),
            Some(crate::staging::bag::sha256_bytes(&expect).as_str())
        );
        let mut plain =
            WriteBehind::new(File::create(dir.path().join("g")).unwrap(), false).unwrap();
        plain.write_all(b"x").unwrap();
        assert!(plain.finish().unwrap().sha256.is_none());
    }

    #[test]
    fn a_failed_write_is_the_error_of_a_later_call() {
        // A file opened read-only: the thread's first write fails.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ro");
        std::fs::write(&path, b"").unwrap();
        let ro = File::open(&path).unwrap();
        let mut w = WriteBehind::new(ro, true).unwrap();
        let mut failed = false;
        for _ in 0..4 {
            if w.write_all(&[0u8; CHUNK]).is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed || w.finish().is_err());
    }

    #[test]
    fn a_writer_dropped_unfinished_stops_its_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d");
        let mut w = WriteBehind::new(File::create(&path).unwrap(), false).unwrap();
        w.write_all(&[7u8; CHUNK + 1]).unwrap();
        drop(w);
        // The shipped chunk was written before the thread stopped.
        assert!(std::fs::metadata(&path).unwrap().len() >= CHUNK as u64);
    }
}
