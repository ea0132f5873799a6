//! Layered configuration: defaults, then a TOML file, then `TONGBAN_` environment
//! variables, then command-line flags. Secrets (the database password) are never printed.

use serde::Deserialize;
use std::path::{Path, PathBuf};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./tongban-data";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub data_dir: Option<String>,
    pub log_format: Option<String>,
    pub public_url: Option<String>,
    /// 行政区划代码 (GB/T 2260) of the deployment: the prefix of every 办件编号.
    pub region_code: Option<String>,
    /// Supervision: yellow card when this many working days or fewer remain.
    pub supervision_yellow_days: Option<i64>,
    /// Supervision: yellow card when this share (%) of the promised limit is used.
    pub supervision_yellow_percent: Option<u32>,
    /// Bearer token of the monitoring system for `/metrics` (better: TONGBAN_METRICS_TOKEN).
    pub metrics_token: Option<String>,
    /// `/readyz` fails below this much free space in the data dir (MiB, default 256).
    pub min_free_mb: Option<u64>,
    /// Staff sessions end after this many minutes without a request (default 30).
    pub session_idle_minutes: Option<i64>,
    /// Sessions a user may hold at once; signing in again ends the oldest (default 3).
    pub max_sessions_per_user: Option<i64>,
    /// Audit log rows are kept at least this many days (default and minimum 183).
    pub audit_retention_days: Option<i64>,
    /// HTTP: seconds to receive a request's headers, counted from when the server waits
    /// for a request — so also how long an idle keep-alive connection stays open (default 10).
    pub header_timeout_secs: Option<u64>,
    /// HTTP: seconds to receive a request's body (default 30).
    pub body_timeout_secs: Option<u64>,
    /// HTTP: seconds to answer a request, its body included (default 60).
    pub request_timeout_secs: Option<u64>,
    /// 好差评: working days a department has to rectify (整改) a 差评 (default 5; 回访 is
    /// always due the next working day).
    pub rating_rectify_days: Option<u32>,
    /// Hall: this many no-shows (default 3) within `no_show_window_days` (default 30)
    /// suspend online booking for `no_show_suspend_days` (default 30).
    pub no_show_limit: Option<usize>,
    pub no_show_window_days: Option<i64>,
    pub no_show_suspend_days: Option<i64>,
    /// Hall: a ticket waiting longer than this raises a record (minutes, default 30).
    pub queue_wait_limit_minutes: Option<i64>,
    /// Delivery: a parcel with no carrier event for this many days raises a supervision
    /// record (default 5).
    pub stale_parcel_days: Option<i64>,
    /// Delivery: the carriers' webhook signing secret (better: TONGBAN_CARRIER_SECRET).
    pub carrier_secret: Option<String>,
    /// Where uploaded materials live: `"local"` (default, `<data_dir>/objects`) or `"s3"`
    /// (an S3-compatible bucket; keys only from TONGBAN_S3_ACCESS_KEY/TONGBAN_S3_SECRET_KEY).
    pub object_store: Option<String>,
    /// S3: `http(s)://host:port` of the service (or TONGBAN_S3_ENDPOINT).
    pub s3_endpoint: Option<String>,
    /// S3: the bucket (or TONGBAN_S3_BUCKET); it must exist.
    pub s3_bucket: Option<String>,
    /// S3: the signing region (or TONGBAN_S3_REGION; default `us-east-1`).
    pub s3_region: Option<String>,
    /// Ledger partitions of a database created now (or TONGBAN_LEDGER_PARTITIONS; default
    /// 1 on SQLite, 16 on PostgreSQL; 1–1024). Ignored for an existing database, whose
    /// number was fixed when it was created (ADR 0010).
    pub ledger_partitions: Option<u32>,
    /// The province link: the upstream member's address (TONGBAN_UPSTREAM_URL). Unset, no
    /// case event is queued for reporting.
    pub upstream_url: Option<String>,
    /// The province link: at most this often a ledger checkpoint is sent (default 60 s;
    /// TONGBAN_UPSTREAM_CHECKPOINT_SECONDS).
    pub upstream_checkpoint_seconds: Option<u64>,
    /// The province link: the longest wait between delivery attempts while the upstream
    /// member is unreachable (default 300 s).
    pub upstream_backoff_cap_seconds: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub log_json: bool,
    /// The address people and verifiers reach this platform at (licences and QR codes
    /// point here). Defaults to http:// + the listen address.
    pub public_url: String,
    pub thresholds: tongban_core::supervision::Thresholds,
    /// The deployment's 行政区划代码: the prefix of every 办件编号.
    pub region: tongban_core::codes::RegionCode,
    pub metrics_token: Option<String>,
    pub min_free_bytes: u64,
    pub security: tongban_app::SecurityPolicy,
    pub timeouts: tongban_web::Timeouts,
    pub rating_rectify_days: u32,
    pub hall: tongban_app::hall::HallPolicy,
    /// The store of uploaded materials (local directory or S3; keys never printed).
    pub objects: tongban_store::objects::ObjectStore,
    /// Ledger partitions for a database created now (None: the backend's default).
    pub ledger_partitions: Option<u32>,
    /// The province link: the upstream member and how the worker runs.
    pub upstream_url: Option<String>,
    pub link: tongban_app::federation::LinkSettings,
}

