//! `scripts/install` (issue 18): the binary, libtorch and the models under one prefix, run by
//! another, unprivileged user (`nobody`, through setpriv) on the bundled sample. It needs
//! root to switch users; elsewhere it skips with a message.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[test]
fn an_installed_prefix_runs_for_an_unprivileged_user() {
    if !is_root() || Command::new("setpriv").arg("--help").output().is_err() {
        eprintln!("skipped: needs root and setpriv to run as another user");
        return;
    }
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let prefix = d.path().join("opt");
    let st = Command::new(root().join("scripts/install"))
        .args(["--no-build", "--prefix"])
        .arg(&prefix)
        .status()
        .expect("install runs");
    assert!(st.success(), "scripts/install failed");
    let sample = d.path().join("sputnik.txt");
    std::fs::copy(
        root().join("data/seeds/sputnik-trump-putin-with-comments.txt"),
        &sample,
    )
    .expect("copy sample");
    std::fs::set_permissions(&sample, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let run = |args: &[&str]| {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(prefix.join("bin/threadlens"))
            .args(args)
            .current_dir("/")
            .env_remove("THREADLENS_MODELS")
            .env("HOME", "/nonexistent")
            .output()
            .expect("setpriv runs")
    };
    let out = run(&["score", sample.to_str().expect("utf-8"), "--quiet"]);
    assert!(
        out.status.success(),
        "score as nobody: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(csv.starts_with("id,thread_id,parent_id"), "{csv}");
    let rows = csv::Reader::from_reader(out.stdout.as_slice())
        .records()
        .count();
    assert_eq!(rows, 18, "the sample's 18 comments");
    let out = run(&["models", "--no-check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let installed = prefix.display().to_string();
    assert!(
        text.contains(&format!(
            "libtorch: {installed}/lib/threadlens/libtorch_cpu.so"
        )) && text.contains(&format!(
            "models directory: {installed}/share/threadlens/models"
        )),
        "{text}"
    );
}
