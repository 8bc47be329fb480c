//! A small D-Bus client, just enough for the Secret Service: it connects
//! to the session bus over a Unix socket, authenticates (SASL EXTERNAL),
//! and makes method calls, marshalling the few types those calls use
//! (`y b u s o g v`, arrays, structs and dict entries). Written here rather
//! than taken from a crate: the pure-Rust one (zbus) brought about 60
//! crates and grew the binary by 62%, and libdbus would break the static
//! build (see docs/design.md).
//!
//! Everything the bus sends is untrusted: a message over [`MAX_MESSAGE`]
//! is refused, every length is checked before use, nesting is capped, and
//! each call has a deadline, so a broken or hung bus is an error, never a
//! panic or a hang.

use std::fmt;
use std::io::{self, Read, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixStream};
use std::time::{Duration, Instant};

/// The largest message read from the bus: the Secret Service's answers are
/// a few hundred bytes.
pub const MAX_MESSAGE: usize = 1 << 20;
/// How deeply containers may nest (the spec allows 64; we need 4).
const MAX_DEPTH: usize = 32;
/// The longest line the bus may answer during authentication.
const MAX_AUTH_LINE: usize = 512;
/// How much of an error message from the bus is kept.
const MAX_ERROR_TEXT: usize = 200;

/// The bus itself: its name (and interface), and its object.
const BUS: &str = "org.freedesktop.DBus";
const BUS_PATH: &str = "/org/freedesktop/DBus";

const METHOD_CALL: u8 = 1;
const METHOD_RETURN: u8 = 2;
const ERROR: u8 = 3;

/// What went wrong talking to the bus, in words for a message that names
/// the service (the caller does).
#[derive(Debug, PartialEq)]
pub enum Fault {
    /// Nothing answered at the address, or it refused us.
    Unreachable(String),
    /// The bus broke off, went silent or sent what is not D-Bus.
    Broken(String),
    /// The callee answered with an error: its name and one-line message.
    Remote { name: String, message: String },
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Unreachable(why) | Fault::Broken(why) => f.write_str(why),
            Fault::Remote { name, message } if message.is_empty() => f.write_str(name),
            Fault::Remote { name, message } => write!(f, "{name}: {message}"),
        }
    }
}

fn broken(why: impl Into<String>) -> Fault {
    Fault::Broken(why.into())
}

/// One D-Bus value. Its `Debug` never shows a byte array's contents: a
/// secret travels as one.
#[derive(Clone, PartialEq)]
pub enum Value {
    Byte(u8),
    Bool(bool),
    U32(u32),
    Str(String),
    Path(String),
    Sig(String),
    Variant(Box<Value>),
    /// The elements' signature, and the elements.
    Array(String, Vec<Value>),
    Struct(Vec<Value>),
    Entry(Box<Value>, Box<Value>),
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Byte(v) => write!(f, "y{v}"),
            Value::Bool(v) => write!(f, "b{v}"),
            Value::U32(v) => write!(f, "u{v}"),
            Value::Str(v) => write!(f, "s{v:?}"),
            Value::Path(v) => write!(f, "o{v:?}"),
            Value::Sig(v) => write!(f, "g{v:?}"),
            Value::Variant(v) => write!(f, "v({v:?})"),
            Value::Array(sig, items) if sig == "y" => write!(f, "ay[{} bytes]", items.len()),
            Value::Array(sig, items) => write!(f, "a{sig}{items:?}"),
            Value::Struct(fields) => write!(f, "({fields:?})"),
            Value::Entry(k, v) => write!(f, "{{{k:?}: {v:?}}}"),
        }
    }
}

impl Value {
    /// Its type's signature.
    pub fn signature(&self) -> String {
        match self {
            Value::Byte(_) => "y".into(),
            Value::Bool(_) => "b".into(),
            Value::U32(_) => "u".into(),
            Value::Str(_) => "s".into(),
            Value::Path(_) => "o".into(),
            Value::Sig(_) => "g".into(),
            Value::Variant(_) => "v".into(),
            Value::Array(sig, _) => format!("a{sig}"),
            Value::Struct(fields) => {
                let inner: String = fields.iter().map(Value::signature).collect();
                format!("({inner})")
            }
            Value::Entry(k, v) => format!("{{{}{}}}", k.signature(), v.signature()),
        }
    }

    /// `a{ss}` from pairs.
    pub fn string_dict(pairs: &[(&str, &str)]) -> Value {
        let entry = |(k, v): &(&str, &str)| {
            Value::Entry(
                Box::new(Value::Str(k.to_string())),
                Box::new(Value::Str(v.to_string())),
            )
        };
        Value::Array("{ss}".into(), pairs.iter().map(entry).collect())
    }

