//! Writing output files safely. Every report file is written to a temporary name in its
//! folder and renamed into place when complete: a symlink planted at the destination is
//! replaced, never followed (so `comments.csv → ../victim` cannot overwrite the victim), and a
//! full disk or a crash leaves the earlier file or nothing, never a truncated one. `check_*`
//! tries the destination before any scoring, so a bad `-o` fails in a second, not after an
//! hour of scoring.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// An error with the path it concerns. The cause is its `source`, which the error chain
/// (`threadlens: writing X: cause`) shows once (issue 34 case 18: it was shown twice).
#[derive(Debug, thiserror::Error)]
#[error("writing {path}")]
pub struct OutError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

fn err(path: &Path) -> impl FnOnce(std::io::Error) -> OutError + '_ {
    move |source| OutError {
        path: path.to_path_buf(),
        source: without_temporary_path(source),
    }
}

/// tempfile's errors name the temporary file they tried (`… at path "/x/.threadlens-check-
/// MmKcfj"`), an internal name that means nothing to the user: the operating system's error
/// alone is kept.
fn without_temporary_path(e: std::io::Error) -> std::io::Error {
    // tempfile keeps the OS error only as text ("No such file or directory (os error 2) at
    // path …"), so the text before the path is what is kept.
    let Some(text) = e.get_ref().map(ToString::to_string) else {
        return e;
    };
    let Some((cause, _)) = text.split_once(" at path ") else {
        return e;
    };
    let code = cause
        .rsplit_once("(os error ")
        .and_then(|(_, n)| n.trim_end_matches(')').parse().ok());
    match code {
        Some(code) => std::io::Error::from_raw_os_error(code),
        None => std::io::Error::new(e.kind(), cause.to_string()),
    }
}

/// The folder a file path is in (`.` for a bare name).
fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A file being written under a temporary name in its destination's folder; `commit` flushes,
/// syncs and renames it into place. Dropped without `commit` (an error on the way), the
/// temporary file is removed and the destination is untouched.
pub struct AtomicFile {
    w: BufWriter<tempfile::NamedTempFile>,
    path: PathBuf,
}

impl AtomicFile {
    pub fn create(path: &Path) -> Result<AtomicFile, OutError> {
        let tmp = tempfile::Builder::new()
            .prefix(".threadlens-")
            .suffix(".tmp")
            .permissions(readable_by_umask())
            .tempfile_in(folder(path))
            .map_err(err(path))?;
        Ok(AtomicFile {
            w: BufWriter::with_capacity(1 << 16, tmp),
            path: path.to_path_buf(),
        })
    }

    pub fn commit(self) -> Result<(), OutError> {
        let (tmp, path) = self.finish()?;
        tmp.persist(&path).map_err(|e| err(&path)(e.error))?;
        Ok(())
    }

    /// Flushes and syncs the file, still under its temporary name, for a [`FileSet`].
    fn finish(self) -> Result<(tempfile::NamedTempFile, PathBuf), OutError> {
        let path = self.path;
        let tmp = self
            .w
            .into_inner()
            .map_err(|e| err(&path)(e.into_error()))?;
        tmp.as_file().sync_data().map_err(err(&path))?;
        Ok((tmp, path))
    }
}

/// A set of report files that replace an earlier run's together (issue 34 case 17: a full disk
/// in the middle of `analyze` left new files beside old ones). Each is written and synced
/// under a temporary name first, which is where a full disk fails, leaving every earlier file
/// as it was; only then are they renamed into place, which takes no space. While the renames
/// run, a marker file in the folder says the set may be mixed; it is removed when the last
/// one is done, so it stays only if a rename itself failed.
#[derive(Default)]
pub struct FileSet {
    ready: Vec<(tempfile::NamedTempFile, PathBuf)>,
}

/// The marker [`FileSet::commit`] leaves while it renames.
pub const INCOMPLETE: &str = "INCOMPLETE-threadlens.txt";

impl FileSet {
    /// Adds a file written in full.
    pub fn add(&mut self, f: AtomicFile) -> Result<(), OutError> {
        self.ready.push(f.finish()?);
        Ok(())
    }

    /// Writes `bytes` to a temporary file for `path` and adds it.
    pub fn write(&mut self, path: &Path, bytes: &[u8]) -> Result<(), OutError> {
        let mut f = AtomicFile::create(path)?;
        f.write_all(bytes).map_err(err(path))?;
        self.add(f)
    }

