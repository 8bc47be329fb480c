//! The Secret Service (GNOME Keyring, KWallet, KeePassXC) on the D-Bus
//! session bus, through our own small client (`dbus.rs`): no crate, no
//! libdbus, so every Linux build has it, the static one too.
//!
//! The session uses the "plain" algorithm: the key crosses the user's own
//! session bus unencrypted, which only this user can connect to and where
//! anyone who could eavesdrop could ask the Secret Service for the key
//! anyway (docs/keychain.md). A locked collection is an error, never a
//! prompt: this runs under git, kubectl and cron, where no one may be
//! there to answer one.

use std::time::Duration;

use super::dbus::{self, Connection, Fault, Value};
use super::{Entry, Store};
use crate::error::{Error, Result};
use crate::secret::Secret;

pub struct SecretService;

pub const NAME: &str = "the Secret Service (D-Bus)";

/// The service's well-known name on the bus.
const BUS_NAME: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE: &str = "org.freedesktop.Secret.Service";
/// How long one call may take: long enough for the bus to start the
/// service on first use, short enough that a hung bus is an error.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The same attributes and label as earlier builds' store (through a
/// crate) used, so entries written by earlier builds are found.
fn attributes(entry: &Entry) -> Value {
    Value::string_dict(&[
        ("service", "snowplow-credentials"),
        ("account", &entry.name()),
    ])
}

/// What to do when the bus cannot be reached.
fn unreachable(why: &str) -> Error {
    Error::Store(format!(
        "cannot connect to {NAME} ({why}): start a D-Bus session with a Secret Service \
         (gnome-keyring, KWallet, KeePassXC), or set {}=keyutils to use the kernel keyring",
        super::ENV_STORE
    ))
}

/// One line naming the store, what failed and what to do.
fn failed(what: &str, fault: Fault) -> Error {
    match fault {
        Fault::Unreachable(why) => unreachable(&why),
        Fault::Remote { name, .. } if name.ends_with(".IsLocked") => locked(),
        Fault::Remote { name, .. } if name == "org.freedesktop.DBus.Error.ServiceUnknown" => {
            Error::Store(format!(
                "cannot {what} {NAME}: no Secret Service runs on this D-Bus session; start one \
                 (gnome-keyring, KWallet, KeePassXC), or set {}=keyutils to use the kernel \
                 keyring",
                super::ENV_STORE
            ))
        }
        other => Error::Store(format!(
            "cannot {what} {NAME}: {other}; check a Secret Service runs (`secret-tool search \
             service snowplow-credentials`), or set {}=keyutils to use the kernel keyring",
            super::ENV_STORE
        )),
    }
}

/// How to unlock it. Headless, gnome-keyring takes a password only when
/// it starts (`--unlock` reaches no daemon the bus has already started),
/// so the advice restarts it unlocked.
const UNLOCK: &str = "log in to the desktop, or on a headless machine restart it unlocked: pipe \
     the password to `gnome-keyring-daemon --replace --unlock --components=secrets`";

fn locked() -> Error {
    Error::Store(format!(
        "{NAME} is locked: unlock its default collection ({UNLOCK}), then try again; or set \
         {}=keyutils to use the kernel keyring",
        super::ENV_STORE
    ))
}

/// A fault from the call that carried `key`, without the callee's text: a
/// service may quote what it was given, and the key must not reach a
/// message. Its error name stays (a well-formed one, `dbus.rs` checks),
/// with the key taken out should it be made of a name's characters.
fn without_text(fault: Fault, key: &str) -> Fault {
    match fault {
        Fault::Remote { name, .. } => Fault::Remote {
            name: match key.is_empty() {
                true => name,
                false => name.replace(key, "[the key]"),
            },
            message: String::new(),
        },
        other => other,
    }
}

fn odd(what: &str) -> Error {
    failed(
        what,
        Fault::Broken("it answered with unexpected types".into()),
    )
}

/// A connection to the bus, introduced; for [`Session`] and the choice of
/// store.
fn connect() -> Result<Connection> {
    let address = dbus::session_address()
        .ok_or_else(|| unreachable(&format!("{} is not set", dbus::ENV_ADDRESS)))?;
    Connection::open(&address, crate::sys::euid(), TIMEOUT).map_err(|f| match f {
        Fault::Unreachable(why) | Fault::Broken(why) => unreachable(&why),
        remote => unreachable(&remote.to_string()),
    })
}

/// Whether the session bus has a Secret Service, running or startable:
/// how the store is chosen when none is named (see `super::store`).
pub fn on_the_bus() -> Result<bool> {
    has_secret_service(&mut connect()?)
}

