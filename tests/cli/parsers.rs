//! The parsers the fuzzers in `fuzz/` target, checked cheaply on every test
//! run: a JWT's claims survive encoding, and seeded random input (bytes,
//! and mutations of valid input) never panics any parser. An input a fuzzer
//! finds to break something becomes a test here, named for what it broke.

use std::path::Path;

use snowplow_credentials::fuzzing::{
    Flags, Settings, bazel_request, dotenv, git_request, jwt_claims, kubernetes_api_version,
    read_input, snowplow_yml, token_file_contents,
};

use crate::console::make_jwt;

/// xorshift64: seeded, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// `base` with a few bytes changed, inserted or removed.
    fn mutate(&mut self, base: &[u8]) -> Vec<u8> {
        let mut out = base.to_vec();
        for _ in 0..=self.below(4) {
            let at = self.below(out.len() as u64 + 1) as usize;
            let byte = self.next() as u8;
            match self.below(3) {
                0 if at < out.len() => out[at] = byte,
                1 => out.insert(at, byte),
                _ if at < out.len() => {
                    out.remove(at);
                }
                _ => out.push(byte),
            }
        }
        out
    }
}

/// Every parser, on `input`: none may panic.
fn parse_everything(input: &[u8]) {
    if let Ok(text) = read_input(input, "a tool") {
        let _ = git_request(&text);
        let _ = bazel_request(&text);
        let _ = kubernetes_api_version(Some(&text));
        let _ = jwt_claims(&text);
        if let Ok(token) = token_file_contents(&text) {
            assert!(!token.expose().contains(char::is_whitespace), "{text:?}");
        }
        let _ = Settings::from_toml(&Flags::default(), Path::new("/x/credentials.toml"), &text);
        // snowplow-cli's files: errors are one line (they end up in tools'
        // output), and a value never holds a line break.
        for parsed in [snowplow_yml(&text), dotenv(&text)] {
            match parsed {
                Ok(values) => assert!(values.values().all(|v| !v.contains('\n')), "{text:?}"),
                Err(e) => assert!(!e.contains('\n'), "{e}"),
            }
        }
    }
}

#[test]
fn claims_survive_encoding() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..2000 {
        let (exp, iat) = (rng.below(1 << 40), rng.below(1 << 40));
        let token = make_jwt(&serde_json::json!({
            "exp": exp,
            "iat": iat,
            "sub": "x".repeat(rng.below(40) as usize),
        }));
        let claims = jwt_claims(&token).unwrap();
        assert_eq!((claims.exp, claims.iat), (Some(exp), Some(iat)), "{token}");
    }
}

#[test]
fn random_and_mutated_input_never_panics_a_parser() {
    let valid: [&[u8]; 9] = [
        b"capability[]=authtype\nprotocol=https\nhost=console.test:8443\n\n",
        br#"{"uri": "https://console.test/x"}"#,
        br#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1"}"#,
        b"eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDAsImlhdCI6NDEwMjM1ODQwMH0.c2ln",
        br#" {"accessToken": "eyJhbGciOiJub25lIn0.eyJleHAiOjF9.c2ln"} "#,
        b"[profiles.default]\norg_id = \"o\"\nhost = \"https://[::1]:8443/x\"\n\
          hosts = [\"a.test\"]\napi_key_command = [\"pass\"]\n",
        b"[profiles.p]\nauth = \"password\"\nclient_id = \"c\"\nusername = \"u\"\n\
          auth_url = \"http://localhost/t\"\npassword = \"p\"\nclient_secret_env = \"S\"\n",
        b"console:\n    api-key: k\n    api-key-id: \"id\"\n    host: 'https://h'\n    org-id: o\nother: [1, {a: b}]\n",
        b"# c\nexport SNOWPLOW_CONSOLE_ORG_ID='o'\nSNOWPLOW_CONSOLE_API_KEY=\"k\\\"q\" # c\nSNOWPLOW_CONSOLE_HOST=https://h\n",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..5000 {
        let len = rng.below(64) as usize;
        let random: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        parse_everything(&random);
        let base = valid[rng.below(valid.len() as u64) as usize];
        parse_everything(&rng.mutate(base));
    }
}
