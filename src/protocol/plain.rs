//! The plain outputs: the bare token for `$(snowplow-credentials token)`, and
//! an HTTP header line for `curl -H @file` and friends.

use crate::config::Settings;
use crate::error::Result;
use crate::protocol::ToolEntry;
use crate::protocol::{Need, Protocol};
use crate::token::Served;
use crate::usage::{Entry, Group};

/// Which plain output: no input, always a token.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Plain {
    /// The token and a newline.
    Token,
    /// `Authorization: Bearer <token>` and a newline.
    Header,
}

impl Protocol for Plain {
    type Request = Plain;

    fn read(self) -> Result<Plain> {
        Ok(self)
    }

    fn need<'a>(_: &'a Plain, _: &Settings) -> Result<Need<'a>> {
        Ok(Need::Token)
    }

    /// Without a token (never asked for one), nothing.
    fn render(plain: &Plain, served: Option<&Served>, _: &Settings) -> String {
        let Some(served) = served else {
            return String::new();
        };
        let token = served.token.expose();
        match plain {
            Plain::Token => format!("{token}\n"),
            Plain::Header => format!("Authorization: Bearer {token}\n"),
        }
    }
}

/// `token`: the bare token.
pub const TOKEN: ToolEntry = ToolEntry {
    entry: Entry {
        words: &["token"],
        link: None,
        group: Group::Output,
        args: &[],
        about: "print the token (a JWT) and a newline",
        details: "A cached token while more than --min-ttl is left, else a new one.\n\
                  In scripts: TOKEN=$(snowplow-credentials token).\n",
        wrong: None,
    },
    parse: |args| args.is_empty().then(|| Box::new(Plain::Token) as _),
};

/// `header`: the Authorization header line.
pub const HEADER: ToolEntry = ToolEntry {
    entry: Entry {
        words: &["header"],
        link: None,
        group: Group::Output,
        args: &[],
        about: "print `Authorization: Bearer <token>`",
        details: "For curl, through a pipe, never an argument:\n\
                  snowplow-credentials header | curl -H @- \"$(snowplow-credentials console-url /api/msc/v1/organizations)\"\n",
        wrong: None,
    },
    parse: |args| args.is_empty().then(|| Box::new(Plain::Header) as _),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::fixture::{self, served};

    #[test]
    fn prints_the_token_or_the_header_line() {
        let settings = fixture::v3();
        for plain in [Plain::Token, Plain::Header] {
            assert_eq!(Plain::need(&plain, &settings).unwrap(), Need::Token);
        }
        let token = Plain::render(&Plain::Token, Some(&served()), &settings);
        assert_eq!(token, "e30.e30.c2ln\n");
        let header = Plain::render(&Plain::Header, Some(&served()), &settings);
        assert_eq!(header, "Authorization: Bearer e30.e30.c2ln\n");
    }
}
