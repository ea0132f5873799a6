//! The catalog in the database: departments, halls and windows, items with their
//! materials, and the version history of every item.

use crate::db::Conn as AnyConnection;
use crate::db::Row as AnyRow;
use crate::{
    get_i64, get_opt_i64, get_str, is_unique_violation, now_text, Result, Store, StoreError,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tongban_core::catalog::{Item, Material};
use tongban_core::ids::Uscc;

#[derive(Debug, Clone, Serialize)]
pub struct Department {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub phone: String,
    pub retired: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HallKind {
    /// 综合大厅 (市民之家): any comprehensive window takes any item.
    Comprehensive,
    /// 分中心
    SubCentre,
    /// 部门自有大厅
    Department,
}

impl HallKind {
    pub fn code(self) -> &'static str {
        match self {
            HallKind::Comprehensive => "comprehensive",
            HallKind::SubCentre => "sub_centre",
            HallKind::Department => "department",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            HallKind::Comprehensive => "综合大厅",
            HallKind::SubCentre => "分中心",
            HallKind::Department => "部门大厅",
        }
    }
    pub fn parse(s: &str) -> Option<HallKind> {
        [
            HallKind::Comprehensive,
            HallKind::SubCentre,
            HallKind::Department,
        ]
        .into_iter()
        .find(|k| k.code() == s || k.label() == s)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Hall {
    pub id: i64,
    pub name: String,
    pub kind: HallKind,
    pub address: String,
    pub hours: String,
    pub retired: bool,
}

/// The changeable details of a hall.
#[derive(Debug, Clone, Copy)]
pub struct HallDetails<'a> {
    pub kind: HallKind,
    pub address: &'a str,
    pub hours: &'a str,
    pub retired: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct HallWindow {
    pub id: i64,
    pub hall_id: i64,
    pub number: String,
    pub name: String,
    /// `comprehensive` (综合窗口) or `dedicated` (专窗).
    pub kind: String,
    pub retired: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// 在用
    Active,
    /// 已退役: kept, never deleted, no longer offered.
    Retired,
}

impl ItemStatus {
    fn code(self) -> &'static str {
        match self {
            ItemStatus::Active => "active",
            ItemStatus::Retired => "retired",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ItemStatus::Active => "在用",
            ItemStatus::Retired => "已退役",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StoredItem {
    pub id: i64,
    pub item: Item,
    pub materials: Vec<Material>,
    pub status: ItemStatus,
    pub version: i64,
    pub department_id: i64,
    pub hall_id: Option<i64>,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemVersion {
    pub version: i64,
    pub actor: String,
    pub at: String,
    pub action: String,
    pub changes: Vec<FieldChange>,
}

/// What a write did to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteOutcome {
    Created,
    Updated,
    Unchanged,
}

const ITEM_COLS: &str = "id, data, materials, status, version, department_id, hall_id, updated_at";

fn item_from_row(row: &AnyRow) -> Result<StoredItem> {
    let data = get_str(row, "data")?;
    let materials = get_str(row, "materials")?;
    Ok(StoredItem {
        id: get_i64(row, "id")?,
        item: serde_json::from_str(&data)
            .map_err(|e| StoreError::Internal(format!("corrupt item data: {e}")))?,
        materials: serde_json::from_str(&materials)
            .map_err(|e| StoreError::Internal(format!("corrupt material data: {e}")))?,
        status: if get_str(row, "status")? == "retired" {
            ItemStatus::Retired
        } else {
            ItemStatus::Active
        },
        version: get_i64(row, "version")?,
        department_id: get_i64(row, "department_id")?,
        hall_id: get_opt_i64(row, "hall_id")?,
        updated_at: get_str(row, "updated_at")?,
    })
}

fn department_from_row(row: &AnyRow) -> Result<Department> {
    Ok(Department {
        id: get_i64(row, "id")?,
        code: get_str(row, "code")?,
        name: get_str(row, "name")?,
        phone: get_str(row, "phone")?,
        retired: get_i64(row, "retired")? != 0,
    })
}

fn hall_from_row(row: &AnyRow) -> Result<Hall> {
    Ok(Hall {
        id: get_i64(row, "id")?,
        name: get_str(row, "name")?,
        kind: HallKind::parse(&get_str(row, "kind")?).unwrap_or(HallKind::Department),
        address: get_str(row, "address")?,
        hours: get_str(row, "hours")?,
        retired: get_i64(row, "retired")? != 0,
    })
}

fn search_text(item: &Item) -> String {
    format!("{} {} {}", item.name, item.department, item.basic_code)
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Internal(e.to_string()))
}

/// Departments and halls that an import had to create.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Created {
    pub departments: Vec<String>,
    pub halls: Vec<String>,
}

impl Store {
    // ---- reads -------------------------------------------------------------------

    /// A counter bumped by every catalog write; caches compare it to know they are stale.
    pub async fn catalog_rev(&self) -> Result<i64> {
        self.meta_rev("catalog_rev").await
    }

    pub async fn departments(&self) -> Result<Vec<Department>> {
        let rows =
            crate::db::query("SELECT id, code, name, phone, retired FROM departments ORDER BY id")
                .fetch_all(self.r())
                .await?;
        rows.iter().map(department_from_row).collect()
    }

    pub async fn department(&self, id: i64) -> Result<Department> {
        let row = crate::db::query(
            "SELECT id, code, name, phone, retired FROM departments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.r())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("部门 {id}")))?;
        department_from_row(&row)
    }

    pub async fn halls(&self) -> Result<Vec<Hall>> {
        let rows = crate::db::query(
            "SELECT id, name, kind, address, hours, retired FROM halls ORDER BY id",
        )
        .fetch_all(self.r())
        .await?;
        rows.iter().map(hall_from_row).collect()
    }

    pub async fn hall_windows(&self, hall_id: i64) -> Result<Vec<HallWindow>> {
        let rows = crate::db::query(
            "SELECT id, hall_id, number, name, kind, retired FROM hall_windows \
             WHERE hall_id = $1 ORDER BY id",
        )
        .bind(hall_id)
        .fetch_all(self.r())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HallWindow {
                    id: get_i64(r, "id")?,
                    hall_id: get_i64(r, "hall_id")?,
                    number: get_str(r, "number")?,
                    name: get_str(r, "name")?,
                    kind: get_str(r, "kind")?,
                    retired: get_i64(r, "retired")? != 0,
                })
            })
            .collect()
    }

    /// Every item, active and retired, in 实施编码 order.
    pub async fn all_items(&self) -> Result<Vec<StoredItem>> {
        let rows = crate::db::query(&format!("SELECT {ITEM_COLS} FROM items ORDER BY impl_code"))
            .fetch_all(self.r())
            .await?;
        rows.iter().map(item_from_row).collect()
    }

    pub async fn item(&self, impl_code: &str) -> Result<StoredItem> {
        let row = crate::db::query(&format!(
            "SELECT {ITEM_COLS} FROM items WHERE impl_code = $1"
        ))
        .bind(impl_code)
        .fetch_optional(self.r())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("事项 {impl_code}")))?;
        item_from_row(&row)
    }

    pub async fn item_versions(&self, impl_code: &str) -> Result<Vec<ItemVersion>> {
        let item = self.item(impl_code).await?;
        let rows = crate::db::query(
            "SELECT version, actor, at, action, changes FROM item_versions \
             WHERE item_id = $1 ORDER BY version DESC",
        )
        .bind(item.id)
        .fetch_all(self.r())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ItemVersion {
                    version: get_i64(r, "version")?,
                    actor: get_str(r, "actor")?,
                    at: get_str(r, "at")?,
                    action: get_str(r, "action")?,
                    changes: serde_json::from_str(&get_str(r, "changes")?)
                        .map_err(|e| StoreError::Internal(e.to_string()))?,
                })
            })
            .collect()
    }

    /// The item and its materials as they were at `version`.
    pub async fn item_snapshot(
        &self,
        impl_code: &str,
        version: i64,
    ) -> Result<(Item, Vec<Material>)> {
        let item = self.item(impl_code).await?;
        let row = crate::db::query(
            "SELECT snapshot FROM item_versions WHERE item_id = $1 AND version = $2",
        )
        .bind(item.id)
        .bind(version)
        .fetch_optional(self.r())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("事项 {impl_code} 版本 {version}")))?;
        serde_json::from_str(&get_str(&row, "snapshot")?)
            .map_err(|e| StoreError::Internal(e.to_string()))
    }

    // ---- writes ------------------------------------------------------------------

    pub async fn create_department(
        &self,
        actor: &str,
        code: &Uscc,
        name: &str,
        phone: &str,
        now: DateTime<Utc>,
    ) -> Result<Department> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("部门名称必填".into()));
        }
        let mut tx = self.begin_write().await?;
        let row = crate::db::query(
            "INSERT INTO departments (code, name, phone, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, code, name, phone, retired",
        )
        .bind(code.as_str())
        .bind(name)
        .bind(phone.trim())
        .bind(now_text(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("统一社会信用代码 {code} 已登记"))
            } else {
                e.into()
            }
        })?;
        audit(
            &mut tx,
            now,
            actor,
            "department.create",
            &format!("{code} {name}"),
        )
        .await?;
        bump_rev(&mut tx).await?;
        self.commit(tx).await?;
        self.revs_changed();
        department_from_row(&row)
    }

    pub async fn update_department(
        &self,
        actor: &str,
        id: i64,
        name: &str,
        phone: &str,
        retired: bool,
        now: DateTime<Utc>,
    ) -> Result<Department> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("部门名称必填".into()));
        }
        let mut tx = self.begin_write().await?;
        let row = crate::db::query(
            "UPDATE departments SET name = $1, phone = $2, retired = $3 WHERE id = $4 \
             RETURNING id, code, name, phone, retired",
        )
        .bind(name)
        .bind(phone.trim())
        .bind(i64::from(retired))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("部门 {id}")))?;
        audit(
            &mut tx,
            now,
            actor,
            "department.update",
            &format!("{id} {name} retired={retired}"),
        )
        .await?;
        bump_rev(&mut tx).await?;
        self.commit(tx).await?;
        self.revs_changed();
        department_from_row(&row)
    }

    pub async fn create_hall(
        &self,
        actor: &str,
        name: &str,
        kind: HallKind,
        address: &str,
        hours: &str,
        now: DateTime<Utc>,
    ) -> Result<Hall> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("大厅名称必填".into()));
        }
        let mut tx = self.begin_write().await?;
        let row = crate::db::query(
            "INSERT INTO halls (name, kind, address, hours, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id, name, kind, address, hours, retired",
        )
        .bind(name)
        .bind(kind.code())
        .bind(address.trim())
        .bind(hours.trim())
        .bind(now_text(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("大厅「{name}」已存在"))
            } else {
                e.into()
            }
        })?;
        audit(&mut tx, now, actor, "hall.create", name).await?;
        bump_rev(&mut tx).await?;
        self.commit(tx).await?;
        self.revs_changed();
        hall_from_row(&row)
    }

    pub async fn update_hall(
        &self,
        actor: &str,
        id: i64,
        details: &HallDetails<'_>,
        now: DateTime<Utc>,
    ) -> Result<Hall> {
        let HallDetails {
            kind,
            address,
            hours,
            retired,
        } = *details;
        let mut tx = self.begin_write().await?;
        let row = crate::db::query(
            "UPDATE halls SET kind = $1, address = $2, hours = $3, retired = $4 WHERE id = $5 \
             RETURNING id, name, kind, address, hours, retired",
        )
        .bind(kind.code())
        .bind(address.trim())
        .bind(hours.trim())
        .bind(i64::from(retired))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("大厅 {id}")))?;
        audit(&mut tx, now, actor, "hall.update", &id.to_string()).await?;
        bump_rev(&mut tx).await?;
        self.commit(tx).await?;
        self.revs_changed();
        hall_from_row(&row)
    }

    pub async fn create_window(
        &self,
        actor: &str,
        hall_id: i64,
        number: &str,
        name: &str,
        kind: &str,
        now: DateTime<Utc>,
    ) -> Result<HallWindow> {
        let (number, name) = (number.trim(), name.trim());
        if number.is_empty() || name.is_empty() {
            return Err(StoreError::Invalid("窗口号和窗口名称必填".into()));
        }
        if kind != "comprehensive" && kind != "dedicated" {
            return Err(StoreError::Invalid("窗口类型应为综合窗口或专窗".into()));
        }
        let mut tx = self.begin_write().await?;
        let exists = crate::db::query("SELECT id FROM halls WHERE id = $1")
            .bind(hall_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound(format!("大厅 {hall_id}")));
        }
        let row = crate::db::query(
            "INSERT INTO hall_windows (hall_id, number, name, kind) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(hall_id)
        .bind(number)
        .bind(name)
        .bind(kind)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("窗口号 {number} 已存在"))
            } else {
                e.into()
            }
        })?;
        audit(
            &mut tx,
            now,
            actor,
            "window.create",
            &format!("{hall_id}/{number}"),
        )
        .await?;
        self.commit(tx).await?;
        Ok(HallWindow {
            id: get_i64(&row, "id")?,
            hall_id,
            number: number.into(),
            name: name.into(),
            kind: kind.into(),
            retired: false,
        })
    }

    /// Creates or changes one item (with its materials). The department and the hall must
    /// already exist. Writes a new version when anything changed.
    pub async fn save_item(
        &self,
        actor: &str,
        item: &Item,
        materials: &[Material],
        now: DateTime<Utc>,
    ) -> Result<WriteOutcome> {
        item.validate()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        let dept_id = find_department(&mut tx, item, None).await?;
        let hall_id = find_hall(&mut tx, item, None).await?;
        let outcome = save_item_tx(
            &mut tx, actor, item, materials, dept_id, hall_id, now, "edit",
        )
        .await?;
        if outcome != WriteOutcome::Unchanged {
            bump_rev(&mut tx).await?;
        }
        self.commit(tx).await?;
        self.revs_changed();
        Ok(outcome)
    }

    /// Retires an item: it stays in the catalog and its history, but is no longer offered.
    pub async fn set_item_status(
        &self,
        actor: &str,
        impl_code: &str,
        retire: bool,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if retire && reason.trim().is_empty() {
            return Err(StoreError::Invalid("退役事项必须说明原因".into()));
        }
        let mut tx = self.begin_write().await?;
        let row = crate::db::query(&format!(
            "SELECT {ITEM_COLS} FROM items WHERE impl_code = $1"
        ))
        .bind(impl_code)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("事项 {impl_code}")))?;
        let current = item_from_row(&row)?;
        let target = if retire {
            ItemStatus::Retired
        } else {
            ItemStatus::Active
        };
        if current.status == target {
            return Err(StoreError::Conflict(format!(
                "事项已是「{}」状态",
                target.label()
            )));
        }
        let version = current.version + 1;
        crate::db::query(
            "UPDATE items SET status = $1, version = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(target.code())
        .bind(version)
        .bind(now_text(now))
        .bind(current.id)
        .execute(&mut *tx)
        .await?;
        let changes = vec![FieldChange {
            field: "状态".into(),
            before: current.status.label().into(),
            after: format!("{}（{}）", target.label(), reason.trim()),
        }];
        insert_version(
            &mut tx,
            current.id,
            version,
            actor,
            now,
            if retire { "retire" } else { "restore" },
            &changes,
            &current.item,
            &current.materials,
        )
        .await?;
        bump_rev(&mut tx).await?;
        self.commit(tx).await?;
        self.revs_changed();
        Ok(())
    }

    pub async fn audit_entries(&self, limit: i64) -> Result<Vec<(String, String, String, String)>> {
        let rows = crate::db::query(
            "SELECT at, actor, action, detail FROM audit_log ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.r())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get_str(r, "at")?,
                    get_str(r, "actor")?,
                    get_str(r, "action")?,
                    get_str(r, "detail")?,
                ))
            })
            .collect()
    }
}

