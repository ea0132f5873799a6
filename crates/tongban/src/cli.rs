//! Command-line interface.

use crate::config::{self, Overrides};
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tongban_app::clock::SystemClock;
use tongban_store::{catalog_file, redact_url, Store};
use tongban_web::Application;

#[derive(Parser)]
#[command(
    name = "tongban",
    version,
    about = "通办 — one city's integrated government-services platform"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Global {
    /// TOML configuration file (default: ./tongban.toml when present).
    #[arg(long, global = true, env = "TONGBAN_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB (default: SQLite under the data dir).
    #[arg(
        long,
        global = true,
        env = "TONGBAN_DATABASE_URL",
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// Directory for the embedded database and files.
    #[arg(long, global = true, env = "TONGBAN_DATA_DIR")]
    data_dir: Option<String>,
    /// Log format: text or json.
    #[arg(long, global = true, env = "TONGBAN_LOG_FORMAT")]
    log_format: Option<String>,
    /// Public address of the platform (in licences and QR codes).
    #[arg(long, global = true, env = "TONGBAN_PUBLIC_URL")]
    public_url: Option<String>,
    /// Bearer token that may read /metrics (besides administrators).
    #[arg(
        long,
        global = true,
        env = "TONGBAN_METRICS_TOKEN",
        hide_env_values = true
    )]
    metrics_token: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, env = "TONGBAN_LISTEN")]
        listen: Option<String>,
    },
    /// Load the demo city (catalog, halls, accounts) and run the server.
    Demo {
        #[arg(long, env = "TONGBAN_LISTEN")]
        listen: Option<String>,
        /// Load the demo data and exit without serving.
        #[arg(long)]
        no_serve: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Service catalog tools.
    #[command(subcommand)]
    Catalog(CatalogCmd),
    /// 一件事 definitions (issue #17): import a definition file, export one.
    #[command(subcommand)]
    Bundle(BundleCmd),
    /// Case figures (大数据分析).
    #[command(subcommand)]
    Analytics(AnalyticsCmd),
    /// Working-day calendar tools.
    #[command(subcommand)]
    Calendar(CalendarCmd),
    /// Case ledger tools.
    #[command(subcommand)]
    Ledger(LedgerCmd),
    /// Electronic licence tools.
    #[command(subcommand)]
    Licence(LicenceCmd),
    /// Written notices (文书) of cases.
    #[command(subcommand)]
    Document(DocumentCmd),
    /// Benchmarks (see BENCHMARKS.md).
    #[command(subcommand)]
    Bench(BenchCmd),
    /// Electronic supervision tools.
    #[command(subcommand)]
    Supervision(SupervisionCmd),
    /// This deployment as a member of the 政务信息共享交换 exchange.
    #[command(subcommand)]
    Member(MemberCmd),
    /// Accounts.
    #[command(subcommand)]
    User(UserCmd),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Back up the database (online, consistent) and the objects it references, with a
    /// manifest of their SHA-256, into DEST (a new or empty directory).
    Backup { dest: PathBuf },
    /// Restore a backup made by `tongban backup` into the configured data dir / database;
    /// checks every hash first; refuses a target that holds data unless --force.
    Restore {
        src: PathBuf,
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum MemberCmd {
    /// Name this deployment as a member (行政区划代码 or 统一社会信用代码); creates its
    /// Ed25519 and SM2 keys in the key registry if there are none.
    Init {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// Where peers reach this member's exchange (default: the public base URL).
        #[arg(long, default_value = "")]
        endpoint: String,
    },
    /// Print the public member document (JSON) for peers to trust.
    Export,
    /// Register a peer from its member document.
    Trust { file: PathBuf },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Lift the sign-in delays of an account, from every client.
    Unlock { name: String },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Recompute the audit log's hash chain; names the first row that no longer matches and
    /// exits non-zero.
    Verify,
    /// Delete rows older than the retention (audit_retention_days, at least 183) now.
    Purge,
}

#[derive(Subcommand)]
enum SupervisionCmd {
    /// Run one pass of the supervision worker now (the server runs one every minute).
    Run,
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Complete case lifecycles over HTTP against a server process started for the run
    /// (or --url), with the storage limit of the same disk and backend.
    Lifecycle {
        #[arg(long, default_value_t = 32)]
        clients: usize,
        /// Seconds to run.
        #[arg(long, default_value = "30s")]
        duration: String,
        /// Target already running servers instead of starting one: repeat the flag or
        /// separate URLs with commas; clients are spread over them round-robin.
        #[arg(long, value_delimiter = ',')]
        url: Vec<String>,
        /// Without --url: start this many `tongban serve` nodes on the one database (give
        /// --database-url for PostgreSQL) and spread the clients over them.
        #[arg(long, default_value_t = 1)]
        nodes: usize,
    },
    /// Seed a realistic city of N cases (every state, 2019–2026) into --database-url.
    Seed {
        #[arg(long, default_value_t = 100_000)]
        cases: usize,
        /// Write the cases straight into the case-figures projection and its counters (no
        /// case rows, no ledger): a 10-million-case city for the figures' latency.
        #[arg(long)]
        figures_only: bool,
    },
    /// Query latencies against a server on the seeded database, and bytes per case.
    Queries {
        #[arg(long, default_value_t = 200)]
        samples: usize,
    },
    /// 一件事 end to end: the demo 一件事 applied for and every member case worked in process
    /// (manual clock, working days), reporting median/mean working days and the share within
    /// the promise.
    Bundles {
        /// Applications of each demo 一件事.
        #[arg(long, default_value_t = 20)]
        runs: usize,
        /// The first day (Beijing), YYYY-MM-DD.
        #[arg(long, default_value = "2026-09-28")]
        start: String,
        /// One case in N waits a working day more (0: none).
        #[arg(long, default_value_t = 4)]
        late: u64,
        /// Use this database instead of a fresh SQLite file.
        #[arg(long)]
        url: Option<String>,
    },
    /// The province link: events/s one province node (started for the run) accepts from
    /// simulated cities posting signed batches at once.
    Federation {
        #[arg(long, default_value_t = 10)]
        cities: usize,
        #[arg(long, default_value_t = 100)]
        batch: usize,
        #[arg(long, default_value = "20s")]
        duration: String,
    },
    /// The 3-step approval in process with durable writes (for bench/compare.sh).
    Engine {
        #[arg(long, default_value_t = 500)]
        instances: usize,
        /// Instances driven at once (each one's steps still one after another, each
        /// durable before the next); 1 compares step for step with a single-threaded engine.
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
    },
}

fn parse_seconds(s: &str) -> anyhow::Result<std::time::Duration> {
    let n: f64 = s
        .trim_end_matches('s')
        .parse()
        .with_context(|| format!("duration {s:?} should look like 30s"))?;
    Ok(std::time::Duration::from_secs_f64(n))
}

#[derive(Subcommand)]
enum DocumentCmd {
    /// Verify a notice's PDF fully offline against its signature file and the published
    /// issuer keys: the document's SHA-256 and both signatures. No server, no database.
    Verify {
        file: PathBuf,
        /// The issuer key set (`tongban licence keys`, /api/v1/licences/keys).
        #[arg(long)]
        keys: PathBuf,
        /// The signature file (default: FILE with `.pdf` replaced by `.sig.json`).
        #[arg(long)]
        sig: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum LicenceCmd {
    /// List licences.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one licence (with --vc: print the signed Verifiable Credential JSON).
    Show {
        id: String,
        #[arg(long)]
        vc: bool,
    },
    /// Print the issuer key set (JSON), for offline verification.
    Keys,
    /// Print a signed status list credential (revocation or suspension), for offline use.
    Status {
        #[arg(default_value = "revocation")]
        purpose: String,
    },
    /// Revoke a licence.
    Revoke {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Retire the issuer keys in force and create new ones.
    RotateKeys,
    /// Issue the licences of approved cases that have none (an issuance that failed after
    /// the decision was recorded).
    IssueMissing,
    /// Verify a licence file fully offline: signatures, key validity, identifier and,
    /// with --status, revocation and suspension. No server, no database.
    Verify {
        file: PathBuf,
        #[arg(long)]
        keys: PathBuf,
        /// A revocation status list credential (and optionally a suspension one).
        #[arg(long)]
        status: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum LedgerCmd {
    /// Recompute the Merkle tree and hash chain from the stored events and check every
    /// signed checkpoint (and any exported with --checkpoint), and every object a case
    /// cites; names the first event that no longer matches.
    Verify {
        /// A checkpoint exported earlier (`tongban ledger checkpoint > FILE`); repeatable.
        #[arg(long)]
        checkpoint: Vec<PathBuf>,
        /// Verify only this partition of the ledger (its chain and its head in every
        /// checkpoint); default: every partition.
        #[arg(long)]
        partition: Option<u32>,
    },
    /// Sign a checkpoint of the current ledger and print it.
    Checkpoint,
}

#[derive(Subcommand)]
enum AnalyticsCmd {
    /// Recompute the case figures from the ledger alone, report every difference from the
    /// live projection and correct it (exit status 1 when there was a difference).
    Rebuild {
        /// Only report; write nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum CatalogCmd {
    /// Import items (CSV or XLSX) and optionally materials (CSV); all or nothing.
    Import {
        file: PathBuf,
        materials: Option<PathBuf>,
    },
    /// Export the catalog: CSV (items + materials files) or XLSX.
    Export {
        /// Output directory for CSV, or a file ending in .xlsx.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Print the catalog indicators.
    Stats {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum BundleCmd {
    /// Import a 一件事 definition (JSON) as its code's next version.
    Import { file: PathBuf },
    /// Print a 一件事 definition file (the latest version).
    Export { code: String },
    /// List the 一件事 and their figures.
    List,
}

#[derive(Subcommand)]
enum CalendarCmd {
    /// Print the due date N working days after a date (the day itself is not counted).
    Deadline {
        #[arg(long)]
        from: chrono::NaiveDate,
        #[arg(long)]
        working_days: u32,
    },
    /// Load (or replace) one year of the working-day calendar from a file into the database.
    Load { file: PathBuf },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn overrides(g: &Global, listen: Option<String>) -> Overrides {
    Overrides {
        config_file: g.config.clone(),
        listen,
        database_url: g.database_url.clone(),
        data_dir: g.data_dir.clone(),
        log_format: g.log_format.clone(),
        public_url: g.public_url.clone(),
        metrics_token: g.metrics_token.clone(),
    }
}

fn init_logging(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("TONGBAN_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}

async fn open(cfg: &config::Config) -> anyhow::Result<Store> {
    Store::open_with(&cfg.database_url, cfg.ledger_partitions)
        .await
        .with_context(|| format!("cannot open database {}", redact_url(&cfg.database_url)))
}

/// Refuses to serve from a data dir or database that cannot be written: better a clear
/// message at start-up than errors on the first application.
async fn check_writable(cfg: &config::Config, store: &Store) -> anyhow::Result<()> {
    tongban_store::check_writable_dir(&cfg.data_dir)
        .map_err(|e| anyhow::anyhow!("the data dir is not usable: {e}"))?;
    store.write_probe().await.map_err(|e| {
        anyhow::anyhow!(
            "the database {} does not accept writes (read-only file, directory or server?): {e}",
            redact_url(&cfg.database_url)
        )
    })?;
    check_objects(cfg).await
}

/// Refuses to start with an object store that cannot be used (checked before the
/// database is opened, so a bad store leaves no new database behind).
async fn check_objects(cfg: &config::Config) -> anyhow::Result<()> {
    cfg.objects
        .check()
        .await
        .map_err(|e| anyhow::anyhow!("the object store is not usable: {e}"))
}

/// The application as configured: public address, supervision thresholds.
fn app_of(cfg: &config::Config, store: Store) -> tongban_app::App {
    let mut app = tongban_app::App::new(store, Arc::new(SystemClock), &cfg.data_dir);
    app.base_url = cfg.public_url.clone();
    app.thresholds = cfg.thresholds;
    app.region = cfg.region.clone();
    app.security = cfg.security;
    app.rating_rectify_days = cfg.rating_rectify_days;
    app.hall = cfg.hall.clone();
    app.objects = cfg.objects.clone();
    app
}

async fn serve(cfg: &config::Config, app: tongban_app::App) -> anyhow::Result<()> {
    let addr: SocketAddr = cfg
        .listen
        .parse()
        .with_context(|| format!("listen address {:?} is not HOST:PORT", cfg.listen))?;
    check_writable(cfg, &app.store).await?;
    // The case-figure counters of a database that had cases before they existed.
    if app.store.figure_counters_stale().await? {
        println!("正在从台账重建办件统计计数……");
        let r = tongban_app::analytics::rebuild(&app, false).await?;
        tracing::info!(
            cases = r.cases,
            counters = r.counter_differences,
            "case-figure counters rebuilt from the ledger"
        );
    }
    tongban_app::spawn_workers(&app);
    tongban_app::federation::configure(&app, cfg.upstream_url.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    if cfg.upstream_url.is_some() {
        tongban_app::federation::spawn_worker(app.clone(), cfg.link);
    }
    let state = tongban_web::new_state(app).with_operations(tongban_web::state::Operations {
        metrics_token: cfg.metrics_token.clone(),
        data_dir: cfg.data_dir.clone(),
        min_free_bytes: cfg.min_free_bytes,
    });
    let server = Application::build_with(state, addr, cfg.timeouts)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    println!("通办 tongban 已启动：http://{}/", server.local_addr());
    tracing::info!(addr = %server.local_addr(), database = %redact_url(&cfg.database_url), "serving");
    server.run_until_stopped().await?;
    Ok(())
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { listen } => {
            let cfg = config::load(&overrides(&cli.global, listen))?;
            init_logging(cfg.log_json);
            check_objects(&cfg).await?;
            let app = app_of(&cfg, open(&cfg).await?);
            serve(&cfg, app).await
        }
        Command::Demo { listen, no_serve } => {
            let cfg = config::load(&overrides(&cli.global, listen))?;
            init_logging(cfg.log_json);
            let mut app = app_of(&cfg, open(&cfg).await?);
            // The demo's carrier moves the demo's parcels along (寄递跟踪).
            app.hall.simulated_carrier = true;
            let report = crate::demo::seed(&app.store, chrono::Utc::now()).await?;
            crate::demo::seed_licence_types(&app.store, chrono::Utc::now()).await?;
            let cases = crate::demo::seed_cases(&app).await?;
            if crate::demo::seed_exchange(&app).await? > 0 {
                println!("演示共享交换：信息资源目录、授权、一次按办件的共享调取");
            }
            if cases > 0 {
                println!("演示办件：{cases} 件（含已签发的电子证照，其中一件已吊销）");
            }
            let tickets = tongban_app::hall::seed_demo(&app).await?;
            if tickets > 0 {
                println!("演示大厅：市民之家排队 {tickets} 人，明日预约 1 个，邮寄中的结果 2 件（模拟承运商推送物流）");
            }
            if let Some(r) = &report.import {
                println!(
                    "演示数据：事项新增 {} 项、更新 {} 项、未变化 {} 项；新建部门 {} 个、大厅 {} 个；账号 {} 个",
                    r.created,
                    r.updated,
                    r.unchanged,
                    r.created_departments.len(),
                    r.created_halls.len(),
                    report.users_created
                );
            }
            println!("数据库：{}", redact_url(&cfg.database_url));
            println!("演示账号（密码均为 {}）：", crate::demo::DEMO_PASSWORD);
            for (u, name, role, _) in crate::demo::DEMO_USERS {
                println!("  {u:<12} {}  {name}", role.label());
            }
            if no_serve {
                return Ok(());
            }
            serve(&cfg, app).await
        }
        Command::Migrate => {
            let cfg = config::load(&overrides(&cli.global, None))?;
            init_logging(cfg.log_json);
            open(&cfg).await?;
            println!("migrations applied: {}", redact_url(&cfg.database_url));
            Ok(())
        }
        Command::Catalog(cmd) => {
            let cfg = config::load(&overrides(&cli.global, None))?;
            let app = app_of(&cfg, open(&cfg).await?);
            catalog(cmd, &app).await
        }
        Command::Bundle(cmd) => {
            let cfg = config::load(&overrides(&cli.global, None))?;
            let app = app_of(&cfg, open(&cfg).await?);
            match cmd {
                BundleCmd::Import { file } => {
                    let text = std::fs::read_to_string(&file)
                        .with_context(|| format!("cannot read {}", file.display()))?;
                    let (def, version) =
                        tongban_app::bundles::import_as(&app, "cli", &text).await?;
                    println!("imported {} ({}) version {version}", def.code, def.name);
                }
                BundleCmd::Export { code } => {
                    println!("{}", tongban_app::bundles::export(&app, &code).await?);
                }
                BundleCmd::List => {
                    for f in tongban_app::bundles::figures(&app).await? {
                        println!(
                            "{}\t{}\t{} applications, {} completed, median {} working days",
                            f.code,
                            f.name,
                            f.figures.applications,
                            f.figures.completed,
                            f.figures
                                .median_working_days
                                .map(|m| format!("{m:.1}"))
                                .unwrap_or_else(|| "-".into())
                        );
                    }
                }
            }
            Ok(())
        }
        Command::Analytics(AnalyticsCmd::Rebuild { dry_run, json }) => {
            let cfg = config::load(&overrides(&cli.global, None))?;
            let app = app_of(&cfg, open(&cfg).await?);
            let r = tongban_app::analytics::rebuild(&app, dry_run).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "台账事件 {} 条，办件 {} 件；与实时统计不一致 {} 件，多余统计行 {} 条，计数不一致 {} 行{}",
                    r.events,
                    r.cases,
                    r.figure_differences,
                    r.orphans,
                    r.counter_differences,
                    if dry_run {
                        "（仅检查，未写入）"
                    } else {
                        ""
                    }
                );
                for (id, what) in r.differences.iter().take(50) {
                    println!("  办件 #{id}: {what}");
                }
                for what in r.counter_examples.iter().take(50) {
                    println!("  计数 {what}");
                }
            }
            if r.figure_differences == 0 && r.orphans == 0 && r.counter_differences == 0 {
                Ok(())
            } else {
                std::process::exit(1)
            }
        }
        Command::Calendar(CalendarCmd::Deadline { from, working_days }) => {
            let cfg = config::load(&overrides(&cli.global, None))?;
            let cal = tongban_core::calendar::WorkCalendar::builtin();
            // Years an administrator loaded live in the database, when there is one.
            let has_db = !cfg.database_url.starts_with("sqlite:")
                || cfg.data_dir.join("tongban.db").exists()
                || cli.global.database_url.is_some();
            let d = if has_db {
                let app = app_of(&cfg, open(&cfg).await?);
                tongban_app::calendar::deadline(&app, from, working_days).await?
            } else {
                tongban_app::calendar::deadline_by(&cal, from, working_days)?
            };
            println!("{}", d.due.format("%Y-%m-%d"));
            if let Some(note) = d.note {
                eprintln!("{note}");
            }
            Ok(())
        }
        Command::Ledger(cmd) => {
            let cfg = config::load(&overrides(&cli.global, None))?;
            let app = app_of(&cfg, open(&cfg).await?);
            match cmd {
                LedgerCmd::Checkpoint => {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(
                            &tongban_app::ledger::checkpoint(&app).await?
                        )?
                    );
                    Ok(())
                }
                LedgerCmd::Verify {
                    checkpoint,
                    partition,
                } => {
                    let mut external = Vec::new();
                    for f in &checkpoint {
                        let text = std::fs::read_to_string(f)
                            .with_context(|| format!("cannot read {}", f.display()))?;
                        external.push(
                            serde_json::from_str::<tongban_store::ledger::Checkpoint>(&text)
                                .with_context(|| format!("{} is not a checkpoint", f.display()))?,
                        );
                    }
                    let r = match partition {
                        Some(k) => {
                            tongban_app::ledger::verify_partition(&app, k, &external).await?
                        }
                        None => tongban_app::ledger::verify_with(&app, &external).await?,
                    };
                    if let Some(p) = r.problem_text() {
                        anyhow::bail!("ledger verification FAILED: {p}");
                    }
                    let problems =
                        tongban_app::backup::verify_objects(&app.store, &app.objects).await?;
                    if !problems.is_empty() {
                        anyhow::bail!("ledger verification FAILED: {}", problems.join("; "));
                    }
                    let scope = match (partition, r.partitions.len()) {
                        (Some(k), _) => format!(" (partition {k})"),
                        (None, n) if n > 1 => format!(" in {n} partitions"),
                        _ => String::new(),
                    };
                    println!(
                        "ledger OK: {} events{scope}, root {}, {} signed checkpoints verified, case objects present",
                        r.size, r.root, r.checkpoints_checked
                    );
                    Ok(())
                }
            }
        }
        Command::Backup { dest } => {
            let cfg = config::load(&overrides(&cli.global, None))?;
            let store = open(&cfg).await?;
            let m =
                tongban_app::backup::backup(&store, &cfg.database_url, &cfg.objects, &dest).await?;
            println!(
                "backup written to {}: database ({}) and {} objects, manifest.json",
                dest.display(),
                m.backend,
                m.objects.len()
            );
            Ok(())
        }
        Command::Restore { src, force } => {
            let cfg = config::load(&overrides(&cli.global, None))?;
            let m = tongban_app::backup::restore(
                &src,
                &cfg.data_dir,
                &cfg.database_url,
                &cfg.objects,
                force,
            )
            .await?;
            // Opening runs any newer migrations on the restored database.
            open(&cfg).await?;
            println!(
                "restored {} database and {} objects into {}",
                m.backend,
                m.objects.len(),
                redact_url(&cfg.database_url)
            );
            Ok(())
        }
        Command::Supervision(SupervisionCmd::Run) => {
            let cfg = config::load(&overrides(&cli.global, None))?;
            let store = open(&cfg).await?;
            let app = app_of(&cfg, store);
            let (checked, raised) = tongban_app::supervision::run_once(&app)
                .await
                .map_err(|e| anyhow::anyhow!(e.message))?;
            println!("supervision pass: {checked} cases checked, {raised} records raised");
            Ok(())
        }
        Command::User(UserCmd::Unlock { name }) => {
            let cfg = config::load(&overrides(&cli.global, None))?;
            let store = open(&cfg).await?;
            let app = app_of(&cfg, store);
            tongban_app::security::unlock(&app, "cli", &name)
                .await
                .map_err(|e| anyhow::anyhow!(e.message))?;
            println!("已解除 {name} 的登录限制");
            Ok(())
        }
        Command::Audit(cmd) => {
            let cfg = config::load(&overrides(&cli.global, None))?;
            let store = open(&cfg).await?;
            let app = app_of(&cfg, store);
            match cmd {
                AuditCmd::Verify => {
                    let v = tongban_app::security::verify_audit_log(&app)
                        .await
                        .map_err(|e| anyhow::anyhow!(e.message))?;
                    match v.first_problem {
                        None => {
                            println!(
                                "audit log OK: {} rows chained ({} older rows before the chain)",
                                v.checked, v.unchained
                            );
                            Ok(())
                        }
                        Some((id, why)) => anyhow::bail!("audit log row {id}: {why}"),
                    }
                }
                AuditCmd::Purge => {
                    let n = tongban_app::security::purge_audit_log(&app)
                        .await
                        .map_err(|e| anyhow::anyhow!(e.message))?;
                    println!("{n} audit rows past the retention removed");
                    Ok(())
                }
            }
        }
        Command::Bench(cmd) => {
            init_logging(false);
            let url = cli.global.database_url.clone();
            match cmd {
                BenchCmd::Lifecycle {
                    clients,
                    duration,
                    url: targets,
                    nodes,
                } => {
                    crate::bench::lifecycle(url, targets, nodes, clients, parse_seconds(&duration)?)
                        .await
                }
                BenchCmd::Seed {
                    cases,
                    figures_only,
                } => {
                    let cfg = config::load(&overrides(&cli.global, None))?;
                    crate::bench::seed(&cfg.database_url, cases, figures_only).await
                }
                BenchCmd::Queries { samples } => {
                    let cfg = config::load(&overrides(&cli.global, None))?;
                    crate::bench::queries(Some(cfg.database_url), samples).await
                }
                BenchCmd::Bundles {
                    runs,
                    start,
                    late,
                    url: target,
                } => {
                    let start = chrono::NaiveDate::parse_from_str(&start, "%Y-%m-%d")
                        .context("--start should be YYYY-MM-DD")?;
                    crate::bench::bundles(target, runs, start, late).await
                }
                BenchCmd::Federation {
                    cities,
                    batch,
                    duration,
                } => crate::bench::federation(url, cities, batch, parse_seconds(&duration)?).await,
                BenchCmd::Engine {
                    instances,
                    concurrency,
                } => {
                    let cfg = config::load(&overrides(&cli.global, None))?;
                    crate::bench::engine(&cfg.database_url, instances, concurrency).await
                }
            }
        }
        Command::Document(DocumentCmd::Verify { file, keys, sig }) => {
            document_verify(&file, &keys, sig.as_deref())
        }
        Command::Licence(LicenceCmd::Verify { file, keys, status }) => {
            let read_json = |p: &PathBuf| -> anyhow::Result<serde_json::Value> {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read {}", p.display()))?;
                serde_json::from_str(&text).with_context(|| format!("{} is not JSON", p.display()))
            };
            let credential = read_json(&file)?;
            let keys_json = read_json(&keys)?;
            let key_list: Vec<tongban_core::licence::vc::PublishedKey> = serde_json::from_value(
                keys_json.get("keys").cloned().unwrap_or(keys_json),
            )
            .context(
                "the key file must hold {\"keys\": [...]} as published at /api/v1/licences/keys",
            )?;
            let mut lists = None;
            if !status.is_empty() {
                let mut revocation = tongban_core::licence::status::Bitstring::default();
                let mut suspension = tongban_core::licence::status::Bitstring::default();
                for p in &status {
                    let v = read_json(p)?;
                    let bits = tongban_core::licence::vc::read_status_list(&v, &key_list)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
                    match v["credentialSubject"]["statusPurpose"].as_str() {
                        Some("suspension") => suspension = bits,
                        _ => revocation = bits,
                    }
                }
                lists = Some(tongban_core::licence::vc::StatusLists {
                    revocation,
                    suspension,
                });
            }
            let checks = tongban_core::licence::vc::verify(
                &credential,
                &key_list,
                lists.as_ref(),
                None,
                Some(&chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            );
            for c in &checks {
                let mark = match c.ok {
                    Some(true) => "PASS",
                    Some(false) => "FAIL",
                    None => "SKIP",
                };
                println!("{mark}  {:<22} {}", c.name, c.detail);
            }
            if tongban_core::licence::vc::all_ok(&checks) {
                println!("licence is valid");
                Ok(())
            } else {
                anyhow::bail!("licence is NOT valid")
            }
        }
        Command::Member(cmd) => {
            let cfg = config::load(&overrides(&cli.global, None))?;
            let app = app_of(&cfg, open(&cfg).await?);
            let fail = |e: tongban_app::Error| anyhow::anyhow!("{}", e.message);
            match cmd {
                MemberCmd::Init {
                    code,
                    name,
                    endpoint,
                } => {
                    let doc = tongban_app::exchange::init_member(&app, &code, &name, &endpoint)
                        .await
                        .map_err(fail)?;
                    println!("member {} {} at {}", doc.code, doc.name, doc.endpoint);
                }
                MemberCmd::Export => {
                    let doc = tongban_app::exchange::member_document(&app)
                        .await
                        .map_err(fail)?;
                    println!("{}", serde_json::to_string_pretty(&doc)?);
                }
                MemberCmd::Trust { file } => {
                    let text = std::fs::read_to_string(&file)
                        .with_context(|| format!("cannot read {}", file.display()))?;
                    let doc: tongban_core::exchange::MemberDocument = serde_json::from_str(&text)
                        .with_context(|| {
                        format!("{} is not a member document", file.display())
                    })?;
                    tongban_app::exchange::trust(&app, &doc)
                        .await
                        .map_err(fail)?;
                    println!("trusted member {} {}", doc.code, doc.name);
                }
            }
            Ok(())
        }
        Command::Licence(cmd) => {
            let cfg = config::load(&overrides(&cli.global, None))?;
            let app = app_of(&cfg, open(&cfg).await?);
            licence(cmd, &app).await
        }
        Command::Calendar(CalendarCmd::Load { file }) => {
            let cfg = config::load(&overrides(&cli.global, None))?;
            let source = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let app = app_of(&cfg, open(&cfg).await?);
            let table = tongban_app::calendar::load_year(&app, "cli", &source)
                .await
                .with_context(|| format!("{} is not a valid calendar year", file.display()))?;
            println!(
                "loaded {}: {} holidays, {} make-up working days; deadlines of {} open cases recomputed",
                table.table.year,
                table.table.holidays().count(),
                table.table.workdays().count(),
                table.recomputed
            );
            Ok(())
        }
    }
}

/// `tongban document verify`: PASS/FAIL per check, an error (non-zero exit) on any FAIL.
fn document_verify(
    file: &std::path::Path,
    keys: &std::path::Path,
    sig: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let sig = match sig {
        Some(p) => p.to_path_buf(),
        None => {
            let name = file.to_string_lossy();
            PathBuf::from(match name.strip_suffix(".pdf") {
                Some(stem) => format!("{stem}.sig.json"),
                None => format!("{name}.sig.json"),
            })
        }
    };
    let read_json = |p: &std::path::Path| -> anyhow::Result<serde_json::Value> {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", p.display()))
    };
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let signature = read_json(&sig)?;
    let keys_json = read_json(keys)?;
    let key_list: Vec<tongban_core::licence::vc::PublishedKey> = serde_json::from_value(
        keys_json.get("keys").cloned().unwrap_or(keys_json),
    )
    .context("the key file must hold {\"keys\": [...]} as published at /api/v1/licences/keys")?;
    let checks = tongban_core::notice::verify(&bytes, &signature, &key_list);
    for c in &checks {
        let mark = if c.ok { "PASS" } else { "FAIL" };
        println!("{mark}  {:<18} {}", c.name, c.detail);
    }
    if let Some(n) = signature.get("notice") {
        println!(
            "      {} {} {} {}",
            n["title"].as_str().unwrap_or(""),
            n["number"].as_str().unwrap_or(""),
            n["agency"].as_str().unwrap_or(""),
            n["date"].as_str().unwrap_or("")
        );
    }
    if checks.iter().all(|c| c.ok) {
        println!("document is valid");
        Ok(())
    } else {
        anyhow::bail!("document is NOT valid")
    }
}

async fn catalog(cmd: CatalogCmd, app: &tongban_app::App) -> anyhow::Result<()> {
    match cmd {
        CatalogCmd::Import { file, materials } => {
            let read = |p: &PathBuf| {
                std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))
            };
            let bytes = read(&file)?;
            let name = file.display().to_string();
            let mat = match &materials {
                Some(p) => Some((p.display().to_string(), read(p)?)),
                None => None,
            };
            let r = tongban_app::catalog::import_owned(app, "cli", name, bytes, mat).await?;
            println!(
                "imported: {} created, {} updated, {} unchanged, {} materials; new departments: {}; new halls: {}",
                r.created,
                r.updated,
                r.unchanged,
                r.materials,
                r.created_departments.len(),
                r.created_halls.len()
            );
            Ok(())
        }
        CatalogCmd::Export { out } => {
            let items = tongban_app::catalog::export_rows(app).await?;
            if out.extension().is_some_and(|e| e == "xlsx") {
                std::fs::write(&out, catalog_file::export_xlsx(&items)?)?;
                println!("wrote {}", out.display());
            } else {
                std::fs::create_dir_all(&out)?;
                let (i, m) = catalog_file::export_csv(&items);
                std::fs::write(out.join("items.csv"), i)?;
                std::fs::write(out.join("materials.csv"), m)?;
                println!(
                    "wrote {} and {}",
                    out.join("items.csv").display(),
                    out.join("materials.csv").display()
                );
            }
            Ok(())
        }
        CatalogCmd::Stats { json } => {
            let stats = tongban_app::catalog::stats(app).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&stats)?);
            } else {
                println!("事项总数（依申请类） {}", stats.total);
                println!(
                    "办理深度 一级 {} · 二级 {} · 三级 {} · 四级 {}",
                    stats.by_depth_level["1"],
                    stats.by_depth_level["2"],
                    stats.by_depth_level["3"],
                    stats.by_depth_level["4"]
                );
                for (key, name, def) in tongban_core::indicators::DEFINITIONS.iter().skip(1) {
                    let v = serde_json::to_value(&stats)?;
                    let r = &v[key];
                    println!(
                        "{name} {}/{} = {:.1}%  （{def}）",
                        r["count"],
                        r["of"],
                        r["rate"].as_f64().unwrap_or(0.0) * 100.0
                    );
                }
                println!("进驻综合大厅部门数 {}", stats.hall_departments);
            }
            Ok(())
        }
    }
}

async fn licence(cmd: LicenceCmd, app: &tongban_app::App) -> anyhow::Result<()> {
    use tongban_app::licences;
    match cmd {
        LicenceCmd::List { json } => {
            let all = licences::all(app).await?;
            if json {
                let rows: Vec<serde_json::Value> = all
                    .iter()
                    .map(|l| serde_json::json!({ "licence_id": l.licence_id, "name": l.type_name, "number": l.number, "version": l.version, "status": l.status, "issued_on": l.issued_on, "valid_until": l.valid_until, "case_no": l.case_no }))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for l in all {
                    println!(
                        "{}  {}  {}  {}",
                        l.licence_id,
                        l.type_name,
                        l.number,
                        l.status_label()
                    );
                }
            }
        }
        LicenceCmd::Show { id, vc } => {
            let l = licences::by_id(app, &id).await?;
            if vc {
                println!("{}", serde_json::to_string_pretty(&l.vc)?);
            } else {
                println!(
                    "{} {} ({}) {} issued {} valid until {}",
                    l.licence_id,
                    l.type_name,
                    l.number,
                    l.status_label(),
                    l.issued_on,
                    l.valid_until.as_deref().unwrap_or("-")
                );
            }
        }
        LicenceCmd::Keys => {
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({ "keys": licences::published_keys(app).await? })
                )?
            );
        }
        LicenceCmd::Status { purpose } => {
            let vc = licences::status_list(app, &purpose).await?;
            println!("{}", serde_json::to_string_pretty(&vc)?);
        }
        LicenceCmd::Revoke { id, reason } => {
            let l = licences::change_status(
                app,
                "cli",
                &id,
                tongban_store::licences::StatusChange::Revoke,
                &reason,
            )
            .await?;
            println!("{} {}", l.licence_id, l.status_label());
        }
        LicenceCmd::RotateKeys => {
            println!("new keys: {}", licences::rotate_keys(app).await?.join(", "));
        }
        LicenceCmd::IssueMissing => {
            let (issued, missing, failures) = licences::issue_missing(app).await?;
            for (no, why) in failures {
                eprintln!("{no}: {why}");
            }
            println!("{issued} of {missing} missing licences issued");
        }
        LicenceCmd::Verify { .. } => unreachable!("handled without a database"),
    }
    Ok(())
}
