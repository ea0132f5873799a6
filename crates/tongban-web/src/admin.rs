//! Catalog administration pages (系统管理员 only): items, materials, versions, import and
//! export, departments, halls and windows, users and roles, the 四级四同 report.

use crate::auth::{Admin, CsrfToken, SignedIn, Viewer};
use crate::error::{AppError, PageError};
use crate::forms::read_import_parts;
use crate::ui::{render, PageCtx};
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::collections::HashMap;
use tongban_app::accounts::create_user as create_user_with;
use tongban_app::catalog::{export_file, import_owned as run_import};
use tongban_core::catalog::{
    four_same_report, FourSameViolation, Item, Material, ITEM_COLUMNS, ITEM_REQUIRED,
    MATERIAL_COLUMNS,
};
use tongban_core::ids::Uscc;
use tongban_core::roles::Role;
use tongban_store::catalog::{HallKind, ItemStatus, ItemVersion};
use tongban_store::catalog_file;
use tongban_store::StoreError;

type Fields = HashMap<String, String>;

fn field<'a>(f: &'a Fields, k: &str) -> &'a str {
    f.get(k).map(String::as_str).unwrap_or("")
}

/// Turns a store refusal into a message shown on the form; other errors propagate.
fn refusal(e: StoreError) -> Result<String, PageError> {
    match e {
        StoreError::Invalid(m) | StoreError::Conflict(m) | StoreError::NotFound(m) => Ok(m),
        other => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "admin/index.html")]
struct IndexPage {
    ctx: PageCtx,
    message: String,
    items: usize,
    retired: usize,
    departments: usize,
    halls: usize,
    users: usize,
    violations: usize,
    /// A year within the next twelve months with no holiday table, and the open cases whose
    /// deadlines are provisional because of it.
    missing_year: Option<(i32, i64)>,
}

pub async fn index(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(_): Admin,
) -> Result<Html<String>, PageError> {
    let view = state.catalog().await?;
    let items: Vec<Item> = view.active().map(|i| i.item.clone()).collect();
    render(IndexPage {
        ctx: PageCtx::new(&viewer, &csrf),
        message: String::new(),
        items: view.items.len(),
        retired: view
            .items
            .iter()
            .filter(|i| i.status == ItemStatus::Retired)
            .count(),
        departments: view.departments.len(),
        halls: view.halls.len(),
        users: state.store.users().await?.len(),
        violations: four_same_report(&items).len(),
        missing_year: tongban_app::calendar::missing_year(&state).await?,
    })
}

#[derive(Template)]
#[template(path = "admin/items.html")]
struct ItemsPage {
    ctx: PageCtx,
    q: String,
    rows: Vec<(String, String, String, bool, i64)>,
    total: usize,
}

#[derive(serde::Deserialize, Default)]
pub struct Q {
    #[serde(default)]
    q: String,
}

pub async fn items(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(_): Admin,
    Query(q): Query<Q>,
) -> Result<Html<String>, PageError> {
    let view = state.catalog().await?;
    let term = q.q.trim();
    let rows: Vec<_> = view
        .items
        .iter()
        .filter(|i| {
            term.is_empty() || i.item.name.contains(term) || i.item.impl_code.contains(term)
        })
        .take(500)
        .map(|i| {
            (
                i.item.impl_code.clone(),
                i.item.name.clone(),
                i.item.department.clone(),
                i.status == ItemStatus::Retired,
                i.version,
            )
        })
        .collect();
    render(ItemsPage {
        ctx: PageCtx::new(&viewer, &csrf),
        q: q.q.clone(),
        total: view.items.len(),
        rows,
    })
}

#[derive(Template)]
#[template(path = "admin/item_form.html")]
struct ItemForm {
    ctx: PageCtx,
    is_new: bool,
    code: String,
    error: String,
    fields: Vec<FieldView>,
    materials: String,
    retired: bool,
}

/// One field of the item form: coded fields are chosen from their code list (a select, or
/// checkboxes for `^`-separated sets), never typed as raw codes.
struct FieldView {
    i: usize,
    name: &'static str,
    value: String,
    required: bool,
    /// (code, label, chosen); empty for a free text field.
    options: Vec<(String, String, bool)>,
    multi: bool,
    /// The refusal about this field, shown beside it.
    error: String,
}