pub(crate) async fn bump_rev(conn: &mut AnyConnection) -> Result<()> {
    crate::db::query("UPDATE meta SET value = value + 1 WHERE key = 'catalog_rev'")
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) async fn audit(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<()> {
    crate::audit::append(conn, now, actor, action, detail).await
}

/// Finds the item's department by 实施主体编码; with `create`, registers it when unknown.
/// A known code under another name is refused: the code identifies the department.
pub(crate) async fn find_department(
    conn: &mut AnyConnection,
    item: &Item,
    create: Option<DateTime<Utc>>,
) -> Result<(i64, bool)> {
    let row = crate::db::query("SELECT id, name FROM departments WHERE code = $1")
        .bind(item.department_code.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(r) => {
            let name = get_str(&r, "name")?;
            if name != item.department {
                return Err(StoreError::Invalid(format!(
                    "实施主体编码 {} 已登记为「{}」，与「{}」不一致",
                    item.department_code, name, item.department
                )));
            }
            Ok((get_i64(&r, "id")?, false))
        }
        None if create.is_some() => {
            let by_name = crate::db::query("SELECT code FROM departments WHERE name = $1")
                .bind(&item.department)
                .fetch_optional(&mut *conn)
                .await?;
            if let Some(r) = by_name {
                return Err(StoreError::Invalid(format!(
                    "实施主体「{}」已登记编码 {}，与 {} 不一致",
                    item.department,
                    get_str(&r, "code")?,
                    item.department_code
                )));
            }
            let r = crate::db::query("INSERT INTO departments (code, name, phone, created_at) VALUES ($1, $2, '', $3) RETURNING id")
                .bind(item.department_code.as_str())
                .bind(&item.department)
                .bind(now_text(create.unwrap_or_default()))
                .fetch_one(&mut *conn)
                .await?;
            Ok((get_i64(&r, "id")?, true))
        }
        None => Err(StoreError::Invalid(format!(
            "实施主体编码 {}（{}）未登记，请先在部门管理中添加",
            item.department_code, item.department
        ))),
    }
}

pub(crate) async fn find_hall(
    conn: &mut AnyConnection,
    item: &Item,
    create: Option<DateTime<Utc>>,
) -> Result<(Option<i64>, bool)> {
    if item.hall.is_empty() {
        return Ok((None, false));
    }
    let row = crate::db::query("SELECT id FROM halls WHERE name = $1")
        .bind(&item.hall)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(r) => Ok((Some(get_i64(&r, "id")?), false)),
        None if create.is_some() => {
            let kind = if item.in_comprehensive_hall {
                HallKind::Comprehensive
            } else {
                HallKind::SubCentre
            };
            let r = crate::db::query("INSERT INTO halls (name, kind, address, hours, created_at) VALUES ($1, $2, '', '', $3) RETURNING id")
                .bind(&item.hall)
                .bind(kind.code())
                .bind(now_text(create.unwrap_or_default()))
                .fetch_one(&mut *conn)
                .await?;
            Ok((Some(get_i64(&r, "id")?), true))
        }
        None => Err(StoreError::Invalid(format!(
            "办理地点「{}」未登记，请先在大厅管理中添加",
            item.hall
        ))),
    }
}

