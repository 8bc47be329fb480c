//! The markdown the bench prints: medians, ratios, and PASS/FAIL for each of
//! issue 6's targets.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// A hit at most this many times the floor.
const HIT_VS_FLOOR: f64 = 1.3;
/// A hit faster than git's credential-store.
const HIT_VS_STORE: f64 = 1.0;
/// A hit under a third of gke-gcloud-auth-plugin's cache hit.
const HIT_VS_GKE: f64 = 1.0 / 3.0;
/// A miss at most this many times curl's GET.
const MISS_VS_CURL: f64 = 1.3;
/// A stampede at most this many times one miss.
const STAMPEDE_VS_MISS: f64 = 1.5;
/// Issue 20: a dynamic hit at most this many times the dynamic floor.
const DYNAMIC_VS_FLOOR: f64 = 1.1;
/// Issue 20: system calls of a static hit with a config file.
const MAX_STATIC_SYSCALLS: usize = 25;
const MAX_SIZE: u64 = 3 * 1024 * 1024;
const MAX_RSS_KIB: u64 = 4 * 1024;
/// What the table says for a reference program missing on this machine.
const NOT_INSTALLED: &str = "not installed";

pub struct Report {
    out: String,
    rows: Vec<[String; 4]>,
    size: u64,
    /// A hit's system calls, named in order.
    syscalls: Option<String>,
    /// The static build's, likewise.
    static_syscalls: Option<String>,
    met: usize,
    missed: usize,
}

pub fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(String::from))
        .unwrap_or_else(|| "?".into())
}