fn has_secret_service(bus: &mut Connection) -> Result<bool> {
    let mut ask =
        |member, args: &[Value]| (bus.call_bus(member, args)).map_err(|f| failed("look for", f));
    // A reply of the wrong type is an error, never "no Secret Service".
    // Exactly the reply's one value, of its one type.
    let owned = ask("NameHasOwner", &[Value::Str(BUS_NAME.into())])?;
    match owned.as_slice() {
        [Value::Bool(true)] => return Ok(true),
        [Value::Bool(false)] => {}
        _ => return Err(odd("look for")),
    }
    let names = ask("ListActivatableNames", &[])?;
    let [Value::Array(sig, names)] = names.as_slice() else {
        return Err(odd("look for"));
    };
    if sig != "s" {
        return Err(odd("look for"));
    }
    Ok(names.iter().any(|n| n.as_str() == Some(BUS_NAME)))
}

/// An open Secret Service session; closed when dropped.
struct Session {
    bus: Connection,
    path: String,
}

impl Session {
    fn open() -> Result<Session> {
        let mut bus = connect()?;
        let plain = [
            Value::Str("plain".into()),
            Value::Variant(Box::new(Value::Str(String::new()))),
        ];
        let reply = (bus.call(BUS_NAME, SERVICE_PATH, SERVICE, "OpenSession", &plain))
            .map_err(|f| failed("open a session with", f))?;
        let path = match reply.get(1).and_then(Value::as_str) {
            Some(path) => path.to_string(),
            None => return Err(odd("open a session with")),
        };
        Ok(Session { bus, path })
    }

