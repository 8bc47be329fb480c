//! The shipped CI examples: parsed with a real YAML parser (PyYAML), checked
//! for structure and for the key only ever coming from the CI's secret
//! store, and their scripts run with bash against the stand-in Console, the
//! way the runner would once the helper is installed.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::console::{self, Console};
use crate::harness::{self, Output, Sandbox, integration};

/// The only variables the examples may name.
const NAMES: [&str; 4] = [
    "SNOWPLOW_CONSOLE_ORG_ID",
    "SNOWPLOW_CONSOLE_API_KEY_ID",
    "SNOWPLOW_CONSOLE_API_KEY",
    "SNOWPLOW_CONSOLE_HOST",
];

/// The YAML file as PyYAML reads it, as JSON.
fn load_yaml(python: &Path, path: &Path) -> Value {
    let [document] = harness::yaml_documents(python, path).try_into().unwrap();
    document
}

/// Every `SNOWPLOW_…` name the text mentions.
fn snowplow_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("SNOWPLOW_") {
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        names.push(name);
    }
    names
}

#[track_caller]
fn assert_only_known_names(text: &str) {
    for name in snowplow_names(text) {
        assert!(NAMES.contains(&name.as_str()), "unknown variable {name}");
    }
}

/// The stand-in's values, as a user would enter them in the CI's settings.
fn settings(console: &Console) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("SNOWPLOW_CONSOLE_ORG_ID", console::ORG.to_string()),
        ("SNOWPLOW_CONSOLE_API_KEY_ID", console::KEY_ID.to_string()),
        ("SNOWPLOW_CONSOLE_API_KEY", console::KEY.to_string()),
        ("SNOWPLOW_CONSOLE_HOST", console.url()),
    ])
}

/// A runner with the helper installed and nothing else set.
fn runner() -> Sandbox {
    let mut sandbox = Sandbox::new();
    sandbox.install_on_path();
    sandbox
}

/// Runs `script` as a CI runner does: stopping at the first failure.
fn bash(sandbox: &Sandbox, script: &str) -> Output {
    sandbox.bash(&["-eo", "pipefail", "-c", script])
}

/// The `env:` map of a workflow, job or step, with each value's
/// `${{ context.NAME }}` expression read as (context, NAME).
fn expressions(env: &Value) -> Vec<(String, String, String)> {
    let Some(env) = env.as_object() else {
        return Vec::new();
    };
    env.iter()
        .map(|(name, value)| {
            let value = value.as_str().unwrap_or_default();
            let expr = value
                .strip_prefix("${{ ")
                .and_then(|v| v.strip_suffix(" }}"))
                .unwrap_or_else(|| panic!("{name}: `{value}` is inlined, not a ${{{{ … }}}}"));
            let (context, key) = expr.split_once('.').unwrap();
            (name.clone(), context.to_string(), key.to_string())
        })
        .collect()
}

#[test]
fn the_github_workflow_takes_the_key_from_secrets_and_its_steps_work() {
    let Some(python) = harness::python_with(&["yaml"]) else {
        return;
    };
    let path = integration("ci/github-actions.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_only_known_names(&text);
    let workflow = load_yaml(&python, &path);
    // PyYAML reads the bare key `on` as the boolean true.
    assert!(workflow.get("true").is_some(), "no triggers: {workflow}");
    let jobs = workflow["jobs"].as_object().expect("jobs");
    assert_eq!(jobs.len(), 1);
    let job = jobs.values().next().unwrap();
    assert!(job["runs-on"].is_string());
    let steps = job["steps"].as_array().expect("steps");

    let console = Console::start();
    let settings = settings(&console);
    // How GitHub fills `${{ secrets.X }}` and `${{ vars.X }}`.
    let resolve = |env: &Value, sandbox: &mut Sandbox| {
        for (name, context, key) in expressions(env) {
            assert!(NAMES.contains(&name.as_str()), "{name}");
            assert_eq!(key, name, "{name} comes from a setting of its own name");
            let wanted = if name == "SNOWPLOW_CONSOLE_API_KEY" {
                "secrets"
            } else {
                "vars"
            };
            assert_eq!(context, wanted, "{name}");
            sandbox.set(&name, &settings[name.as_str()]);
        }
    };
    assert!(
        workflow.get("env").is_none() && job["env"].get("SNOWPLOW_CONSOLE_API_KEY").is_none(),
        "the key goes only to the steps that use it"
    );

    // One runner: the steps share its home, hence the cache.
    let mut sandbox = runner();
    resolve(&job["env"], &mut sandbox);
    let mut outputs = Vec::new();
    for step in steps {
        let run = step["run"].as_str().expect("every step runs a script");
        if run.contains("cargo install") {
            assert!(step.get("env").is_none(), "the build gets no key");
            continue;
        }
        assert!(run.contains("snowplow-credentials header"), "{run}");
        resolve(&step["env"], &mut sandbox);
        let out = bash(&sandbox, run);
        assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{run}");
        outputs.push(out.stdout);
        for (name, _, _) in expressions(&step["env"]) {
            sandbox.unset(&name);
        }
    }
    assert_eq!(
        console.token_requests(),
        1,
        "the second step used the cache"
    );
    assert_eq!(
        outputs,
        [
            format!(r#"[{{"id":"{}","name":"Stand-in Org"}}]"#, console::ORG),
            "[]".to_string(),
        ]
    );
}

#[test]
fn the_gitlab_job_takes_the_key_from_ci_variables_and_its_script_works() {
    let Some(python) = harness::python_with(&["yaml"]) else {
        return;
    };
    let path = integration("ci/gitlab-ci.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_only_known_names(&text);
    let pipeline = load_yaml(&python, &path);
    let jobs: Vec<_> = pipeline
        .as_object()
        .unwrap()
        .values()
        .filter(|v| v.get("script").is_some())
        .collect();
    assert_eq!(jobs.len(), 1, "{pipeline}");
    let job = jobs[0];
    assert!(job["image"].is_string());
    // The key comes only from the project's CI/CD variables: nothing in the
    // file sets any of our variables.
    for variables in [&pipeline["variables"], &job["variables"]] {
        assert!(variables.is_null(), "{variables}");
    }
    let lines = |key: &str| -> Vec<String> {
        job[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} is a list"))
            .iter()
            .map(|l| l.as_str().unwrap().to_string())
            .collect()
    };
    let install = lines("before_script");
    assert!(
        install
            .iter()
            .all(|l| l.starts_with("env -u SNOWPLOW_CONSOLE_API_KEY cargo install")),
        "the build gets no key: {install:?}"
    );

    let console = Console::start();
    let mut runner = runner();
    for (name, value) in settings(&console) {
        runner.set(name, &value);
    }
    // GitLab runs the script's lines in one shell, stopping at a failure.
    let out = bash(&runner, &lines("script").join("\n"));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(
        out.stdout,
        format!(r#"[{{"id":"{}","name":"Stand-in Org"}}][]"#, console::ORG)
    );
    assert_eq!(
        console.token_requests(),
        1,
        "the second call used the cache"
    );
}