/// The demo city's region code (娄星市), used when none is configured.
pub const DEFAULT_REGION_CODE: &str = "431900";

/// Values given on the command line or in the environment (clap reads both).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub data_dir: Option<String>,
    pub log_format: Option<String>,
    pub public_url: Option<String>,
    pub metrics_token: Option<String>,
}

pub fn load(o: &Overrides) -> anyhow::Result<Config> {
    let file = match &o.config_file {
        Some(p) => read_file(p)?,
        None if Path::new("tongban.toml").exists() => read_file(Path::new("tongban.toml"))?,
        None => FileConfig::default(),
    };
    let data_dir = PathBuf::from(
        o.data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| DEFAULT_DATA_DIR.to_string()),
    );
    let database_url = o
        .database_url
        .clone()
        .or(file.database_url)
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("tongban.db").display()));
    let log_format = o
        .log_format
        .clone()
        .or(file.log_format)
        .unwrap_or_else(|| "text".into());
    if log_format != "text" && log_format != "json" {
        anyhow::bail!("log_format must be \"text\" or \"json\", not {log_format:?}");
    }
    let listen = o
        .listen
        .clone()
        .or(file.listen)
        .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
    let public_url = o
        .public_url
        .clone()
        .or(file.public_url)
        .unwrap_or_else(|| format!("http://{listen}"))
        .trim_end_matches('/')
        .to_string();
    check_public_url(&public_url)?;
    let defaults = tongban_core::supervision::Thresholds::default();
    let thresholds = tongban_core::supervision::Thresholds {
        yellow_remaining_days: file
            .supervision_yellow_days
            .unwrap_or(defaults.yellow_remaining_days),
        yellow_used_percent: file
            .supervision_yellow_percent
            .unwrap_or(defaults.yellow_used_percent),
    };
    if !(0..=30).contains(&thresholds.yellow_remaining_days)
        || !(1..=100).contains(&thresholds.yellow_used_percent)
    {
        anyhow::bail!(
            "supervision thresholds out of range: yellow_days 0-30, yellow_percent 1-100"
        );
    }
    let objects = objects_of(
        [
            &file.object_store,
            &file.s3_endpoint,
            &file.s3_bucket,
            &file.s3_region,
        ],
        &data_dir,
    )?;
    let ledger_partitions = match std::env::var("TONGBAN_LEDGER_PARTITIONS") {
        Ok(v) => Some(v.trim().parse::<u32>().map_err(|_| {
            anyhow::anyhow!("TONGBAN_LEDGER_PARTITIONS must be a number, not {v:?}")
        })?),
        Err(_) => file.ledger_partitions,
    };
    if ledger_partitions.is_some_and(|n| !(1..=tongban_store::ledger::MAX_PARTITIONS).contains(&n))
    {
        anyhow::bail!(
            "ledger_partitions must be 1-{}",
            tongban_store::ledger::MAX_PARTITIONS
        );
    }
    let region_text = std::env::var("TONGBAN_REGION_CODE")
        .ok()
        .or(file.region_code)
        .unwrap_or_else(|| DEFAULT_REGION_CODE.to_string());
    let region = tongban_core::codes::RegionCode::parse(&region_text)
        .map_err(|e| anyhow::anyhow!("region_code {region_text:?}: {e}"))?;
    let policy = tongban_app::SecurityPolicy::default();
    let security = tongban_app::SecurityPolicy {
        staff_idle_minutes: file
            .session_idle_minutes
            .unwrap_or(policy.staff_idle_minutes),
        max_sessions_per_user: file
            .max_sessions_per_user
            .unwrap_or(policy.max_sessions_per_user),
        audit_retention_days: file
            .audit_retention_days
            .unwrap_or(policy.audit_retention_days),
    };
    if !(1..=720).contains(&security.staff_idle_minutes) {
        anyhow::bail!("session_idle_minutes must be between 1 and 720");
    }
    if !(1..=100).contains(&security.max_sessions_per_user) {
        anyhow::bail!("max_sessions_per_user must be between 1 and 100");
    }
    if security.audit_retention_days < tongban_app::security::MIN_AUDIT_RETENTION_DAYS {
        anyhow::bail!(
            "audit_retention_days must be at least {} (six months, 等保 level 3)",
            tongban_app::security::MIN_AUDIT_RETENTION_DAYS
        );
    }
    let rating_rectify_days = file
        .rating_rectify_days
        .unwrap_or(tongban_core::rating::DEFAULT_RECTIFY_WORKING_DAYS);
    if !(1..=60).contains(&rating_rectify_days) {
        anyhow::bail!("rating_rectify_days must be between 1 and 60");
    }
    let mut hall = tongban_app::hall::HallPolicy::default();
    hall.no_show.limit = file.no_show_limit.unwrap_or(hall.no_show.limit);
    hall.no_show.window_days = file.no_show_window_days.unwrap_or(hall.no_show.window_days);
    hall.no_show.suspend_days = file
        .no_show_suspend_days
        .unwrap_or(hall.no_show.suspend_days);
    hall.wait_limit_minutes = file
        .queue_wait_limit_minutes
        .unwrap_or(hall.wait_limit_minutes);
    hall.stale_parcel_days = file.stale_parcel_days.unwrap_or(hall.stale_parcel_days);
    hall.carrier_secret = std::env::var("TONGBAN_CARRIER_SECRET")
        .ok()
        .or(file.carrier_secret)
        .filter(|s| !s.is_empty());
    if !(1..=100).contains(&hall.no_show.limit)
        || !(1..=365).contains(&hall.no_show.window_days)
        || !(0..=365).contains(&hall.no_show.suspend_days)
        || !(1..=1440).contains(&hall.wait_limit_minutes)
        || !(1..=60).contains(&hall.stale_parcel_days)
    {
        anyhow::bail!(
            "hall rules out of range: no_show_limit 1-100, no_show_window_days 1-365, \
             no_show_suspend_days 0-365, queue_wait_limit_minutes 1-1440, stale_parcel_days 1-60"
        );
    }
    if hall.carrier_secret.as_ref().is_some_and(|s| s.len() < 16) {
        anyhow::bail!("carrier_secret must be at least 16 characters");
    }
    let upstream_url = std::env::var("TONGBAN_UPSTREAM_URL")
        .ok()
        .or(file.upstream_url)
        .map(|u| u.trim().trim_end_matches('/').to_string())
        .filter(|u| !u.is_empty());
    if let Some(u) = &upstream_url {
        let ok = url::Url::parse(u)
            .is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some());
        if !ok {
            anyhow::bail!("upstream_url must be an absolute http(s) URL: {u}");
        }
    }
    let mut link = tongban_app::federation::LinkSettings::default();
    if let Some(n) = std::env::var("TONGBAN_UPSTREAM_CHECKPOINT_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .or(file.upstream_checkpoint_seconds)
    {
        if !(1..=86_400).contains(&n) {
            anyhow::bail!("upstream_checkpoint_seconds must be between 1 and 86400");
        }
        link.checkpoint_every = std::time::Duration::from_secs(n);
    }
    if let Some(n) = file.upstream_backoff_cap_seconds {
        if !(1..=86_400).contains(&n) {
            anyhow::bail!("upstream_backoff_cap_seconds must be between 1 and 86400");
        }
        link.backoff_cap = std::time::Duration::from_secs(n);
    }
    let t = tongban_web::Timeouts::default();
    let secs = |v: Option<u64>, d: std::time::Duration| -> anyhow::Result<std::time::Duration> {
        match v {
            None => Ok(d),
            Some(0) => anyhow::bail!("HTTP timeouts must be at least 1 second"),
            Some(n) => Ok(std::time::Duration::from_secs(n)),
        }
    };
    let timeouts = tongban_web::Timeouts {
        header: secs(file.header_timeout_secs, t.header)?,
        body: secs(file.body_timeout_secs, t.body)?,
        request: secs(file.request_timeout_secs, t.request)?,
    };
    Ok(Config {
        objects,
        upstream_url,
        link,
        rating_rectify_days,
        hall,
        ledger_partitions,
        region,
        metrics_token: o
            .metrics_token
            .clone()
            .or(file.metrics_token)
            .filter(|t| !t.trim().is_empty()),
        min_free_bytes: file
            .min_free_mb
            .map_or(tongban_web::state::DEFAULT_MIN_FREE_BYTES, |mb| {
                mb * 1024 * 1024
            }),
        security,
        timeouts,
        thresholds,
        public_url,
        listen,
        database_url,
        data_dir,
        log_json: log_format == "json",
    })
}