/// strace lines (`PID name(args) = result`) as `name, name ×3, …`.
fn in_order(lines: &[String]) -> String {
    let mut runs: Vec<(&str, usize)> = Vec::new();
    for line in lines {
        let call = line.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ');
        let name = call.split('(').next().unwrap_or(call);
        match runs.last_mut() {
            Some((last, n)) if *last == name => *n += 1,
            _ => runs.push((name, 1)),
        }
    }
    runs.iter()
        .map(|(name, n)| match n {
            1 => name.to_string(),
            n => format!("{name} ×{n}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn mib(kib: u64) -> String {
    format!("{:.2} MiB", kib as f64 / 1024.0)
}

impl Report {
    pub fn new(binary: &Path, rounds: usize, stampedes: usize) -> Report {
        let size = std::fs::metadata(binary).map(|m| m.len()).unwrap_or(0);
        let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
        let mut out = String::new();
        let _ = writeln!(
            out,
            "### Cache hit, miss and stampede (`cargo bench --bench hit`)\n\n\
             {cpus} CPUs, load average {} at the start. Wall-clock time from spawn to exit, \
             median of {rounds} interleaved rounds ({stampedes} for stampedes).\n",
            load()
        );
        Report {
            out,
            rows: Vec::new(),
            size,
            syscalls: None,
            static_syscalls: None,
            met: 0,
            missed: 0,
        }
    }

    fn verdict(&mut self, ok: bool) -> &'static str {
        if ok {
            self.met += 1;
            "PASS"
        } else {
            self.missed += 1;
            "FAIL"
        }
    }

    fn judged(&mut self, value: f64, bound: f64, strict: bool) -> String {
        let ok = if strict {
            value < bound
        } else {
            value <= bound
        };
        format!("{value:.2}× {}", self.verdict(ok))
    }

    /// A reference program's row of the hits table: `program` and `setup`,
    /// its median and its ratio to the floor; or that it is not installed.
    fn reference(&mut self, program: &str, setup: &str, time: Option<Duration>, floor: Duration) {
        let _ = match time {
            Some(t) => writeln!(
                self.out,
                "| {program}{setup} | {} | {:.2}× | | |",
                ms(t),
                ratio(t, floor)
            ),
            None => writeln!(self.out, "| {program} | {NOT_INSTALLED} | | | |"),
        };
    }

    /// A hit judged against a reference program's median (if installed):
    /// strictly under `bound` times it.
    fn versus(&mut self, hit: Duration, reference: Option<Duration>, bound: f64) -> String {
        match reference {
            Some(r) => self.judged(ratio(hit, r), bound, true),
            None => NOT_INSTALLED.into(),
        }
    }

    /// The hits against the floor, git credential-store and the GKE plugin.
    pub fn hits(
        &mut self,
        floor: Duration,
        true_time: Option<Duration>,
        store: Option<Duration>,
        gke: Option<Duration>,
        hits: &[(&str, Duration)],
    ) {
        let o = &mut self.out;
        let _ = writeln!(
            o,
            "| warm cache | median | × floor (≤ {HIT_VS_FLOOR}) | × credential-store (< 1) | \
             × GKE plugin (< ⅓) |\n|---|---:|---:|---:|---:|"
        );
        let _ = writeln!(
            o,
            "| floor: Rust program printing one line | {} | 1.00× | | |",
            ms(floor)
        );
        if true_time.is_some() {
            self.reference(
                "`true`",
                ": a C program that does nothing",
                true_time,
                floor,
            );
        }
        self.reference(
            "`git credential-store get`",
            ", one-line store",
            store,
            floor,
        );
        self.reference("`gke-gcloud-auth-plugin`", " from its cache", gke, floor);
        for (name, hit) in hits {
            let vs_floor = self.judged(ratio(*hit, floor), HIT_VS_FLOOR, false);
            let vs_store = self.versus(*hit, store, HIT_VS_STORE);
            let vs_gke = self.versus(*hit, gke, HIT_VS_GKE);
            let _ = writeln!(
                self.out,
                "| hit: `snowplow-credentials {name}` | {} | {vs_floor} | {vs_store} | {vs_gke} |",
                ms(*hit)
            );
        }
        self.out.push('\n');
    }

    /// The static build's hits against the same floor, or why there are none.
    pub fn static_hits(
        &mut self,
        floor: Duration,
        built: Result<&Path, &String>,
        hits: &[(&str, Duration)],
    ) {
        let bound = crate::static_build::HIT_VS_FLOOR;
        let _ = writeln!(
            self.out,
            "| static build (x86_64-unknown-linux-musl, no interpreter) | median | × floor (≤ {bound}) |\n\
             |---|---:|---:|"
        );
        match built {
            Ok(binary) => {
                for (name, hit) in hits {
                    let vs_floor = self.judged(ratio(*hit, floor), bound, false);
                    let _ = writeln!(
                        self.out,
                        "| hit: `snowplow-credentials {name}` | {} | {vs_floor} |",
                        ms(*hit)
                    );
                }
                let size = std::fs::metadata(binary).map(|m| m.len()).unwrap_or(0);
                let _ = writeln!(
                    self.out,
                    "| size | {size} bytes ({}) | |",
                    mib(size.div_ceil(1024))
                );
            }
            Err(why) => {
                let _ = writeln!(self.out, "| not built: {why} | | |");
            }
        }
        self.out.push('\n');
    }

    pub fn miss(&mut self, miss: Duration, curl: Option<Duration>) {
        let (measured, result) = match curl {
            Some(c) => (
                format!("{} vs curl {} = {:.2}×", ms(miss), ms(c), ratio(miss, c)),
                self.verdict(ratio(miss, c) <= MISS_VS_CURL).to_string(),
            ),
            None => (
                format!("{} (curl not installed)", ms(miss)),
                "SKIP".to_string(),
            ),
        };
        self.rows.push([
            "miss: `token` on a cold cache (one exchange each, checked; the cache written \
             and fsynced) vs `curl` making the same GET"
                .into(),
            measured,
            format!("≤ {MISS_VS_CURL}×"),
            result,
        ]);
    }

    /// `stampede` and `floors`: (until the last exits, slowest single call).
    pub fn stampede(
        &mut self,
        n: usize,
        miss: Duration,
        stampede: (Duration, Duration),
        floors: (Duration, Duration),
    ) {
        let r = ratio(stampede.0, miss);
        let result = self.verdict(r <= STAMPEDE_VS_MISS).to_string();
        self.rows.push([
            format!(
                "stampede: {n} concurrent `token` on a cold cache (one exchange between \
                 them, checked), from the first start until the last exits"
            ),
            format!("{} = {r:.2}× one miss", ms(stampede.0)),
            format!("≤ {STAMPEDE_VS_MISS}×"),
            result,
        ]);
        self.rows.push([
            format!("for scale: {n} concurrent floor programs, likewise"),
            format!("{} = {:.2}× one miss", ms(floors.0), ratio(floors.0, miss)),
            String::new(),
            String::new(),
        ]);
        self.rows.push([
            "the slowest single call of the stampede, from its own start; of the floors".into(),
            format!(
                "{} = {:.2}× one miss; floors {}",
                ms(stampede.1),
                ratio(stampede.1, miss),
                ms(floors.1)
            ),
            String::new(),
            String::new(),
        ]);
    }

    pub fn footprint(&mut self, rss: Option<(u64, u64)>) {
        let result = self.verdict(self.size <= MAX_SIZE).to_string();
        self.rows.push([
            "stripped release binary".into(),
            format!("{} bytes ({})", self.size, mib(self.size.div_ceil(1024))),
            "≤ 3 MiB".into(),
            result,
        ]);
        let (measured, result) = match rss {
            Some((hit, floor)) => (
                format!("{} (floor {})", mib(hit), mib(floor)),
                self.verdict(hit <= MAX_RSS_KIB).to_string(),
            ),
            None => ("/usr/bin/time not installed".into(), "SKIP".into()),
        };
        self.rows.push([
            "peak memory (max RSS) of a hit, `token`, max of 20 under GNU time".into(),
            measured,
            "≤ 4 MiB".into(),
            result,
        ]);
    }

    pub fn counts(
        &mut self,
        syscalls: Option<(Vec<String>, Vec<String>)>,
        instructions: Option<(u64, u64)>,
    ) {
        if let Some((hit, floor)) = &syscalls {
            self.rows.push([
                "system calls of a hit, `token` (strace -f)".into(),
                format!("{} (floor {})", hit.len(), floor.len()),
                String::new(),
                String::new(),
            ]);
            self.syscalls = Some(in_order(hit));
        }
        if let Some((hit, floor)) = instructions {
            self.rows.push([
                "instructions of a hit, `token` (valgrind callgrind)".into(),
                format!("{hit} (floor {floor})"),
                String::new(),
                String::new(),
            ]);
        }
    }

    /// The `token` hit beside other builds of it (`HIT_BENCH_BASELINE`),
    /// against this build's dynamic and, when there is one, static hit: a
    /// baseline may be either kind.
    pub fn baselines(
        &mut self,
        token: Duration,
        static_token: Option<Duration>,
        baselines: &[(&str, Duration)],
    ) {
        if baselines.is_empty() {
            return;
        }
        let _ = writeln!(
            self.out,
            "| before and after, same rounds | median | × this build's dynamic hit | × its \
             static hit |\n|---|---:|---:|---:|"
        );
        let versus = |time: Duration| {
            let of_static = static_token.map(|s| format!("{:.2}×", ratio(time, s)));
            format!(
                "{:.2}× | {}",
                ratio(time, token),
                of_static.unwrap_or_default()
            )
        };
        let _ = writeln!(
            self.out,
            "| this build: `token` | {} | {} |",
            ms(token),
            versus(token)
        );
        if let Some(time) = static_token {
            let _ = writeln!(
                self.out,
                "| this build: static `token` | {} | {} |",
                ms(time),
                versus(time)
            );
        }
        for (name, time) in baselines {
            let _ = writeln!(self.out, "| {name} | {} | {} |", ms(*time), versus(*time));
        }
        self.out.push('\n');
    }

    /// Issue 20's three targets for a hit near the floor.
    pub fn issue_20(
        &mut self,
        static_vs_c: Option<f64>,
        hit_floor_vs_c: Option<f64>,
        no_c_floor: Option<&String>,
        dynamic_vs_floor: f64,
        static_syscalls: Option<(Vec<String>, Vec<String>)>,
    ) {
        let bound = crate::static_build::HIT_VS_C_FLOOR;
        let (measured, result) = match (static_vs_c, no_c_floor) {
            (Some(r), _) => (format!("{r:.2}×"), self.verdict(r <= bound).to_string()),
            (None, Some(why)) => (format!("no C floor: {why}"), "SKIP".into()),
            (None, None) => ("no static build".into(), "SKIP".into()),
        };
        self.rows.push([
            "static hit (`token`) vs a static C program writing one line".into(),
            measured,
            format!("≤ {bound}×"),
            result,
        ]);
        // Not a target: how much of that bound the hit's own system calls
        // (the security rules' and the two reads) leave to the program.
        if let Some(r) = hit_floor_vs_c {
            self.rows.push([
                "  (for scale: `examples/floor_hit.c`, a static hit's system calls and nothing else)"
                    .into(),
                format!("{r:.2}×"),
                String::new(),
                String::new(),
            ]);
        }
        let result = self
            .verdict(dynamic_vs_floor <= DYNAMIC_VS_FLOOR)
            .to_string();
        self.rows.push([
            "dynamic hit (`token`) vs the dynamic Rust floor".into(),
            format!("{dynamic_vs_floor:.2}×"),
            format!("≤ {DYNAMIC_VS_FLOOR}×"),
            result,
        ]);
        let (measured, result) = match &static_syscalls {
            Some((hit, floor)) => (
                format!("{} (C floor {})", hit.len(), floor.len()),
                self.verdict(hit.len() <= MAX_STATIC_SYSCALLS).to_string(),
            ),
            None => ("strace or the static build missing".into(), "SKIP".into()),
        };
        self.rows.push([
            "system calls of a static hit (`token`, with a config file; strace -f)".into(),
            measured,
            format!("≤ {MAX_STATIC_SYSCALLS}"),
            result,
        ]);
        if let Some((hit, _)) = static_syscalls {
            self.static_syscalls = Some(in_order(&hit));
        }
    }

    pub fn finish(mut self) -> String {
        let syscalls = self.syscalls.take();
        let _ = writeln!(
            self.out,
            "| target | measured | bound | result |\n|---|---|---|---|"
        );
        for [what, measured, bound, result] in &self.rows {
            let _ = writeln!(self.out, "| {what} | {measured} | {bound} | {result} |");
        }
        let _ = writeln!(
            self.out,
            "\n{} of {} targets met; load average {} at the end.",
            self.met,
            self.met + self.missed,
            load()
        );
        if let Some(names) = syscalls {
            let _ = writeln!(
                self.out,
                "\nSystem calls of a hit (`token`), in order: {names}."
            );
        }
        if let Some(names) = self.static_syscalls.take() {
            let _ = writeln!(
                self.out,
                "\nSystem calls of a static hit (`token`), in order: {names}."
            );
        }
        self.out
    }
}
