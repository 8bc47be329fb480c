//! Load: many processes at once, as a build or a `kubectl` loop starts
//! them. However many race on a cold or stale cache, the Console sees one
//! exchange; a warm cache serves a thousand hits without any.

use std::collections::VecDeque;
use std::io::Write;
use std::process::{Child, Stdio};

use crate::console::{Console, FAR_FUTURE_EXP, now};
use crate::harness::{Output, Sandbox, finish};

/// One run: its arguments and what it reads on stdin.
struct Run {
    args: Vec<String>,
    stdin: Option<String>,
}

impl Run {
    fn new(args: &[&str], stdin: Option<&str>) -> Run {
        Run {
            args: args.iter().map(|a| a.to_string()).collect(),
            stdin: stdin.map(String::from),
        }
    }
}

fn start(sandbox: &Sandbox, run: &Run) -> Child {
    let args: Vec<&str> = run.args.iter().map(String::as_str).collect();
    let mut child = sandbox
        .command(&args)
        .stdin(if run.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    if let Some(input) = &run.stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(input.as_bytes()).unwrap();
    }
    child
}

/// Runs every one of `runs`, at most `alive` at a time, and returns their
/// outputs in order.
fn run_all(sandbox: &Sandbox, runs: &[Run], alive: usize) -> Vec<Output> {
    let mut running = VecDeque::new();
    let mut outputs = Vec::with_capacity(runs.len());
    for run in runs {
        if running.len() == alive {
            outputs.push(finish(running.pop_front().unwrap()));
        }
        running.push_back(start(sandbox, run));
    }
    outputs.extend(running.into_iter().map(finish));
    outputs
}

/// Every output succeeded, said nothing on stderr and carries `token`.
#[track_caller]
fn assert_all_served(outputs: &[Output], token: &str) {
    for out in outputs {
        out.success();
        assert_eq!(out.stderr, "");
        assert!(out.stdout.contains(token), "{}", out.stdout);
    }
}

#[test]
fn sixty_four_processes_on_a_cold_cache_make_one_exchange() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let runs: Vec<_> = (0..64).map(|_| Run::new(&["token"], None)).collect();
    let outputs = run_all(&sandbox, &runs, 64);
    assert_eq!(console.token_requests(), 1);
    assert_all_served(&outputs, &console.issued()[0]);
}

#[test]
fn sixty_four_processes_on_a_stale_cache_make_one_exchange() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    // Cached with ten minutes left: inside the refresh threshold.
    console.set_exp(now() + 600);
    sandbox.run(&["token"]).success();
    console.set_exp(FAR_FUTURE_EXP);
    let runs: Vec<_> = (0..64).map(|_| Run::new(&["token"], None)).collect();
    let outputs = run_all(&sandbox, &runs, 64);
    assert_eq!(console.token_requests(), 2, "one new exchange");
    assert_all_served(&outputs, &console.issued()[1]);
}

#[test]
fn every_protocol_at_once_shares_one_exchange() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    let git = format!(
        "protocol=http\nhost={}\ncapability[]=authtype\n\n",
        console.addr()
    );
    let bazel = format!("{{\"uri\": \"{}/x\"}}", console.url());
    let kinds = [
        Run::new(&["token"], None),
        Run::new(&["header"], None),
        Run::new(&["aws"], None),
        Run::new(&["kubernetes"], None),
        Run::new(&["git", "get"], Some(&git)),
        Run::new(&["docker", "get"], Some(&console.url())),
        Run::new(&["bazel", "get"], Some(&bazel)),
    ];
    let runs: Vec<_> = (0..63)
        .map(|i| {
            let kind = &kinds[i % kinds.len()];
            Run {
                args: kind.args.clone(),
                stdin: kind.stdin.clone(),
            }
        })
        .collect();
    let outputs = run_all(&sandbox, &runs, 63);
    assert_eq!(console.token_requests(), 1);
    assert_all_served(&outputs, &console.issued()[0]);
}

// Unix only: Wine fails to start 100 processes at once (CreateProcess: internal error), and a thousand take minutes there; the 64-process tests run on Windows.
#[cfg(unix)]
#[test]
fn a_thousand_hits_on_a_warm_cache_make_no_exchange() {
    let console = Console::start();
    let sandbox = Sandbox::for_console(&console);
    sandbox.run(&["token"]).success();
    let runs: Vec<_> = (0..1000).map(|_| Run::new(&["token"], None)).collect();
    // At most 100 alive at once, to stay well inside the process limit.
    let outputs = run_all(&sandbox, &runs, 100);
    assert_eq!(outputs.len(), 1000);
    assert_eq!(console.token_requests(), 1, "no exchange after warm-up");
    assert_all_served(&outputs, &console.issued()[0]);
}
