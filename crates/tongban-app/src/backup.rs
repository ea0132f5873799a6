//! `tongban backup DEST` and `tongban restore SRC`: the database (online and consistent)
//! and the objects it references, with a manifest of their SHA-256; and the object check
//! of `tongban ledger verify`.

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;
use tongban_store::objects::ObjectStore;
use tongban_store::{Backend, Store};

pub const FORMAT: &str = "tongban-backup/1";
const SQLITE_FILE: &str = "tongban.db";
const PG_FILE: &str = "tongban.pgdump";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// File name of the database copy inside the backup, and its SHA-256.
    pub database: String,
    pub database_sha256: String,
    pub objects: Vec<ObjectEntry>,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ObjectEntry {
    pub sha256: String,
    pub size: u64,
}

fn sha256_file(p: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

fn is_empty_dir(p: &Path) -> bool {
    std::fs::read_dir(p).map_or(true, |mut d| d.next().is_none())
}

/// Backs up a running platform into `dest` (created; must be empty): first the database
/// (SQLite: a consistent snapshot while it serves; PostgreSQL: `pg_dump`, refused when
/// it is not installed), then every object the database references, checked against its
/// name, then `manifest.json`. Objects are immutable and content-addressed, so copying
/// them after the snapshot captures everything the snapshot references.
pub async fn backup(
    store: &Store,
    database_url: &str,
    objects: &ObjectStore,
    dest: &Path,
) -> anyhow::Result<Manifest> {
    if dest.exists() && !is_empty_dir(dest) {
        bail!("备份目录 {} 不是空的", dest.display());
    }
    std::fs::create_dir_all(dest.join("objects"))?;
    let (backend, database) = match store.backend() {
        Backend::Sqlite => {
            store.snapshot_sqlite(&dest.join(SQLITE_FILE)).await?;
            ("sqlite", SQLITE_FILE)
        }
        Backend::Postgres => {
            let out = std::process::Command::new("pg_dump")
                .args(["--format=custom", "--no-owner", "--file"])
                .arg(dest.join(PG_FILE))
                .arg(database_url)
                .output();
            match out {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                    "PostgreSQL 备份需要 pg_dump（postgresql-client），本机未安装；请安装后重试，或用数据库自身的备份手段"
                ),
                Err(e) => bail!("无法运行 pg_dump：{e}"),
                Ok(o) if !o.status.success() => {
                    bail!("pg_dump 失败：{}", String::from_utf8_lossy(&o.stderr).trim())
                }
                Ok(_) => {}
            }
            ("postgres", PG_FILE)
        }
    };
    let mut shas = store.file_shas().await?;
    shas.extend(store.case_file_refs().await?.into_iter().map(|(_, s)| s));
    shas.sort();
    shas.dedup();
    let target = ObjectStore::new(dest.join("objects"));
    let mut entries = Vec::with_capacity(shas.len());
    for sha in shas {
        let bytes = objects
            .get(&sha)
            .await
            .with_context(|| format!("对象 {sha} 缺失，无法备份"))?;
        if hex::encode(Sha256::digest(&bytes)) != sha {
            bail!("对象 {sha} 的内容与其哈希不符，无法备份");
        }
        target.put(&bytes).await?;
        entries.push(ObjectEntry {
            sha256: sha,
            size: bytes.len() as u64,
        });
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        backend: backend.into(),
        database: database.into(),
        database_sha256: sha256_file(&dest.join(database))?,
        objects: entries,
        created_at: chrono::Utc::now().to_rfc3339(),
    };
    std::fs::write(
        dest.join("manifest.json"),
        serde_json::to_string_pretty(&manifest)?,
    )?;
    Ok(manifest)
}