    /// `ay` from bytes.
    pub fn bytes(bytes: &[u8]) -> Value {
        Value::Array("y".into(), bytes.iter().map(|b| Value::Byte(*b)).collect())
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) | Value::Path(s) | Value::Sig(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(_, items) => Some(items),
            _ => None,
        }
    }

    /// A byte array's bytes.
    pub fn as_bytes(&self) -> Option<Vec<u8>> {
        let items = self.as_array()?;
        let byte = |v: &Value| match v {
            Value::Byte(b) => Some(*b),
            _ => None,
        };
        items.iter().map(byte).collect()
    }

    /// A variant's content; anything else as it is.
    pub fn unwrap_variant(&self) -> &Value {
        match self {
            Value::Variant(v) => v.unwrap_variant(),
            other => other,
        }
    }
}

/// The alignment of a type, by its signature's first character.
fn alignment(code: u8) -> usize {
    match code {
        b'y' | b'g' | b'v' => 1,
        b'(' | b'{' => 8,
        _ => 4,
    }
}

// Marshalling (little-endian, offsets from the message's start).

struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn pad(&mut self, align: usize) {
        while !self.buf.len().is_multiple_of(align) {
            self.buf.push(0);
        }
    }

    fn u32(&mut self, v: u32) {
        self.pad(4);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    fn put(&mut self, value: &Value) {
        match value {
            Value::Byte(b) => self.buf.push(*b),
            Value::Bool(b) => self.u32(u32::from(*b)),
            Value::U32(v) => self.u32(*v),
            Value::Str(s) | Value::Path(s) => {
                self.u32(s.len() as u32);
                self.buf.extend_from_slice(s.as_bytes());
                self.buf.push(0);
            }
            Value::Sig(s) => {
                self.buf.push(s.len() as u8);
                self.buf.extend_from_slice(s.as_bytes());
                self.buf.push(0);
            }
            Value::Variant(v) => {
                self.put(&Value::Sig(v.signature()));
                self.put(v);
            }
            Value::Array(sig, items) => {
                self.u32(0);
                let at = self.buf.len() - 4;
                self.pad(alignment(sig.as_bytes().first().copied().unwrap_or(b'y')));
                let start = self.buf.len();
                for item in items {
                    self.put(item);
                }
                let len = (self.buf.len() - start) as u32;
                self.buf[at..at + 4].copy_from_slice(&len.to_le_bytes());
            }
            Value::Struct(fields) => {
                self.pad(8);
                for field in fields {
                    self.put(field);
                }
            }
            Value::Entry(k, v) => {
                self.pad(8);
                self.put(k);
                self.put(v);
            }
        }
    }
}

/// A method return to `serial` carrying `values`, as a bus would send it
/// (for tests' stand-in buses).
#[cfg(test)]
pub fn reply(serial: u32, values: &[Value]) -> Vec<u8> {
    let mut body = Writer { buf: Vec::new() };
    for value in values {
        body.put(value);
    }
    let signature: String = values.iter().map(Value::signature).collect();
    let mut w = Writer {
        buf: vec![b'l', METHOD_RETURN, 0, 1],
    };
    w.u32(body.buf.len() as u32);
    w.u32(1000 + serial);
    let field = |code: u8, value: Value| {
        Value::Struct(vec![Value::Byte(code), Value::Variant(Box::new(value))])
    };
    let mut fields = vec![field(5, Value::U32(serial))];
    if !signature.is_empty() {
        fields.push(field(8, Value::Sig(signature)));
    }
    w.put(&Value::Array("(yv)".into(), fields));
    w.pad(8);
    w.buf.extend_from_slice(&body.buf);
    w.buf
}

/// A method call to `destination`, numbered `serial`, as bytes.
pub fn method_call(
    serial: u32,
    destination: &str,
    path: &str,
    interface: &str,
    member: &str,
    args: &[Value],
) -> Vec<u8> {
    let mut body = Writer { buf: Vec::new() };
    for arg in args {
        body.put(arg);
    }
    let field = |code: u8, value: Value| {
        Value::Struct(vec![Value::Byte(code), Value::Variant(Box::new(value))])
    };
    let mut fields = vec![
        field(1, Value::Path(path.into())),
        field(2, Value::Str(interface.into())),
        field(3, Value::Str(member.into())),
        field(6, Value::Str(destination.into())),
    ];
    if !args.is_empty() {
        let sig: String = args.iter().map(Value::signature).collect();
        fields.push(field(8, Value::Sig(sig)));
    }
    let mut out = Writer {
        buf: vec![b'l', METHOD_CALL, 0, 1],
    };
    out.u32(body.buf.len() as u32);
    out.u32(serial);
    out.put(&Value::Array("(yv)".into(), fields));
    out.pad(8);
    out.buf.extend_from_slice(&body.buf);
    out.buf
}