    /// Renames every file into place, with the marker in `dir` while it does.
    pub fn commit(self, dir: &Path) -> Result<(), OutError> {
        let marker = dir.join(INCOMPLETE);
        write(
            &marker,
            b"threadlens was replacing the reports in this folder when it stopped: the files \
              here may come from two runs. Run it again.\n",
        )?;
        for (tmp, path) in self.ready {
            tmp.persist(&path).map_err(|e| err(&path)(e.error))?;
        }
        std::fs::remove_file(&marker).map_err(err(&marker))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.w.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

/// The mode a new report file gets: 0666 less the umask, as any program's output (issue 34
/// case 15: a temporary file's 0600 was kept, so a web server or a colleague could not read
/// the reports). The mode is given at creation, where the kernel applies the umask.
fn readable_by_umask() -> std::fs::Permissions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::Permissions::from_mode(0o666)
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(".")
            .map(|m| m.permissions())
            .expect("the working folder has metadata")
    }
}

/// Refuses to write `output` when it is one of `inputs`: the same file, by device and inode,
/// whatever the names (`x.csv`, `./x.csv`, a hard link). Issue 34 case 9: `score x.csv -o
/// x.csv` replaced its input. Outputs that do not exist yet cannot be an input.
pub fn refuse_input(output: &Path, inputs: &[PathBuf]) -> Result<(), OutError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let Ok(out) = std::fs::metadata(output) else {
            return Ok(());
        };
        for input in inputs {
            if let Ok(inp) = std::fs::metadata(input) {
                if (inp.dev(), inp.ino()) == (out.dev(), out.ino()) {
                    return Err(OutError {
                        path: output.to_path_buf(),
                        source: std::io::Error::new(
                            std::io::ErrorKind::AlreadyExists,
                            format!(
                                "it is the input {}; writing it would replace what is read \
                                 (choose another output)",
                                input.display()
                            ),
                        ),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Writes bytes atomically (see `AtomicFile`).
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), OutError> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes).map_err(err(path))?;
    f.commit()
}

/// Makes `dir` (and parents) a folder threadlens can write in, before any work is done. A
/// symlink or file where a folder should be is an error naming it.
pub fn check_dir(dir: &Path) -> Result<(), OutError> {
    std::fs::create_dir_all(dir).map_err(err(dir))?;
    probe(dir)
}

/// Checks that a file can be created at `path` (its folder exists and is writable, and it is
/// not a folder), before any work is done.
pub fn check_file(path: &Path) -> Result<(), OutError> {
    if path.is_dir() {
        return Err(OutError {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a folder"),
        });
    }
    probe(folder(path)).map_err(|e| OutError {
        path: path.to_path_buf(),
        source: e.source,
    })
}

fn probe(dir: &Path) -> Result<(), OutError> {
    tempfile::Builder::new()
        .prefix(".threadlens-check-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(err(dir))
}

/// A real subfolder `name` of `dir`: a symlink there is removed (not followed) and replaced
/// by a folder. Returns its path.
pub fn subdir(dir: &Path, name: &str) -> Result<PathBuf, OutError> {
    let path = dir.join(name);
    if let Ok(meta) = std::fs::symlink_metadata(&path) {
        if !meta.is_dir() {
            std::fs::remove_file(&path).map_err(err(&path))?;
        }
    }
    std::fs::create_dir_all(&path).map_err(err(&path))?;
    Ok(path)
}

/// The list of files an earlier run wrote into a folder, one name a line.
const MANIFEST: &str = ".threadlens-written";

/// Removes the files an earlier run wrote into `dir` (named in its manifest) that this run did
/// not write again (`keep`: a chart no longer drawn), then records `keep` as the manifest.
/// Files threadlens never wrote stay, whatever their names (issue 34 case 14: every `*.svg`
/// in the folder used to go).
pub fn remove_stale(dir: &Path, keep: &[PathBuf]) -> Result<(), OutError> {
    let manifest = dir.join(MANIFEST);
    let earlier = std::fs::read_to_string(&manifest).unwrap_or_default();
    let names: Vec<&str> = keep
        .iter()
        .filter_map(|p| p.file_name().and_then(|n| n.to_str()))
        .collect();
    for name in earlier.lines() {
        // Only plain names in this folder: a manifest edited to say `../x` removes nothing.
        let plain = !name.is_empty() && Path::new(name).file_name() == Some(name.as_ref());
        if plain && name != MANIFEST && !names.contains(&name) {
            let path = dir.join(name);
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(err(&path)(e)),
                _ => {}
            }
        }
    }
    let mut list = names.join("\n");
    list.push('\n');
    write(&manifest, list.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symlink_at_the_destination_is_replaced_not_followed() {
        let d = tempfile::tempdir().expect("tempdir");
        let victim = d.path().join("victim");
        std::fs::write(&victim, "precious").expect("victim");
        let out = d.path().join("out");
        std::fs::create_dir(&out).expect("out");
        let link = out.join("comments.csv");
        std::os::unix::fs::symlink(&victim, &link).expect("symlink");
        write(&link, b"report").expect("writes");
        assert_eq!(
            std::fs::read_to_string(&victim).expect("victim"),
            "precious"
        );
        assert_eq!(std::fs::read_to_string(&link).expect("report"), "report");
        assert!(!std::fs::symlink_metadata(&link).expect("meta").is_symlink());
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let d = tempfile::tempdir().expect("tempdir");
        let path = d.path().join("a.csv");
        std::fs::write(&path, "old").expect("old");
        {
            let mut f = AtomicFile::create(&path).expect("create");
            f.write_all(b"half").expect("write");
            // an error here (a full disk): the file is dropped without commit
        }
        assert_eq!(std::fs::read_to_string(&path).expect("old"), "old");
        let names: Vec<_> = std::fs::read_dir(d.path())
            .expect("dir")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from("a.csv")]);
    }

    #[test]
    fn charts_symlink_becomes_a_folder_and_stale_files_go() {
        let d = tempfile::tempdir().expect("tempdir");
        let elsewhere = d.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).expect("elsewhere");
        std::fs::write(elsewhere.join("keep.svg"), "x").expect("keep");
        std::os::unix::fs::symlink(&elsewhere, d.path().join("charts")).expect("symlink");
        let charts = subdir(d.path(), "charts").expect("subdir");
        assert!(!std::fs::symlink_metadata(&charts)
            .expect("meta")
            .is_symlink());
        assert!(elsewhere.join("keep.svg").exists());
        // A first run draws old.svg and new.svg; the user keeps mine.svg beside them.
        std::fs::write(charts.join("old.svg"), "x").expect("old");
        std::fs::write(charts.join("new.svg"), "x").expect("new");
        std::fs::write(charts.join("mine.svg"), "x").expect("mine");
        remove_stale(&charts, &[charts.join("old.svg"), charts.join("new.svg")]).expect("first");
        // The next run draws only new.svg: old.svg goes, mine.svg (never written) stays.
        remove_stale(&charts, &[charts.join("new.svg")]).expect("stale");
        assert!(!charts.join("old.svg").exists());
        assert!(charts.join("new.svg").exists() && charts.join("mine.svg").exists());
        // A manifest that names a path outside the folder removes nothing there.
        std::fs::write(d.path().join("victim.svg"), "x").expect("victim");
        std::fs::write(charts.join(MANIFEST), "../victim.svg\n").expect("manifest");
        remove_stale(&charts, &[]).expect("edited manifest");
        assert!(d.path().join("victim.svg").exists());
    }

    /// Issue 34 case 18: the cause is shown once, without tempfile's internal path.
    #[test]
    fn errors_name_the_destination_once_and_no_temporary_file() {
        let e = check_file(Path::new("/nonexistent-threadlens/x.csv")).expect_err("no folder");
        let chain = format!("{:#}", anyhow::Error::new(e));
        assert_eq!(
            chain,
            "writing /nonexistent-threadlens/x.csv: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn report_files_take_the_umask_not_0600() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().expect("tempdir");
        let path = d.path().join("r.csv");
        write(&path, b"x").expect("writes");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        // Read without setting it (umask(2) would change it under the other tests).
        let status = std::fs::read_to_string("/proc/self/status").expect("proc status");
        let mask = status
            .lines()
            .find_map(|l| l.strip_prefix("Umask:"))
            .and_then(|m| u32::from_str_radix(m.trim(), 8).ok())
            .expect("Umask line");
        assert_eq!(mode, 0o666 & !mask, "mode {mode:o} under umask {mask:o}");
    }

    #[test]
    fn an_output_that_is_an_input_is_refused_by_identity() {
        let d = tempfile::tempdir().expect("tempdir");
        let input = d.path().join("x.csv");
        std::fs::write(&input, "id,text\n1,a\n").expect("input");
        let link = d.path().join("same.csv");
        std::fs::hard_link(&input, &link).expect("hard link");
        let dotted = d.path().join(".").join("x.csv");
        for out in [&input, &link, &dotted] {
            let e = refuse_input(out, std::slice::from_ref(&input)).expect_err("refused");
            let chain = format!("{:#}", anyhow::Error::new(e));
            assert!(
                chain.contains("it is the input") && chain.contains("x.csv"),
                "{chain}"
            );
        }
        refuse_input(&d.path().join("other.csv"), std::slice::from_ref(&input))
            .expect("a new file");
        std::fs::write(d.path().join("y.csv"), "id\n").expect("y");
        refuse_input(&d.path().join("y.csv"), &[input]).expect("another file");
    }

    #[test]
    fn unwritable_destinations_are_found_before_any_work() {
        let d = tempfile::tempdir().expect("tempdir");
        let file = d.path().join("plain");
        std::fs::write(&file, "x").expect("file");
        assert!(check_dir(&file.join("sub")).is_err());
        assert!(check_file(&d.path().join("missing/x.csv")).is_err());
        assert!(check_file(d.path()).is_err());
        assert!(check_file(&d.path().join("ok.csv")).is_ok());
        assert!(check_dir(&d.path().join("new/out")).is_ok());
    }
}
