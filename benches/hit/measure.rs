//! Running a program and timing it, from spawn to exit, the way a tool that
//! runs a credential helper waits for it; and the side counts (memory, system
//! calls, instructions) taken with public tools when they are installed.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One command line, with exactly this environment and this stdin.
#[derive(Clone)]
pub struct Program {
    pub path: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// A file to read as stdin (opened afresh for each run); none: /dev/null.
    pub stdin: Option<PathBuf>,
}

impl Program {
    pub fn new(path: &Path, args: &[&str], env: &[(String, String)]) -> Program {
        Program {
            path: path.to_path_buf(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: env.to_vec(),
            stdin: None,
        }
    }

    pub fn stdin(mut self, file: &Path) -> Program {
        self.stdin = Some(file.to_path_buf());
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> Program {
        self.env.push((name.into(), value.into()));
        self
    }

    pub fn display(&self) -> String {
        let name = self.path.file_name().unwrap_or_default().to_string_lossy();
        format!("{name} {}", self.args.join(" "))
    }

    /// The command, prefixed by `wrapper` (a tool that runs it), stdout to
    /// `stdout`, stderr discarded.
    fn command(&self, wrapper: &[&str], stdout: Stdio) -> Command {
        let mut cmd = match wrapper.split_first() {
            Some((tool, args)) => {
                let mut cmd = Command::new(tool);
                cmd.args(args).arg(&self.path);
                cmd
            }
            None => Command::new(&self.path),
        };
        let stdin = match &self.stdin {
            Some(path) => Stdio::from(File::open(path).expect("the stdin file")),
            None => Stdio::null(),
        };
        cmd.args(&self.args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(stdin)
            .stdout(stdout)
            .stderr(Stdio::null());
        cmd
    }

    pub fn spawn(&self, stdout: Stdio) -> Child {
        self.command(&[], stdout)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.display()))
    }

    /// Runs it once: the time from spawn to exit. It must succeed.
    pub fn time(&self) -> Duration {
        let mut cmd = self.command(&[], Stdio::null());
        let start = Instant::now();
        let status = cmd.status();
        let took = start.elapsed();
        let status = status.unwrap_or_else(|e| panic!("cannot run {}: {e}", self.display()));
        assert!(status.success(), "{} failed: {status}", self.display());
        took
    }

    /// Runs it once and returns its stdout. It must succeed.
    pub fn output(&self) -> String {
        let out = self
            .command(&[], Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.display()));
        assert!(
            out.status.success(),
            "{} failed: {}: {}",
            self.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Peak resident memory in KiB over `runs` runs, as GNU time reports it
    /// (`%M`, the kernel's maxrss). Measured under `time` rather than from
    /// this process, because a child started with vfork inherits the
    /// parent's high-water mark until it execs.
    pub fn max_rss_kib(&self, time: &Path, scratch: &Path, runs: usize) -> u64 {
        let report = scratch.join("time.out");
        let report_arg = report.to_string_lossy().into_owned();
        let tool = time.to_string_lossy().into_owned();
        (0..runs)
            .map(|_| {
                let status = self
                    .command(&[&tool, "-f", "%M", "-o", &report_arg], Stdio::null())
                    .status()
                    .expect("GNU time runs");
                assert!(status.success(), "{} failed under time", self.display());
                let text = std::fs::read_to_string(&report).expect("time's report");
                text.trim()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .parse()
                    .unwrap_or(0)
            })
            .max()
            .unwrap_or(0)
    }

    /// The system calls of one run, as strace prints them (one per line).
    pub fn syscalls(&self, strace: &Path, scratch: &Path) -> Vec<String> {
        let log = scratch.join("strace.out");
        let log_arg = log.to_string_lossy().into_owned();
        let tool = strace.to_string_lossy().into_owned();
        let status = self
            .command(&[&tool, "-f", "-qq", "-o", &log_arg], Stdio::null())
            .status()
            .expect("strace runs");
        assert!(status.success(), "{} failed under strace", self.display());
        std::fs::read_to_string(&log)
            .expect("strace's log")
            .lines()
            .filter(|l| !l.contains("resumed>") && !l.starts_with("+++") && !l.starts_with("---"))
            .map(String::from)
            .collect()
    }

    /// Instructions executed in one run (valgrind's callgrind): the count
    /// that does not move with the machine's load.
    pub fn instructions(&self, valgrind: &Path) -> Option<u64> {
        let tool = valgrind.to_string_lossy().into_owned();
        let out = self
            .command(
                &[&tool, "--tool=callgrind", "--callgrind-out-file=/dev/null"],
                Stdio::null(),
            )
            .stderr(Stdio::piped())
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stderr);
        let line = text.lines().find(|l| l.contains("Collected :"))?;
        line.rsplit(':').next()?.trim().parse().ok()
    }
}

/// A named thing to time: each call does its own untimed preparation and
/// returns the time of the part that counts.
pub type Case<'a> = (String, Box<dyn FnMut() -> Duration + 'a>);

/// Runs every case once per round, in an order that rotates each round so
/// that no case always follows another (the machine may be busy with other
/// work: interleaving spreads that over all cases alike). The first rounds
/// warm caches and are not counted. Returns each case's median.
pub fn interleaved(cases: &mut [Case], rounds: usize, warmup: usize) -> Vec<Duration> {
    let n = cases.len();
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(rounds); n];
    for round in 0..warmup + rounds {
        for i in 0..n {
            let at = (i + round) % n;
            let took = (cases[at].1)();
            if round >= warmup {
                times[at].push(took);
            }
        }
    }
    times.iter_mut().map(|t| median(t)).collect()
}

pub fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    match times.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => times[n / 2],
        n => (times[n / 2 - 1] + times[n / 2]) / 2,
    }
}

/// What `n` concurrent runs took.
pub struct Together {
    /// From the first spawn until the last exit.
    pub until_last: Duration,
    /// The longest any one took, from its own spawn to its exit.
    pub slowest: Duration,
    pub outputs: Vec<String>,
}

/// `n` copies of `program` started back to back, each writing stdout to its
/// own file in `dir`. Each must succeed.
pub fn concurrently(program: &Program, n: usize, dir: &Path) -> Together {
    let paths: Vec<PathBuf> = (0..n).map(|i| dir.join(format!("out-{i}"))).collect();
    let files: Vec<File> = paths
        .iter()
        .map(|p| File::create(p).expect("an output file"))
        .collect();
    let start = Instant::now();
    let mut started = HashMap::new();
    let children: Vec<Child> = files
        .into_iter()
        .map(|f| {
            let at = Instant::now();
            let child = program.spawn(Stdio::from(f));
            started.insert(child.id(), at);
            child
        })
        .collect();
    // Reap them in the order they exit, to time each one (so std's Child is
    // never asked to wait: dropping it does not).
    let mut slowest = Duration::ZERO;
    for _ in 0..n {
        let mut status = 0;
        // SAFETY: waitpid writes the status into a valid c_int.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        let exited = Instant::now();
        assert!(pid > 0, "waitpid: {}", std::io::Error::last_os_error());
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "{} failed: wait status {status}",
            program.display()
        );
        let began = started[&pid.unsigned_abs()];
        slowest = slowest.max(exited - began);
    }
    let until_last = start.elapsed();
    drop(children);
    let outputs = paths
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("an output"))
        .collect();
    Together {
        until_last,
        slowest,
        outputs,
    }
}
