//! A log file rotated by size: `app.log` → `app.log.1` → … → `app.log.N`.
//!
//! Hand-written rather than taken from a crate: `file-rotate` (the closest)
//! either cuts a line in two at the size limit (`ContentLimit::Bytes`) or
//! lets the file grow past it (`BytesSurpassed`), panics when the log
//! directory cannot be created and drops write errors silently; the
//! behaviour documented for `--log-max-size` is "rotate before a line would
//! make the file larger than the limit", with whole lines and a reported
//! error.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub(super) struct RotatingFile {
    path: PathBuf,
    file: Option<File>,
    size: u64,
    max_size: u64,
    backups: u32,
}

impl RotatingFile {
    /// Opens `path` for appending (creating it and its parent directories),
    /// counting what it already holds towards `max_size`.
    pub(super) fn open(path: &Path, max_size: u64, backups: u32) -> io::Result<RotatingFile> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(RotatingFile { path: path.to_owned(), file: Some(file), size, max_size, backups })
    }

    /// The log file's path.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `line`, first rotating if it would make the file larger than
    /// `max_size` (a line longer than `max_size` gets a file of its own).
    pub(super) fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        let len = line.len() as u64;
        if self.max_size > 0 && self.size > 0 && self.size.saturating_add(len) > self.max_size {
            self.rotate()?;
        }
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(open_append(&self.path)?),
        };
        file.write_all(line)?;
        self.size += len;
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        // Close first: Windows cannot rename an open file.
        self.file = None;
        if self.backups == 0 {
            remove_if_exists(&self.path)?;
        } else {
            remove_if_exists(&backup_path(&self.path, self.backups))?;
            for n in (1..self.backups).rev() {
                rename_if_exists(&backup_path(&self.path, n), &backup_path(&self.path, n + 1))?;
            }
            rename_if_exists(&self.path, &backup_path(&self.path, 1))?;
        }
        self.file = Some(open_append(&self.path)?);
        self.size = 0;
        Ok(())
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// `app.log` → `app.log.N`.
fn backup_path(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

fn rename_if_exists(from: &Path, to: &Path) -> io::Result<()> {
    match fs::rename(from, to) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_n_backups() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let mut f = RotatingFile::open(&path, 10, 2).unwrap();
        for line in ["a1234567\n", "b1234567\n", "c1234567\n", "d1234567\n"] {
            f.write_line(line.as_bytes()).unwrap();
        }
        let read = |p: PathBuf| fs::read_to_string(p).unwrap();
        assert_eq!(read(path.clone()), "d1234567\n");
        assert_eq!(read(backup_path(&path, 1)), "c1234567\n");
        assert_eq!(read(backup_path(&path, 2)), "b1234567\n");
        assert!(!backup_path(&path, 3).exists());
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["app.log", "app.log.1", "app.log.2"]);
    }

    #[test]
    fn rotation_fills_files_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let mut f = RotatingFile::open(&path, 8, 1).unwrap();
        for line in ["abc\n", "def\n", "ghi\n", "a very long line\n"] {
            f.write_line(line.as_bytes()).unwrap();
        }
        assert_eq!(fs::read_to_string(&path).unwrap(), "a very long line\n");
        assert_eq!(fs::read_to_string(backup_path(&path, 1)).unwrap(), "ghi\n");
    }

    #[test]
    fn rotation_without_backups_empties_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let mut f = RotatingFile::open(&path, 6, 0).unwrap();
        f.write_line(b"one\n").unwrap();
        f.write_line(b"two\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "two\n");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn zero_max_size_never_rotates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let mut f = RotatingFile::open(&path, 0, 3).unwrap();
        for _ in 0..100 {
            f.write_line(b"0123456789\n").unwrap();
        }
        assert_eq!(fs::metadata(&path).unwrap().len(), 1100);
        assert!(!backup_path(&path, 1).exists());
    }

    #[test]
    fn rotation_counts_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        fs::write(&path, "12345678\n").unwrap();
        let mut f = RotatingFile::open(&path, 10, 1).unwrap();
        f.write_line(b"x\n").unwrap();
        assert_eq!(fs::read_to_string(backup_path(&path, 1)).unwrap(), "12345678\n");
    }

    #[test]
    fn parent_directories_are_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/sub/app.log");
        let mut f = RotatingFile::open(&path, 0, 0).unwrap();
        f.write_line(b"x\n").unwrap();
        assert_eq!(f.path(), path);
        assert_eq!(fs::read_to_string(&path).unwrap(), "x\n");
    }
}
