//! The project's benchmark: whole case lifecycles over real HTTP against a real server
//! process, the storage limit of the same disk and backend, a seeded city for query
//! latencies, and the in-process engine for the SpiffWorkflow comparison.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tongban_core::case::{
    default_steps, Actor, Case, Channel, Command as CaseCommand, Delivery, Event, Limits,
};
use tongban_store::Store;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";
/// The item every simulated lifecycle applies for: a permit that issues a licence.
const ITEM: &str = "食品经营许可证核发";

/// A `tongban serve` child process on a fresh port.
pub struct Server {
    child: Child,
    pub base: String,
    pub database_url: String,
    pub data_dir: std::path::PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Server {
    /// Seeds the demo city into the database (idempotent), then starts the server.
    pub async fn start(database_url: Option<String>) -> Result<Server> {
        let tmp = tempfile::Builder::new()
            .prefix("tongban-bench")
            .tempdir_in(std::env::current_dir()?)?;
        let data_dir = tmp.path().to_path_buf();
        let url = database_url
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("tongban.db").display()));
        {
            let store = Store::open(&url).await?;
            let now = chrono::Utc::now();
            crate::demo::seed(&store, now).await?;
            crate::demo::seed_licence_types(&store, now).await?;
            store.close().await;
        }
        let port = free_port()?;
        let child = Command::new(std::env::current_exe()?)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(&data_dir)
            .args(["--database-url", &url])
            // TONGBAN_BENCH_SERVER_LOG (e.g. "warn,sqlx::query=debug") looks inside a run.
            .env(
                "TONGBAN_LOG",
                std::env::var("TONGBAN_BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .spawn()
            .context("start the server")?;
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if http
                .get(format!("{base}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(Server {
                    child,
                    base,
                    database_url: url,
                    data_dir,
                    _tmp: Some(tmp),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the server did not come up")
    }

    /// Peak resident set size of the server process (VmHWM), in MiB.
    pub fn peak_rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kb: f64 = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        Some(kb / 1024.0)
    }
}

#[derive(Default)]
struct Latencies(HashMap<&'static str, Vec<u64>>);

impl Latencies {
    fn add(&mut self, op: &'static str, micros: u64) {
        self.0.entry(op).or_default().push(micros);
    }
    fn merge(&mut self, other: Latencies) {
        for (k, v) in other.0 {
            self.0.entry(k).or_default().extend(v);
        }
    }
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn call(
    http: &reqwest::Client,
    lat: &mut Latencies,
    op: &'static str,
    req: reqwest::RequestBuilder,
) -> Result<Value> {
    let _ = http;
    let t = Instant::now();
    let r = req.send().await?;
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    lat.add(op, t.elapsed().as_micros() as u64);
    if !status.is_success() {
        bail!("{op}: {status} {v}");
    }
    Ok(v)
}

async fn login(http: &reqwest::Client, base: &str, user: &str, password: &str) -> Result<String> {
    let v: Value = http
        .post(format!("{base}/api/v1/session"))
        .json(&json!({ "username": user, "password": password }))
        .send()
        .await?
        .json()
        .await?;
    v["token"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("login {user}: {v}"))
}

fn resident_id(n: u64) -> String {
    // 17 digits: region, a birth date, a sequence; then the check character.
    let body = format!(
        "431302{:04}{:02}{:02}{:03}",
        1950 + (n / 3000) % 60,
        (n / 100) % 12 + 1,
        (n / 4) % 28 + 1,
        n % 1000
    );
    tongban_core::ids::ResidentId::with_check_char(&body[..17])
        .map(|r| r.as_str().to_string())
        .unwrap_or_default()
}

struct Staff {
    clerk: String,
    approver: String,
    head: String,
}

/// One complete lifecycle; returns the number of requests made.
async fn one_lifecycle(
    http: &reqwest::Client,
    base: &str,
    applicant: &str,
    staff: &Staff,
    item: &str,
    required: &[String],
    lat: &mut Latencies,
) -> Result<u32> {
    let file = call(
        http,
        lat,
        "upload",
        http.post(format!("{base}/api/v1/files"))
            .bearer_auth(applicant)
            .body(PDF.to_vec()),
    )
    .await?;
    let materials: Vec<Value> = required
        .iter()
        .map(|m| json!({ "name": m, "sha256": file["sha256"] }))
        .collect();
    let case = call(
        http,
        lat,
        "submit",
        http.post(format!("{base}/api/v1/cases")).bearer_auth(applicant).json(&json!({ "item": item, "delivery": "post", "address": "娄星区长青中街1号 测试收件人", "materials": materials })),
    )
    .await?;
    let no = case["case_no"]
        .as_str()
        .context("no case number")?
        .to_string();
    let mut version = case["version"].clone();
    let steps: [(&'static str, &str, Value); 6] = [
        ("accept", &staff.clerk, json!({ "action": "accept" })),
        (
            "承办",
            &staff.approver,
            json!({ "action": "pass", "opinion": "同意" }),
        ),
        (
            "审核",
            &staff.approver,
            json!({ "action": "pass", "opinion": "同意" }),
        ),
        (
            "批准+证照",
            &staff.head,
            json!({ "action": "pass", "opinion": "准予" }),
        ),
        (
            "deliver",
            &staff.clerk,
            json!({ "action": "register_delivery", "waybill": "EA000000001CN" }),
        ),
        ("confirm", applicant, json!({ "action": "confirm_receipt" })),
    ];
    for (op, token, mut body) in steps {
        body["expected_version"] = version;
        let c = call(
            http,
            lat,
            op,
            http.post(format!("{base}/api/v1/cases/{no}/commands"))
                .bearer_auth(token)
                .json(&body),
        )
        .await?;
        version = c["version"].clone();
    }
    if case_status(http, base, applicant, &no).await? != "delivered" {
        bail!("case {no} did not end delivered");
    }
    Ok(9)
}

async fn case_status(http: &reqwest::Client, base: &str, token: &str, no: &str) -> Result<String> {
    let v: Value = http
        .get(format!("{base}/api/v1/cases/{no}"))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?;
    Ok(v["status"].as_str().unwrap_or("").to_string())
}

/// `tongban bench lifecycle`.
pub async fn lifecycle(
    database_url: Option<String>,
    urls: Vec<String>,
    nodes: usize,
    clients: usize,
    duration: Duration,
) -> Result<()> {
    if !(1..=16).contains(&nodes) {
        bail!("--nodes must be between 1 and 16");
    }
    if !urls.is_empty() && nodes != 1 {
        bail!("--nodes starts servers; with --url the servers are the URLs given");
    }
    let mut servers = Vec::new();
    if urls.is_empty() {
        let first = Server::start(database_url.clone()).await?;
        let shared = first.database_url.clone();
        servers.push(first);
        // Further nodes serve the same database (each with its own data dir).
        for _ in 1..nodes {
            servers.push(Server::start(Some(shared.clone())).await?);
        }
    }
    let bases: Vec<String> = if urls.is_empty() {
        servers.iter().map(|s| s.base.clone()).collect()
    } else {
        urls.iter()
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .collect()
    };
    let base = bases.first().cloned().context("no server")?;
    let server = servers.first();
    let backend = server
        .map(|s| {
            if s.database_url.starts_with("postgres") {
                "PostgreSQL"
            } else {
                "SQLite (WAL, group commit: acknowledged after the shared fsync)"
            }
        })
        .unwrap_or("remote");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients * 2)
        .build()?;
    let pw = crate::demo::DEMO_PASSWORD;
    let staff = Arc::new(Staff {
        clerk: login(&http, &base, "clerk", pw).await?,
        approver: login(&http, &base, "approver", pw).await?,
        head: login(&http, &base, "head", pw).await?,
    });
    let items: Value = http
        .get(format!("{base}/api/v1/items?q={ITEM}"))
        .send()
        .await?
        .json()
        .await?;
    let item = items["items"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|i| i["columns"]["实施主体"] == "市市场监督管理局")
        })
        .context("benchmark item missing")?;
    let code = item["impl_code"].as_str().unwrap_or_default().to_string();
    let required: Vec<String> = item["materials"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter(|x| x["材料必要性"] == "必要")
                .filter_map(|x| x["材料名称"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    // One applicant account per client.
    let run_id: u32 = rand::random::<u32>() % 1_000_000;
    let mut applicants = Vec::new();
    for c in 0..clients {
        let username = format!("bench{run_id}c{c}");
        let id_number = resident_id(u64::from(run_id) * 64 + c as u64);
        let r = http
            .post(format!("{base}/api/v1/applicants"))
            .json(&json!({ "kind": "person", "name": format!("压测申请人{c}"), "id_number": id_number, "mobile": "13800000000", "username": username, "password": "bench2026pw" }))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!(
                "register {username}: {}",
                r.text().await.unwrap_or_default()
            );
        }
        applicants.push(login(&http, &base, &username, "bench2026pw").await?);
    }
    println!(
        "bench lifecycle: {clients} clients for {:.0?} against {} ({backend}; {} node{})",
        duration,
        bases.join(", "),
        bases.len(),
        if bases.len() == 1 { "" } else { "s" }
    );
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for (c, token) in applicants.into_iter().enumerate() {
        let (http, base, staff, code, required) = (
            http.clone(),
            // Client c talks to node c mod n for its whole run.
            bases[c % bases.len()].clone(),
            staff.clone(),
            code.clone(),
            required.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Latencies::default();
            let (mut done, mut requests, mut errors) = (0u64, 0u64, 0u64);
            while Instant::now() < deadline {
                match one_lifecycle(&http, &base, &token, &staff, &code, &required, &mut lat).await
                {
                    Ok(n) => {
                        done += 1;
                        requests += u64::from(n);
                    }
                    Err(e) => {
                        errors += 1;
                        if errors <= 3 {
                            eprintln!("error: {e:#}");
                        }
                    }
                }
            }
            (done, requests, errors, lat)
        }));
    }
    let (mut done, mut requests, mut errors, mut lat) = (0, 0, 0, Latencies::default());
    for t in tasks {
        let (d, r, e, l) = t.await?;
        done += d;
        requests += r;
        errors += e;
        lat.merge(l);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "lifecycles: {done} in {secs:.1} s = {:.1} /s",
        done as f64 / secs
    );
    println!("requests:   {requests} = {:.1} /s", requests as f64 / secs);
    println!("errors:     {errors}");
    println!(
        "{:<12} {:>8} {:>9} {:>9} {:>9}",
        "operation", "count", "p50 ms", "p95 ms", "p99 ms"
    );
    let mut all: Vec<u64> = Vec::new();
    let mut ops: Vec<_> = lat.0.into_iter().collect();
    ops.sort_by_key(|(k, _)| *k);
    for (op, mut v) in ops {
        v.sort_unstable();
        println!(
            "{op:<12} {:>8} {:>9.2} {:>9.2} {:>9.2}",
            v.len(),
            pct(&v, 0.5),
            pct(&v, 0.95),
            pct(&v, 0.99)
        );
        all.extend(v);
    }
    all.sort_unstable();
    println!(
        "{:<12} {:>8} {:>9.2} {:>9.2} {:>9.2}",
        "all",
        all.len(),
        pct(&all, 0.5),
        pct(&all, 0.95),
        pct(&all, 0.99)
    );
    // 9 ledger events per lifecycle (submitted, accepted, 3 steps passed, completed,
    // licence issued, delivery registered, receipt confirmed) in 7 transactions.
    let events_per_s = done as f64 * 9.0 / secs;
    let tx_per_s = done as f64 * 7.0 / secs;
    if let Some(s) = server {
        for (i, s) in servers.iter().enumerate() {
            if let Some(rss) = s.peak_rss_mib() {
                println!("server {} peak RSS: {rss:.1} MiB", i + 1);
            }
        }
        let limit = storage_limit(&s.database_url, &s.data_dir, clients, 3.0).await?;
        println!(
            "storage limit (durable two-row transactions, {clients} writers, same disk and backend): {limit:.0} /s"
        );
        println!("committed events: {events_per_s:.0} /s = {:.3} of the storage limit ({tx_per_s:.0} transactions/s = {:.3})", events_per_s / limit, tx_per_s / limit);
    }
    if errors > 0 {
        bail!("{errors} lifecycles failed");
    }
    Ok(())
}

/// Durable two-row transactions per second on the same disk and backend, written the way
/// our store writes them: `writers` concurrent writers through the store's write path, each
/// acknowledged only once durable (group-committed on SQLite, in a file beside the data; on
/// PostgreSQL in a scratch table of the same database).
pub async fn storage_limit(
    database_url: &str,
    dir: &std::path::Path,
    writers: usize,
    seconds: f64,
) -> Result<f64> {
    let url = if database_url.starts_with("sqlite") {
        format!("sqlite://{}", dir.join("limit.db").display())
    } else {
        database_url.to_string()
    };
    let store = Store::open(&url).await?;
    let table = format!("bench_limit_{}", rand::random::<u32>());
    store.probe_create(&table).await?;
    let payload: Arc<str> = "x".repeat(400).into();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers.max(1) {
        let (store, table, payload) = (store.clone(), table.clone(), payload.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while start.elapsed().as_secs_f64() < seconds {
                store
                    .probe_pair(&table, (w as i64) << 40 | n as i64, &payload)
                    .await?;
                n += 1;
            }
            anyhow::Ok(n)
        }));
    }
    let mut n = 0u64;
    for t in tasks {
        n += t.await??;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    store.probe_drop(&table).await?;
    store.close().await;
    Ok(rate)
}

/// `tongban bench engine`: the 3-step approval in process, each write durable — the
/// counterpart of bench/spiff_approval.py. One instance = create (申办) + accept and 承办
/// + 审核 + 批准 (办结): four durable transactions, as SpiffWorkflow's create + 3 steps.
pub async fn engine(database_url: &str, instances: usize, concurrency: usize) -> Result<()> {
    let store = Store::open(database_url).await?;
    let now = chrono::Utc::now();
    let dept = store
        .create_department(
            "bench",
            &tongban_core::ids::Uscc::with_check_char("11431900MA0000001")?,
            &format!("压测部门{}", rand::random::<u16>()),
            "",
            now,
        )
        .await?;
    let applicant = store
        .create_applicant(
            &tongban_store::cases::NewApplicant {
                kind: "person",
                name: "压测",
                id_number: &resident_id(rand::random::<u32>() as u64),
                mobile: "",
                legal_rep: "",
                verified: true,
            },
            None,
            now,
        )
        .await?;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).expect("date");
    let limits = Limits {
        immediate: false,
        promised: 10,
        promised_unit: tongban_core::calendar::TimeUnit::WorkingDays,
        legal: 20,
        legal_unit: tongban_core::calendar::TimeUnit::WorkingDays,
        joint: false,
        extension_cap: None,
    };
    let start = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (store, next, limits) = (store.clone(), next.clone(), limits.clone());
        let (dept_id, applicant_id) = (dept.id, applicant.id);
        workers.push(tokio::spawn(async move {
            // One calendar per worker, not one per instance inside the timed loop.
            let cal = tongban_core::calendar::WorkCalendar::builtin();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < instances {
                engine_instance(&store, &cal, dept_id, applicant_id, &limits, today, now).await?;
            }
            anyhow::Ok(())
        }));
    }
    for w in workers {
        w.await??;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "engine: {instances} instances, {concurrency} at a time, in {secs:.3} s = {:.1} instances/s",
        instances as f64 / secs
    );
    store.close().await;
    Ok(())
}

