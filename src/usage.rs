//! How a command is described to people and shells: its words, typed
//! arguments and help text, as one structured [`Entry`]. The parser,
//! `--help`, `help COMMAND`, the completer and the man-page check all read
//! these entries, so none of them re-parses a usage string.
//!
//! A leaf: protocols declare their entries with it and the command line
//! reads them, without either importing the other's internals.

/// What `--version` and Docker's `version` print: the version, then which
/// build this is (the target triple, and whether it is static: build.rs).
pub const VERSION_LINE: &str = concat!(
    "snowplow-credentials ",
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("BUILD_TARGET"),
    ", ",
    env!("BUILD_LINKING"),
    ")\n"
);

/// What a value names, which says what completion offers for it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// A file (the shell completes it).
    File,
    /// A directory (the shell completes it).
    Dir,
    /// Free text: nothing to offer.
    Text,
    /// A command word.
    Command,
    /// Names of helper links (`git,docker`): checked as they are read.
    Links,
}

/// How a value is shown: `<NAME>` needed, `[NAME]` optional, or `NAME`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    Required,
    Optional,
    Bare,
}

/// One argument of a command, or one option of its own.
#[derive(Debug)]
pub enum Arg {
    /// One of these words (one word alone is shown bare: `bazel get`).
    OneOf(&'static [&'static str]),
    /// A value, by its placeholder.
    Value {
        name: &'static str,
        kind: Kind,
        shape: Shape,
    },
    /// `--name`, with the value it takes, if any.
    Flag {
        name: &'static str,
        value: Option<&'static Arg>,
    },
}

impl Arg {
    /// As `--help` shows it.
    pub fn usage(&self) -> String {
        match self {
            Arg::OneOf([word]) => word.to_string(),
            Arg::OneOf(words) => format!("<{}>", words.join("|")),
            Arg::Value { name, shape, .. } => match shape {
                Shape::Required => format!("<{name}>"),
                Shape::Optional => format!("[{name}]"),
                Shape::Bare => name.to_string(),
            },
            Arg::Flag { name, value: None } => format!("[--{name}]"),
            Arg::Flag {
                name,
                value: Some(value),
            } => format!("[--{name} {}]", value.usage()),
        }
    }

    /// As the man page writes it (mdoc), `last` closing the line.
    #[cfg(test)]
    fn man(&self, last: bool) -> String {
        let optional = |inner: String| match last {
            true => format!("Op {inner}"),
            false => format!("Oo {inner} Oc"),
        };
        match self {
            Arg::OneOf([word]) => word.to_string(),
            Arg::OneOf(words) => format!("Ar {}", words.join(" | ")),
            Arg::Value { name, shape, .. } => {
                let ar = format!("Ar {}", name.to_lowercase());
                match shape {
                    Shape::Optional => optional(ar),
                    Shape::Required | Shape::Bare => ar,
                }
            }
            Arg::Flag { name, value } => {
                let value = value.map(|v| format!(" {}", v.man(false)));
                optional(format!("Fl -{name}{}", value.unwrap_or_default()))
            }
        }
    }
}

/// Where a command stands in `--help`: the groups in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// Prints a token in a plain form.
    Output,
    /// Looks at or drops what is cached.
    Cache,
    /// Speaks a tool's credential protocol.
    Tool,
    /// Everything else: URLs, setup, help.
    Setup,
}

/// One command: everything the command line, its help and completion know.
#[derive(Debug)]
pub struct Entry {
    /// The name, then aliases.
    pub words: &'static [&'static str],
    /// The name a tool runs it by, as a link to this binary.
    pub link: Option<&'static str>,
    pub group: Group,
    /// The arguments after its name, then its own options.
    pub args: &'static [Arg],
    /// One line, for `--help` and completion.
    pub about: &'static str,
    /// More about it, for `help COMMAND`.
    pub details: &'static str,
    /// What to say when the arguments are wrong, if more than "wrong
    /// arguments".
    pub wrong: Option<&'static str>,
}

impl Entry {
    /// The usage line: the name, then each argument.
    pub fn usage(&self) -> String {
        let args = self.args.iter().map(|a| format!(" {}", a.usage()));
        args.fold(self.words[0].to_string(), |line, arg| line + &arg)
    }

    /// The man page's `.It` line for it (the man page is written by hand;
    /// a test checks it has this line).
    #[cfg(test)]
    pub fn man_line(&self) -> String {
        let last = self.args.len().saturating_sub(1);
        let args = self.args.iter().enumerate();
        let args = args.map(|(i, a)| format!(" {}", a.man(i == last)));
        args.fold(format!(".It Cm {}", self.words[0]), |line, arg| line + &arg)
    }

    /// Its positional arguments, in order.
    pub fn positionals(&self) -> impl Iterator<Item = &'static Arg> {
        self.args.iter().filter(|a| !matches!(a, Arg::Flag { .. }))
    }

    /// Its own option `--name`, if it has one: the value it takes, if any.
    pub fn flag(&self, wanted: &str) -> Option<Option<&'static Arg>> {
        self.flags().find(|f| f.0 == wanted).map(|f| f.1)
    }

    /// Its own options: each name and the value it takes, if any.
    pub fn flags(&self) -> impl Iterator<Item = (&'static str, Option<&'static Arg>)> {
        self.args.iter().filter_map(|a| match a {
            Arg::Flag { name, value } => Some((*name, *value)),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SINK: Entry = Entry {
        words: &["sink"],
        link: None,
        group: Group::Setup,
        args: &[
            Arg::Value {
                name: "PATH",
                kind: Kind::File,
                shape: Shape::Required,
            },
            Arg::Flag {
                name: "once",
                value: None,
            },
            Arg::Flag {
                name: "mode",
                value: Some(&Arg::OneOf(&["0600", "0640"])),
            },
            Arg::Value {
                name: "DIR",
                kind: Kind::Dir,
                shape: Shape::Optional,
            },
        ],
        about: "",
        details: "",
        wrong: None,
    };

    #[test]
    fn usage_and_man_lines_come_from_the_arguments() {
        assert_eq!(
            SINK.usage(),
            "sink <PATH> [--once] [--mode <0600|0640>] [DIR]"
        );
        assert_eq!(
            SINK.man_line(),
            ".It Cm sink Ar path Oo Fl -once Oc Oo Fl -mode Ar 0600 | 0640 Oc Op Ar dir"
        );
        assert_eq!(SINK.positionals().count(), 2);
        assert!(SINK.flag("mode").unwrap().is_some());
        assert!(matches!(SINK.flag("once"), Some(None)));
        assert!(SINK.flag("all").is_none());
    }
}
