//! An in-process stand-in for the Snowplow Console, for the integration tests and the demo.
//!
//! Tests must never reach the real Console (nor hold a real API key), yet the code under test
//! speaks HTTP to it. So tests start this small HTTP/1.1 server on 127.0.0.1 instead. It knows
//! just enough of the Console API to
//!
//! - exchange an API key for a JWT (`GET …/credentials/v3/token`, `GET …/credentials/v2/token`)
//!   and run the legacy password grant (`POST /oauth/token`),
//! - check those JWTs on a few resource endpoints (`GET /api/msc/v1/organizations`, …), and
//! - serve a directory behind Bearer auth (a bare git repository, over git's "dumb HTTP"),
//!
//! and lets a test steer it: queue faults, change the expiry of the tokens it issues, revoke
//! them, and read back every request it received.
//!
//! std only (plus `serde_json`); one thread per connection; `Connection: close` after every
//! response. Bad client input never panics a server thread: the connection is just dropped.
//!
//! The integration tests use every item; the bench and the demo include it with
//! `#[allow(dead_code)] #[path = "../tests/support/console.rs"] mod console;`, as each calls
//! only some.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The only organization the stand-in knows.
pub const ORG: &str = "00000000-0000-4000-8000-000000000001";
/// The only valid API key id (v3).
pub const KEY_ID: &str = "11111111-2222-4333-8444-555555555555";
/// The only valid API key.
pub const KEY: &str = "canary-api-key-5ecret";
/// A key id that is known but lacks permission: with the right key, v3 answers 403.
pub const FORBIDDEN_KEY_ID: &str = "forbidden-key-id";
/// Password grant: the only valid client id.
pub const CLIENT_ID: &str = "canary-client-id";
/// Password grant: the only valid client secret.
pub const CLIENT_SECRET: &str = "canary-client-5ecret";
/// Password grant: the only valid user.
pub const USERNAME: &str = "bot@example.com";
/// Password grant: that user's password.
pub const PASSWORD: &str = "canary-pa55word";
/// Password grant: the audience the request must name (also the JWTs' `aud`).
pub const AUDIENCE: &str = "https://snowplowanalytics.com/api/";
/// The JWTs' `iss`.
pub const ISSUER: &str = "https://id.snowplowanalytics.com/";
/// Default `exp` of issued tokens: 2100-01-01T00:00:00Z.
pub const FAR_FUTURE_EXP: u64 = 4102444800;
/// A day: the real tokens' lifetime, the gap between `iat` and `exp`, and `expires_in`.
pub const DAY: u64 = 86400;

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 1024 * 1024;
const HUGE_BODY: usize = 5 * 1024 * 1024;
/// Only a guard against a client that connects and then says nothing: no test waits on it.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

const TOKEN_PREFIX: &str = "/api/msc/v1/organizations/";
const PASSWORD_GRANT_PATH: &str = "/oauth/token";

/// One request as the stand-in received it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// As sent, including any query string.
    pub path: String,
    /// In the order sent; names lowercased, values trimmed.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When its head had been read: lets a test order it against a token's `exp`.
    pub at: SystemTime,
}

impl Request {
    /// The first header of that name (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path without its query string.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or_default()
    }
}

/// A way for the stand-in to misbehave. One queued fault answers one token request (on any of
/// the three token endpoints, whatever its credentials) instead of a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// That status, with a JSON body `{"message":"<reason>","traceId":"t-fault"}`.
    Status(u16),
    /// As `Status`, plus `Retry-After: <secs>`.
    StatusRetryAfter(u16, u64),
    /// As `Status`, plus a `Retry-After` of any text (an HTTP-date, too
    /// many digits for a number).
    StatusRetryAfterText(u16, &'static str),
    /// 200 with an HTML page (as a captive portal or a wrong host would answer).
    Html,
    /// 200 `application/json` with an empty body.
    Empty,
    /// 200 `{"something":"else"}`.
    NoAccessToken,
    /// 200 with the endpoint's usual body, but the token is `not-a-jwt`.
    NotAJwt,
    /// 200 with a JWT whose `exp` is an hour in the past. It counts as issued (`issued()`), and
    /// the password grant answers `expires_in: 0` with it.
    Expired,
    /// 200 announcing a 5 MiB body (`Content-Length`), written until the client hangs up.
    Huge,
    /// Read the request, then never answer: the connection stays open until the `Console` is
    /// dropped.
    Hang,
    /// Read the request, then close the connection without answering.
    Close,
}