/// The code list of a coded column: ((code, label) pairs, several values allowed).
fn code_list(column: &str) -> Option<(Vec<(&'static str, &'static str)>, bool)> {
    use tongban_core::catalog as c;
    fn pairs<T: Copy>(
        all: &[T],
        code: fn(T) -> &'static str,
        label: fn(T) -> &'static str,
    ) -> Vec<(&'static str, &'static str)> {
        all.iter().map(|v| (code(*v), label(*v))).collect()
    }
    let yes_no = vec![("是", "是"), ("否", "否")];
    Some(match column {
        "事项类型" => (
            pairs(c::ItemType::ALL, c::ItemType::code, c::ItemType::label),
            false,
        ),
        "行使层级" => (
            pairs(
                c::AdminLevel::ALL,
                c::AdminLevel::code,
                c::AdminLevel::label,
            ),
            false,
        ),
        "服务对象" => (
            pairs(c::Audience::ALL, c::Audience::code, c::Audience::label),
            true,
        ),
        "办件类型" => (
            pairs(c::CaseKind::ALL, c::CaseKind::code, c::CaseKind::label),
            false,
        ),
        "通办范围" => (
            pairs(
                c::ServiceScope::ALL,
                c::ServiceScope::code,
                c::ServiceScope::label,
            ),
            false,
        ),
        "网上办理深度" => (
            pairs(
                c::Capability::ALL,
                c::Capability::code,
                c::Capability::label,
            ),
            true,
        ),
        "法定办结时限单位" | "承诺办结时限单位" => {
            (vec![("工作日", "工作日"), ("自然日", "自然日")], false)
        }
        "是否收费" | "是否网办" | "进驻综合大厅" | "高频事项" => (yes_no, false),
        _ => return None,
    })
}

/// Whether a stored or typed value names this option (by code or by label).
fn names_option(value: &str, code: &str, label: &str) -> bool {
    let v = value.trim();
    v == code
        || v == label
        || (code == "是" && matches!(v, "1" | "Y" | "y" | "true"))
        || (code == "否" && matches!(v, "0" | "N" | "n" | "false"))
}

fn form_fields(values: &dyn Fn(&str) -> String) -> Vec<FieldView> {
    ITEM_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let value = values(c);
            let (options, multi) = match code_list(c) {
                Some((list, multi)) => (
                    list.into_iter()
                        .map(|(code, label)| {
                            let chosen = if multi {
                                value.split('^').any(|p| names_option(p, code, label))
                            } else {
                                names_option(&value, code, label)
                            };
                            (code.to_string(), label.to_string(), chosen)
                        })
                        .collect(),
                    multi,
                ),
                None => (vec![], false),
            };
            FieldView {
                i: i + 1,
                name: c,
                value,
                required: ITEM_REQUIRED.contains(c),
                options,
                multi,
                error: String::new(),
            }
        })
        .collect()
}

