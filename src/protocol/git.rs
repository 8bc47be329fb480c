//! git credential helper: `git credential-snowplow <get|store|erase>`.
//!
//! git writes `key=value` lines and a blank line. A git that advertises
//! `capability[]=authtype` (2.46+) gets a Bearer credential, which it sends
//! as `Authorization: Bearer`; an older one gets the token as a Basic-auth
//! password. Either way `password_expiry_utc` is our refresh time, after
//! which git asks again. Hosts the profile does not serve get no output, so
//! git moves on to its next helper. After a 401, git calls `erase` with the
//! credential it used; if that is our cached token we drop it, so the next
//! `get` exchanges afresh.

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::protocol::ToolEntry;
use crate::protocol::{End, Need, Protocol, read_stdin};
use crate::secret::Secret;
use crate::token::Served;
use crate::url::Origin;
use crate::usage::{Arg, Entry, Group};

/// What git asks of a helper.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    Get,
    Store,
    Erase,
}

/// What git told us. Unknown keys are kept out of the way, not refused.
#[derive(Debug, Default, PartialEq)]
pub struct Request {
    pub protocol: Option<String>,
    pub host: Option<String>,
    pub capabilities: Vec<String>,
    /// The credential git used, on `erase` (Bearer `credential` or Basic
    /// `password`). Never printed.
    pub credential: Option<Secret<String>>,
}

/// Parses git's input, up to a blank line or the end.
pub fn parse(input: &str) -> Result<Request> {
    let mut request = Request::default();
    for line in input.lines() {
        if line.is_empty() {
            break;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(Error::Input(
                "git sent a line without `=`: expected git's credential format \
                 (key=value lines, see `git help credential`)"
                    .into(),
            ));
        };
        match key {
            "protocol" => request.protocol = Some(value.to_string()),
            "host" => request.host = Some(value.to_string()),
            "capability[]" => request.capabilities.push(value.to_string()),
            "credential" | "password" => request.credential = Some(Secret::new(value.to_string())),
            _ => {}
        }
    }
    Ok(request)
}

impl Request {
    /// The origin git asks about, if it said enough to name one. git's
    /// `host` is `host[:port]` alone: one with a `/` names no host we serve.
    fn origin(&self) -> Option<Origin> {
        let host = self.host.as_deref()?;
        let protocol = self.protocol.as_deref().unwrap_or("https");
        Origin::parse_host(host, protocol).ok()
    }
}

impl Protocol for Action {
    /// The action from the command line, with what git sent on stdin.
    type Request = (Action, Request);

    fn read(self) -> Result<(Action, Request)> {
        Ok((self, parse(&read_stdin("git", End::BlankLine)?)?))
    }

    fn need<'a>((action, request): &'a (Action, Request), settings: &Settings) -> Result<Need<'a>> {
        let ours = request.origin().is_some_and(|o| settings.serves(&o));
        Ok(match (action, &request.credential) {
            (Action::Get, _) if ours => Need::Token,
            (Action::Erase, Some(credential)) if ours => Need::Forget(Some(credential)),
            _ => Need::Nothing,
        })
    }

    /// The credential for `get` on a served host; nothing otherwise, so git
    /// asks its next helper.
    fn render(
        (action, request): &(Action, Request),
        served: Option<&Served>,
        settings: &Settings,
    ) -> String {
        let Some(served) = served.filter(|_| *action == Action::Get) else {
            return String::new();
        };
        let jwt = served.token.expose();
        let mut out = if request.capabilities.iter().any(|c| c == "authtype") {
            format!("capability[]=authtype\nauthtype=Bearer\ncredential={jwt}\nephemeral=1\n")
        } else {
            format!("username={}\npassword={jwt}\n", settings.username())
        };
        if let Some(at) = served.refresh_at {
            out.push_str(&format!("password_expiry_utc={at}\n"));
        }
        out
    }
}

