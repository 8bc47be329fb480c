//! The Dockerfile's instructions, carried out on a directory as a builder
//! would on an empty image: the subset the Dockerfile may use (FROM scratch,
//! ARG, LABEL, COPY, USER, ENV, ENTRYPOINT), so that the test can run the
//! image's tree without a container runtime.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

pub struct Image {
    pub user: String,
    pub env: Vec<(&'static str, String)>,
    pub entrypoint: Vec<String>,
}

/// Reads the repository's Dockerfile and builds its tree from `context`
/// into `root`, for linux/amd64.
pub fn build(context: &Path, root: &Path) -> Image {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile");
    let text = fs::read_to_string(path).unwrap();
    let args = BTreeMap::from([("TARGETARCH", "amd64")]);
    let mut image = Image {
        user: "0:0".into(),
        env: Vec::new(),
        entrypoint: Vec::new(),
    };
    for line in instructions(&text) {
        let (word, rest) = line.split_once(' ').unwrap_or((&line, ""));
        let rest = substitute(rest.trim(), &args);
        match word {
            "FROM" => assert_eq!(rest, "scratch", "the image starts empty"),
            "ARG" => assert!(args.contains_key(rest.as_str()), "ARG {rest} is unknown"),
            "LABEL" => {}
            "COPY" => copy(context, root, &rest),
            "USER" => image.user = rest,
            "ENV" => image.env.push(env_pair(&rest)),
            "ENTRYPOINT" => image.entrypoint = serde_json::from_str(&rest).unwrap(),
            other => panic!("the Dockerfile uses {other}, which this test cannot carry out"),
        }
    }
    image
}

/// Instructions with continuation lines joined, comments dropped.
fn instructions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(line);
                out.push(std::mem::take(&mut current));
            }
        }
    }
    out
}

fn substitute(text: &str, args: &BTreeMap<&str, &str>) -> String {
    args.iter().fold(text.to_string(), |t, (k, v)| {
        t.replace(&format!("${{{k}}}"), v)
    })
}

fn env_pair(rest: &str) -> (&'static str, String) {
    let (name, value) = rest.split_once('=').expect("ENV NAME=value");
    assert_eq!(name, "HOME", "the test knows only ENV HOME");
    ("HOME", value.to_string())
}

/// `COPY [--chown=U:G] SRC... DEST`: a directory's contents go into DEST,
/// a file to DEST (or into it, if DEST ends with '/'); the copies, not
/// the parents made for them, get the owner.
fn copy(context: &Path, root: &Path, rest: &str) {
    let mut words: Vec<&str> = rest.split_whitespace().collect();
    let owner = words[0].strip_prefix("--chown=").map(|o| {
        let (uid, gid) = o.split_once(':').unwrap();
        (uid.parse::<u32>().unwrap(), gid.parse::<u32>().unwrap())
    });
    if owner.is_some() {
        words.remove(0);
    }
    let dest = words.pop().unwrap();
    for source in words {
        let from = context.join(source.trim_end_matches('/'));
        let into_dir = from.is_dir() || dest.ends_with('/');
        let to = root.join(dest.trim_start_matches('/'));
        let to = match into_dir && from.is_file() {
            true => to.join(from.file_name().unwrap()),
            false => to,
        };
        let dir = if from.is_dir() {
            &to
        } else {
            to.parent().unwrap()
        };
        // A destination directory the copy creates gets the owner too,
        // as buildah does; parents made on the way do not.
        let created = !dir.exists();
        fs::create_dir_all(dir).unwrap();
        if created && from.is_dir() {
            chown(dir, owner);
        }
        copy_tree(&from, &to, owner);
    }
}

fn copy_tree(from: &Path, to: &Path, owner: Option<(u32, u32)>) {
    if from.is_dir() {
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap().path();
            let target = to.join(entry.file_name().unwrap());
            if entry.is_dir() {
                fs::create_dir_all(&target).unwrap();
                let mode = fs::metadata(&entry).unwrap().permissions();
                fs::set_permissions(&target, mode).unwrap();
                chown(&target, owner);
            }
            copy_tree(&entry, &target, owner);
        }
    } else {
        fs::copy(from, to).unwrap();
        chown(to, owner);
    }
}

fn chown(path: &Path, owner: Option<(u32, u32)>) {
    let (uid, gid) = owner.unwrap_or((0, 0));
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
}