/// Restores a backup into `data_dir` (SQLite) or the database at `database_url`
/// (PostgreSQL, through `pg_restore`), and its objects into `objects` (the configured
/// store: a local directory or an S3 bucket). Every file is checked against the manifest
/// first; a target that already holds a database or objects is refused unless `force`.
pub async fn restore(
    src: &Path,
    data_dir: &Path,
    database_url: &str,
    objects: &ObjectStore,
    force: bool,
) -> anyhow::Result<Manifest> {
    let manifest: Manifest = serde_json::from_str(
        &std::fs::read_to_string(src.join("manifest.json"))
            .with_context(|| format!("{} 中没有 manifest.json", src.display()))?,
    )?;
    if manifest.format != FORMAT {
        bail!("不认识的备份格式：{}", manifest.format);
    }
    // Verify everything before touching the target.
    if sha256_file(&src.join(&manifest.database))? != manifest.database_sha256 {
        bail!("备份中的数据库文件与清单的哈希不符");
    }
    let from = ObjectStore::new(src.join("objects"));
    for o in &manifest.objects {
        if !from.verify(&o.sha256).await.unwrap_or(false) {
            bail!("备份中的对象 {} 缺失或与其哈希不符", o.sha256);
        }
    }
    let objects_occupied = !objects
        .is_empty()
        .await
        .with_context(|| format!("cannot list {}", objects.describe()))?;
    match manifest.backend.as_str() {
        "sqlite" => {
            let db = sqlite_path(database_url, data_dir);
            let occupied = db.exists() || objects_occupied;
            if occupied && !force {
                bail!(
                    "目标 {} 已有数据库或材料文件；确认要覆盖请加 --force",
                    data_dir.display()
                );
            }
            if let Some(dir) = db.parent() {
                std::fs::create_dir_all(dir)?;
            }
            for ext in ["db-wal", "db-shm"] {
                let _ = std::fs::remove_file(db.with_extension(ext));
            }
            let tmp = db.with_extension("db.restoring");
            std::fs::copy(src.join(&manifest.database), &tmp)?;
            std::fs::File::open(&tmp)?.sync_all()?;
            std::fs::rename(&tmp, &db)?;
        }
        "postgres" => {
            if !database_url.starts_with("postgres") {
                bail!("这是 PostgreSQL 的备份：请用 --database-url 指定要恢复到的数据库");
            }
            if objects_occupied && !force {
                bail!(
                    "目标对象存储（{}）已有材料文件；确认要覆盖请加 --force",
                    objects.describe()
                );
            }
            let mut cmd = std::process::Command::new("pg_restore");
            cmd.args(["--no-owner", "--dbname", database_url]);
            if force {
                cmd.args(["--clean", "--if-exists"]);
            }
            let out = cmd.arg(src.join(&manifest.database)).output();
            match out {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    bail!("恢复 PostgreSQL 备份需要 pg_restore（postgresql-client），本机未安装")
                }
                Err(e) => bail!("无法运行 pg_restore：{e}"),
                Ok(o) if !o.status.success() => bail!(
                    "pg_restore 失败（目标非空时请加 --force）：{}",
                    String::from_utf8_lossy(&o.stderr).trim()
                ),
                Ok(_) => {}
            }
        }
        other => bail!("不认识的数据库类型：{other}"),
    }
    for o in &manifest.objects {
        objects
            .put(&from.get(&o.sha256).await?)
            .await
            .with_context(|| {
                format!("cannot write object {} to {}", o.sha256, objects.describe())
            })?;
    }
    Ok(manifest)
}

fn sqlite_path(database_url: &str, data_dir: &Path) -> std::path::PathBuf {
    match database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
    {
        Some(p) => Path::new(p.split('?').next().unwrap_or(p)).to_path_buf(),
        None => data_dir.join(SQLITE_FILE),
    }
}

/// Every object a case cites must exist with the bytes its name promises: the problems,
/// one line each, naming the case and the object.
pub async fn verify_objects(store: &Store, objects: &ObjectStore) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    for (case_no, sha) in store.case_file_refs().await? {
        match objects.verify(&sha).await {
            Ok(true) => {}
            Ok(false) => problems.push(format!(
                "object {sha} of case {case_no} is corrupt (its bytes no longer match its SHA-256)"
            )),
            Err(_) => problems.push(format!("object {sha} of case {case_no} is missing")),
        }
    }
    Ok(problems)
}