/// The object store: the local directory unless `object_store = "s3"`, whose endpoint,
/// bucket and region come from the file or the environment and whose keys come only from
/// the environment (never from a file that may be shared, never printed).
fn objects_of(
    [kind, endpoint, bucket, region]: [&Option<String>; 4],
    data_dir: &Path,
) -> anyhow::Result<tongban_store::objects::ObjectStore> {
    use tongban_store::objects::{ObjectStore, ObjectsConfig, S3Config};
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let kind = env("TONGBAN_OBJECT_STORE")
        .or(kind.clone())
        .unwrap_or_else(|| "local".into());
    let config = match kind.as_str() {
        "local" => ObjectsConfig::Local(data_dir.join("objects")),
        "s3" => {
            let need = |v: Option<String>, key: &str| {
                v.ok_or_else(|| anyhow::anyhow!("object_store = \"s3\" needs {key}"))
            };
            ObjectsConfig::S3(S3Config {
                endpoint: need(
                    env("TONGBAN_S3_ENDPOINT").or(endpoint.clone()),
                    "s3_endpoint",
                )?,
                bucket: need(env("TONGBAN_S3_BUCKET").or(bucket.clone()), "s3_bucket")?,
                region: env("TONGBAN_S3_REGION")
                    .or(region.clone())
                    .unwrap_or_else(|| "us-east-1".into()),
                access_key: env("TONGBAN_S3_ACCESS_KEY").unwrap_or_default(),
                secret_key: env("TONGBAN_S3_SECRET_KEY").unwrap_or_default(),
            })
        }
        other => anyhow::bail!("object_store must be \"local\" or \"s3\", not {other:?}"),
    };
    ObjectStore::open(&config).map_err(|e| anyhow::anyhow!(e))
}

