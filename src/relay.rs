//! Reaching this machine without asking anyone: an IPv6 loopback literal
//! (`http://[::1]:8080`), which the HTTP client cannot parse (minreq splits
//! the host at its first colon), and `localhost`, which it would resolve
//! through the system's resolver: in an empty container or chroot there is
//! no /etc/hosts, so that is a DNS query that never gets an answer.
//!
//! So the request names the host `localhost` (for the `Host` header and
//! TLS, whose certificate must then name `localhost`) and goes through a
//! CONNECT relay of our own on 127.0.0.1, inside this process, which
//! connects to the loopback address whatever the CONNECT line says:
//! `::1` for the literal, 127.0.0.1 and then `::1` for `localhost`. Nothing
//! leaves this machine. Other IPv6 literals are refused by
//! [`crate::url::Origin::client_host`].

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Mutex;
use std::time::Duration;

use crate::url::Origin;

/// How much of the CONNECT request is read; minreq's is one short line.
const MAX_HEAD: usize = 8 * 1024;

/// Why the relay last failed to connect: minreq sees only its 502 and calls
/// that a bad proxy, when there is no proxy at all.
static FAILED: Mutex<Option<(io::ErrorKind, String)>> = Mutex::new(None);

/// Whether `origin` is reached through the relay.
pub fn needed(origin: &Origin) -> bool {
    !targets(origin).is_empty()
}

/// The addresses the relay tries for `origin`, in order; none if it is not
/// one the relay is for.
fn targets(origin: &Origin) -> Vec<SocketAddr> {
    let v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, origin.port));
    let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, origin.port));
    match origin.host.parse::<Ipv6Addr>() {
        Ok(ip) if ip.is_loopback() => vec![v6],
        _ if origin.host == "localhost" => vec![v4, v6],
        _ => Vec::new(),
    }
}

/// Starts the relay for `origin` (one it is [`needed`] for) and gives the
/// proxy that makes minreq use it. It runs until the process exits.
pub fn start(origin: &Origin, connect_timeout: Duration) -> io::Result<minreq::Proxy> {
    let targets = targets(origin);
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let targets = targets.clone();
            std::thread::spawn(move || serve(client, &targets, connect_timeout));
        }
    });
    minreq::Proxy::new(format!("http://127.0.0.1:{port}")).map_err(io::Error::other)
}

/// minreq's error for a request through the relay, with the relay's failure
/// to connect put back as the I/O error it was, so that it is worded and
/// retried as the same failure to 127.0.0.1 would be.
pub fn unwrap_error(e: minreq::Error) -> minreq::Error {
    if !matches!(e, minreq::Error::BadProxy | minreq::Error::ProxyConnect) {
        return e;
    }
    match FAILED.lock().unwrap_or_else(|p| p.into_inner()).take() {
        Some((kind, message)) => minreq::Error::IoError(io::Error::new(kind, message)),
        None => e,
    }
}

/// The first of `targets` that accepts a connection, else the first's error
/// (127.0.0.1's, for `localhost`).
fn connect(targets: &[SocketAddr], connect_timeout: Duration) -> io::Result<TcpStream> {
    let mut first = None;
    for target in targets {
        match TcpStream::connect_timeout(target, connect_timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => first = first.or(Some(e)),
        }
    }
    Err(first.unwrap_or_else(|| io::Error::other("no address to connect to")))
}

fn serve(mut client: TcpStream, targets: &[SocketAddr], connect_timeout: Duration) {
    if read_head(&mut client).is_err() {
        return;
    }
    let upstream = match connect(targets, connect_timeout) {
        Ok(upstream) => upstream,
        Err(e) => {
            let failure = Some((e.kind(), e.to_string()));
            *FAILED.lock().unwrap_or_else(|p| p.into_inner()) = failure;
            let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
            return;
        }
    };
    // One write: minreq reads the proxy's answer with a single read.
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let (Ok(client_reader), Ok(upstream_writer)) = (client.try_clone(), upstream.try_clone())
    else {
        return;
    };
    let up = std::thread::spawn(move || pipe(client_reader, upstream_writer));
    pipe(upstream, client);
    let _ = up.join();
}

/// Reads the CONNECT request up to its blank line, byte by byte, so that
/// nothing after it (the TLS handshake) is taken.
fn read_head(client: &mut TcpStream) -> io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_HEAD || client.read(&mut byte)? == 0 {
            return Err(io::Error::other("no whole CONNECT request"));
        }
        head.push(byte[0]);
    }
    Ok(())
}

/// Copies one direction until it ends, then passes the end on.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}