fn materials_text(materials: &[Material]) -> String {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(vec![]);
    for m in materials {
        let cols = m.to_columns();
        let _ = w.write_record(&cols[1..]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Parses the materials textarea (one CSV line per material, without the 实施编码 column).
pub fn parse_materials_text(impl_code: &str, text: &str) -> Result<Vec<Material>, String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (n, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| format!("申请材料第{}行：{e}", n + 1))?;
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if rec.len() > MATERIAL_COLUMNS.len() - 1 {
            return Err(format!("申请材料第{}行：列数过多", n + 1));
        }
        let get = |c: &str| -> &str {
            if c == "实施编码" {
                return impl_code;
            }
            MATERIAL_COLUMNS[1..]
                .iter()
                .position(|x| *x == c)
                .and_then(|i| rec.get(i))
                .unwrap_or("")
        };
        out.push(Material::from_columns(get).map_err(|e| format!("申请材料第{}行 {e}", n + 1))?);
    }
    Ok(out)
}

pub async fn new_item_form(
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(_): Admin,
) -> Result<Html<String>, PageError> {
    render(ItemForm {
        ctx: PageCtx::new(&viewer, &csrf),
        is_new: true,
        code: String::new(),
        error: String::new(),
        fields: form_fields(&|c| match c {
            "行使层级" => "3".into(),
            "事项类型" => "01".into(),
            "办件类型" => "承诺件".into(),
            "法定办结时限单位" | "承诺办结时限单位" => "工作日".into(),
            _ => String::new(),
        }),
        materials: String::new(),
        retired: false,
    })
}

pub async fn edit_item_form(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(_): Admin,
    Path(code): Path<String>,
) -> Result<Html<String>, PageError> {
    let stored = state.store.item(&code).await?;
    let cols = stored.item.to_columns();
    render(ItemForm {
        ctx: PageCtx::new(&viewer, &csrf),
        is_new: false,
        code,
        error: String::new(),
        fields: form_fields(&|c| {
            ITEM_COLUMNS
                .iter()
                .position(|x| *x == c)
                .map(|i| cols[i].clone())
                .unwrap_or_default()
        }),
        materials: materials_text(&stored.materials),
        retired: stored.status == ItemStatus::Retired,
    })
}

async fn save_item_form(
    state: &AppState,
    viewer: Viewer,
    csrf: CsrfToken,
    user: &str,
    code: Option<String>,
    f: Fields,
) -> Result<Response, PageError> {
    let fixed_code = code.clone();
    let get = |c: &str| -> String {
        if c == "实施编码" {
            if let Some(code) = &fixed_code {
                return code.clone();
            }
        }
        // A set chosen with checkboxes (`column__code`) is written as `code^code`.
        if code_list(c).is_some_and(|(_, multi)| multi) {
            let prefix = format!("{c}__");
            let mut codes: Vec<&str> = f
                .keys()
                .filter_map(|k| k.strip_prefix(&prefix))
                .filter(|code| *code != "present")
                .collect();
            if !codes.is_empty() || f.contains_key(&format!("{c}__present")) {
                codes.sort();
                return codes.join("^");
            }
        }
        field(&f, c).to_string()
    };
    let values: HashMap<&str, String> = ITEM_COLUMNS.iter().map(|c| (*c, get(c))).collect();
    let mut error_column = "";
    let parsed = Item::from_columns(|c| values.get(c).map(String::as_str).unwrap_or(""))
        .map_err(|e| {
            error_column = e.column;
            e.to_string()
        })
        .and_then(|item| {
            let materials = parse_materials_text(&item.impl_code, field(&f, "materials"))?;
            Ok((item, materials))
        });
    let error = match parsed {
        Ok((item, materials)) => {
            if code.is_none() && state.store.item(&item.impl_code).await.is_ok() {
                format!("实施编码 {} 已存在", item.impl_code)
            } else {
                match state
                    .store
                    .save_item(user, &item, &materials, state.now())
                    .await
                {
                    Ok(_) => {
                        return Ok(Redirect::to(&format!(
                            "/admin/items/{}/history",
                            crate::auth::url_encode(&item.impl_code)
                        ))
                        .into_response())
                    }
                    Err(e) => refusal(e)?,
                }
            }
        }
        Err(m) => m,
    };
    let mut fields = form_fields(&|c| values.get(c).cloned().unwrap_or_default());
    for fv in fields.iter_mut().filter(|fv| fv.name == error_column) {
        fv.error = error.clone();
    }
    let page = render(ItemForm {
        ctx: PageCtx::new(&viewer, &csrf),
        is_new: code.is_none(),
        code: code.unwrap_or_default(),
        error,
        fields,
        materials: field(&f, "materials").to_string(),
        retired: false,
    })?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

pub async fn create_item(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(u): Admin,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    save_item_form(&state, viewer, csrf, &u.username, None, f).await
}

pub async fn update_item(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(u): Admin,
    Path(code): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    state.store.item(&code).await?;
    save_item_form(&state, viewer, csrf, &u.username, Some(code), f).await
}

pub async fn retire_item(
    State(state): State<AppState>,
    Admin(u): Admin,
    Path(code): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    state
        .store
        .set_item_status(&u.username, &code, true, field(&f, "reason"), state.now())
        .await?;
    Ok(Redirect::to(&format!(
        "/admin/items/{}/history",
        crate::auth::url_encode(&code)
    ))
    .into_response())
}

pub async fn restore_item(
    State(state): State<AppState>,
    Admin(u): Admin,
    Path(code): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    state
        .store
        .set_item_status(&u.username, &code, false, field(&f, "reason"), state.now())
        .await?;
    Ok(Redirect::to(&format!(
        "/admin/items/{}/history",
        crate::auth::url_encode(&code)
    ))
    .into_response())
}

struct VersionRow {
    version: i64,
    action: &'static str,
    actor: String,
    at: String,
    changes: Vec<tongban_store::catalog::FieldChange>,
}

#[derive(Template)]
#[template(path = "admin/history.html")]
struct HistoryPage {
    ctx: PageCtx,
    code: String,
    name: String,
    versions: Vec<VersionRow>,
}

pub fn action_label(a: &str) -> &'static str {
    match a {
        "create" => "新增",
        "import" => "导入",
        "edit" => "修改",
        "retire" => "退役",
        "restore" => "恢复",
        _ => "变更",
    }
}

pub async fn history(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(_): Admin,
    Path(code): Path<String>,
) -> Result<Html<String>, PageError> {
    let stored = state.store.item(&code).await?;
    let versions: Vec<ItemVersion> = state.store.item_versions(&code).await?;
    render(HistoryPage {
        ctx: PageCtx::new(&viewer, &csrf),
        code,
        name: stored.item.name,
        versions: versions
            .into_iter()
            .map(|v| VersionRow {
                version: v.version,
                action: action_label(&v.action),
                actor: v.actor,
                at: tongban_app::clock::beijing_text(&v.at),
                changes: v.changes,
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "admin/import.html")]
struct ImportPage {
    ctx: PageCtx,
    error: String,
    /// The refusal split into its bad rows (one list item each).
    error_rows: Vec<String>,
    report: String,
}

/// A refused import's message split at each bad row ("；file 第n行 …").
fn error_rows(message: &str) -> Vec<String> {
    let mut rows: Vec<String> = vec![];
    for part in message.split('；') {
        let starts_row = part
            .split_once(" 第")
            .is_some_and(|(file, rest)| !file.is_empty() && rest.contains('行'));
        match rows.last_mut() {
            Some(last) if !starts_row => {
                last.push('；');
                last.push_str(part);
            }
            _ => rows.push(part.to_string()),
        }
    }
    rows.retain(|r| !r.is_empty());
    rows
}

pub async fn import_form(
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(_): Admin,
) -> Result<Html<String>, PageError> {
    render(ImportPage {
        ctx: PageCtx::new(&viewer, &csrf),
        error: String::new(),
        error_rows: vec![],
        report: String::new(),
    })
}

pub fn report_text(r: &catalog_file::ImportReport) -> String {
    let mut s = format!(
        "导入成功：新增 {} 项，更新 {} 项，未变化 {} 项，申请材料 {} 条。",
        r.created, r.updated, r.unchanged, r.materials
    );
    if !r.created_departments.is_empty() {
        s.push_str(&format!("新建部门：{}。", r.created_departments.join("、")));
    }
    if !r.created_halls.is_empty() {
        s.push_str(&format!("新建大厅：{}。", r.created_halls.join("、")));
    }
    s
}

pub async fn import_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(u): Admin,
    mp: Multipart,
) -> Result<Response, PageError> {
    let result = match read_import_parts(mp).await {
        Ok((file, bytes, materials)) => run_import(&state, &u.username, file, bytes, materials)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    let (status, error, report) = match result {
        Ok(r) => (axum::http::StatusCode::OK, String::new(), report_text(&r)),
        Err(e) if e.status.is_client_error() => (e.status, e.message, String::new()),
        Err(e) => return Err(PageError(e)),
    };
    let page = render(ImportPage {
        ctx: PageCtx::new(&viewer, &csrf),
        error_rows: error_rows(&error),
        error,
        report,
    })?;
    Ok((status, page).into_response())
}

#[derive(serde::Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    format: String,
    #[serde(default)]
    part: String,
}

/// Builds an export file: (content type, file name, bytes).
pub async fn export(
    State(state): State<AppState>,
    Admin(_): Admin,
    Query(q): Query<ExportQuery>,
) -> Result<Response, PageError> {
    let (ct, name, bytes) = export_file(&state, &q.format, &q.part).await?;
    Ok((
        [
            (CONTENT_TYPE, ct.to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "admin/departments.html")]
struct DepartmentsPage {
    ctx: PageCtx,
    error: String,
    rows: Vec<tongban_store::catalog::Department>,
}

async fn departments_page(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    error: String,
) -> Result<Html<String>, PageError> {
    render(DepartmentsPage {
        ctx: PageCtx::new(viewer, csrf),
        error,
        rows: state.store.departments().await?,
    })
}

pub async fn departments(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(_): Admin,
) -> Result<Html<String>, PageError> {
    departments_page(&state, &viewer, &csrf, String::new()).await
}

pub async fn create_department(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(u): Admin,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let error = match Uscc::parse(field(&f, "code")) {
        Err(e) => e.to_string(),
        Ok(code) => match state
            .store
            .create_department(
                &u.username,
                &code,
                field(&f, "name"),
                field(&f, "phone"),
                state.now(),
            )
            .await
        {
            Ok(_) => return Ok(Redirect::to("/admin/departments").into_response()),
            Err(e) => refusal(e)?,
        },
    };
    let page = departments_page(&state, &viewer, &csrf, error).await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

pub async fn update_department(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(u): Admin,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    match state
        .store
        .update_department(
            &u.username,
            id,
            field(&f, "name"),
            field(&f, "phone"),
            f.contains_key("retired"),
            state.now(),
        )
        .await
    {
        Ok(_) => Ok(Redirect::to("/admin/departments").into_response()),
        Err(e) => {
            let error = refusal(e)?;
            let page = departments_page(&state, &viewer, &csrf, error).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

struct HallAdminRow {
    id: i64,
    name: String,
    kind: &'static str,
    address: String,
    hours: String,
    retired: bool,
    windows: Vec<tongban_store::catalog::HallWindow>,
}

#[derive(Template)]
#[template(path = "admin/halls.html")]
struct HallsPage {
    ctx: PageCtx,
    error: String,
    rows: Vec<HallAdminRow>,
    kinds: Vec<(&'static str, &'static str)>,
}

async fn halls_page(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    error: String,
) -> Result<Html<String>, PageError> {
    let mut rows = Vec::new();
    for h in state.store.halls().await? {
        let windows = state.store.hall_windows(h.id).await?;
        rows.push(HallAdminRow {
            id: h.id,
            name: h.name,
            kind: h.kind.code(),
            address: h.address,
            hours: h.hours,
            retired: h.retired,
            windows,
        });
    }
    render(HallsPage {
        ctx: PageCtx::new(viewer, csrf),
        error,
        rows,
        kinds: [
            HallKind::Comprehensive,
            HallKind::SubCentre,
            HallKind::Department,
        ]
        .iter()
        .map(|k| (k.code(), k.label()))
        .collect(),
    })
}

pub async fn halls(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(_): Admin,
) -> Result<Html<String>, PageError> {
    halls_page(&state, &viewer, &csrf, String::new()).await
}

async fn hall_result(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    r: Result<(), StoreError>,
) -> Result<Response, PageError> {
    match r {
        Ok(()) => Ok(Redirect::to("/admin/halls").into_response()),
        Err(e) => {
            let error = refusal(e)?;
            let page = halls_page(state, viewer, csrf, error).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

pub async fn create_hall(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(u): Admin,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let r = match HallKind::parse(field(&f, "kind")) {
        None => Err(StoreError::Invalid("大厅类型无效".into())),
        Some(kind) => state
            .store
            .create_hall(
                &u.username,
                field(&f, "name"),
                kind,
                field(&f, "address"),
                field(&f, "hours"),
                state.now(),
            )
            .await
            .map(|_| ()),
    };
    hall_result(&state, &viewer, &csrf, r).await
}

pub async fn update_hall(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(u): Admin,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let r = match HallKind::parse(field(&f, "kind")) {
        None => Err(StoreError::Invalid("大厅类型无效".into())),
        Some(kind) => state
            .store
            .update_hall(
                &u.username,
                id,
                &tongban_store::catalog::HallDetails {
                    kind,
                    address: field(&f, "address"),
                    hours: field(&f, "hours"),
                    retired: f.contains_key("retired"),
                },
                state.now(),
            )
            .await
            .map(|_| ()),
    };
    hall_result(&state, &viewer, &csrf, r).await
}

pub async fn create_window(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(u): Admin,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let r = state
        .store
        .create_window(
            &u.username,
            id,
            field(&f, "number"),
            field(&f, "name"),
            field(&f, "kind"),
            state.now(),
        )
        .await
        .map(|_| ());
    hall_result(&state, &viewer, &csrf, r).await
}

struct UserRow {
    id: i64,
    username: String,
    name: String,
    role: &'static str,
    /// 0 when the user has no department (ids start at 1).
    department_id: i64,
    active: bool,
    locked: bool,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    ctx: PageCtx,
    error: String,
    rows: Vec<UserRow>,
    roles: Vec<(&'static str, &'static str)>,
    departments: Vec<(i64, String)>,
}

async fn users_page(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    error: String,
) -> Result<Html<String>, PageError> {
    let now = state.now();
    let rows = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| UserRow {
            locked: u
                .locked_until
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .is_some_and(|t| t > now),
            id: u.id,
            username: u.username,
            name: u.display_name,
            role: u.role.code(),
            department_id: u.department_id.unwrap_or(0),
            active: u.active,
        })
        .collect();
    render(UsersPage {
        ctx: PageCtx::new(viewer, csrf),
        error,
        rows,
        roles: Role::ALL.iter().map(|r| (r.code(), r.label())).collect(),
        departments: state
            .store
            .departments()
            .await?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect(),
    })
}

pub async fn users(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(_): Admin,
) -> Result<Html<String>, PageError> {
    users_page(&state, &viewer, &csrf, String::new()).await
}

fn dept_field(f: &Fields) -> Result<Option<i64>, AppError> {
    match field(f, "department_id").trim() {
        "" => Ok(None),
        s => s
            .parse()
            .map(Some)
            .map_err(|_| AppError::bad_request("部门编号无效")),
    }
}

pub async fn create_user(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(u): Admin,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let r = match dept_field(&f) {
        Ok(d) => create_user_with(
            &state,
            &u.username,
            field(&f, "username"),
            field(&f, "display_name"),
            field(&f, "password"),
            field(&f, "role"),
            d,
        )
        .await
        .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match r {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) if e.status.is_client_error() => {
            let page = users_page(&state, &viewer, &csrf, e.message).await?;
            Ok((e.status, page).into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}

pub async fn update_user(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(u): Admin,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let role = Role::parse(field(&f, "role")).ok_or_else(|| AppError::bad_request("未知角色"))?;
    let dept = dept_field(&f)?;
    if id == u.id && (role != Role::Admin || !f.contains_key("active")) {
        let page = users_page(
            &state,
            &viewer,
            &csrf,
            "不能停用自己或取消自己的管理员角色".into(),
        )
        .await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    match state
        .store
        .update_user(
            &u.username,
            id,
            role,
            dept,
            f.contains_key("active"),
            state.now(),
        )
        .await
    {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) => {
            let error = refusal(e)?;
            let page = users_page(&state, &viewer, &csrf, error).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

pub async fn unlock_user(
    State(state): State<AppState>,
    Admin(u): Admin,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    state
        .store
        .unlock_user(&u.username, id, state.now())
        .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Template)]
#[template(path = "admin/four_same.html")]
struct FourSamePage {
    ctx: PageCtx,
    rows: Vec<FourSameViolation>,
    /// Items in the provincial standard list held (0: none received).
    standard_items: usize,
    standard: Vec<tongban_core::federation::Difference>,
}

pub async fn four_same(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(admin): Admin,
) -> Result<Html<String>, PageError> {
    let view = state.catalog().await?;
    let items: Vec<Item> = view.active().map(|i| i.item.clone()).collect();
    let (standard_items, standard) =
        tongban_app::federation::standard_differences(&state, &admin).await?;
    render(FourSamePage {
        ctx: PageCtx::new(&viewer, &csrf),
        rows: four_same_report(&items),
        standard_items,
        standard,
    })
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    ctx: PageCtx,
    rows: Vec<(String, String, String, String, String)>,
    verified: bool,
    checked: u64,
    problem: String,
}

pub async fn audit(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
) -> Result<Html<String>, PageError> {
    let rows = tongban_app::security::audit_log(&state, &user, 200)
        .await?
        .into_iter()
        .map(|e| {
            (
                tongban_app::clock::beijing_text(&e.at),
                e.actor,
                e.action,
                e.detail,
                e.hash.get(..16).unwrap_or("").to_string(),
            )
        })
        .collect();
    let v = tongban_app::security::verify_audit_log(&state).await?;
    render(AuditPage {
        ctx: PageCtx::new(&viewer, &csrf),
        rows,
        verified: v.first_problem.is_none(),
        checked: v.checked,
        problem: v
            .first_problem
            .map(|(id, why)| format!("第 {id} 条：{why}"))
            .unwrap_or_default(),
    })
}

/// The whole audit log as CSV (auditors and administrators).
pub async fn audit_csv(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Response, PageError> {
    let bytes = tongban_app::security::audit_csv(&state, &user).await?;
    Ok(csv_download(bytes))
}

pub fn csv_download(bytes: Vec<u8>) -> Response {
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                CONTENT_DISPOSITION,
                "attachment; filename=\"audit-log.csv\"",
            ),
        ],
        bytes,
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct ResetForm {
    password: String,
}

/// An administrator sets a temporary password; the user must change it at next sign-in.
pub async fn reset_password(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(admin): SignedIn,
    Path(id): Path<i64>,
    Form(f): Form<ResetForm>,
) -> Result<Response, PageError> {
    match tongban_app::security::reset_password(&state, &admin, id, &f.password).await {
        Ok(()) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) if e.kind == tongban_app::ErrorKind::Invalid => {
            let page = users_page(&state, &viewer, &csrf, e.message).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin/calendar.html")]
struct CalendarPage {
    ctx: PageCtx,
    error: String,
    message: String,
    years: String,
    rows: Vec<(i32, usize, usize, u32, &'static str)>,
    source: String,
}

async fn calendar_page(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    error: String,
    message: String,
    source: String,
) -> Result<Html<String>, PageError> {
    let cal = state.calendar().await?;
    let loaded: Vec<i64> = state
        .store
        .calendar_years()
        .await?
        .into_iter()
        .map(|y| y.year)
        .collect();
    let mut rows = Vec::new();
    for y in cal.years() {
        let Some(t) = cal.year(y) else { continue };
        let first = chrono::NaiveDate::from_ymd_opt(y, 1, 1).expect("1 Jan");
        let last = chrono::NaiveDate::from_ymd_opt(y, 12, 31).expect("31 Dec");
        // Days after 1 Jan plus 1 Jan itself: the year before may not be in the calendar.
        let working = cal.working_days_between(first, last).unwrap_or(0)
            + u32::from(cal.is_working_day(first).unwrap_or(false));
        rows.push((
            y,
            t.holidays().count(),
            t.workdays().count(),
            working,
            if loaded.contains(&i64::from(y)) {
                "管理员载入"
            } else {
                "系统内置"
            },
        ));
    }
    render(CalendarPage {
        ctx: PageCtx::new(viewer, csrf),
        error,
        message,
        years: cal
            .years()
            .iter()
            .map(|y| y.to_string())
            .collect::<Vec<_>>()
            .join("、"),
        rows,
        source,
    })
}

pub async fn calendar(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(_): Admin,
) -> Result<Html<String>, PageError> {
    calendar_page(
        &state,
        &viewer,
        &csrf,
        String::new(),
        String::new(),
        String::new(),
    )
    .await
}

pub async fn load_calendar(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(u): Admin,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let source = field(&f, "source").to_string();
    match tongban_app::calendar::load_year(&state, &u.username, &source).await {
        Ok(t) => {
            let msg = format!(
                "已载入 {} 年：节假日 {} 天，调休上班 {} 天；重算 {} 件在办办件的期限",
                t.table.year,
                t.table.holidays().count(),
                t.table.workdays().count(),
                t.recomputed
            );
            Ok(
                calendar_page(&state, &viewer, &csrf, String::new(), msg, String::new())
                    .await?
                    .into_response(),
            )
        }
        Err(e) => {
            let page = calendar_page(
                &state,
                &viewer,
                &csrf,
                format!("日历数据有误，未载入：{}", e.message),
                String::new(),
                source,
            )
            .await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

pub async fn update_window(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Admin(u): Admin,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let r = state
        .store
        .update_window(
            &u.username,
            id,
            field(&f, "name"),
            field(&f, "kind"),
            f.contains_key("retired"),
            state.now(),
        )
        .await;
    hall_result(&state, &viewer, &csrf, r).await
}