/// `git ACTION`, also run as `git-credential-snowplow`.
pub const ENTRY: ToolEntry = ToolEntry {
    entry: Entry {
        words: &["git"],
        link: Some("git-credential-snowplow"),
        group: Group::Tool,
        args: &[Arg::OneOf(&["get", "store", "erase"])],
        about: "git credential helper (also as git-credential-snowplow)",
        details: "Answers only for the profile's Console host and `hosts`; -v (or\n\
                  SNOWPLOW_CREDENTIALS_VERBOSE=1) says which host was asked when it stays silent.\n",
        wrong: Some("git needs one action: get, store or erase"),
    },
    parse: |args| {
        let action = match args {
            ["get"] => Action::Get,
            ["store"] => Action::Store,
            ["erase"] => Action::Erase,
            _ => return None,
        };
        Some(Box::new(action))
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::fixture::{self, served, served_without_expiry};

    fn asked(action: Action, input: &str) -> (Action, Request) {
        (action, parse(input).unwrap())
    }

    const OURS: &str = "protocol=https\nhost=console.test\n";

    #[test]
    fn get_on_a_served_host_answers_basic_auth_or_bearer() {
        let settings = fixture::v3();
        let basic = asked(Action::Get, OURS);
        assert_eq!(Action::need(&basic, &settings).unwrap(), Need::Token);
        assert_eq!(
            Action::render(&basic, Some(&served()), &settings),
            "username=key-id\npassword=e30.e30.c2ln\npassword_expiry_utc=4102443900\n"
        );
        let bearer = asked(Action::Get, &format!("capability[]=authtype\n{OURS}"));
        assert_eq!(
            Action::render(&bearer, Some(&served()), &settings),
            "capability[]=authtype\nauthtype=Bearer\ncredential=e30.e30.c2ln\nephemeral=1\n\
             password_expiry_utc=4102443900\n"
        );
    }

    #[test]
    fn get_names_v2_users_snowplow_and_omits_an_unknown_expiry() {
        let settings = fixture::settings(None);
        let basic = asked(Action::Get, "protocol=https\nhost=registry.test:5000\n");
        assert_eq!(Action::need(&basic, &settings).unwrap(), Need::Token);
        assert_eq!(
            Action::render(&basic, Some(&served_without_expiry()), &settings),
            "username=snowplow\npassword=e30.e30.c2ln\n"
        );
    }

    #[test]
    fn says_what_git_input_looks_like() {
        assert_eq!(
            parse("protocol=https\nnonsense\n").unwrap_err().to_string(),
            "git sent a line without `=`: expected git's credential format (key=value lines, \
             see `git help credential`)"
        );
    }

    #[test]
    fn other_hosts_and_actions_get_no_answer() {
        let settings = fixture::v3();
        for input in [
            "protocol=https\nhost=elsewhere.test\n",
            "protocol=http\nhost=console.test\n",
            "host=console.test:8443\n",
            "protocol=https\n",
        ] {
            let get = asked(Action::Get, input);
            assert_eq!(
                Action::need(&get, &settings).unwrap(),
                Need::Nothing,
                "{input}"
            );
            assert_eq!(Action::render(&get, None, &settings), "");
        }
        let store = asked(Action::Store, &format!("{OURS}password=x\n"));
        assert_eq!(Action::need(&store, &settings).unwrap(), Need::Nothing);
        assert_eq!(Action::render(&store, Some(&served()), &settings), "");
    }

    #[test]
    fn erase_forgets_only_the_credential_git_used_on_a_served_host() {
        let settings = fixture::v3();
        let erase = asked(Action::Erase, &format!("{OURS}password=used\n"));
        let Need::Forget(Some(credential)) = Action::need(&erase, &settings).unwrap() else {
            panic!("erase on a served host must forget the credential");
        };
        assert_eq!(credential.expose(), "used");
        assert_eq!(Action::render(&erase, None, &settings), "");
        let bearer = asked(Action::Erase, &format!("{OURS}credential=jwt\n"));
        assert!(matches!(
            Action::need(&bearer, &settings).unwrap(),
            Need::Forget(Some(c)) if c.expose() == "jwt"
        ));
        for input in [OURS.to_string(), "host=elsewhere.test\npassword=x\n".into()] {
            let erase = asked(Action::Erase, &input);
            assert_eq!(Action::need(&erase, &settings).unwrap(), Need::Nothing);
        }
    }

    #[test]
    fn reads_git_input_tolerating_unknown_and_repeated_keys() {
        let input = "capability[]=authtype\ncapability[]=state\nprotocol=https\n\
                     host=example.com:8443\nwwwauth[]=Bearer realm=\"x\"\n\
                     wwwauth[]=Basic\nunknown=1\npath=a=b\n\nhost=ignored\n";
        let r = parse(input).unwrap();
        assert_eq!(r.protocol.as_deref(), Some("https"));
        assert_eq!(r.host.as_deref(), Some("example.com:8443"));
        assert_eq!(r.capabilities, ["authtype", "state"]);
        assert_eq!(r.origin().unwrap().to_string(), "https://example.com:8443");
    }

    #[test]
    fn refuses_lines_without_equals() {
        assert!(parse("protocol=https\nnonsense\n").is_err());
        assert_eq!(parse("").unwrap(), Request::default());
    }
}
