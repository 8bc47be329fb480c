//! Shell completion, in the real shells: each loads the script the binary
//! prints (`completions SHELL`) the way its docs say, and is asked to
//! complete a line. bash: its own `complete -p`, then the registered
//! function run as bash runs it on TAB (COMP_WORDS/COMP_CWORD). fish: its
//! own completion tester, `complete -C`. zsh: compinit registers the
//! function, which is then run with zsh's `_describe` and `_files` stood in
//! by printers (driving zle itself needs a terminal). PowerShell is not in
//! Debian, so its script is checked only by the completer's unit tests.

use std::path::Path;

use insta::assert_snapshot;

use crate::harness::{self, Output, Sandbox, output_of};

const PROFILES: &str = "[profiles.prod]\norg_id = \"x\"\n\n[profiles.staging]\norg_id = \"y\"\n";

/// A sandbox with the binary on PATH by its name and a config file with two
/// profiles, and the shell's script written to `name` in its home.
fn sandbox_with_script(shell: &str, name: &str) -> (Sandbox, String) {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(PROFILES);
    let bin = sandbox.bin_dir();
    sandbox.prepend_path(&bin);
    let script = sandbox.run(&["completions", shell]);
    script.success();
    let path = sandbox.path(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &script.stdout).unwrap();
    (sandbox, path.display().to_string())
}

fn run_shell(sandbox: &Sandbox, shell: &Path, args: &[&str]) -> Output {
    let out = output_of(&mut sandbox.program(shell, args), None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out
}

#[test]
fn bash_registers_and_completes_commands_actions_options_and_profiles() {
    let Some(bash) = harness::require("bash") else {
        return;
    };
    let (sandbox, script) = sandbox_with_script("bash", "snowplow-credentials.bash");
    let probe = format!(
        r#"source '{script}'
complete -p snowplow-credentials
ask() {{ COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _snowplow_credentials
  echo "$* -> ${{COMPREPLY[*]}}"; }}
ask snowplow-credentials ''
ask snowplow-credentials gi
ask snowplow-credentials git ''
ask snowplow-credentials --host x docker l
ask snowplow-credentials token --pro
ask snowplow-credentials --profile ''
ask snowplow-credentials completions ''
mkdir -p "$HOME/somewhere/inner"; cd "$HOME/somewhere"
ask snowplow-credentials install-links ''
"#
    );
    let out = run_shell(&sandbox, &bash, &["--norc", "--noprofile", "-c", &probe]);
    assert_snapshot!(out.stdout, @"
    complete -F _snowplow_credentials snowplow-credentials
    snowplow-credentials  -> token header status clear aws credential-process git kubernetes exec-credential docker terraform bazel console-url install-links help sink exec key completions
    snowplow-credentials gi -> git
    snowplow-credentials git  -> get store erase
    snowplow-credentials --host x docker l -> list
    snowplow-credentials token --pro -> --profile
    snowplow-credentials --profile  -> prod staging
    snowplow-credentials completions  -> bash zsh fish powershell
    snowplow-credentials install-links  -> inner
    ");
}

#[test]
fn bash_keeps_a_profile_name_with_a_space_one_word() {
    let Some(bash) = harness::require("bash") else {
        return;
    };
    let (sandbox, script) = sandbox_with_script("bash", "snowplow-credentials.bash");
    sandbox.write_config("[profiles.\"we ird\"]\n[profiles.prod]\n[profiles.\"it's\"]\n");
    // Each reply bracketed: what bash puts on the line for it.
    let probe = format!(
        r#"source '{script}'
ask() {{ COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _snowplow_credentials
  printf '%s ->' "$*"; printf ' [%s]' "${{COMPREPLY[@]}}"; echo; }}
ask snowplow-credentials --profile ''
ask snowplow-credentials token --profile w
"#
    );
    let out = run_shell(&sandbox, &bash, &["--norc", "--noprofile", "-c", &probe]);
    assert_snapshot!(out.stdout, @r"
    snowplow-credentials --profile  -> [it\'s] [prod] [we\ ird]
    snowplow-credentials token --profile w -> [we\ ird]
    ");
}

#[test]
fn fish_completes_through_its_own_tester() {
    let Some(fish) = harness::require("fish") else {
        return;
    };
    let (sandbox, script) =
        sandbox_with_script("fish", ".config/fish/completions/snowplow-credentials.fish");
    let probe = format!(
        "source '{script}'
for line in 'snowplow-credentials ' 'snowplow-credentials ter' 'snowplow-credentials terraform ' \
            'snowplow-credentials token --profile ' 'snowplow-credentials clear --al'
    echo \"[$line]\"
    complete -C \"$line\"
end"
    );
    let out = run_shell(&sandbox, &fish, &["--no-config", "-c", &probe]);
    assert_snapshot!(out.stdout, @"
    [snowplow-credentials ]
    aws	AWS credential_process (alias: credential-process)
    bazel	Bazel credential helper
    clear	drop this identity's cached token (--all: every one)
    completions	print the shell's completion script
    console-url	print the Console's URL (with PATH; {org} is the organization ID)
    credential-process	AWS credential_process (alias: credential-process)
    docker	Docker credential helper (also as docker-credential-snowplow)
    exec	run CMD with the key (--token: only a token) in its environment
    exec-credential	Kubernetes exec credential plugin (alias: exec-credential)
    git	git credential helper (also as git-credential-snowplow)
    header	print `Authorization: Bearer <token>`
    help	print this help, or one command's (also: COMMAND --help)
    install-links	link the git/docker/terraform helper names to this binary
    key	keep the profile's API key in the OS keychain
    kubernetes	Kubernetes exec credential plugin (alias: exec-credential)
    sink	keep the token file PATH fresh until stopped (--once: write it and exit)
    status	show the profile, identity, served hosts and cached token's expiry
    terraform	Terraform credentials helper (also as terraform-credentials-snowplow)
    token	print the token (a JWT) and a newline
    [snowplow-credentials ter]
    terraform	Terraform credentials helper (also as terraform-credentials-snowplow)
    [snowplow-credentials terraform ]
    forget
    get
    store
    [snowplow-credentials token --profile ]
    prod	profile
    staging	profile
    [snowplow-credentials clear --al]
    --all
    ");
}

#[test]
fn zsh_registers_with_compinit_and_offers_the_completers_words() {
    let Some(zsh) = harness::require("zsh") else {
        return;
    };
    let (sandbox, script) = sandbox_with_script("zsh", "zfunc/_snowplow-credentials");
    let dir = Path::new(&script).parent().unwrap().display().to_string();
    let probe = format!(
        r#"fpath=('{dir}' $fpath)
autoload -Uz compinit && compinit -u -d "$HOME/.zcompdump"
print "registered: $_comps[snowplow-credentials]"
_describe() {{ print -rl -- "${{(@P)4}}" }}
_files() {{ print "files $*" }}
ask() {{ words=("$@"); CURRENT=$#; print "$* ->"; _snowplow-credentials }}
autoload -Uz _snowplow-credentials
ask snowplow-credentials kub
ask snowplow-credentials bazel ''
ask snowplow-credentials --profile ''
ask snowplow-credentials --config ''
"#
    );
    let out = run_shell(&sandbox, &zsh, &["-f", "-c", &probe]);
    assert_snapshot!(out.stdout, @"
    registered: _snowplow-credentials
    snowplow-credentials kub ->
    kubernetes:Kubernetes exec credential plugin (alias: exec-credential)
    snowplow-credentials bazel  ->
    get:
    snowplow-credentials --profile  ->
    prod:profile
    staging:profile
    snowplow-credentials --config  ->
    files
    ");
}