/// One instance of the 3-step approval: four transactions, each durable before the next.
async fn engine_instance(
    store: &Store,
    cal: &tongban_core::calendar::WorkCalendar,
    department_id: i64,
    applicant_id: i64,
    limits: &Limits,
    today: chrono::NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let none = tongban_store::supervision::SupervisionWrite::default();
    let first = Event::Submitted {
        channel: Channel::Online,
        delivery: Delivery::Electronic,
        materials: vec![],
        received_on: today,
        steps: default_steps(),
        limits: limits.clone(),
        details: Default::default(),
    };
    let (rec, _) = store
        .open_case(
            tongban_store::cases::NewCase {
                region: &tongban_core::codes::RegionCode::parse("431900")?,
                impl_code: "BENCH",
                item_name: "压测事项",
                department_id,
                applicant_id,
                created_by: 0,
                idem_key: None,
                first,
                uploads: &[],
            },
            "bench",
            now,
            &none,
        )
        .await?;
    let mut case: Case = rec.state.clone();
    let mut current = rec;
    let pass = |opinion: &str| CaseCommand::Pass {
        opinion: opinion.into(),
    };
    let steps: [Vec<(CaseCommand, Actor)>; 3] = [
        vec![
            (CaseCommand::Accept, Actor::Clerk),
            (pass("同意"), Actor::Approver),
        ],
        vec![(pass("同意"), Actor::Approver)],
        vec![(pass("准予"), Actor::Head)],
    ];
    for step in steps {
        let mut events = Vec::new();
        for (cmd, actor) in step {
            let evs = case.decide(&cmd, actor, today, cal)?;
            for e in &evs {
                case.apply(e);
            }
            events.extend(evs);
        }
        current = store
            .append_case_events(&current, &events, "bench", now, &none, &[])
            .await?;
    }
    Ok(())
}

