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
//! [`super::client::url`].

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::url::Origin;

/// How much of the CONNECT request is read; minreq's is one short line.
const MAX_HEAD: usize = 8 * 1024;

/// Why a relay last failed to connect: minreq sees only its 502 and calls
/// that a bad proxy, when there is no proxy at all.
type Failed = Arc<Mutex<Option<(io::ErrorKind, String)>>>;

/// A running relay, for one origin: the proxy that makes minreq use it,
/// and what it last failed with. It stops taking connections when dropped.
pub struct Relay {
    proxy: minreq::Proxy,
    port: u16,
    failed: Failed,
    stop: Arc<AtomicBool>,
}

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

impl Relay {
    /// Starts the relay for `origin` (one it is [`needed`] for).
    pub fn start(origin: &Origin, connect_timeout: Duration) -> io::Result<Relay> {
        let targets = targets(origin);
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let (failed, stop) = (Failed::default(), Arc::new(AtomicBool::new(false)));
        let (record, stopped) = (Arc::clone(&failed), Arc::clone(&stop));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if stopped.load(Ordering::Relaxed) {
                    break;
                }
                let (targets, record) = (targets.clone(), Arc::clone(&record));
                std::thread::spawn(move || serve(client, &targets, connect_timeout, &record));
            }
        });
        let proxy =
            minreq::Proxy::new(format!("http://127.0.0.1:{port}")).map_err(io::Error::other)?;
        Ok(Relay {
            proxy,
            port,
            failed,
            stop,
        })
    }

    /// The proxy that sends a request through this relay.
    pub fn proxy(&self) -> minreq::Proxy {
        self.proxy.clone()
    }

    /// minreq's error for a request through this relay, with the relay's
    /// failure to connect put back as the I/O error it was, so that it is
    /// worded and retried as the same failure to 127.0.0.1 would be.
    pub fn unwrap_error(&self, e: minreq::Error) -> minreq::Error {
        if !matches!(e, minreq::Error::BadProxy | minreq::Error::ProxyConnect) {
            return e;
        }
        match self.failed.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some((kind, message)) => minreq::Error::IoError(io::Error::new(kind, message)),
            None => e,
        }
    }
}

impl Drop for Relay {
    /// Stops the listener: it sees the flag when this connection wakes it.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let wake = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
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

fn serve(
    mut client: TcpStream,
    targets: &[SocketAddr],
    connect_timeout: Duration,
    failed: &Failed,
) {
    if read_head(&mut client).is_err() {
        return;
    }
    let upstream = match connect(targets, connect_timeout) {
        Ok(upstream) => upstream,
        Err(e) => {
            let failure = Some((e.kind(), e.to_string()));
            *failed.lock().unwrap_or_else(|p| p.into_inner()) = failure;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_connect_comes_back_as_the_io_error_it_was() {
        // A port nothing listens on any more.
        let closed = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let origin = Origin::parse(&format!("http://localhost:{port}"), "https").unwrap();
        assert!(needed(&origin));
        let relay = Relay::start(&origin, Duration::from_secs(5)).unwrap();
        let mut client = TcpStream::connect(("127.0.0.1", relay.port)).unwrap();
        client
            .write_all(format!("CONNECT localhost:{port} HTTP/1.1\r\n\r\n").as_bytes())
            .unwrap();
        let mut answer = String::new();
        client.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 502 "), "{answer}");
        let unwrapped = relay.unwrap_error(minreq::Error::BadProxy);
        assert!(
            matches!(&unwrapped, minreq::Error::IoError(e) if e.kind() == io::ErrorKind::ConnectionRefused),
            "{unwrapped:?}"
        );
        // Said once, and other errors pass through.
        assert!(matches!(
            relay.unwrap_error(minreq::Error::BadProxy),
            minreq::Error::BadProxy
        ));
        assert!(matches!(
            relay.unwrap_error(minreq::Error::AddressNotFound),
            minreq::Error::AddressNotFound
        ));
    }
}