#[allow(clippy::too_many_arguments)]
async fn insert_version(
    conn: &mut AnyConnection,
    item_id: i64,
    version: i64,
    actor: &str,
    now: DateTime<Utc>,
    action: &str,
    changes: &[FieldChange],
    item: &Item,
    materials: &[Material],
) -> Result<()> {
    crate::db::query(
        "INSERT INTO item_versions (item_id, version, actor, at, action, changes, snapshot) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(item_id)
    .bind(version)
    .bind(actor)
    .bind(now_text(now))
    .bind(action)
    .bind(json(&changes)?)
    .bind(json(&(item, materials))?)
    .execute(conn)
    .await?;
    Ok(())
}

fn material_changes(before: &[Material], after: &[Material]) -> Vec<FieldChange> {
    if before == after {
        return vec![];
    }
    let names = |m: &[Material]| {
        m.iter()
            .map(|m| m.name.clone())
            .collect::<Vec<_>>()
            .join("、")
    };
    vec![FieldChange {
        field: "申请材料".into(),
        before: names(before),
        after: names(after),
    }]
}

/// Inserts or updates one item inside a transaction; `action` names the source of the
/// change in the history ("create", "edit", "import").
#[allow(clippy::too_many_arguments)]
pub(crate) async fn save_item_tx(
    conn: &mut AnyConnection,
    actor: &str,
    item: &Item,
    materials: &[Material],
    (dept_id, _): (i64, bool),
    (hall_id, _): (Option<i64>, bool),
    now: DateTime<Utc>,
    action: &str,
) -> Result<WriteOutcome> {
    let existing = crate::db::query(&format!(
        "SELECT {ITEM_COLS} FROM items WHERE impl_code = $1"
    ))
    .bind(&item.impl_code)
    .fetch_optional(&mut *conn)
    .await?;
    let materials: Vec<Material> = materials
        .iter()
        .map(|m| Material {
            impl_code: item.impl_code.clone(),
            ..m.clone()
        })
        .collect();
    match existing {
        None => {
            let row = crate::db::query(
                "INSERT INTO items (impl_code, basic_code, name, item_type, department_id, hall_id, \
                 application, status, version, data, materials, search_text, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', 1, $8, $9, $10, $11) RETURNING id",
            )
            .bind(&item.impl_code)
            .bind(&item.basic_code)
            .bind(&item.name)
            .bind(item.item_type.code())
            .bind(dept_id)
            .bind(hall_id)
            .bind(i64::from(item.item_type.is_application()))
            .bind(json(item)?)
            .bind(json(&materials)?)
            .bind(search_text(item))
            .bind(now_text(now))
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!("实施编码 {} 已存在", item.impl_code))
                } else {
                    e.into()
                }
            })?;
            let id = get_i64(&row, "id")?;
            let created = if action == "import" {
                "import"
            } else {
                "create"
            };
            insert_version(conn, id, 1, actor, now, created, &[], item, &materials).await?;
            audit(conn, now, actor, "item.create", &item.impl_code).await?;
            Ok(WriteOutcome::Created)
        }
        Some(row) => {
            let current = item_from_row(&row)?;
            let mut changes: Vec<FieldChange> = current
                .item
                .diff(item)
                .into_iter()
                .map(|(field, before, after)| FieldChange {
                    field,
                    before,
                    after,
                })
                .collect();
            changes.extend(material_changes(&current.materials, &materials));
            if changes.is_empty() {
                return Ok(WriteOutcome::Unchanged);
            }
            let version = current.version + 1;
            crate::db::query(
                "UPDATE items SET basic_code = $1, name = $2, item_type = $3, department_id = $4, \
                 hall_id = $5, application = $6, version = $7, data = $8, materials = $9, \
                 search_text = $10, updated_at = $11 WHERE id = $12",
            )
            .bind(&item.basic_code)
            .bind(&item.name)
            .bind(item.item_type.code())
            .bind(dept_id)
            .bind(hall_id)
            .bind(i64::from(item.item_type.is_application()))
            .bind(version)
            .bind(json(item)?)
            .bind(json(&materials)?)
            .bind(search_text(item))
            .bind(now_text(now))
            .bind(current.id)
            .execute(&mut *conn)
            .await?;
            insert_version(
                conn, current.id, version, actor, now, action, &changes, item, &materials,
            )
            .await?;
            audit(conn, now, actor, "item.update", &item.impl_code).await?;
            Ok(WriteOutcome::Updated)
        }
    }
}

