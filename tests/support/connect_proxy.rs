//! A stand-in HTTP CONNECT proxy, for tests of the code that sends Console traffic through a
//! proxy.
//!
//! It binds 127.0.0.1 on a free port, answers `CONNECT host:port` by opening a TCP connection to
//! that target and relaying bytes both ways, and records every target it was asked for, so a
//! test can tell whether a request went through the proxy at all. It does not authenticate,
//! and answers anything but CONNECT with 405. Clients such as minreq send `CONNECT` with no
//! headers at all, so none are required.
//!
//! std only, reading requests with the stand-in Console's `read_head` (so it needs `console.rs`
//! beside it in the crate); one thread per connection (two while a tunnel is open). Bad client
//! input never panics a thread: the connection is just dropped.

use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::console::read_head;

/// A host name only the proxy resolves (to 127.0.0.1).
pub const PROXY_ONLY_NAME: &str = "console.test";
/// Only for reading the CONNECT request: an open tunnel has no timeout.
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

pub struct ConnectProxy {
    addr: SocketAddr,
    tunnels: Arc<Mutex<Vec<String>>>,
    shutdown: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl ConnectProxy {
    /// Binds 127.0.0.1 on a free port and starts serving.
    pub fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the stand-in proxy");
        let addr = listener.local_addr().expect("the stand-in proxy's address");
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let shutdown = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let (tunnels, shutdown) = (Arc::clone(&tunnels), Arc::clone(&shutdown));
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if shutdown.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let tunnels = Arc::clone(&tunnels);
                    let _ = thread::Builder::new()
                        .name("stand-in-proxy".into())
                        .spawn(move || serve(stream, &tunnels));
                }
            })
        };
        ConnectProxy {
            addr,
            tunnels,
            shutdown,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT`, for `with_proxy`, `https_proxy` or `curl -x`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The `host:port` of every CONNECT received, in order (recorded before connecting, so a
    /// target that refused the connection is listed too).
    pub fn tunnels(&self) -> Vec<String> {
        self.tunnels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl Drop for ConnectProxy {
    /// Stops accepting. Open tunnels go on until one of their ends closes.
    fn drop(&mut self) {
        self.shutdown.store(true, Ordering::SeqCst);
        if TcpStream::connect(self.addr).is_ok()
            && let Some(acceptor) = self.acceptor.take()
        {
            let _ = acceptor.join();
        }
    }
}

fn serve(mut client: TcpStream, tunnels: &Mutex<Vec<String>>) {
    let _ = client.set_read_timeout(Some(HEAD_TIMEOUT));
    let Some((head, early_bytes)) = read_head(&mut client) else {
        return;
    };
    let mut request_line = head.lines().next().unwrap_or_default().split(' ');
    let (method, target, version) = (
        request_line.next().unwrap_or_default(),
        request_line.next().unwrap_or_default(),
        request_line.next().unwrap_or_default(),
    );
    if method != "CONNECT" || target.is_empty() || !version.starts_with("HTTP/1.") {
        let _ = client.write_all(
            b"HTTP/1.1 405 Method Not Allowed\r\nAllow: CONNECT\r\nContent-Length: 0\r\n\
              Connection: close\r\n\r\n",
        );
        return;
    }
    tunnels
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push(target.to_string());

    // The proxy knows a name its clients cannot resolve, as a company's
    // proxy knows its intranet: `console.test` (the test certificate's
    // other name) is this machine. A client can then reach the stand-in
    // only through the proxy, since a loopback host never goes through one.
    let upstream = match target.strip_prefix(PROXY_ONLY_NAME) {
        Some(port) if port.starts_with(':') => TcpStream::connect(format!("127.0.0.1{port}")),
        _ => TcpStream::connect(target),
    };
    let Ok(mut upstream) = upstream else {
        let _ = client.write_all(
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        return;
    };
    // One write: minreq reads the proxy's answer with a single read.
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
        || upstream.write_all(&early_bytes).is_err()
        || client.set_read_timeout(None).is_err()
    {
        return;
    }
    relay(client, upstream);
}

/// Copies bytes both ways until both directions have ended; each end's EOF is passed on as a
/// half-close to the other.
fn relay(client: TcpStream, upstream: TcpStream) {
    let (Ok(client_reader), Ok(upstream_writer)) = (client.try_clone(), upstream.try_clone())
    else {
        return;
    };
    let up = thread::Builder::new()
        .name("stand-in-proxy-up".into())
        .spawn(move || copy_then_close(client_reader, upstream_writer));
    copy_then_close(upstream, client);
    if let Ok(up) = up {
        let _ = up.join();
    }
}

fn copy_then_close(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}
