//! A wrapper that keeps secrets out of logs.
//!
//! API keys, client secrets, passwords and the JWT itself pass through this
//! program. Wrapping them in [`Secret`] means a stray `{:?}` in an error
//! message, a log line or a panic prints `REDACTED` rather than the value;
//! code that really needs the value has to say so with [`Secret::expose`].

use std::fmt;

/// A value that must never be printed by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The value itself, for the few places whose job is to send or print it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Secret(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(REDACTED)")
    }
}

/// Lets config files hold secrets (inline `api_key`, `password`) without the
/// parsed config ever printing them.
impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Secret<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Secret)
    }
}

/// Lets the cache file hold the token while the struct that carries it stays
/// safe to print.
impl<T: serde::Serialize> serde::Serialize for Secret<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("canary-value".to_string());
        assert_eq!(format!("{secret:?}"), "Secret(REDACTED)");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(Secret(REDACTED))");
        assert_eq!(secret.expose(), "canary-value");
    }
}