pub(crate) async fn current_materials(
    conn: &mut AnyConnection,
    impl_code: &str,
) -> Result<Vec<Material>> {
    let row = crate::db::query("SELECT materials FROM items WHERE impl_code = $1")
        .bind(impl_code)
        .fetch_optional(conn)
        .await?;
    match row {
        Some(r) => serde_json::from_str(&get_str(&r, "materials")?)
            .map_err(|e| StoreError::Internal(e.to_string())),
        None => Ok(vec![]),
    }
}

/// An item's approval workflow: its steps and whether it is processed jointly (联合办理,
/// which raises the extension cap to 15 working days).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ItemWorkflow {
    pub steps: Vec<tongban_core::case::Step>,
    pub joint: bool,
    /// The item's own extension cap in working days (None: 10, or 15 jointly).
    #[serde(default)]
    pub extension_cap: Option<u32>,
}

impl Store {
    /// The item's configured workflow, or None for the default 承办 → 审核 → 批准.
    pub async fn item_workflow(&self, impl_code: &str) -> Result<Option<ItemWorkflow>> {
        let r = crate::db::query(
            "SELECT steps, joint, extension_cap FROM item_workflows WHERE impl_code = $1",
        )
        .bind(impl_code)
        .fetch_optional(self.r())
        .await?;
        r.map(|r| {
            Ok(ItemWorkflow {
                steps: serde_json::from_str(&get_str(&r, "steps")?)
                    .map_err(|e| StoreError::Internal(e.to_string()))?,
                joint: get_i64(&r, "joint")? != 0,
                extension_cap: r
                    .try_get::<Option<i64>, _>("extension_cap")?
                    .and_then(|n| u32::try_from(n).ok()),
            })
        })
        .transpose()
    }

