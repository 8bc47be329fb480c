//! The fully static Linux build (`bash .ci/static`: x86_64-unknown-linux-musl),
//! the one the release archives and the container image carry. These run it
//! the way a `FROM scratch` container does: chrooted into an empty directory,
//! with no environment but its own settings, so anything it would want from
//! the system (a dynamic loader, libc, /etc files) is missing. They show
//! where it finds CA certificates on a system with nothing else, that
//! SSL_CERT_FILE works there, that the Dockerfile's tree runs as its
//! non-root user, and that buildah (no daemon needed) builds that image and
//! runs it.
//!
//! `.ci/run` builds the binary and names it in SNOWPLOW_TEST_STATIC_BINARY.
//! Without that variable, or without root (chroot needs it), these say so and
//! skip; under CI=true they fail. `.ci/cross` runs them again on the aarch64
//! build: SNOWPLOW_TEST_STATIC_EMULATOR names a static qemu-aarch64, which
//! goes into each root beside the binary and runs it, and
//! SNOWPLOW_TEST_STATIC_TRIPLE says which target `--version` must name.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use insta::assert_snapshot;

use crate::console::{self, Console};
use crate::harness::{self, Output, output_of};
use crate::tls::{TlsCerts, TlsProxy};

mod image;

/// Where .ci/run says the static binary is.
const BINARY_VAR: &str = "SNOWPLOW_TEST_STATIC_BINARY";
/// A static user-mode emulator that runs a binary built for another
/// architecture (set by .ci/cross for aarch64).
const EMULATOR_VAR: &str = "SNOWPLOW_TEST_STATIC_EMULATOR";
/// Where the emulator sits inside each root; left out of the trees shown.
const EMULATOR_INSIDE: &str = "/.emulator";

/// The emulator that runs the binary, when it is not for this machine.
fn emulator() -> Option<PathBuf> {
    std::env::var_os(EMULATOR_VAR).map(PathBuf::from)
}

/// The target the binary was built for, as `--version` names it.
fn triple() -> String {
    std::env::var("SNOWPLOW_TEST_STATIC_TRIPLE")
        .unwrap_or_else(|_| "x86_64-unknown-linux-musl".into())
}
/// Debian's bundle: the stand-in Console speaks plain HTTP, but the binary
/// must still start with a real bundle in place, as in the image.
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The static binary and the chroot program, or `None` after saying why not.
#[track_caller]
fn prerequisites() -> Option<(PathBuf, PathBuf)> {
    let Some(binary) = std::env::var_os(BINARY_VAR) else {
        harness::missing(&format!(
            "{BINARY_VAR} is not set (bash .ci/static builds it)"
        ));
        return None;
    };
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        harness::missing("chroot needs root");
        return None;
    }
    Some((PathBuf::from(binary), harness::require("chroot")?))
}

/// An empty directory to chroot into, 0755 like any root file system.
struct Root {
    dir: tempfile::TempDir,
    chroot: PathBuf,
}

impl Root {
    fn new(chroot: &Path) -> Root {
        let dir = tempfile::tempdir().expect("a directory for the root");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let root = Root {
            dir,
            chroot: chroot.to_path_buf(),
        };
        if let Some(emulator) = emulator() {
            root.put(EMULATOR_INSIDE, &emulator, 0o755);
        }
        root
    }

    fn path(&self, inside: &str) -> PathBuf {
        self.dir.path().join(inside.trim_start_matches('/'))
    }

    /// Copies `from` to `inside` with `mode`; parents are created 0755.
    fn put(&self, inside: &str, from: &Path, mode: u32) {
        let to = self.path(inside);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(from, &to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
        fs::set_permissions(&to, fs::Permissions::from_mode(mode)).unwrap();
    }

    /// `argv` run inside the root as `user` (`UID:GID`, or root), with
    /// exactly `vars` for its environment.
    fn run(&self, user: Option<&str>, vars: &[(&str, &str)], argv: &[&str]) -> Output {
        let mut cmd = Command::new(&self.chroot);
        if let Some(user) = user {
            cmd.arg(format!("--userspec={user}"));
        }
        cmd.arg(self.dir.path());
        if emulator().is_some() {
            cmd.arg(EMULATOR_INSIDE);
        }
        cmd.args(argv).env_clear();
        cmd.envs(vars.iter().copied());
        output_of(&mut cmd, None)
    }

    /// Every file and directory in the root with its mode and owner, one a
    /// line, cache file names redacted: what the root held.
    fn tree(&self) -> String {
        let mut lines = Vec::new();
        walk(self.dir.path(), self.dir.path(), &mut lines);
        lines.sort();
        harness::redact_cache_names(&lines.join("\n"))
    }
}

fn walk(root: &Path, dir: &Path, lines: &mut Vec<String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = fs::symlink_metadata(&path).unwrap();
        let inside = path.strip_prefix(root).unwrap().display();
        if format!("/{inside}") == EMULATOR_INSIDE {
            continue;
        }
        let mode = meta.mode() & 0o7777;
        lines.push(format!("/{inside} {mode:o} {}:{}", meta.uid(), meta.gid()));
        if meta.is_dir() {
            walk(root, &path, lines);
        }
    }
}