/// How the `exp` of the next token is chosen.
#[derive(Clone, Copy, Debug)]
enum Expiry {
    /// This `exp`; `iat` is a day before.
    At(u64),
    /// `exp` = now + secs, `iat` = now, both at issue time.
    Lifetime(u64),
}

#[derive(Debug)]
struct Issued {
    jwt: String,
    /// `None` when the payload has no `exp`: such a token never expires here.
    exp: Option<u64>,
    revoked: bool,
}

#[derive(Debug)]
struct State {
    requests: Vec<Request>,
    token_requests: usize,
    expiry: Expiry,
    exp_claim: bool,
    faults: VecDeque<Fault>,
    fail_always: Option<Fault>,
    issued: Vec<Issued>,
    /// (url prefix without a trailing slash, directory)
    dirs: Vec<(String, PathBuf)>,
    accept_basic: bool,
    /// The password grant's valid client id and user name.
    password_user: (String, String),
    shutdown: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Notified when a request is recorded and when the `Console` is dropped.
    changed: Condvar,
}

impl Shared {
    /// The state, even if a test thread panicked while holding it.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed
            .wait(guard)
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The running stand-in. Dropping it stops accepting connections and releases `Fault::Hang`.
pub struct Console {
    shared: Arc<Shared>,
    addr: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
}

impl Console {
    /// Binds 127.0.0.1 on a free port and starts serving.
    pub fn start() -> Console {
        Console::start_on("127.0.0.1:0")
    }

    /// Binds `bind` (e.g. `[::1]:0` for IPv6 loopback) and starts serving.
    pub fn start_on(bind: &str) -> Console {
        let listener = TcpListener::bind(bind).expect("bind the stand-in Console");
        let addr = listener
            .local_addr()
            .expect("the stand-in Console's address");
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                requests: Vec::new(),
                token_requests: 0,
                expiry: Expiry::At(FAR_FUTURE_EXP),
                exp_claim: true,
                faults: VecDeque::new(),
                fail_always: None,
                issued: Vec::new(),
                dirs: Vec::new(),
                accept_basic: false,
                password_user: (CLIENT_ID.into(), USERNAME.into()),
                shutdown: false,
            }),
            changed: Condvar::new(),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || accept_loop(&listener, &shared))
        };
        Console {
            shared,
            addr,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.lock().requests.clone()
    }

    /// Blocks until at least `n` requests have been received or `timeout` has passed; returns
    /// whether they were. For synchronising with a client without sleeping. A recorded request
    /// has already drawn its fault, if any, from the queue.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        while state.requests.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
        }
        true
    }

    /// How many requests went to a token endpoint (v2, v3, password grant), whatever their
    /// method, credentials or fault.
    pub fn token_requests(&self) -> usize {
        self.shared.lock().token_requests
    }

    /// The `exp` claim of tokens issued from now on (`iat` is a day before). Default
    /// `FAR_FUTURE_EXP`.
    pub fn set_exp(&self, exp: u64) {
        self.shared.lock().expiry = Expiry::At(exp);
    }

    /// Tokens issued from now on get `iat` = now and `exp` = now + `secs`, taken at issue time;
    /// the password grant then answers `expires_in: secs`.
    pub fn set_lifetime(&self, secs: u64) {
        self.shared.lock().expiry = Expiry::Lifetime(secs);
    }

    /// `false`: tokens issued from now on have no `exp` claim (the password grant still sends
    /// `expires_in`). Such tokens never expire on the resource endpoints.
    pub fn set_exp_claim(&self, present: bool) {
        self.shared.lock().exp_claim = present;
    }

    /// Queues a fault (FIFO): the next token request that `fail_always` does not answer gets it.
    pub fn push_fault(&self, fault: Fault) {
        self.shared.lock().faults.push_back(fault);
    }

    /// How many queued faults are still unused.
    pub fn pending_faults(&self) -> usize {
        self.shared.lock().faults.len()
    }

    /// While `Some`, every token request gets this fault (before the queue is looked at).
    pub fn fail_always(&self, fault: Option<Fault>) {
        self.shared.lock().fail_always = fault;
    }

    /// Every JWT issued so far, in order (including `Fault::Expired` ones).
    pub fn issued(&self) -> Vec<String> {
        self.shared
            .lock()
            .issued
            .iter()
            .map(|t| t.jwt.clone())
            .collect()
    }

    /// Every token issued so far stops being accepted by the resource endpoints. Tokens issued
    /// later are accepted.
    pub fn revoke_all(&self) {
        for token in &mut self.shared.lock().issued {
            token.revoked = true;
        }
    }

    /// Also accept `Authorization: Basic base64(anything:<jwt>)` on the resource endpoints, as
    /// git before 2.46 sends a token it got as a password. Off by default.
    pub fn accept_basic(&self, yes: bool) {
        self.shared.lock().accept_basic = yes;
    }

    /// The password grant accepts this client id and user name instead of
    /// [`CLIENT_ID`] and [`USERNAME`] from now on.
    pub fn set_password_user(&self, client_id: &str, username: &str) {
        self.shared.lock().password_user = (client_id.into(), username.into());
    }

    /// Serves the files under `dir` at `url_prefix` (e.g. `/git/repo.git`), for GET with a live
    /// token only. Query strings are ignored; `info/refs` is `text/plain` (so git uses the dumb
    /// protocol: run `git update-server-info` in the bare repository first), everything else
    /// `application/octet-stream`. A path with `..` is refused (400); a missing file is 404.
    /// The longest matching prefix wins; serving a prefix again replaces its directory.
    pub fn serve_dir(&self, url_prefix: &str, dir: &Path) {
        let prefix = format!("/{}", url_prefix.trim_matches('/'));
        let prefix = prefix.trim_end_matches('/').to_string();
        let mut state = self.shared.lock();
        state.dirs.retain(|(p, _)| *p != prefix);
        state.dirs.push((prefix, dir.to_path_buf()));
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.changed.notify_all();
        // The acceptor is blocked in accept(): a connection wakes it to see the flag.
        if TcpStream::connect(self.addr).is_ok()
            && let Some(acceptor) = self.acceptor.take()
        {
            let _ = acceptor.join();
        }
    }
}