    /// Sets an item's workflow. Steps need a name and a department role (审批人员 or
    /// 部门负责人); step limits are working days.
    pub async fn set_item_workflow(
        &self,
        actor: &str,
        impl_code: &str,
        w: &ItemWorkflow,
        now: DateTime<Utc>,
    ) -> Result<()> {
        use tongban_core::case::Actor;
        self.item(impl_code).await?;
        if w.steps.is_empty() || w.steps.len() > 8 {
            return Err(StoreError::Invalid("审批环节应为1-8个".into()));
        }
        for s in &w.steps {
            if s.name.trim().is_empty() {
                return Err(StoreError::Invalid("审批环节名称必填".into()));
            }
            if !matches!(s.role, Actor::Approver | Actor::Head) {
                return Err(StoreError::Invalid(format!(
                    "「{}」环节应由部门审批人员或部门负责人办理",
                    s.name
                )));
            }
            if s.limit_days == Some(0) {
                return Err(StoreError::Invalid(format!(
                    "「{}」环节时限应大于0",
                    s.name
                )));
            }
        }
        if w.extension_cap.is_some_and(|c| c > 60) {
            return Err(StoreError::Invalid("延长期限上限应为0至60个工作日".into()));
        }
        let steps = json(&w.steps)?;
        let mut tx = self.begin_write().await?;
        crate::db::query(
            "INSERT INTO item_workflows (impl_code, steps, joint, updated_by, updated_at, extension_cap) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (impl_code) DO UPDATE SET steps = $2, joint = $3, updated_by = $4, updated_at = $5, extension_cap = $6",
        )
        .bind(impl_code)
        .bind(&steps)
        .bind(i64::from(w.joint))
        .bind(actor)
        .bind(now_text(now))
        .bind(w.extension_cap.map(i64::from))
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            now,
            actor,
            "item.workflow",
            &format!("{impl_code} {steps} joint={}", w.joint),
        )
        .await?;
        self.commit(tx).await?;
        Ok(())
    }
}