// Unmarshalling: every length checked, every padding byte zero.

/// The first complete type of `sig`, and the rest.
fn split_type(sig: &str, depth: usize) -> Result<(&str, &str), Fault> {
    if depth > MAX_DEPTH {
        return Err(broken("a signature nests too deeply"));
    }
    let bad = || broken(format!("a malformed signature ({:?})", cut(sig)));
    let end = match sig.as_bytes().first().ok_or_else(bad)? {
        b'y' | b'b' | b'u' | b's' | b'o' | b'g' | b'v' => 1,
        b'a' => 1 + split_type(&sig[1..], depth + 1)?.0.len(),
        b'(' => {
            let mut rest = &sig[1..];
            if rest.starts_with(')') {
                return Err(bad());
            }
            while !rest.starts_with(')') {
                rest = split_type(rest, depth + 1)?.1;
            }
            sig.len() - rest.len() + 1
        }
        b'{' => {
            let (key, rest) = split_type(&sig[1..], depth + 1)?;
            if !matches!(key, "y" | "b" | "u" | "s" | "o" | "g") {
                return Err(bad());
            }
            let (_, rest) = split_type(rest, depth + 1)?;
            if !rest.starts_with('}') {
                return Err(bad());
            }
            sig.len() - rest.len() + 1
        }
        _ => return Err(bad()),
    };
    Ok(sig.split_at(end))
}