/// A JWT as the stand-in makes them: header `{"alg":"RS256","typ":"JWT","kid":"stand-in"}`,
/// this payload (`serde_json`'s serialisation of it), and a fixed fake signature, each
/// base64url without padding.
pub fn make_jwt(payload: &serde_json::Value) -> String {
    jwt_from_payload(&payload.to_string())
}

fn jwt_from_payload(payload: &str) -> String {
    let header = r#"{"alg":"RS256","typ":"JWT","kid":"stand-in"}"#;
    format!(
        "{}.{}.{}",
        base64url(header.as_bytes()),
        base64url(payload.as_bytes()),
        base64url(b"stand-in-signature")
    )
}

/// Seconds since the Unix epoch: the stand-in's clock, which tests also set expiries by.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Connections

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.lock().shutdown {
            break;
        }
        let Ok(stream) = stream else { continue };
        let shared = Arc::clone(shared);
        // If no thread can be had, the stream is dropped: the client sees a closed connection.
        let _ = thread::Builder::new()
            .name("stand-in-console".into())
            .spawn(move || serve_connection(&shared, stream));
    }
}

fn serve_connection(shared: &Shared, mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let Some(request) = read_request(&mut stream) else {
        return;
    };
    // Recording and answering in one critical section: once a test sees a request recorded,
    // the fault it drew (if any) is gone from the queue.
    let reply = {
        let mut state = shared.lock();
        state.requests.push(request.clone());
        route(&mut state, &request)
    };
    shared.changed.notify_all();

    match reply {
        Reply::Send(response) => {
            let _ = response.write_to(&mut stream);
            let _ = stream.shutdown(Shutdown::Write);
        }
        Reply::Huge => write_huge(&mut stream),
        Reply::Hang => {
            let mut state = shared.lock();
            while !state.shutdown {
                state = shared.wait(state);
            }
        }
        Reply::Close => {}
    }
}

/// The request line and headers of an HTTP/1 request (up to CRLFCRLF, at most 64 KiB) as text,
/// and any bytes read after them. `None` if the peer hangs up or errs first, or sends a longer
/// head or one that is not UTF-8. The stand-in CONNECT proxy reads its requests with it too.
pub fn read_head(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            if end > MAX_HEAD {
                return None;
            }
            let rest = buf.split_off(end + 4);
            buf.truncate(end);
            return Some((String::from_utf8(buf).ok()?, rest));
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Reads one request: its head (see [`read_head`]), then a body of `Content-Length` bytes (at
/// most 1 MiB). `None` for anything else, which drops the connection.
fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let (head, mut body) = read_head(stream)?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let (method, path, version) = (
        request_line.next()?,
        request_line.next()?,
        request_line.next()?,
    );
    if request_line.next().is_some()
        || method.is_empty()
        || !path.starts_with('/')
        || !version.starts_with("HTTP/1.")
    {
        return None;
    }
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let mut request = Request {
        method: method.to_string(),
        path: path.to_string(),
        headers,
        body: Vec::new(),
        at: SystemTime::now(),
    };

    if request.header("transfer-encoding").is_some() {
        return None; // chunked bodies: none of our clients send them
    }
    let length: usize = match request.header("content-length") {
        Some(value) => value.parse().ok()?,
        None => 0,
    };
    if length > MAX_BODY {
        return None;
    }
    if body.len() < length
        && request
            .header("expect")
            .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").ok()?;
    }
    let mut chunk = [0u8; 8192];
    while body.len() < length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    request.body = body;
    Some(request)
}