/// The stand-in Console's settings as the only environment, and the cache in
/// the root (there is no HOME).
fn settings(console_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("SNOWPLOW_CONSOLE_ORG_ID", console::ORG.into()),
        ("SNOWPLOW_CONSOLE_API_KEY_ID", console::KEY_ID.into()),
        ("SNOWPLOW_CONSOLE_API_KEY", console::KEY.into()),
        ("SNOWPLOW_CONSOLE_HOST", console_url.into()),
        ("SNOWPLOW_CREDENTIALS_CACHE_DIR", "/cache".into()),
    ]
}

fn borrowed<'a>(vars: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    vars.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// A system tool's output; the tool must be installed.
#[track_caller]
fn tool(program: &str, args: &[&str]) -> Output {
    let path = harness::require(program).expect("binutils, file and libc-bin are installed");
    output_of(Command::new(path).args(args), None)
}

#[test]
fn file_ldd_readelf_and_its_version_call_it_static() {
    let Some((binary, _)) = prerequisites() else {
        return;
    };
    let binary = binary.to_str().unwrap();
    let file = tool("file", &["-b", binary]);
    assert!(
        file.stdout.contains("statically linked") && !file.stdout.contains("interpreter"),
        "file says: {}",
        file.stdout
    );
    let ldd = tool("ldd", &[binary]);
    assert_eq!(
        (ldd.code, ldd.stderr.trim()),
        (1, "not a dynamic executable"),
        "ldd says: {ldd:?}"
    );
    // No program interpreter and no dynamic section: nothing for a loader to do.
    let headers = tool("readelf", &["--program-headers", "--wide", binary]);
    assert_eq!(headers.code, 0, "{}", headers.stderr);
    let kinds: Vec<&str> = headers
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(kinds.contains(&"LOAD"), "{}", headers.stdout);
    assert!(
        !kinds.contains(&"INTERP") && !kinds.contains(&"DYNAMIC"),
        "{}",
        headers.stdout
    );
    let mut version = match emulator() {
        Some(emulator) => {
            let mut cmd = Command::new(emulator);
            cmd.arg(binary);
            cmd
        }
        None => Command::new(binary),
    };
    let version = output_of(version.arg("--version"), None);
    assert_eq!(
        version.stdout,
        format!(
            "snowplow-credentials {} ({}, statically linked)\n",
            env!("CARGO_PKG_VERSION"),
            triple()
        )
    );
}