/// The public URL goes into every licence and QR code: it must be an absolute http(s) URL
/// with a host.
fn check_public_url(u: &str) -> anyhow::Result<()> {
    let parsed = url::Url::parse(u).map_err(|e| {
        anyhow::anyhow!(
            "public_url {u:?} is not a URL ({e}); expected e.g. https://zwfw.example.gov.cn"
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        anyhow::bail!("public_url {u:?} must be an http:// or https:// URL with a host");
    }
    Ok(())
}

fn read_file(p: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(p)
        .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", p.display()))?;
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("config file {}: {e}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("t.toml");
        std::fs::write(&f, "listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/tb\"\n").unwrap();
        let c = load(&Overrides {
            config_file: Some(f.clone()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert_eq!(c.database_url, "sqlite:///srv/tb/tongban.db");
        let c = load(&Overrides {
            config_file: Some(f),
            listen: Some("127.0.0.1:1".into()),
            database_url: Some("postgres://x@h/db".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.listen, "127.0.0.1:1");
        assert_eq!(c.database_url, "postgres://x@h/db");
    }

    #[test]
    fn supervision_thresholds_are_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("t.toml");
        let load_with = |text: &str| {
            std::fs::write(&f, text).unwrap();
            load(&Overrides {
                config_file: Some(f.clone()),
                ..Default::default()
            })
        };
        let c =
            load_with("supervision_yellow_days = 3\nsupervision_yellow_percent = 70\n").unwrap();
        assert_eq!(
            (
                c.thresholds.yellow_remaining_days,
                c.thresholds.yellow_used_percent
            ),
            (3, 70)
        );
        assert_eq!(
            load_with("").unwrap().thresholds,
            tongban_core::supervision::Thresholds::default()
        );
        assert!(load_with("supervision_yellow_percent = 0\n").is_err());
    }

    #[test]
    fn a_public_url_that_is_not_a_url_is_refused() {
        for bad in ["not a url", "ftp://example.org", "example.org", "http://"] {
            let e = load(&Overrides {
                public_url: Some(bad.into()),
                ..Default::default()
            })
            .unwrap_err();
            assert!(e.to_string().contains("public_url"), "{bad}: {e}");
        }
        let c = load(&Overrides {
            public_url: Some("https://zwfw.example.gov.cn/".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.public_url, "https://zwfw.example.gov.cn");
    }

    #[test]
    fn security_settings_have_floors() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("t.toml");
        let load_with = |text: &str| {
            std::fs::write(&f, text).unwrap();
            load(&Overrides {
                config_file: Some(f.clone()),
                ..Default::default()
            })
        };
        let c = load_with("").unwrap();
        assert_eq!(c.security.staff_idle_minutes, 30);
        assert_eq!(c.security.max_sessions_per_user, 3);
        assert!(c.security.audit_retention_days >= 183);
        assert_eq!(c.timeouts.header, std::time::Duration::from_secs(10));
        assert_eq!(c.min_free_bytes, 256 * 1024 * 1024);
        assert!(load_with("audit_retention_days = 30\n").is_err());
        assert!(load_with("header_timeout_secs = 0\n").is_err());
        assert_eq!(c.rating_rectify_days, 5);
        assert_eq!(c.hall.no_show.limit, 3);
        assert!(c.hall.carrier_secret.is_none());
        assert_eq!(c.ledger_partitions, None);
        assert_eq!(
            load_with("ledger_partitions = 8\n")
                .unwrap()
                .ledger_partitions,
            Some(8)
        );
        assert!(load_with("ledger_partitions = 0\n").is_err());
        assert!(load_with("ledger_partitions = 5000\n").is_err());
        let c = load_with(
            "rating_rectify_days = 3\nno_show_limit = 2\nno_show_window_days = 14\n\
             queue_wait_limit_minutes = 20\nstale_parcel_days = 7\n\
             carrier_secret = \"0123456789abcdef\"\n",
        )
        .unwrap();
        assert_eq!(c.rating_rectify_days, 3);
        assert_eq!(
            (
                c.hall.no_show.limit,
                c.hall.no_show.window_days,
                c.hall.no_show.suspend_days
            ),
            (2, 14, 30)
        );
        assert_eq!(
            (c.hall.wait_limit_minutes, c.hall.stale_parcel_days),
            (20, 7)
        );
        assert_eq!(c.hall.carrier_secret.as_deref(), Some("0123456789abcdef"));
        assert!(load_with("rating_rectify_days = 0\n").is_err());
        assert!(load_with("no_show_limit = 0\n").is_err());
        assert!(load_with("stale_parcel_days = 400\n").is_err());
        assert!(load_with("carrier_secret = \"short\"\n").is_err());
        let c = load_with("audit_retention_days = 400\nsession_idle_minutes = 15\n").unwrap();
        assert_eq!(
            (
                c.security.audit_retention_days,
                c.security.staff_idle_minutes
            ),
            (400, 15)
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("t.toml");
        std::fs::write(&f, "listne = \"x\"\n").unwrap();
        let e = load(&Overrides {
            config_file: Some(f.clone()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("listne"), "{e}");
        for (text, says) in [
            ("object_store = \"gcs\"\n", "object_store"),
            ("object_store = \"s3\"\n", "s3_endpoint"),
            (
                "object_store = \"s3\"\ns3_endpoint = \"http://127.0.0.1:1\"\n",
                "s3_bucket",
            ),
            (
                "object_store = \"s3\"\ns3_endpoint = \"s3.example\"\ns3_bucket = \"b\"\n",
                "s3_endpoint",
            ),
        ] {
            std::fs::write(&f, text).unwrap();
            let e = load(&Overrides {
                config_file: Some(f.clone()),
                ..Default::default()
            })
            .unwrap_err();
            assert!(e.to_string().contains(says), "{text}: {e}");
        }
        std::fs::write(&f, "log_format = \"xml\"\n").unwrap();
        assert!(load(&Overrides {
            config_file: Some(f),
            ..Default::default()
        })
        .is_err());
    }
}