enum Reply {
    Send(Response),
    Huge,
    Hang,
    Close,
}

struct Response {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Response {
    fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type", content_type.to_string())],
            body: body.into(),
        }
    }

    fn json(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response::new(status, "application/json", body)
    }

    /// `{"message":"<reason>","traceId":"<trace_id>"}`, as the Console's errors look.
    fn error(status: u16, trace_id: &str) -> Response {
        let body = format!(
            r#"{{"message":"{}","traceId":"{trace_id}"}}"#,
            reason(status)
        );
        Response::json(status, body)
    }

    fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.body.len()
        ));
        out.write_all(head.as_bytes())?;
        out.write_all(&self.body)?;
        out.flush()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// A valid JSON object of exactly 5 MiB whose `accessToken` is not a JWT, written until the
/// client hangs up.
fn write_huge(stream: &mut TcpStream) {
    let (open, close) = (br#"{"accessToken":""#, br#""}"#);
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {HUGE_BODY}\r\n\
         Connection: close\r\n\r\n"
    );
    let filler = [b'A'; 64 * 1024];
    let mut left = HUGE_BODY - open.len() - close.len();
    if stream.write_all(head.as_bytes()).is_err() || stream.write_all(open).is_err() {
        return;
    }
    while left > 0 {
        let n = left.min(filler.len());
        if stream.write_all(&filler[..n]).is_err() {
            return;
        }
        left -= n;
    }
    let _ = stream.write_all(close);
    let _ = stream.shutdown(Shutdown::Write);
}

// ---------------------------------------------------------------------------------------------
// Routing

#[derive(Clone, Copy, PartialEq, Eq)]
enum TokenEndpoint {
    V3,
    V2,
    PasswordGrant,
}

fn route(state: &mut State, request: &Request) -> Reply {
    let path = request.path_only();
    if path == PASSWORD_GRANT_PATH {
        return token(state, request, TokenEndpoint::PasswordGrant, "");
    }
    if let Some((org, rest)) = path
        .strip_prefix(TOKEN_PREFIX)
        .and_then(|rest| rest.split_once('/'))
    {
        match rest {
            "credentials/v3/token" => return token(state, request, TokenEndpoint::V3, org),
            "credentials/v2/token" => return token(state, request, TokenEndpoint::V2, org),
            _ => {}
        }
    }
    Reply::Send(resource(state, request, path))
}

fn token(state: &mut State, request: &Request, endpoint: TokenEndpoint, org: &str) -> Reply {
    state.token_requests += 1;

    let method = match endpoint {
        TokenEndpoint::PasswordGrant => "POST",
        TokenEndpoint::V3 | TokenEndpoint::V2 => "GET",
    };
    if request.method != method {
        return Reply::Send(Response::error(405, "t-1").with_header("Allow", method));
    }

    let fault = state
        .fail_always
        .clone()
        .or_else(|| state.faults.pop_front());
    if let Some(fault) = fault {
        return fault_reply(state, endpoint, fault);
    }

    let refused = match endpoint {
        TokenEndpoint::V3 => check_api_key(request, org, true),
        TokenEndpoint::V2 => check_api_key(request, org, false),
        TokenEndpoint::PasswordGrant => check_password_grant(&request.body, &state.password_user),
    };
    if let Some(response) = refused {
        return Reply::Send(response);
    }
    let (jwt, lifetime) = issue(state);
    Reply::Send(token_response(endpoint, &jwt, lifetime))
}

