//! Reading the lifetime out of a JWT.
//!
//! The Console's v2/v3 answer carries no `expires_in`: the token's own `exp`
//! claim is the only word on how long it lasts. This program is not the
//! token's audience, so it checks no signature; it only needs the payload's
//! `exp` and `iat`, and a check that what the server sent is shaped like a
//! JWT at all, so that an HTML page or an error string is never cached and
//! handed to a tool as a token.

use serde::Deserialize;

/// The claims this program uses. Both are optional in a JWT.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Claims {
    pub exp: Option<u64>,
    pub iat: Option<u64>,
}

/// Why a string is not a usable JWT. Never carries the token itself.
#[derive(Debug, PartialEq, Eq)]
pub enum JwtError {
    /// Not three non-empty base64url segments.
    Shape,
    /// The payload segment is not base64url-encoded JSON object.
    Payload,
}

impl std::fmt::Display for JwtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            JwtError::Shape => "it is not a JWT (three base64url parts separated by dots)",
            JwtError::Payload => "its payload is not base64url-encoded JSON",
        })
    }
}

#[derive(Deserialize)]
struct RawClaims {
    exp: Option<Seconds>,
    iat: Option<Seconds>,
}

/// A claim read as NumericDate: seconds, possibly fractional (RFC 7519
/// §2); any other JSON value (a string, a negative number, an object) is
/// read, and reads as absent. Typed rather than a `serde_json::Value`, so
/// a cache hit builds no tree (issue 20).
struct Seconds(Option<u64>);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SecondsVisitor)
    }
}

struct SecondsVisitor;

impl<'de> serde::de::Visitor<'de> for SecondsVisitor {
    type Value = Seconds;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_u64<E>(self, v: u64) -> Result<Seconds, E> {
        Ok(Seconds(Some(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Seconds, E> {
        Ok(Seconds(u64::try_from(v).ok()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Seconds, E> {
        Ok(Seconds((v >= 0.0 && v.is_finite()).then_some(v as u64)))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Seconds, E> {
        Ok(Seconds(None))
    }

    fn visit_str<E>(self, _: &str) -> Result<Seconds, E> {
        Ok(Seconds(None))
    }

    fn visit_unit<E>(self) -> Result<Seconds, E> {
        Ok(Seconds(None))
    }

    fn visit_none<E>(self) -> Result<Seconds, E> {
        Ok(Seconds(None))
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Seconds, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Seconds, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Seconds(None))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Seconds, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Seconds(None))
    }
}

/// The `exp` and `iat` claims of `token`, or why it is not a JWT.
///
/// A claim that is present but not a non-negative number reads as absent:
/// such a token is still served, just never cached.
pub fn claims(token: &str) -> Result<Claims, JwtError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Shape);
    };
    let is_segment = |s: &str| !s.is_empty() && s.bytes().all(|b| SEXTET[usize::from(b)] < 64);
    if !(is_segment(header) && is_segment(payload) && is_segment(signature)) {
        return Err(JwtError::Shape);
    }
    let json = base64url_decode(payload).ok_or(JwtError::Payload)?;
    let raw: RawClaims = serde_json::from_slice(&json).map_err(|_| JwtError::Payload)?;
    Ok(Claims {
        exp: raw.exp.and_then(|s| s.0),
        iat: raw.iat.and_then(|s| s.0),
    })
}

/// Each byte's value as a base64url digit (RFC 4648 §5), 64 for any other
/// byte: one look-up per byte, as the token is checked on every cache hit.
const SEXTET: [u8; 256] = {
    let mut table = [64u8; 256];
    let mut i = 0;
    while i < 64 {
        let digit = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[i];
        table[digit as usize] = i as u8;
        i += 1;
    }
    table
};

/// Decodes unpadded base64url (RFC 4648 §5). `None` on any invalid input.
fn base64url_decode(input: &str) -> Option<Vec<u8>> {
    let bytes = input.as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for &b in chunk {
            let value = SEXTET[usize::from(b)];
            if value >= 64 {
                return None;
            }
            acc = acc << 6 | u32::from(value);
        }
        // Left-align a short final chunk, then take its whole bytes.
        acc <<= 6 * (4 - chunk.len() as u32);
        let whole = chunk.len() * 6 / 8;
        out.extend_from_slice(&acc.to_be_bytes()[1..1 + whole]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // {"alg":"none"} . {"exp":4102444800,"iat":4102358400} . sig
    const TOKEN: &str = "eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDAsImlhdCI6NDEwMjM1ODQwMH0.c2ln";

    #[test]
    fn reads_exp_and_iat() {
        assert_eq!(
            claims(TOKEN),
            Ok(Claims {
                exp: Some(4_102_444_800),
                iat: Some(4_102_358_400)
            })
        );
    }

    #[test]
    fn missing_or_odd_claims_read_as_absent() {
        // {"sub":"x"} and {"exp":"soon","iat":1.5}
        assert_eq!(claims("e30.eyJzdWIiOiJ4In0.c2ln"), Ok(Claims::default()));
        assert_eq!(
            claims("e30.eyJleHAiOiJzb29uIiwiaWF0IjoxLjV9.c2ln"),
            Ok(Claims {
                exp: None,
                iat: Some(1)
            })
        );
    }

    #[test]
    fn claims_of_any_other_json_type_read_as_absent() {
        // {"exp":[1],"iat":{"a":null}}, {"exp":null,"iat":-5}, {"exp":true,"iat":"1"}
        for (payload, want) in [
            ("eyJleHAiOlsxXSwiaWF0Ijp7ImEiOm51bGx9fQ", Claims::default()),
            ("eyJleHAiOm51bGwsImlhdCI6LTV9", Claims::default()),
            ("eyJleHAiOnRydWUsImlhdCI6IjEifQ", Claims::default()),
            // {"exp":2.5e9}: fractional seconds count, rounded down.
            (
                "eyJleHAiOjIuNWU5fQ",
                Claims {
                    exp: Some(2_500_000_000),
                    iat: None,
                },
            ),
        ] {
            let token = format!("e30.{payload}.c2ln");
            assert_eq!(claims(&token), Ok(want), "{payload}");
        }
        // A claim given twice is not a JSON object we accept.
        // {"exp":1,"exp":2}
        assert_eq!(
            claims("e30.eyJleHAiOjEsImV4cCI6Mn0.c2ln"),
            Err(JwtError::Payload)
        );
    }

    #[test]
    fn rejects_what_is_not_a_jwt() {
        for bad in [
            "",
            "not-a-jwt",
            "a.b",
            "a.b.c.d",
            "a..c",
            "<html>.x.y",
            "e30.e30=.c2ln",
        ] {
            assert_eq!(claims(bad), Err(JwtError::Shape), "{bad}");
        }
        // Valid shape, but the payload is not JSON / not an object / bad length.
        assert_eq!(claims("e30.bm9wZQ.c2ln"), Err(JwtError::Payload));
        assert_eq!(claims("e30.WzFd.c2ln"), Err(JwtError::Payload));
        assert_eq!(claims("e30.abcde.c2ln"), Err(JwtError::Payload));
    }

    #[test]
    fn base64url_round_trips_every_length() {
        assert_eq!(base64url_decode("").unwrap(), b"");
        assert_eq!(base64url_decode("Zg").unwrap(), b"f");
        assert_eq!(base64url_decode("Zm8").unwrap(), b"fo");
        assert_eq!(base64url_decode("Zm9v").unwrap(), b"foo");
        assert_eq!(base64url_decode("Zm9vYg").unwrap(), b"foob");
        assert_eq!(base64url_decode("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(base64url_decode("Z"), None);
    }
}
