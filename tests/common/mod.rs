//! What the integration tests that run the built binary share: the `Run` record of one run
//! (command, exit status, stdout, stderr) with its checks that show the whole run when they
//! fail, and the runner that starts `threadlens` in a folder with some standard input.
#![allow(dead_code)] // each test crate uses its own subset

use std::path::Path;
use std::process::{Command, Stdio};

pub struct Run {
    pub command: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// From a finished process started as `command` (for the failure messages).
    pub fn of(command: String, out: std::process::Output) -> Run {
        Run {
            command,
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Panics, showing the command, stdout and stderr, unless the exit status is `code`.
    pub fn expect(self, code: i32) -> Run {
        if self.code != Some(code) {
            panic!(
                "expected exit {code}, got {:?}\ncommand: {}\n--- stdout\n{}\n--- stderr\n{}",
                self.code, self.command, self.stdout, self.stderr
            );
        }
        self
    }

    /// Panics with the whole run shown unless stderr contains `needle`.
    pub fn stderr_has(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\ncommand: {}\n--- stderr\n{}",
            self.command,
            self.stderr
        );
        self
    }
}

/// A CSV file's header and rows, as strings; panics naming the file if it cannot be read.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_csv(&text)
}

/// Header and rows of CSV text (a command's standard output).
pub fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// Runs the built binary in `dir`, with `stdin` (or nothing) on its standard input.
pub fn threadlens(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_threadlens"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the threadlens binary runs");
    {
        use std::io::Write;
        let mut input = child.stdin.take().expect("stdin");
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).expect("write stdin");
        }
    }
    let out = child.wait_with_output().expect("wait");
    Run::of(
        format!("(cd {} && threadlens {})", dir.display(), args.join(" ")),
        out,
    )
}