/// `None` if the key (and for v3 the key id) and the organization are right.
fn check_api_key(request: &Request, org: &str, v3: bool) -> Option<Response> {
    let key_ok = request.header("x-api-key") == Some(KEY);
    let key_id = request.header("x-api-key-id");
    if !key_ok || (v3 && key_id != Some(KEY_ID) && key_id != Some(FORBIDDEN_KEY_ID)) {
        return Some(Response::error(401, "t-1"));
    }
    if v3 && key_id == Some(FORBIDDEN_KEY_ID) {
        return Some(Response::error(403, "t-1"));
    }
    if org != ORG {
        return Some(Response::error(404, "t-1"));
    }
    None
}

/// `None` if the form is a valid password grant.
fn check_password_grant(body: &[u8], (client_id, username): &(String, String)) -> Option<Response> {
    let form = form_decode(body);
    let field = |name: &str| {
        form.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    if field("grant_type") != Some("password") {
        return Some(Response::json(
            400,
            r#"{"error":"unsupported_grant_type","error_description":"Unsupported grant type."}"#,
        ));
    }
    let expected = [
        ("username", username.as_str()),
        ("password", PASSWORD),
        ("client_id", client_id.as_str()),
        ("client_secret", CLIENT_SECRET),
        ("audience", AUDIENCE),
    ];
    if expected
        .iter()
        .any(|(name, value)| field(name) != Some(value))
    {
        return Some(Response::json(
            401,
            r#"{"error":"invalid_grant","error_description":"Wrong email or password."}"#,
        ));
    }
    None
}

/// Issues the next token as configured; returns it and its lifetime for `expires_in`.
fn issue(state: &mut State) -> (String, u64) {
    let (iat, exp, lifetime) = match state.expiry {
        Expiry::At(exp) => (exp.saturating_sub(DAY), exp, DAY),
        Expiry::Lifetime(secs) => {
            let now = now();
            (now, now.saturating_add(secs), secs)
        }
    };
    let exp = state.exp_claim.then_some(exp);
    (record_token(state, iat, exp), lifetime)
}

fn record_token(state: &mut State, iat: u64, exp: Option<u64>) -> String {
    let n = state.issued.len() + 1;
    let exp_claim = exp.map(|e| format!(r#""exp":{e},"#)).unwrap_or_default();
    let payload = format!(
        r#"{{"iss":"{ISSUER}","sub":"stand-in|{n}","aud":"{AUDIENCE}","iat":{iat},{exp_claim}"jti":"{n}"}}"#
    );
    let jwt = jwt_from_payload(&payload);
    state.issued.push(Issued {
        jwt: jwt.clone(),
        exp,
        revoked: false,
    });
    jwt
}

fn token_response(endpoint: TokenEndpoint, token: &str, expires_in: u64) -> Response {
    match endpoint {
        TokenEndpoint::V3 | TokenEndpoint::V2 => {
            Response::json(200, format!(r#"{{"accessToken":"{token}"}}"#))
        }
        TokenEndpoint::PasswordGrant => Response::json(
            200,
            format!(
                r#"{{"access_token":"{token}","expires_in":{expires_in},"token_type":"Bearer"}}"#
            ),
        ),
    }
}

fn fault_reply(state: &mut State, endpoint: TokenEndpoint, fault: Fault) -> Reply {
    let response = match fault {
        Fault::Status(status) => Response::error(status, "t-fault"),
        Fault::StatusRetryAfter(status, secs) => {
            Response::error(status, "t-fault").with_header("Retry-After", secs.to_string())
        }
        Fault::StatusRetryAfterText(status, text) => {
            Response::error(status, "t-fault").with_header("Retry-After", text.to_string())
        }
        Fault::Html => Response::new(
            200,
            "text/html; charset=utf-8",
            "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\
             <body><p>Please sign in.</p></body></html>\n",
        ),
        Fault::Empty => Response::json(200, ""),
        Fault::NoAccessToken => Response::json(200, r#"{"something":"else"}"#),
        Fault::NotAJwt => token_response(endpoint, "not-a-jwt", DAY),
        Fault::Expired => {
            let exp = now().saturating_sub(3600);
            let jwt = record_token(state, exp.saturating_sub(DAY), Some(exp));
            token_response(endpoint, &jwt, 0)
        }
        Fault::Huge => return Reply::Huge,
        Fault::Hang => return Reply::Hang,
        Fault::Close => return Reply::Close,
    };
    Reply::Send(response)
}

/// Everything that is not a token endpoint.
fn resource(state: &State, request: &Request, path: &str) -> Response {
    let served = state
        .dirs
        .iter()
        .filter(|(prefix, _)| {
            path.strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
        .max_by_key(|(prefix, _)| prefix.len());
    if let Some((prefix, dir)) = served {
        if request.method != "GET" {
            return Response::error(405, "t-1").with_header("Allow", "GET");
        }
        if !authorized(state, request) {
            return unauthorized(state);
        }
        return serve_file(dir, &path[prefix.len()..]);
    }

    let org_list = path
        .strip_prefix(TOKEN_PREFIX)
        .and_then(|rest| rest.split_once('/'))
        .filter(|(_, list)| {
            matches!(
                *list,
                "data-structures/v1" | "data-products/v2" | "event-specs/v1"
            )
        })
        .map(|(org, _)| org);
    if path != "/api/msc/v1/organizations" && org_list.is_none() {
        return Response::error(404, "t-1");
    }
    if request.method != "GET" {
        return Response::error(405, "t-1").with_header("Allow", "GET");
    }
    if !authorized(state, request) {
        return unauthorized(state);
    }
    match org_list {
        None => Response::json(200, format!(r#"[{{"id":"{ORG}","name":"Stand-in Org"}}]"#)),
        Some(org) if org == ORG => Response::json(200, "[]"),
        Some(_) => Response::error(404, "t-1"),
    }
}

/// Whether the request carries a live token this stand-in issued.
fn authorized(state: &State, request: &Request) -> bool {
    let Some((scheme, credentials)) = request
        .header("authorization")
        .and_then(|value| value.split_once(' '))
    else {
        return false;
    };
    let credentials = credentials.trim();
    let token = if scheme.eq_ignore_ascii_case("bearer") {
        credentials.to_string()
    } else if scheme.eq_ignore_ascii_case("basic") && state.accept_basic {
        let decoded = base64_decode(credentials).unwrap_or_default();
        let decoded = String::from_utf8_lossy(&decoded);
        match decoded.split_once(':') {
            Some((_user, password)) => password.to_string(),
            None => return false,
        }
    } else {
        return false;
    };
    let now = now();
    state
        .issued
        .iter()
        .any(|t| t.jwt == token && !t.revoked && t.exp.is_none_or(|exp| exp > now))
}

fn unauthorized(state: &State) -> Response {
    let response = Response::json(401, r#"{"message":"Unauthorized"}"#)
        .with_header("WWW-Authenticate", r#"Bearer realm="stand-in""#);
    if state.accept_basic {
        response.with_header("WWW-Authenticate", r#"Basic realm="stand-in""#)
    } else {
        response
    }
}

/// `rest` is what follows the prefix: empty or starting with '/'.
fn serve_file(dir: &Path, rest: &str) -> Response {
    let mut file = dir.to_path_buf();
    for part in rest.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if part == ".." || part.contains('\\') {
            return Response::error(400, "t-1");
        }
        file.push(part);
    }
    match std::fs::read(&file) {
        Ok(bytes) => {
            let content_type = if rest.trim_end_matches('/').ends_with("info/refs") {
                "text/plain; charset=utf-8"
            } else {
                "application/octet-stream"
            };
            Response::new(200, content_type, bytes)
        }
        Err(_) => Response::error(404, "t-1"),
    }
}

// ---------------------------------------------------------------------------------------------
// Encodings

/// `application/x-www-form-urlencoded`: `&`-separated `name=value`, `+` is a space, `%XX` a
/// byte. A malformed escape is kept as it is.
fn form_decode(body: &[u8]) -> Vec<(String, String)> {
    body.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut halves = pair.splitn(2, |&b| b == b'=');
            let name = halves.next().unwrap_or_default();
            let value = halves.next().unwrap_or_default();
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &[u8]) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let escaped = match text.get(i..i + 3) {
            Some([b'%', hi, lo]) => hex(*hi).zip(hex(*lo)).map(|(hi, lo)| (hi * 16 + lo) as u8),
            _ => None,
        };
        match (escaped, text[i]) {
            (Some(byte), _) => {
                out.push(byte);
                i += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, byte) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn base64url(data: &[u8]) -> String {
    base64_encode(data, false)
}

/// Base64: the URL-safe alphabet without padding (JWTs), or the standard one
/// with padding (kubeconfig's certificate data).
pub fn base64_encode(data: &[u8], standard: bool) -> String {
    let alphabet: &[u8; 64] = if standard {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    };
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let bytes = [
            0,
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from_be_bytes(bytes);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(alphabet[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else if standard {
                out.push('=');
            }
        }
    }
    out
}

/// Standard or URL-safe alphabet, padded or not.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.trim_end_matches('=').bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}
