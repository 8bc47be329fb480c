//! Test TLS material and an HTTPS front for the stand-in Console.
//!
//! Some clients only send credentials over HTTPS (kubectl) or only discover services over HTTPS
//! (terraform), while the stand-in Console speaks plain HTTP. `TlsCerts::generate` makes a
//! throwaway CA and a server certificate with the `openssl` CLI, and `TlsProxy` runs
//! `tls_proxy.py` (beside this file) to terminate TLS with them and forward to the stand-in.
//!
//! Needs `openssl` and `python3` on PATH.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

const CA_CONFIG: &str = "\
[req]
distinguished_name = dn
prompt = no

[dn]
CN = snowplow-credentials test CA

[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
";

const SERVER_CONFIG: &str = "\
[req]
distinguished_name = dn
prompt = no

[dn]
CN = localhost

[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, DNS:console.test, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

/// A self-signed CA and a server certificate it signed, for `localhost`, `console.test` and
/// `127.0.0.1`; ECDSA P-256, valid 30 days. The files live in `dir` and go with it.
pub struct TlsCerts {
    pub dir: tempfile::TempDir,
    /// The CA certificate: what clients must trust (`curl --cacert`, `SSL_CERT_FILE`, …).
    pub ca_pem: PathBuf,
    /// The server certificate (leaf only).
    pub cert_pem: PathBuf,
    /// The server's private key (PKCS#8, unencrypted).
    pub key_pem: PathBuf,
}

impl TlsCerts {
    /// Runs `openssl`; panics with its stderr if any step fails.
    pub fn generate() -> TlsCerts {
        let dir = tempfile::tempdir().expect("a temporary directory for TLS material");
        let path = dir.path();
        std::fs::write(path.join("ca.cnf"), CA_CONFIG).expect("write ca.cnf");
        std::fs::write(path.join("server.cnf"), SERVER_CONFIG).expect("write server.cnf");

        #[rustfmt::skip]
        let new_key = |file: &str| openssl(path, &[
            "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file,
        ]);
        new_key("ca.key");
        #[rustfmt::skip]
        openssl(path, &[
            "req", "-new", "-x509", "-config", "ca.cnf", "-extensions", "v3_ca",
            "-key", "ca.key", "-sha256", "-days", "30", "-out", "ca.pem",
        ]);
        new_key("server.key");
        #[rustfmt::skip]
        openssl(path, &[
            "req", "-new", "-config", "server.cnf", "-key", "server.key", "-out", "server.csr",
        ]);
        #[rustfmt::skip]
        openssl(path, &[
            "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-CAserial", "ca.srl", "-sha256", "-days", "30",
            "-extfile", "server.cnf", "-extensions", "v3_server", "-out", "server.pem",
        ]);

        TlsCerts {
            ca_pem: path.join("ca.pem"),
            cert_pem: path.join("server.pem"),
            key_pem: path.join("server.key"),
            dir,
        }
    }

    /// The CA certificate's PEM text, base64-encoded (standard alphabet, padded): the form of a
    /// kubeconfig's `certificate-authority-data`.
    pub fn ca_data_base64(&self) -> String {
        let pem = std::fs::read(&self.ca_pem).expect("read the CA certificate");
        crate::console::base64_encode(&pem, true)
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl");
    assert!(
        output.status.success(),
        "openssl {}: {}\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `tls_proxy.py` running as a child: HTTPS on 127.0.0.1:`port` in front of a plain-HTTP
/// backend. Dropping it kills and reaps the child.
pub struct TlsProxy {
    pub port: u16,
    child: Child,
    /// Held open: the script exits when it reaches EOF.
    stdin: Option<ChildStdin>,
    _stdout: BufReader<ChildStdout>,
}

impl TlsProxy {
    /// Starts the proxy and waits for it to listen. `static_json` pairs a URL path (e.g.
    /// `/.well-known/terraform.json`) with a file served for it as JSON, without the backend.
    pub fn start(certs: &TlsCerts, backend: SocketAddr, static_json: &[(&str, &Path)]) -> TlsProxy {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/tls_proxy.py");
        let mut command = Command::new("python3");
        command
            .arg(script)
            .arg("--cert")
            .arg(&certs.cert_pem)
            .arg("--key")
            .arg(&certs.key_pem)
            .arg("--backend")
            .arg(backend.to_string());
        for (url_path, file) in static_json {
            let mut pair = OsString::from(format!("{url_path}="));
            pair.push(file.as_os_str());
            command.arg("--static-json").arg(pair);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3 tls_proxy.py");
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("the proxy's stdout"));

        let mut line = String::new();
        let port = stdout
            .read_line(&mut line)
            .ok()
            .and_then(|_| line.trim().strip_prefix("PORT ")?.parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let status = child.wait();
            panic!("tls_proxy.py did not report its port (said {line:?}; {status:?})");
        };
        TlsProxy {
            port,
            child,
            stdin,
            _stdout: stdout,
        }
    }

    /// `https://localhost:PORT`.
    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    /// `https://127.0.0.1:PORT`: for clients that want a host with a dot or an IP (terraform).
    pub fn ip_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