impl Store {
    /// Renames a window, changes its kind, or takes it out of service (kept, never deleted).
    pub async fn update_window(
        &self,
        actor: &str,
        id: i64,
        name: &str,
        kind: &str,
        retired: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("窗口名称必填".into()));
        }
        if kind != "comprehensive" && kind != "dedicated" {
            return Err(StoreError::Invalid("窗口类型应为综合窗口或专窗".into()));
        }
        let mut tx = self.begin_write().await?;
        let done = crate::db::query(
            "UPDATE hall_windows SET name = $1, kind = $2, retired = $3 WHERE id = $4",
        )
        .bind(name)
        .bind(kind)
        .bind(i64::from(retired))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("窗口 {id}")));
        }
        audit(
            &mut tx,
            now,
            actor,
            "window.update",
            &format!("{id} {name} {kind} retired={retired}"),
        )
        .await?;
        self.commit(tx).await?;
        Ok(())
    }
}

impl Store {
    /// Records one line in the audit log in a transaction of its own (a refusal, a read of
    /// personal data: things that change nothing else).
    pub async fn record_audit(
        &self,
        now: DateTime<Utc>,
        actor: &str,
        action: &str,
        detail: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        audit(&mut tx, now, actor, action, detail).await?;
        self.commit(tx).await
    }
}