/// `tongban bench seed`: a realistic city of `cases` cases spread over 2019–2026 in every
/// state, with their ledger events, for query latencies and bytes per case.
///
/// With `figures_only`, the cases are written straight into the case-figures projection and
/// its counters (no case rows, no ledger): a city of tens of millions of cases for the
/// figures' latency in reasonable time. Such figures have no ledger behind them, so
/// `analytics rebuild` would remove them; rebuild is measured on a full seed.
pub async fn seed(database_url: &str, cases: usize, figures_only: bool) -> Result<()> {
    let store = Store::open(database_url).await?;
    let now = chrono::Utc::now();
    crate::demo::seed(&store, now).await?;
    crate::demo::seed_licence_types(&store, now).await?;
    {
        let state = tongban_app::App::new(
            store.clone(),
            Arc::new(tongban_app::clock::SystemClock),
            &std::env::temp_dir(),
        );
        crate::demo::seed_cases(&state).await?;
    }
    let items: Vec<_> = store
        .all_items()
        .await?
        .into_iter()
        .filter(|i| {
            i.item.item_type.is_application()
                && i.item.kind == tongban_core::catalog::CaseKind::Promised
        })
        .collect();
    let zhangsan = store
        .applicant_by_id_number("431302198503150024")
        .await?
        .context("demo applicant missing")?;
    let people = (cases / 20).max(10);
    let run: u32 = rand::random::<u32>() % 100_000;
    let mut applicant_ids = Vec::with_capacity(people);
    for chunk in (0..people).collect::<Vec<_>>().chunks(2000) {
        let batch: Vec<(String, String)> = chunk
            .iter()
            .map(|n| (format!("居民{n}"), format!("S{run:05}{n:012}")))
            .collect();
        applicant_ids.extend(store.bulk_insert_applicants(&batch, now).await?);
    }
    let cal = tongban_core::calendar::WorkCalendar::builtin();
    let start = Instant::now();
    let mut rng_state: u64 = u64::from(run) * 2654435761 + 1;
    let mut next = move || {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        rng_state
    };
    let first_day = chrono::NaiveDate::from_ymd_opt(2019, 1, 2).expect("date");
    let span_days = (chrono::NaiveDate::from_ymd_opt(2026, 11, 20).expect("date") - first_day)
        .num_days() as u64;
    let mut batch = Vec::with_capacity(1000);
    let mut figures: Vec<tongban_store::figures::FigureRecord> = Vec::with_capacity(5000);
    let mut counters = tongban_store::figures::CounterBatch::default();
    for n in 0..cases {
        let it = &items[(next() % items.len() as u64) as usize];
        // The figures-only city is written day by day (its counters gathered in memory).
        let day = if figures_only {
            first_day + chrono::Duration::days((n as u64 * span_days / cases as u64) as i64)
        } else {
            first_day + chrono::Duration::days((next() % span_days) as i64)
        };
        let applicant = if n % 20_000 == 0 {
            zhangsan.id
        } else {
            applicant_ids[(next() % applicant_ids.len() as u64) as usize]
        };
        let limits = Limits {
            immediate: false,
            promised: it.item.promised_limit.max(1),
            promised_unit: it.item.promised_unit,
            legal: it.item.legal_limit.max(it.item.promised_limit.max(1)),
            legal_unit: it.item.legal_unit,
            joint: false,
            extension_cap: None,
        };
        let first = Event::Submitted {
            channel: if n % 3 == 0 {
                Channel::Window
            } else {
                Channel::Online
            },
            delivery: Delivery::Electronic,
            materials: vec![],
            received_on: day,
            steps: default_steps(),
            limits,
            details: Default::default(),
        };
        let mut case = Case::open(&first)?;
        let mut events = vec![first];
        let roll = next() % 100;
        let plan: Vec<(CaseCommand, Actor)> = match roll {
            0..=9 => vec![],
            10..=14 => vec![(
                CaseCommand::RequestCorrection {
                    items: vec!["补充材料".into()],
                    correction_days: None,
                },
                Actor::Clerk,
            )],
            15..=17 => vec![(
                CaseCommand::NotAccept {
                    category: tongban_core::case::NotAcceptCategory::Other,
                    reasons: "不属于受理范围".into(),
                    competent_agency: String::new(),
                },
                Actor::Clerk,
            )],
            18..=20 => vec![(
                CaseCommand::Withdraw {
                    reason: "申请人撤回".into(),
                },
                Actor::Applicant,
            )],
            21..=35 => vec![
                (CaseCommand::Accept, Actor::Clerk),
                (
                    CaseCommand::Pass {
                        opinion: "同意".into(),
                    },
                    Actor::Approver,
                ),
            ],
            36..=37 => vec![
                (CaseCommand::Accept, Actor::Clerk),
                (
                    CaseCommand::StartSpecial {
                        procedure: "检测".into(),
                        reason: "送检".into(),
                        expected_days: 10,
                    },
                    Actor::Approver,
                ),
            ],
            _ => vec![
                (CaseCommand::Accept, Actor::Clerk),
                (
                    CaseCommand::Pass {
                        opinion: "同意".into(),
                    },
                    Actor::Approver,
                ),
                (
                    CaseCommand::Pass {
                        opinion: "同意".into(),
                    },
                    Actor::Approver,
                ),
                (
                    CaseCommand::Pass {
                        opinion: "准予".into(),
                    },
                    Actor::Head,
                ),
                (
                    CaseCommand::RegisterDelivery {
                        waybill: String::new(),
                    },
                    Actor::Clerk,
                ),
            ],
        };
        let mut d = day;
        for (cmd, actor) in plan {
            d = cal.add_working_days(d, 1).unwrap_or(d);
            let Ok(evs) = case.decide(&cmd, actor, d, &cal) else {
                break;
            };
            for e in &evs {
                case.apply(e);
            }
            events.extend(evs);
        }
        if figures_only {
            let Some(figure) = tongban_store::figures::fold_figure(events.iter().map(|e| (e, day)))
            else {
                continue;
            };
            let rec = tongban_store::figures::FigureRecord {
                case_id: 1_000_000_000 + n as i64,
                department_id: it.department_id,
                impl_code: it.item.impl_code.clone(),
                duration_wd: figure.duration_wd(&cal),
                figure,
                window_id: 0,
            };
            counters.add(&rec);
            figures.push(rec);
            if figures.len() == 5000 {
                // Days more than 120 days back get nothing more from the cases still to come.
                let done = counters.split_before(day - chrono::Duration::days(120));
                store.bulk_insert_figures(&figures, done).await?;
                figures.clear();
                if (n + 1) % 500_000 == 0 {
                    println!(
                        "  {} cases ({:.0} /s)",
                        n + 1,
                        (n + 1) as f64 / start.elapsed().as_secs_f64()
                    );
                }
            }
            continue;
        }
        let submitted_at = day.and_hms_opt(1, 0, 0).expect("time").and_utc();
        batch.push(tongban_store::cases::BulkCase {
            // 办件编号 as the platform makes them: region + date + 6-digit sequence.
            case_no: format!(
                "{:06}{}{:06}",
                431_900 + run % 100,
                day.format("%Y%m%d"),
                n % 1_000_000
            ),
            impl_code: it.item.impl_code.clone(),
            item_name: it.item.name.clone(),
            department_id: it.department_id,
            applicant_id: applicant,
            submitted_at,
            state: case,
            events,
        });
        if batch.len() == 1000 {
            store.bulk_insert_cases(&batch, "seed").await?;
            batch.clear();
            if (n + 1) % 50_000 == 0 {
                println!(
                    "  {} cases ({:.0} /s)",
                    n + 1,
                    (n + 1) as f64 / start.elapsed().as_secs_f64()
                );
            }
        }
    }
    if !batch.is_empty() {
        store.bulk_insert_cases(&batch, "seed").await?;
    }
    if figures_only {
        store
            .bulk_insert_figures(&figures, std::mem::take(&mut counters))
            .await?;
        println!(
            "seeded {cases} case figures (figures only) in {:.1} s",
            start.elapsed().as_secs_f64()
        );
        store.close().await;
        return Ok(());
    }
    println!(
        "seeded {cases} cases in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    // Supervision looks at the open cases as the live worker would.
    let state = tongban_app::App::new(
        store.clone(),
        Arc::new(tongban_app::clock::SystemClock),
        &std::env::temp_dir(),
    );
    let t = Instant::now();
    let (checked, raised) = tongban_app::supervision::run_once(&state)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    println!(
        "supervision pass: {checked} open cases checked, {raised} records raised in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    store.close().await;
    Ok(())
}

/// `tongban bench queries`: p50/p99 of the reads people wait for, against a server on the
/// seeded database, and the database's bytes per case.
pub async fn queries(database_url: Option<String>, samples: usize) -> Result<()> {
    let server = Server::start(database_url).await?;
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let pw = crate::demo::DEMO_PASSWORD;
    let (approver, supervisor, zhangsan, clerk) = (
        login(&http, &base, "approver", pw).await?,
        login(&http, &base, "supervisor", pw).await?,
        login(&http, &base, "zhangsan", pw).await?,
        login(&http, &base, "clerk", pw).await?,
    );
    let store = Store::open(&server.database_url).await?;
    let (sample_cases, total) = store
        .find_cases(&tongban_store::cases::CaseFilter {
            limit: 50,
            ..Default::default()
        })
        .await?;
    let licence = store
        .all_licences()
        .await?
        .into_iter()
        .next()
        .map(|l| l.licence_id);
    let sqlite_path = server
        .database_url
        .strip_prefix("sqlite://")
        .map(std::path::PathBuf::from);
    let bytes = store.database_bytes(sqlite_path.as_deref()).await?;
    store.close().await;
    println!(
        "bench queries: {total} cases, {} MiB in the database = {:.0} bytes per case",
        bytes / 1024 / 1024,
        bytes as f64 / total.max(1) as f64
    );
    let case_no = sample_cases
        .first()
        .map(|c| c.case_no.clone())
        .unwrap_or_default();
    let id_number = "431302198503150024";
    let mut ops: Vec<(&str, reqwest::RequestBuilder)> = vec![
        (
            "inbox page",
            http.get(format!("{base}/api/v1/inbox"))
                .bearer_auth(&approver),
        ),
        (
            "search by number",
            http.get(format!("{base}/api/v1/cases?q={case_no}"))
                .bearer_auth(&clerk),
        ),
        (
            "search by applicant",
            http.get(format!("{base}/api/v1/cases?q={id_number}"))
                .bearer_auth(&clerk),
        ),
        (
            "applicant's list",
            http.get(format!("{base}/api/v1/my/cases"))
                .bearer_auth(&zhangsan),
        ),
        (
            "catalog indicators",
            http.get(format!("{base}/api/v1/catalog/stats")),
        ),
        (
            "supervision board",
            http.get(format!("{base}/api/v1/supervision/records?open=true"))
                .bearer_auth(&supervisor),
        ),
    ];
    // 大数据分析: the figures API and the dashboard, over the ranges people ask for.
    let item = sample_cases
        .first()
        .map(|c| c.impl_code.clone())
        .unwrap_or_default();
    let a = format!("{base}/api/v1/analytics");
    for (name, url) in [
        (
            "figures: year by month",
            format!("{a}/cases?from=2026-01-01&to=2026-11-20&group_by=month"),
        ),
        (
            "figures: year by dept",
            format!("{a}/cases?from=2026-01-01&to=2026-11-20&group_by=department"),
        ),
        (
            "figures: 3 years by item",
            format!("{a}/cases?from=2023-11-21&to=2026-11-20&group_by=item"),
        ),
        (
            "figures: 3 yrs by channel",
            format!("{a}/cases?from=2023-11-21&to=2026-11-20&group_by=channel"),
        ),
        (
            "figures: 90 days by day",
            format!("{a}/cases?from=2026-08-23&to=2026-11-20&group_by=day"),
        ),
        (
            "figures: year by week",
            format!("{a}/cases?from=2025-11-21&to=2026-11-20&group_by=week"),
        ),
        (
            "figures: city by district",
            format!("{a}/cases?from=2025-03-17&to=2026-10-09&group_by=district&level=city"),
        ),
        (
            "figures: item by month",
            format!("{a}/cases?from=2024-01-01&to=2026-11-20&group_by=month&item={item}"),
        ),
        (
            "figures: before/after",
            format!(
                "{a}/compare?before_from=2024-01-01&before_to=2024-12-31&from=2025-01-01&to=2025-12-31&group_by=item"
            ),
        ),
        (
            "dashboard page /stats",
            format!("{base}/stats?from=2026-01-01&to=2026-11-20"),
        ),
    ] {
        ops.push((name, http.get(url)));
    }
    if let Some(id) = &licence {
        ops.push((
            "licence verify",
            http.post(format!("{base}/api/v1/licences/verify"))
                .json(&json!({ "id": id })),
        ));
    }
    println!(
        "{:<26} {:>8} {:>9} {:>9}",
        "query", "samples", "p50 ms", "p99 ms"
    );
    for (name, req) in ops {
        let mut v = Vec::with_capacity(samples);
        for _ in 0..samples {
            let r = req.try_clone().context("clone request")?;
            let t = Instant::now();
            let resp = r.send().await?;
            let ok = resp.status().is_success();
            let _ = resp.bytes().await?;
            v.push(t.elapsed().as_micros() as u64);
            if !ok {
                bail!("{name} failed");
            }
        }
        v.sort_unstable();
        println!(
            "{name:<26} {:>8} {:>9.2} {:>9.2}",
            v.len(),
            pct(&v, 0.5),
            pct(&v, 0.99)
        );
    }
    if let Some(rss) = server.peak_rss_mib() {
        println!("server peak RSS: {rss:.1} MiB");
    }
    Ok(())
}

/// 一件事 end to end (issue #17): `runs` applications of each demo 一件事, from `start`
/// (Beijing date), every member case driven through the real use cases in process on a
/// fresh SQLite database (or `database_url`) with a manual clock. Each department works a
/// case on one working day (受理 and every approval step); with a seeded chance of one in
/// `late` a case waits one working day more. Reports the bundles' working days end to end
/// (median, mean, share within the promise) from the same figures the API serves.
pub async fn bundles(
    database_url: Option<String>,
    runs: usize,
    start: chrono::NaiveDate,
    late: u64,
) -> Result<()> {
    use chrono::TimeZone;
    use tongban_core::case::{Command as Cmd, Status};
    let dir = tempfile::tempdir()?;
    let url = database_url
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bundles.db").display()));
    let store = Store::open(&url).await?;
    let at = chrono::Utc
        .from_local_datetime(&start.and_hms_opt(1, 0, 0).context("start date")?)
        .single()
        .context("start date")?;
    let clock = Arc::new(tongban_app::clock::ManualClock::new(at));
    crate::demo::seed(&store, at).await?;
    crate::demo::seed_licence_types(&store, at).await?;
    let app = tongban_app::App::new(store.clone(), clock.clone(), dir.path());
    // An approver and a head for every department a member item belongs to.
    let hash = tongban_store::accounts::hash_password("Bench-bundles-2026")?;
    let departments = store.departments().await?;
    let mut staff: HashMap<(i64, bool), tongban_store::accounts::User> = HashMap::new();
    for (n, d) in departments.iter().enumerate() {
        for (role, actor) in [
            (tongban_core::roles::Role::Approver, Actor::Approver),
            (tongban_core::roles::Role::Head, Actor::Head),
        ] {
            let username = format!("bench_{n}_{}", role.code());
            let user = match store
                .create_user(
                    "bench",
                    &tongban_store::accounts::NewUser {
                        username: &username,
                        password: "Bench-bundles-2026",
                        display_name: &username,
                        role,
                        department_id: Some(d.id),
                    },
                    &hash,
                    at,
                )
                .await
            {
                Ok(u) => u,
                Err(_) => store
                    .users()
                    .await?
                    .into_iter()
                    .find(|u| u.username == username)
                    .context("bench user")?,
            };
            staff.insert((d.id, actor == Actor::Head), user);
        }
    }
    let users = store.users().await?;
    let by_name = |n: &str| {
        users
            .iter()
            .find(|u| u.username == n)
            .cloned()
            .context("demo user")
    };
    let (clerk, enterprise, zhangsan) = (
        by_name("clerk")?,
        by_name("enterprise")?,
        by_name("zhangsan")?,
    );
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let started = Instant::now();
    let mut opened = Vec::new();
    for (code, applicant_user, answers, fields) in [
        (
            "qykb",
            &enterprise,
            [("seal", "yes"), ("invoice", "yes"), ("staff", "yes")].as_slice(),
            [("企业名称", "娄星市星辰科技有限公司")].as_slice(),
        ),
        (
            "xsecs",
            &zhangsan,
            [("medical", "yes"), ("sscard", "yes")].as_slice(),
            [("新生儿姓名", "张小宝")].as_slice(),
        ),
    ] {
        let def = tongban_app::bundles::definition(&app, code)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
        let applicant = store
            .applicant_of_user(applicant_user.id)
            .await?
            .context("demo applicant")?;
        for n in 0..runs {
            // Received at the window (the clerk sees the originals): the paper list.
            let (v, _) = tongban_app::bundles::apply(
                &app,
                &clerk,
                code,
                tongban_app::bundles::BundleApplication {
                    applicant: &applicant,
                    channel: Channel::Window,
                    answers: answers
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    fields: fields
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    materials: def
                        .materials
                        .iter()
                        .filter(|m| m.from_item.is_none())
                        .map(|m| tongban_app::bundles::GivenMaterial {
                            name: m.name.clone(),
                            sha256: None,
                        })
                        .collect(),
                    delivery: Delivery::Electronic,
                    idem_key: Some(&format!("bench-{code}-{n}")),
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{code}: {}", e.message))?;
            opened.push(v.bundle_no);
        }
    }
    // Day by day: each open member case received before today is worked (unless late).
    let mut acted = 0usize;
    for _day in 0..40 {
        clock.advance(chrono::Duration::days(1));
        let cal = app
            .calendar()
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
        if !cal.is_working_day(app.today())? {
            continue;
        }
        let mut open = 0;
        for no in &opened {
            let b = store.bundle_by_no(no).await?;
            if b.status != "processing" {
                continue;
            }
            open += 1;
            for m in store.bundle_members(b.id).await? {
                let Some(case_no) = m.case_no else { continue };
                let rec = store.case_by_no(&case_no).await?;
                if !rec.state.status.is_open() || rec.state.received_on >= app.today() {
                    continue;
                }
                if late > 0 && next() % late == 0 {
                    continue;
                }
                let mut cmd_user = clerk.clone();
                let mut cmd = Cmd::Accept;
                loop {
                    let rec = store.case_by_no(&case_no).await?;
                    match rec.state.status {
                        Status::Submitted => {}
                        Status::InApproval => {
                            let role = rec
                                .state
                                .current_step()
                                .map(|s| s.role)
                                .unwrap_or(Actor::Approver);
                            cmd_user = staff
                                .get(&(rec.department_id, role == Actor::Head))
                                .cloned()
                                .context("bench staff")?;
                            cmd = Cmd::Pass {
                                opinion: "同意".into(),
                            };
                        }
                        _ => break,
                    }
                    tongban_app::cases::execute(&app, &cmd_user, &case_no, rec.version, &cmd)
                        .await
                        .map_err(|e| anyhow::anyhow!("{case_no}: {}", e.message))?;
                    acted += 1;
                }
            }
        }
        if open == 0 {
            break;
        }
    }
    let elapsed = started.elapsed();
    println!(
        "一件事 end to end: {runs} applications of each demo 一件事 from {start}, {acted} case commands in {:.1} s",
        elapsed.as_secs_f64()
    );
    println!(
        "{:<12} {:>6} {:>6} {:>10} {:>10} {:>10} {:>8}",
        "一件事", "count", "done", "median_wd", "mean_wd", "within", "promise"
    );
    for f in tongban_app::bundles::figures(&app)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?
    {
        let opt = |x: Option<f64>| x.map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into());
        println!(
            "{:<12} {:>6} {:>6} {:>10} {:>10} {:>10} {:>8}",
            f.name,
            f.figures.applications,
            f.figures.completed,
            opt(f.figures.median_working_days),
            opt(f.figures.mean_working_days),
            f.figures
                .within_promise_share
                .map(|s| format!("{:.0}%", s * 100.0))
                .unwrap_or_else(|| "-".into()),
            format!("{} wd", f.promised_days)
        );
    }
    Ok(())
}

/// The province link: events per second one province node (a `tongban serve` process,
/// started for the run) accepts from `cities` simulated cities posting signed batches of
/// `batch` events at once, for `duration`. Each city signs its own batches (Ed25519 + SM2),
/// on this machine, as a city's worker would.
pub async fn federation(
    database_url: Option<String>,
    cities: usize,
    batch: usize,
    duration: Duration,
) -> Result<()> {
    use tongban_app::federation::SimulatedMember;
    use tongban_core::federation::{event_id, ReportedEvent, EVENTS_PATH, MAX_BATCH};
    if cities == 0 || cities > 99 || batch == 0 || batch > MAX_BATCH {
        bail!("--cities 1-99, --batch 1-{MAX_BATCH}");
    }
    let server = Server::start(database_url).await?;
    let mut members = Vec::new();
    {
        let store = Store::open(&server.database_url).await?;
        for i in 0..cities {
            let code = format!("43{:02}00", i + 1);
            let m = SimulatedMember::new(&code, &format!("模拟城市{}", i + 1))
                .map_err(|e| anyhow::anyhow!(e.message))?;
            store.trust_peer(&m.document, chrono::Utc::now()).await?;
            members.push(Arc::new(m));
        }
        store.close().await;
    }
    let url = format!("{}{EVENTS_PATH}", server.base);
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for m in members {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let (mut accepted, mut batches, mut n) = (0u64, 0u64, 0u64);
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                // A batch: `batch` cases' 申办 events (in a real outbox, one case's events
                // follow each other; their number per batch does not change the work).
                let events: Vec<ReportedEvent> = (0..batch)
                    .map(|_| {
                        n += 1;
                        let case_no = format!("{}{:014}", m.document.code, n);
                        ReportedEvent {
                            event_id: event_id(&case_no, 1),
                            case_no,
                            case_version: 1,
                            kind: "submitted".into(),
                            at: chrono::Utc::now().to_rfc3339(),
                            event: json!({"Submitted": {"channel": "Online"}}),
                        }
                    })
                    .collect();
                let msg = m
                    .events_message(events)
                    .map_err(|e| anyhow::anyhow!(e.message))?;
                let t = Instant::now();
                let r = http.post(&url).json(&msg).send().await?;
                if !r.status().is_success() {
                    bail!(
                        "province refused a batch: {} {}",
                        r.status(),
                        r.text().await?
                    );
                }
                let v: Value = r.json().await?;
                latencies.push(t.elapsed());
                accepted += v["accepted"].as_u64().unwrap_or(0);
                batches += 1;
            }
            Ok::<_, anyhow::Error>((accepted, batches, latencies))
        }));
    }
    let (mut accepted, mut batches, mut latencies) = (0u64, 0u64, Vec::new());
    for t in tasks {
        let (a, b, l) = t.await??;
        accepted += a;
        batches += b;
        latencies.extend(l);
    }
    let secs = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    // What the province holds matches what it acknowledged.
    let store = Store::open(&server.database_url).await?;
    let mut held = 0;
    for i in 0..cities {
        held += store
            .received_holdings(&format!("43{:02}00", i + 1))
            .await?
            .events;
    }
    store.close().await;
    println!(
        "federation: {cities} cities × batches of {batch} events, {secs:.1} s, backend {}",
        if server.database_url.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    println!("  events accepted: {accepted} ({:.0} events/s), batches: {batches}, held by the province: {held}", accepted as f64 / secs);
    println!(
        "  batch latency p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
        pct(0.50),
        pct(0.95),
        pct(0.99)
    );
    if held as u64 != accepted {
        bail!("the province holds {held} events but acknowledged {accepted}");
    }
    Ok(())
}