    fn call(
        &mut self,
        path: &str,
        interface: &str,
        member: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, Fault> {
        self.bus.call(BUS_NAME, path, interface, member, args)
    }

    /// The entry's items: (unlocked, locked).
    fn search(&mut self, entry: &Entry) -> Result<(Vec<String>, Vec<String>)> {
        let reply = (self.call(SERVICE_PATH, SERVICE, "SearchItems", &[attributes(entry)]))
            .map_err(|f| failed("search", f))?;
        let paths = |v: Option<&Value>| -> Option<Vec<String>> {
            let items = v?.as_array()?;
            items.iter().map(|p| p.as_str().map(String::from)).collect()
        };
        match (paths(reply.first()), paths(reply.get(1))) {
            (Some(unlocked), Some(locked)) => Ok((unlocked, locked)),
            _ => Err(odd("search")),
        }
    }

    /// A prompt the service asks for (a locked collection): dismissed, and
    /// an error.
    fn refuse_prompt(&mut self, prompt: Option<&Value>) -> Result<()> {
        match prompt.and_then(Value::as_str) {
            Some("/") => Ok(()),
            Some(path) => {
                let path = path.to_string();
                let _ = self.call(&path, "org.freedesktop.Secret.Prompt", "Dismiss", &[]);
                Err(locked())
            }
            None => Err(odd("use")),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let path = self.path.clone();
        let _ = self.call(&path, "org.freedesktop.Secret.Session", "Close", &[]);
    }
}

impl Store for SecretService {
    fn name(&self) -> &'static str {
        NAME
    }

    fn set(&self, entry: &Entry, key: &Secret<String>) -> Result<()> {
        let mut session = Session::open()?;
        let alias = (session.call(
            SERVICE_PATH,
            SERVICE,
            "ReadAlias",
            &[Value::Str("default".into())],
        ))
        .map_err(|f| failed("open the default collection of", f))?;
        let collection = match alias.first().and_then(Value::as_str) {
            Some("/") => {
                return Err(Error::Store(format!(
                    "{NAME} has no default collection to store the key in: create and unlock \
                     one ({UNLOCK})"
                )));
            }
            Some(path) => path.to_string(),
            None => return Err(odd("open the default collection of")),
        };
        let is_locked = session
            .call(
                &collection,
                "org.freedesktop.DBus.Properties",
                "Get",
                &[
                    Value::Str("org.freedesktop.Secret.Collection".into()),
                    Value::Str("Locked".into()),
                ],
            )
            .map_err(|f| failed("use", f))?;
        match is_locked
            .first()
            .map(Value::unwrap_variant)
            .and_then(Value::as_bool)
        {
            Some(false) => {}
            Some(true) => return Err(locked()),
            None => return Err(odd("use")),
        }
        let property = |name: &str, value: Value| {
            Value::Entry(
                Box::new(Value::Str(format!("org.freedesktop.Secret.Item.{name}"))),
                Box::new(Value::Variant(Box::new(value))),
            )
        };
        let properties = Value::Array(
            "{sv}".into(),
            vec![
                property(
                    "Label",
                    Value::Str(format!("Snowplow {}", entry.describe())),
                ),
                property("Attributes", attributes(entry)),
            ],
        );
        let secret = Value::Struct(vec![
            Value::Path(session.path.clone()),
            Value::bytes(b""),
            Value::bytes(key.expose().as_bytes()),
            Value::Str("text/plain".into()),
        ]);
        let created = session
            .call(
                &collection,
                "org.freedesktop.Secret.Collection",
                "CreateItem",
                &[properties, secret, Value::Bool(true)],
            )
            .map_err(|f| failed("store the key in", without_text(f, key.expose())))?;
        session.refuse_prompt(created.get(1))?;
        // No prompt and no item ("/" both) is not a stored key.
        match created.first().and_then(Value::as_str) {
            Some(item) if item != "/" => Ok(()),
            _ => Err(odd("store the key in")),
        }
    }

    fn get(&self, entry: &Entry) -> Result<Option<Secret<Vec<u8>>>> {
        let mut session = Session::open()?;
        let (unlocked, locked_items) = session.search(entry)?;
        let Some(item) = unlocked.first() else {
            return match locked_items.is_empty() {
                true => Ok(None),
                false => Err(locked()),
            };
        };
        let args = [
            Value::Array("o".into(), vec![Value::Path(item.clone())]),
            Value::Path(session.path.clone()),
        ];
        let reply = (session.call(SERVICE_PATH, SERVICE, "GetSecrets", &args))
            .map_err(|f| failed("read the key from", f))?;
        let secrets = reply.first().and_then(Value::as_array).unwrap_or_default();
        let value = secrets.iter().find_map(|e| match e {
            Value::Entry(path, secret) if path.as_str() == Some(item) => Some(secret),
            _ => None,
        });
        let bytes = match value.map(|v| &**v) {
            Some(Value::Struct(fields)) => fields.get(2).and_then(Value::as_bytes),
            _ => None,
        };
        let bytes = bytes.ok_or_else(|| odd("read the key from"))?;
        Ok(Some(Secret::new(bytes)))
    }

    fn delete(&self, entry: &Entry) -> Result<bool> {
        let mut session = Session::open()?;
        let (unlocked, locked_items) = session.search(entry)?;
        if !locked_items.is_empty() {
            return Err(locked());
        }
        for item in &unlocked {
            let reply = (session.call(item, "org.freedesktop.Secret.Item", "Delete", &[]))
                .map_err(|f| failed("delete the key from", f))?;
            session.refuse_prompt(reply.first())?;
        }
        Ok(!unlocked.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_never_reaches_a_message_from_the_call_that_carried_it() {
        let fault = Fault::Remote {
            name: "org.example.Error.Bad_key_abc".into(),
            message: "bad secret: key_abc".into(),
        };
        let shown = failed("store the key in", without_text(fault, "key_abc")).to_string();
        assert!(!shown.contains("key_abc"), "{shown}");
        assert!(shown.contains("org.example.Error.Bad_[the key]"), "{shown}");
    }

    /// A bus that authenticates us, answers Hello, then sends `replies`
    /// (to serials 2, 3, …) whatever is asked.
    fn bus_answering(dir: &std::path::Path, replies: Vec<Vec<Value>>) -> Connection {
        use std::io::{BufRead, Write};
        let path = dir.join("bus");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut line = Vec::new();
            let mut reader = std::io::BufReader::new(&stream);
            reader.read_until(b'\n', &mut line).unwrap();
            let mut out = &stream;
            out.write_all(b"OK 0123\r\n").unwrap();
            out.write_all(&dbus::reply(1, &[Value::Str(":1.1".into())]))
                .unwrap();
            for (serial, values) in (2..).zip(replies) {
                out.write_all(&dbus::reply(serial, &values)).unwrap();
            }
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let address = format!("unix:path={}", path.display());
        Connection::open(&address, 0, Duration::from_secs(10)).unwrap()
    }

    #[test]
    fn only_a_reply_of_exactly_its_type_says_whether_a_service_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let names = |list: &[&str]| {
            let list = list.iter().map(|n| Value::Str(n.to_string())).collect();
            Value::Array("s".into(), list)
        };
        let cases = [
            (vec![vec![Value::Bool(true)]], Some(true)),
            (
                vec![vec![Value::Bool(false)], vec![names(&[BUS_NAME])]],
                Some(true),
            ),
            (
                vec![vec![Value::Bool(false)], vec![names(&["a.b"])]],
                Some(false),
            ),
            // One value too many, or of another type: an error, not "no".
            (vec![vec![Value::Bool(false), Value::Bool(true)]], None),
            (vec![vec![Value::Str("true".into())]], None),
            (vec![vec![]], None),
            (
                vec![vec![Value::Bool(false)], vec![names(&[]), names(&[])]],
                None,
            ),
            (
                vec![
                    vec![Value::Bool(false)],
                    vec![Value::Array("u".into(), vec![])],
                ],
                None,
            ),
        ];
        for (n, (replies, want)) in cases.into_iter().enumerate() {
            let dir = dir.path().join(n.to_string());
            std::fs::create_dir(&dir).unwrap();
            let mut bus = bus_answering(&dir, replies);
            let got = has_secret_service(&mut bus);
            match want {
                Some(want) => assert_eq!(got.ok(), Some(want), "case {n}"),
                None => {
                    let e = got.expect_err(&format!("case {n}")).to_string();
                    assert!(e.contains("unexpected types"), "case {n}: {e}");
                }
            }
        }
    }
}