/// At most a few dozen characters of `text`, for a message.
fn cut(text: &str) -> String {
    text.chars().take(40).collect()
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    big_endian: bool,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], Fault> {
        let end = self.pos.checked_add(n).filter(|end| *end <= self.buf.len());
        let end = end.ok_or_else(|| broken("a message ends in the middle of a value"))?;
        let bytes = &self.buf[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn align(&mut self, align: usize) -> Result<(), Fault> {
        let pad = (align - self.pos % align) % align;
        if self.take(pad)?.iter().any(|b| *b != 0) {
            return Err(broken("a message has non-zero padding"));
        }
        Ok(())
    }

    fn u32(&mut self) -> Result<u32, Fault> {
        self.align(4)?;
        let b: [u8; 4] = self.take(4)?.try_into().expect("four bytes");
        Ok(match self.big_endian {
            true => u32::from_be_bytes(b),
            false => u32::from_le_bytes(b),
        })
    }

    fn text(&mut self, len: usize) -> Result<String, Fault> {
        let bytes = self.take(len)?.to_vec();
        if self.take(1)? != [0] {
            return Err(broken("a string is not NUL-terminated"));
        }
        String::from_utf8(bytes).map_err(|_| broken("a string is not UTF-8"))
    }

    fn signature(&mut self) -> Result<String, Fault> {
        let len = self.take(1)?[0] as usize;
        self.text(len)
    }

    /// One value of the single complete type `sig`.
    fn value(&mut self, sig: &str, depth: usize) -> Result<Value, Fault> {
        if depth > MAX_DEPTH {
            return Err(broken("a message nests too deeply"));
        }
        Ok(match sig.as_bytes()[0] {
            b'y' => Value::Byte(self.take(1)?[0]),
            b'b' => match self.u32()? {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                _ => return Err(broken("a boolean is neither 0 nor 1")),
            },
            b'u' => Value::U32(self.u32()?),
            b's' => {
                let len = self.u32()? as usize;
                Value::Str(self.text(len)?)
            }
            b'o' => {
                let len = self.u32()? as usize;
                Value::Path(self.text(len)?)
            }
            b'g' => Value::Sig(self.signature()?),
            b'v' => {
                let inner = self.signature()?;
                let (one, rest) = split_type(&inner, depth)?;
                if !rest.is_empty() {
                    return Err(broken("a variant holds more than one type"));
                }
                Value::Variant(Box::new(self.value(one, depth + 1)?))
            }
            b'a' => {
                let len = self.u32()? as usize;
                let elem = &sig[1..];
                self.align(alignment(elem.as_bytes()[0]))?;
                let end = self.pos.checked_add(len).filter(|e| *e <= self.buf.len());
                let end = end.ok_or_else(|| broken("an array is longer than its message"))?;
                let mut items = Vec::new();
                while self.pos < end {
                    items.push(self.value(elem, depth + 1)?);
                }
                if self.pos != end {
                    return Err(broken("an array's elements overrun its length"));
                }
                Value::Array(elem.into(), items)
            }
            b'(' => {
                self.align(8)?;
                let mut rest = &sig[1..sig.len() - 1];
                let mut fields = Vec::new();
                while !rest.is_empty() {
                    let (one, more) = split_type(rest, depth)?;
                    fields.push(self.value(one, depth + 1)?);
                    rest = more;
                }
                Value::Struct(fields)
            }
            b'{' => {
                self.align(8)?;
                let (k, rest) = split_type(&sig[1..], depth)?;
                let (v, _) = split_type(rest, depth)?;
                let key = self.value(k, depth + 1)?;
                Value::Entry(Box::new(key), Box::new(self.value(v, depth + 1)?))
            }
            _ => return Err(broken("a malformed signature")),
        })
    }

    /// The values of `sig`, a sequence of complete types.
    fn values(&mut self, mut sig: &str) -> Result<Vec<Value>, Fault> {
        let mut out = Vec::new();
        while !sig.is_empty() {
            let (one, rest) = split_type(sig, 0)?;
            out.push(self.value(one, 0)?);
            sig = rest;
        }
        Ok(out)
    }
}

/// A message read from the bus: what a caller needs of it.
#[derive(Debug, PartialEq)]
pub struct Message {
    pub kind: u8,
    pub serial: u32,
    pub reply_serial: Option<u32>,
    pub error_name: Option<String>,
    pub body: Vec<Value>,
}

/// How long the whole message starting with these 16 bytes is, or why it
/// is refused.
fn message_len(head: &[u8; 16]) -> Result<usize, Fault> {
    let big_endian = match head[0] {
        b'l' => false,
        b'B' => true,
        _ => return Err(broken("the bus sent something that is not a D-Bus message")),
    };
    if head[3] != 1 {
        return Err(broken("the bus speaks another version of D-Bus"));
    }
    let word = |at: usize| {
        let b: [u8; 4] = head[at..at + 4].try_into().expect("four bytes");
        match big_endian {
            true => u32::from_be_bytes(b),
            false => u32::from_le_bytes(b),
        }
    };
    let fields = (word(12) as usize).next_multiple_of(8);
    let total = 16usize
        .checked_add(fields)
        .and_then(|n| n.checked_add(word(4) as usize));
    match total {
        Some(n) if n <= MAX_MESSAGE => Ok(n),
        _ => Err(broken(format!(
            "the bus sent a message over {} KiB",
            MAX_MESSAGE / 1024
        ))),
    }
}

/// Parses one whole message (for the fuzz target, and [`Connection`]).
pub fn parse_message(bytes: &[u8]) -> Result<Message, Fault> {
    let head: &[u8; 16] = (bytes.get(..16))
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| broken("a message is shorter than its header"))?;
    if message_len(head)? != bytes.len() {
        return Err(broken("a message's length is not what its header says"));
    }
    let mut r = Reader {
        buf: bytes,
        pos: 12,
        big_endian: bytes[0] == b'B',
    };
    let fields = r.value("a(yv)", 0)?;
    let mut message = Message {
        kind: bytes[1],
        serial: 0,
        reply_serial: None,
        error_name: None,
        body: Vec::new(),
    };
    let mut signature = String::new();
    for field in fields.as_array().unwrap_or_default() {
        let Value::Struct(pair) = field else { continue };
        let (Some(Value::Byte(code)), Some(value)) = (pair.first(), pair.get(1)) else {
            continue;
        };
        match (code, value.unwrap_variant()) {
            (4, Value::Str(name)) => message.error_name = Some(name.clone()),
            (5, Value::U32(serial)) => message.reply_serial = Some(*serial),
            (8, Value::Sig(sig)) => signature = sig.clone(),
            _ => {}
        }
    }
    r.align(8)?;
    message.serial = {
        let b: [u8; 4] = bytes[8..12].try_into().expect("four bytes");
        match r.big_endian {
            true => u32::from_be_bytes(b),
            false => u32::from_le_bytes(b),
        }
    };
    message.body = r.values(&signature)?;
    if r.pos != bytes.len() {
        return Err(broken("a message's body is longer than its signature says"));
    }
    Ok(message)
}

/// Whether `name` is a well-formed error name (`org.freedesktop.Secret.
/// Error.IsLocked`): dotted words of ASCII letters, digits and `_`, at most
/// 255 bytes. Anything else is not quoted: it is not a name.
fn error_name(name: &str) -> bool {
    let word = |w: &str| {
        !w.is_empty()
            && !w.starts_with(|c: char| c.is_ascii_digit())
            && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    name.len() <= 255 && name.contains('.') && name.split('.').all(word)
}

/// An error message from the bus as one short line.
fn one_line(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_ERROR_TEXT)
        .collect();
    text.trim().to_string()
}