#[test]
fn it_answers_token_in_an_empty_root_with_only_its_settings() {
    let Some((binary, chroot)) = prerequisites() else {
        return;
    };
    let console = Console::start();
    let root = Root::new(&chroot);
    root.put("/snowplow-credentials", &binary, 0o755);
    root.put(SYSTEM_BUNDLE, Path::new(SYSTEM_BUNDLE), 0o644);
    let vars = settings(&console.url());

    let miss = root.run(None, &borrowed(&vars), &["/snowplow-credentials", "token"]);
    let hit = root.run(None, &borrowed(&vars), &["/snowplow-credentials", "token"]);
    let transcript = format!(
        "miss: {}\nhit: {}",
        miss.redacted(&console),
        hit.redacted(&console)
    );
    assert_snapshot!(transcript, @r"
    miss: exit: 0
    --- stdout
    <JWT 1>
    --- stderr

    hit: exit: 0
    --- stdout
    <JWT 1>
    --- stderr
    ");
    assert_eq!(console.token_requests(), 1, "the second call was a hit");
    assert_snapshot!(root.tree(), @"
    /cache 700 0:0
    /cache/CACHEDIR.TAG 600 0:0
    /cache/token-<HASH>.json 600 0:0
    /cache/token-<HASH>.lock 600 0:0
    /etc 755 0:0
    /etc/ssl 755 0:0
    /etc/ssl/certs 755 0:0
    /etc/ssl/certs/ca-certificates.crt 644 0:0
    /snowplow-credentials 755 0:0
    ");

    // Nothing at all in the environment: one line that says what to set.
    let bare = root.run(None, &[], &["/snowplow-credentials", "token"]);
    bare.failure();
    assert_snapshot!(bare.stderr, @r#"snowplow-credentials: no organization ID: set SNOWPLOW_CONSOLE_ORG_ID, run `snowplow-cli setup` (org-id in ~/.config/snowplow/snowplow.yml), or set org_id in profile "default" of ~/.config/snowplow/credentials.toml"#);
}

/// docs/reliability-and-security.md says this machine is reached directly: `localhost` too, in a
/// root with no /etc/hosts, where resolving it would be a DNS query that
/// never gets an answer. 127.0.0.1 first, then ::1.
#[test]
fn localhost_is_reached_without_a_name_lookup() {
    let Some((binary, chroot)) = prerequisites() else {
        return;
    };
    let root = Root::new(&chroot);
    root.put("/snowplow-credentials", &binary, 0o755);
    let mut seen = String::new();
    for listen in ["127.0.0.1:0", "[::1]:0"] {
        let console = Console::start_on(listen);
        let url = format!("http://localhost:{}", console.addr().port());
        let vars = settings(&url);
        let out = root.run(None, &borrowed(&vars), &["/snowplow-credentials", "token"]);
        seen.push_str(&format!("{listen}: {}\n", out.redacted(&console)));
        assert_eq!(console.token_requests(), 1, "{listen}");
    }
    assert_snapshot!(seen, @"
    127.0.0.1:0: exit: 0
    --- stdout
    <JWT 1>
    --- stderr

    [::1]:0: exit: 0
    --- stdout
    <JWT 1>
    --- stderr
    ");
}

#[test]
fn it_trusts_the_distributions_bundle_paths_and_ssl_cert_file() {
    let Some((binary, chroot)) = prerequisites() else {
        return;
    };
    let console = Console::start();
    let certs = TlsCerts::generate();
    let front = TlsProxy::start(&certs, console.addr(), &[]);
    // Where the root holds the test CA (its only trusted root), and
    // SSL_CERT_FILE. /certs/other.pem, Debian's bundle without the test CA,
    // is there in every row, where no probe looks.
    let rows = [
        // Debian, Ubuntu, and the image; Alpine; Fedora and RHEL.
        (Some(SYSTEM_BUNDLE), None),
        (Some("/etc/ssl/cert.pem"), None),
        (Some("/etc/pki/tls/certs/ca-bundle.crt"), None),
        // Nowhere the probe looks: found only through SSL_CERT_FILE.
        (Some("/certs/ours.pem"), None),
        (Some("/certs/ours.pem"), Some("/certs/ours.pem")),
        // SSL_CERT_FILE replaces the system bundle rather than adding to it.
        (Some(SYSTEM_BUNDLE), Some("/certs/other.pem")),
        // No bundle anywhere the probe looks.
        (None, None),
    ];
    let mut table = String::new();
    for (test_ca_at, ssl_cert_file) in rows {
        let root = Root::new(&chroot);
        root.put("/snowplow-credentials", &binary, 0o755);
        root.put("/certs/other.pem", Path::new(SYSTEM_BUNDLE), 0o644);
        if let Some(inside) = test_ca_at {
            root.put(inside, &certs.ca_pem, 0o644);
        }
        let mut vars = settings(&front.ip_url());
        if let Some(file) = ssl_cert_file {
            vars.push(("SSL_CERT_FILE", file.into()));
        }
        let out = root.run(None, &borrowed(&vars), &["/snowplow-credentials", "token"]);
        let stderr = out.stderr.replace(&front.port.to_string(), "<PORT>");
        table.push_str(&format!(
            "test CA at {}, SSL_CERT_FILE={}: exit {} {}\n",
            test_ca_at.unwrap_or("none"),
            ssl_cert_file.unwrap_or("unset"),
            out.code,
            stderr.trim()
        ));
    }
    assert_snapshot!(table, @"
    test CA at /etc/ssl/certs/ca-certificates.crt, SSL_CERT_FILE=unset: exit 0 
    test CA at /etc/ssl/cert.pem, SSL_CERT_FILE=unset: exit 0 
    test CA at /etc/pki/tls/certs/ca-bundle.crt, SSL_CERT_FILE=unset: exit 0 
    test CA at /certs/ours.pem, SSL_CERT_FILE=unset: exit 1 snowplow-credentials: TLS with https://127.0.0.1:<PORT> failed (error creating rustls connection: unexpected error: No CA certificates were loaded from the system): if your network uses its own certificate authority, point SSL_CERT_FILE at its PEM bundle
    test CA at /certs/ours.pem, SSL_CERT_FILE=/certs/ours.pem: exit 0 
    test CA at /etc/ssl/certs/ca-certificates.crt, SSL_CERT_FILE=/certs/other.pem: exit 1 snowplow-credentials: TLS with https://127.0.0.1:<PORT> failed (invalid peer certificate: UnknownIssuer): if your network uses its own certificate authority, point SSL_CERT_FILE at its PEM bundle
    test CA at none, SSL_CERT_FILE=unset: exit 1 snowplow-credentials: TLS with https://127.0.0.1:<PORT> failed (error creating rustls connection: unexpected error: No CA certificates were loaded from the system): if your network uses its own certificate authority, point SSL_CERT_FILE at its PEM bundle
    ");
}

#[test]
fn the_dockerfiles_tree_runs_as_its_non_root_user() {
    let Some((binary, chroot)) = prerequisites() else {
        return;
    };
    let console = Console::start();
    let certs = TlsCerts::generate();
    let front = TlsProxy::start(&certs, console.addr(), &[]);
    let context = image_context(&binary, &certs.ca_pem);
    let root = Root::new(&chroot);
    let image = image::build(&context.path().join("image"), root.dir.path());
    let mut vars: Vec<(&str, String)> = image.env.clone();
    vars.extend(
        settings(&front.ip_url())
            .into_iter()
            .filter(|(k, _)| !k.ends_with("CACHE_DIR")),
    );
    let mut argv: Vec<&str> = image.entrypoint.iter().map(String::as_str).collect();
    argv.push("token");
    for call in ["miss", "hit"] {
        let out = root.run(Some(&image.user), &borrowed(&vars), &argv);
        assert_eq!(out.code, 0, "{call}: {out:?}");
        assert_eq!(out.stdout.trim(), console.issued()[0], "{call}");
    }
    assert_eq!(console.token_requests(), 1, "the second call was a hit");
    assert_snapshot!(root.tree(), @"
    /etc 755 0:0
    /etc/ssl 755 0:0
    /etc/ssl/certs 755 0:0
    /etc/ssl/certs/ca-certificates.crt 644 0:0
    /home 755 65532:65532
    /home/nonroot 700 65532:65532
    /home/nonroot/.cache 700 65532:65532
    /home/nonroot/.cache/snowplow 700 65532:65532
    /home/nonroot/.cache/snowplow/credentials 700 65532:65532
    /home/nonroot/.cache/snowplow/credentials/CACHEDIR.TAG 600 65532:65532
    /home/nonroot/.cache/snowplow/credentials/token-<HASH>.json 600 65532:65532
    /home/nonroot/.cache/snowplow/credentials/token-<HASH>.lock 600 65532:65532
    /usr 755 0:0
    /usr/local 755 0:0
    /usr/local/bin 755 0:0
    /usr/local/bin/snowplow-credentials 755 0:0
    ");
}

/// The Dockerfile's build context (in `image/` of the returned directory),
/// as .ci/image-context assembles it, with `ca` as the image's CA bundle.
fn image_context(binary: &Path, ca: &Path) -> tempfile::TempDir {
    let context = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/image-context");
    let assembled = output_of(
        Command::new("bash")
            .arg(script)
            .arg(context.path().join("image"))
            .arg(binary)
            .env("CA_BUNDLE", ca),
        None,
    );
    assert_eq!(assembled.code, 0, "{}", assembled.stderr);
    context
}

/// buildah with its own storage (vfs) in a temporary directory.
struct Buildah {
    program: PathBuf,
    store: tempfile::TempDir,
}

impl Buildah {
    fn new(program: PathBuf) -> Buildah {
        let store = tempfile::tempdir().unwrap();
        Buildah { program, store }
    }

    /// `buildah ARGS`, which must succeed; its stdout, trimmed.
    #[track_caller]
    fn run(&self, args: &[&str]) -> String {
        let mut cmd = Command::new(&self.program);
        cmd.arg("--root")
            .arg(self.store.path().join("root"))
            .arg("--runroot")
            .arg(self.store.path().join("run"))
            .args(["--storage-driver", "vfs"])
            .args(args);
        let out = output_of(&mut cmd, None);
        assert_eq!(out.code, 0, "buildah {args:?}: {}", out.stderr);
        out.stdout.trim().to_string()
    }
}

/// buildah, from Debian, builds the Dockerfile for real: no daemon, its
/// storage (vfs) in a temporary directory, chroot isolation. The image has
/// the user and entrypoint the Dockerfile says, the same files as the tree
/// the test above carries out, and answers `token` from the stand-in.
#[test]
fn buildah_builds_the_image_and_it_answers_token() {
    let Some((binary, _)) = prerequisites() else {
        return;
    };
    if emulator().is_some() {
        // buildah runs the image's binary directly, which for another
        // architecture needs binfmt_misc, absent here; the test above runs
        // the same tree under the emulator.
        eprintln!("skipped: buildah cannot run a binary for another architecture here");
        return;
    }
    let Some(buildah) = harness::require("buildah") else {
        return;
    };
    let console = Console::start();
    let certs = TlsCerts::generate();
    let front = TlsProxy::start(&certs, console.addr(), &[]);
    let context = image_context(&binary, &certs.ca_pem);
    let buildah = Buildah::new(buildah);
    let run = |args: &[&str]| buildah.run(args);
    let dockerfile = concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile");
    let context_dir = context.path().join("image");
    #[rustfmt::skip]
    run(&["bud", "--isolation", "chroot", "--platform", "linux/amd64", "-f", dockerfile,
          "-t", "snowplow-credentials:test", context_dir.to_str().unwrap()]);
    let config = run(&[
        "inspect",
        "--type",
        "image",
        "--format",
        "{{.OCIv1.Config.User}} {{.OCIv1.Config.Env}} {{.OCIv1.Config.Entrypoint}}",
        "snowplow-credentials:test",
    ]);
    assert_snapshot!(config, @"65532:65532 [PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/home/nonroot] [/usr/local/bin/snowplow-credentials]");
    let container = run(&["from", "snowplow-credentials:test"]);
    let mut argv = vec!["run".to_string(), "--isolation".into(), "chroot".into()];
    for (name, value) in settings(&front.ip_url()) {
        if !name.ends_with("CACHE_DIR") {
            argv.extend(["--env".to_string(), format!("{name}={value}")]);
        }
    }
    argv.extend([container.clone(), "--".into()]);
    argv.extend(["/usr/local/bin/snowplow-credentials".into(), "token".into()]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    // buildah 1.28's chroot runs once lost the program's stdout under load
    // (exit 0, token issued, nothing printed): the cache file in the
    // image's home is the proof that the run worked; stdout, when buildah
    // passes it on, must be the token.
    for call in ["miss", "hit"] {
        let out = run(&argv);
        assert!(
            out.is_empty() || out == console.issued()[0],
            "{call}: {out}"
        );
    }
    assert_eq!(console.token_requests(), 1, "the second call was a hit");
    let mounted = PathBuf::from(run(&["mount", &container]));
    let cache = mounted.join("home/nonroot/.cache/snowplow/credentials");
    let cached: Vec<String> = fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| fs::read_to_string(p).unwrap())
        .collect();
    assert_eq!(cached.len(), 1, "one cached token");
    assert!(cached[0].contains(&console.issued()[0]), "{}", cached[0]);
    let mut lines = Vec::new();
    for top in ["etc/ssl", "home", "usr"] {
        walk(&mounted, &mounted.join(top), &mut lines);
    }
    lines.sort();
    assert_snapshot!(harness::redact_cache_names(&lines.join("\n")), @"
    /etc/ssl/certs 755 0:0
    /etc/ssl/certs/ca-certificates.crt 644 0:0
    /home/nonroot 700 65532:65532
    /home/nonroot/.cache 700 65532:65532
    /home/nonroot/.cache/snowplow 700 65532:65532
    /home/nonroot/.cache/snowplow/credentials 700 65532:65532
    /home/nonroot/.cache/snowplow/credentials/CACHEDIR.TAG 600 65532:65532
    /home/nonroot/.cache/snowplow/credentials/token-<HASH>.json 600 65532:65532
    /home/nonroot/.cache/snowplow/credentials/token-<HASH>.lock 600 65532:65532
    /usr/local 755 0:0
    /usr/local/bin 755 0:0
    /usr/local/bin/snowplow-credentials 755 0:0
    ");
    run(&["rm", &container]);
}