// The connection.

/// The session bus's address, `DBUS_SESSION_BUS_ADDRESS`. Empty counts as
/// unset, and so does GLib's `disabled:`, which says there is no bus.
pub fn session_address() -> Option<String> {
    std::env::var(ENV_ADDRESS)
        .ok()
        .filter(|a| !a.is_empty() && !a.starts_with("disabled:"))
}

pub const ENV_ADDRESS: &str = "DBUS_SESSION_BUS_ADDRESS";

/// `text` with `%XX` escapes decoded.
fn unescape(text: &str) -> Result<Vec<u8>, Fault> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = (bytes.get(i + 1..i + 3))
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            let bad = || Fault::Unreachable(format!("{ENV_ADDRESS} has a bad %-escape"));
            out.push(hex.ok_or_else(bad)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// Where one of the address's entries says to connect.
#[derive(Debug, PartialEq)]
enum Place {
    Path(Vec<u8>),
    Abstract(Vec<u8>),
}

/// The places `address` lists, in order, or why none can be used.
fn places(address: &str) -> Result<Vec<Place>, Fault> {
    let mut out = Vec::new();
    let mut other = None;
    for entry in address.split(';').filter(|e| !e.is_empty()) {
        let (transport, params) = entry.split_once(':').unwrap_or((entry, ""));
        if transport != "unix" {
            other = Some(transport.to_string());
            continue;
        }
        for param in params.split(',') {
            match param.split_once('=') {
                Some(("path", v)) => out.push(Place::Path(unescape(v)?)),
                Some(("abstract", v)) => out.push(Place::Abstract(unescape(v)?)),
                _ => {}
            }
        }
    }
    match (out.is_empty(), other) {
        (false, _) => Ok(out),
        (true, Some(t)) => Err(Fault::Unreachable(format!(
            "{ENV_ADDRESS} names the `{}` transport, and only unix:path= and unix:abstract= \
             are supported",
            one_line(&t)
        ))),
        (true, None) => Err(Fault::Unreachable(format!(
            "{ENV_ADDRESS} has no unix:path= or unix:abstract= address"
        ))),
    }
}

fn connect_to(place: &Place) -> io::Result<UnixStream> {
    use std::os::unix::ffi::OsStrExt;
    match place {
        Place::Path(path) => UnixStream::connect(std::ffi::OsStr::from_bytes(path)),
        Place::Abstract(name) => UnixStream::connect_addr(&SocketAddr::from_abstract_name(name)?),
    }
}

/// A connection to the bus, authenticated and introduced (`Hello`).
pub struct Connection {
    stream: UnixStream,
    serial: u32,
    timeout: Duration,
    /// Set once the bus broke off, went silent or sent garbage: later
    /// calls (closing a session, say) fail at once rather than wait again.
    broken: bool,
}

impl Connection {
    /// Connects to the first place in `address` that answers, and
    /// authenticates as `uid`; each step may take `timeout`.
    pub fn open(address: &str, uid: u32, timeout: Duration) -> Result<Connection, Fault> {
        let mut last = None;
        let mut stream = None;
        for place in places(address)? {
            match connect_to(&place) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let Some(stream) = stream else {
            let why = last.map(|e| e.to_string()).unwrap_or_default();
            return Err(Fault::Unreachable(format!(
                "nothing answers at {ENV_ADDRESS} ({why})"
            )));
        };
        let mut connection = Connection {
            stream,
            serial: 0,
            timeout,
            broken: false,
        };
        connection.authenticate(uid)?;
        connection.call_bus("Hello", &[])?;
        Ok(connection)
    }

    /// Calls `member` of the bus itself (`NameHasOwner`, say).
    pub fn call_bus(&mut self, member: &str, args: &[Value]) -> Result<Vec<Value>, Fault> {
        self.call(BUS, BUS_PATH, BUS, member, args)
    }

    fn authenticate(&mut self, uid: u32) -> Result<(), Fault> {
        let deadline = Instant::now() + self.timeout;
        let hex: String = (uid.to_string().bytes())
            .map(|b| format!("{b:02x}"))
            .collect();
        self.write(format!("\0AUTH EXTERNAL {hex}\r\n").as_bytes(), deadline)?;
        let mut line = Vec::new();
        while !line.ends_with(b"\r\n") {
            if line.len() > MAX_AUTH_LINE {
                return Err(broken("the bus answered authentication with a long line"));
            }
            let mut byte = [0];
            self.read(&mut byte, deadline)?;
            line.push(byte[0]);
        }
        if !line.starts_with(b"OK ") {
            let said = one_line(&String::from_utf8_lossy(&line));
            return Err(Fault::Unreachable(format!(
                "the bus refused to authenticate us ({said})"
            )));
        }
        self.write(b"BEGIN\r\n", deadline)
    }

    fn write(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), Fault> {
        let left = deadline.saturating_duration_since(Instant::now());
        let timed_out = || broken("the bus did not answer in time");
        if left.is_zero() {
            return Err(timed_out());
        }
        self.stream
            .set_write_timeout(Some(left))
            .map_err(|e| broken(e.to_string()))?;
        self.stream.write_all(bytes).map_err(|e| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => timed_out(),
            _ => broken(format!("cannot write to the bus ({e})")),
        })
    }

    /// Fills `buf`, by `deadline`.
    fn read(&mut self, buf: &mut [u8], deadline: Instant) -> Result<(), Fault> {
        let mut got = 0;
        while got < buf.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(broken("the bus did not answer in time"));
            }
            self.stream
                .set_read_timeout(Some(left))
                .map_err(|e| broken(e.to_string()))?;
            match self.stream.read(&mut buf[got..]) {
                Ok(0) => return Err(broken("the bus closed the connection")),
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(broken("the bus did not answer in time"));
                }
                Err(e) => return Err(broken(format!("cannot read from the bus ({e})"))),
            }
        }
        Ok(())
    }

    fn read_message(&mut self, deadline: Instant) -> Result<Message, Fault> {
        let mut head = [0u8; 16];
        self.read(&mut head, deadline)?;
        let mut bytes = vec![0u8; message_len(&head)?];
        bytes[..16].copy_from_slice(&head);
        self.read(&mut bytes[16..], deadline)?;
        parse_message(&bytes)
    }

    /// Calls `member` and returns its reply's values; an error reply is a
    /// [`Fault::Remote`]. Signals and other replies in between are skipped.
    pub fn call(
        &mut self,
        destination: &str,
        path: &str,
        interface: &str,
        member: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, Fault> {
        if self.broken {
            return Err(broken("the connection to the bus broke earlier"));
        }
        let result = self.exchange(destination, path, interface, member, args);
        self.broken = matches!(result, Err(Fault::Broken(_)));
        result
    }

    fn exchange(
        &mut self,
        destination: &str,
        path: &str,
        interface: &str,
        member: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, Fault> {
        let deadline = Instant::now() + self.timeout;
        self.serial += 1;
        let serial = self.serial;
        let bytes = method_call(serial, destination, path, interface, member, args);
        self.write(&bytes, deadline)?;
        loop {
            let reply = self.read_message(deadline)?;
            if reply.reply_serial != Some(serial) {
                continue;
            }
            match reply.kind {
                METHOD_RETURN => return Ok(reply.body),
                ERROR => {
                    let name = reply.error_name.as_deref().filter(|n| error_name(n));
                    let name = name.unwrap_or("an error").to_string();
                    let message = match reply.body.first() {
                        Some(Value::Str(text)) => one_line(text),
                        _ => String::new(),
                    };
                    return Err(Fault::Remote { name, message });
                }
                _ => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Hello call as the spec lays it out, byte by byte.
    #[test]
    fn hello_is_marshalled_exactly() {
        let got = method_call(1, BUS, BUS_PATH, BUS, "Hello", &[]);
        let mut want: Vec<u8> = vec![b'l', 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0];
        // The header fields' array: its length, then four (yv) structs.
        let mut fields = Vec::new();
        let mut field = |code: u8, sig: u8, text: &str| {
            while !(12 + 4 + fields.len()).is_multiple_of(8) {
                fields.push(0);
            }
            fields.extend_from_slice(&[code, 1, sig, 0]);
            fields.extend_from_slice(&(text.len() as u32).to_le_bytes());
            fields.extend_from_slice(text.as_bytes());
            fields.push(0);
        };
        field(1, b'o', "/org/freedesktop/DBus");
        field(2, b's', "org.freedesktop.DBus");
        field(3, b's', "Hello");
        field(6, b's', "org.freedesktop.DBus");
        want.extend_from_slice(&(fields.len() as u32).to_le_bytes());
        want.extend_from_slice(&fields);
        while !want.len().is_multiple_of(8) {
            want.push(0);
        }
        assert_eq!(got, want);
        // The first field: offset 16, code 1, signature "o", length 21.
        assert_eq!(&got[16..24], &[1, 1, b'o', 0, 21, 0, 0, 0]);
        assert_eq!(got.len(), 128);
        // And it reads back.
        let back = parse_message(&got).unwrap();
        assert_eq!((back.kind, back.serial, back.body.len()), (1, 1, 0));
    }

    #[test]
    fn every_type_round_trips_with_its_alignment() {
        let secret = Value::Struct(vec![
            Value::Path("/s/1".into()),
            Value::bytes(b""),
            Value::bytes(b"key"),
            Value::Str("text/plain".into()),
        ]);
        let args = vec![
            Value::Byte(7),
            Value::Bool(true),
            Value::U32(0xdead_beef),
            Value::Sig("a{sv}".into()),
            Value::string_dict(&[("service", "s"), ("account", "a")]),
            Value::Array(
                "{sv}".into(),
                vec![Value::Entry(
                    Box::new(Value::Str("k".into())),
                    Box::new(Value::Variant(Box::new(Value::string_dict(&[("x", "y")])))),
                )],
            ),
            Value::Array("o".into(), vec![Value::Path("/a".into())]),
            secret.clone(),
            Value::Array(
                "{o(oayays)}".into(),
                vec![Value::Entry(
                    Box::new(Value::Path("/i".into())),
                    Box::new(secret),
                )],
            ),
        ];
        let bytes = method_call(9, "d", "/p", "i", "m", &args);
        let back = parse_message(&bytes).unwrap();
        assert_eq!(back.body, args);
        // A byte then a boolean: three padding bytes between them.
        let at = bytes.windows(8).position(|w| w == [7, 0, 0, 0, 1, 0, 0, 0]);
        assert!(at.is_some_and(|at| (at % 8) == 0), "{at:?}");
        assert_eq!(Value::bytes(b"key").signature(), "ay");
        assert_eq!(format!("{:?}", Value::bytes(b"key")), "ay[3 bytes]");
    }

    #[test]
    fn a_big_endian_reply_is_read_too() {
        // METHOD_RETURN, serial 5, reply to 1, signature "u", body 42.
        let mut m = vec![b'B', 2, 0, 1, 0, 0, 0, 4, 0, 0, 0, 5];
        let fields: Vec<u8> = vec![5, 1, b'u', 0, 0, 0, 0, 1, 8, 1, b'g', 0, 1, b'u', 0];
        m.extend_from_slice(&(fields.len() as u32).to_be_bytes());
        m.extend_from_slice(&fields);
        while !m.len().is_multiple_of(8) {
            m.push(0);
        }
        m.extend_from_slice(&42u32.to_be_bytes());
        let got = parse_message(&m).unwrap();
        assert_eq!(got.kind, METHOD_RETURN);
        assert_eq!((got.serial, got.reply_serial), (5, Some(1)));
        assert_eq!(got.body, [Value::U32(42)]);
    }

    /// The fuzz target's seeds, laid out by hand (in Python) from the
    /// spec: a GetSecrets reply and an error reply read as they should.
    #[test]
    fn replies_laid_out_by_hand_are_read() {
        let seeds = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/seeds/dbus_message/");
        let read = |name: &str| std::fs::read(format!("{seeds}{name}")).unwrap();
        let reply = parse_message(&read("get_secrets_reply")).unwrap();
        assert_eq!(
            (reply.kind, reply.serial, reply.reply_serial),
            (2, 7, Some(3))
        );
        let secret = Value::Struct(vec![
            Value::Path("/s".into()),
            Value::bytes(b""),
            Value::bytes(b"key"),
            Value::Str("text/plain".into()),
        ]);
        let entry = Value::Entry(Box::new(Value::Path("/i".into())), Box::new(secret));
        assert_eq!(
            reply.body,
            [Value::Array("{o(oayays)}".into(), vec![entry])]
        );
        let error = parse_message(&read("error")).unwrap();
        assert_eq!(error.kind, ERROR);
        let name = error.error_name.as_deref();
        assert_eq!(name, Some("org.freedesktop.Secret.Error.IsLocked"));
        assert_eq!(error.body, [Value::Str("locked".into())]);
        let hello = read("hello");
        assert_eq!(hello, method_call(1, BUS, BUS_PATH, BUS, "Hello", &[]));
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        let good = method_call(1, "d", "/p", "i", "m", &[Value::Str("hi".into())]);
        assert!(parse_message(&good).is_ok());
        // Every truncation and every single-byte change: an answer, no panic.
        for n in 0..good.len() {
            assert!(parse_message(&good[..n]).is_err());
            for b in [0u8, 1, 0x7f, 0xff, b'a', b'(', b'{', b'v'] {
                let mut bad = good.clone();
                bad[n] = b;
                let _ = parse_message(&bad);
            }
        }
        // A header that claims a huge message is refused before reading it.
        let mut huge = good.clone();
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        let head: [u8; 16] = huge[..16].try_into().unwrap();
        assert!(message_len(&head).is_err());
        // Deep nesting is refused.
        assert!(split_type(&"a".repeat(100).replace("aa", "a"), 0).is_err());
        assert!(split_type(&format!("{}y", "a".repeat(40)), 0).is_err());
        assert!(split_type("(y", 0).is_err() && split_type("()", 0).is_err());
        assert!(split_type("{vy}", 0).is_err() && split_type("{sy", 0).is_err());
        assert_eq!(split_type("a{sv}u", 0).unwrap(), ("a{sv}", "u"));
        assert_eq!(split_type("(oayays)", 0).unwrap(), ("(oayays)", ""));
    }

    #[test]
    fn addresses_are_read_in_order_with_escapes() {
        assert_eq!(
            places("tcp:host=x;unix:abstract=/tmp/dbus-%41,guid=1;unix:path=/run/b%2cus").unwrap(),
            [
                Place::Abstract(b"/tmp/dbus-A".to_vec()),
                Place::Path(b"/run/b,us".to_vec())
            ]
        );
        let e = places("tcp:host=localhost,port=1").unwrap_err().to_string();
        assert!(e.contains("the `tcp` transport"), "{e}");
        assert!(places("unix:path=%zz").is_err());
        assert!(places("unix:tmpdir=/tmp").is_err());
    }

    #[test]
    fn only_well_formed_error_names_are_quoted() {
        for good in ["org.freedesktop.Secret.Error.IsLocked", "a.b_2"] {
            assert!(error_name(good), "{good}");
        }
        for bad in [
            "",
            "nodots",
            "a..b",
            "a.2b",
            "bad secret: SECRET-1",
            "a.b-c",
        ] {
            assert!(!error_name(bad), "{bad}");
        }
        assert!(!error_name(&format!("a.{}", "b".repeat(300))));
    }

    #[test]
    fn error_text_is_one_short_line() {
        assert_eq!(one_line(" a\nb\x1b "), "a b");
        assert_eq!(one_line(&"x".repeat(1000)).len(), MAX_ERROR_TEXT);
    }

    /// A stand-in bus: authenticates, answers Hello (after a signal-like
    /// message for someone else), then garbage; a later call fails at once.
    #[test]
    fn replies_to_others_are_skipped_and_a_broken_bus_stays_broken() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bus");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let serve = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut seen = Vec::new();
            let mut byte = [0];
            while !seen.ends_with(b"\r\n") {
                stream.read_exact(&mut byte).unwrap();
                seen.push(byte[0]);
            }
            // "0" is 0x30: the uid 0, as hex of its decimal digits.
            assert_eq!(seen, b"\0AUTH EXTERNAL 30\r\n");
            stream.write_all(b"OK 0123\r\n").unwrap();
            stream.write_all(&reply(77, &[])).unwrap();
            stream.write_all(&reply(1, &[])).unwrap();
            stream.write_all(b"garbage garbage garbage").unwrap();
            let _ = stream.read_to_end(&mut seen);
            seen
        });
        let address = format!("unix:path={}", path.display());
        let mut bus = Connection::open(&address, 0, Duration::from_secs(10)).unwrap();
        let e = bus.call_bus("NameHasOwner", &[Value::Str("x".into())]);
        assert!(
            matches!(e, Err(Fault::Broken(ref why)) if why.contains("not a D-Bus")),
            "{e:?}"
        );
        let e = bus.call_bus("NameHasOwner", &[Value::Str("x".into())]);
        assert_eq!(e, Err(broken("the connection to the bus broke earlier")));
        drop(bus);
        let seen = serve.join().unwrap();
        // The client said BEGIN, then Hello and one call: the third never left.
        let begin = b"\0AUTH EXTERNAL 30\r\nBEGIN\r\nl\x01";
        assert!(seen.starts_with(begin), "{seen:?}");
        let calls = seen.windows(5).filter(|w| *w == b"Hello").count();
        let asks = seen.windows(12).filter(|w| *w == b"NameHasOwner").count();
        assert_eq!((calls, asks), (1, 1));
    }

    #[test]
    fn a_silent_bus_times_out_and_a_closed_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bus");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let address = format!("unix:path={}", path.display());
        // Accepted (the kernel's backlog) but never answered.
        let e = Connection::open(&address, 0, Duration::from_millis(200))
            .err()
            .unwrap();
        assert_eq!(e, broken("the bus did not answer in time"));
        drop(listener);
        let e = Connection::open(&address, 0, Duration::from_millis(200))
            .err()
            .unwrap();
        assert!(matches!(e, Fault::Unreachable(_)), "{e:?}");
    }
}
