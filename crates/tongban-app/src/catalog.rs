//! The service catalog's use cases for files: import (all or nothing) and export.

use crate::error::Error;
use crate::App;
use tongban_core::catalog::Audience;
use tongban_core::catalog::{Item, Material};
use tongban_core::indicators::CatalogStats;
use tongban_store::catalog::{ItemStatus, StoredItem};
use tongban_store::catalog_file::{self, ImportReport};

/// Every item with its materials, as the exchange standard's files carry them.
pub async fn export_rows(app: &App) -> Result<Vec<(Item, Vec<Material>)>, Error> {
    Ok(app
        .store
        .all_items()
        .await?
        .into_iter()
        .map(|i| (i.item, i.materials))
        .collect())
}

/// The catalog indicators over the items in service.
pub async fn stats(app: &App) -> Result<CatalogStats, Error> {
    let items: Vec<Item> = app
        .store
        .all_items()
        .await?
        .into_iter()
        .filter(|i| i.status == ItemStatus::Active)
        .map(|i| i.item)
        .collect();
    Ok(tongban_core::indicators::catalog_stats(&items))
}

/// A search of the catalog: words (name, pinyin, aliases, themes, materials) and filters.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub dept: String,
    #[serde(default)]
    pub theme: String,
    #[serde(default)]
    pub audience: String,
    #[serde(default)]
    pub hall: String,
    /// 1-based; pages past the last are empty.
    #[serde(default)]
    #[param(maximum = 10000)]
    pub page: Option<usize>,
}

pub const PAGE_SIZE: usize = 20;

/// Filters and ranks active items; shared by the page and the API.
pub fn find_items<'a>(view: &'a crate::CatalogView, q: &ItemQuery) -> Vec<&'a StoredItem> {
    let dept: Option<i64> = q.dept.parse().ok();
    let hall: Option<i64> = q.hall.parse().ok();
    let audience = Audience::parse(&q.audience);
    let mut hits: Vec<(u32, &StoredItem)> = view
        .active()
        .filter(|i| i.item.item_type.is_application())
        .filter(|i| dept.is_none_or(|d| i.department_id == d))
        .filter(|i| hall.is_none_or(|h| i.hall_id == Some(h)))
        .filter(|i| audience.is_none_or(|a| i.item.audiences.contains(&a)))
        .filter(|i| {
            q.theme.is_empty()
                || tongban_core::catalog::themes_of(&i.item.name).contains(&q.theme.as_str())
        })
        .filter_map(|i| {
            if q.q.trim().is_empty() {
                Some((1, i))
            } else {
                let materials: Vec<&str> = i.materials.iter().map(|m| m.name.as_str()).collect();
                let themes = tongban_core::catalog::theme_words(&i.item.name);
                let code = &i.item.impl_code;
                let s = tongban_core::search::rank(
                    &q.q,
                    &tongban_core::search::Searchable {
                        name: &i.item.name,
                        department: &i.item.department,
                        themes: &themes,
                        initials: view.initials.get(code).map_or("", String::as_str),
                        pinyin: view.pinyin.get(code).map_or("", String::as_str),
                        materials: &materials,
                    },
                );
                (s > 0).then_some((s, i))
            }
        })
        .collect();
    hits.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| a.1.item.name.cmp(&b.1.item.name))
    });
    hits.into_iter().map(|(_, i)| i).collect()
}

/// Imports items (and materials) from a CSV or XLSX file: every row is checked before
/// anything is stored, and an error names the file, row and column. Parsed off the async
/// runtime (XLSX parsing is CPU work).
pub async fn import_owned(
    app: &App,
    actor: &str,
    file: String,
    bytes: Vec<u8>,
    materials: Option<(String, Vec<u8>)>,
) -> Result<ImportReport, Error> {
    let name = file.clone();
    let parsed = tokio::task::spawn_blocking(move || {
        catalog_file::parse_any(
            &name,
            &bytes,
            materials.as_ref().map(|(n, b)| (n.as_str(), b.as_slice())),
        )
    })
    .await
    .map_err(Error::internal)?
    .map_err(|e| Error::new(crate::ErrorKind::Invalid, "import_refused", e.to_string()))?;
    app.store
        .import_catalog(actor, &file, &parsed, app.now())
        .await
        .map_err(|e| match e {
            catalog_file::ImportFailure::File(f) => {
                Error::new(crate::ErrorKind::Invalid, "import_refused", f.to_string())
            }
            catalog_file::ImportFailure::Store(s) => s.into(),
        })
}

/// The catalog as a file: `xlsx` (one workbook) or `csv` (`part` = items or materials).
/// Returns (media type, file name, bytes).
pub async fn export_file(
    app: &App,
    format: &str,
    part: &str,
) -> Result<(&'static str, &'static str, Vec<u8>), Error> {
    let data = export_rows(app).await?;
    match format {
        "xlsx" => {
            let bytes = tokio::task::spawn_blocking(move || catalog_file::export_xlsx(&data))
                .await
                .map_err(Error::internal)?
                .map_err(Error::internal)?;
            Ok((
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "catalog.xlsx",
                bytes,
            ))
        }
        "csv" | "" => {
            let (items, materials) = catalog_file::export_csv(&data);
            match part {
                "materials" => Ok(("text/csv; charset=utf-8", "materials.csv", materials)),
                "items" | "" => Ok(("text/csv; charset=utf-8", "items.csv", items)),
                other => Err(Error::invalid(format!(
                    "不支持的导出部分：{other}（可选 items、materials）"
                ))),
            }
        }
        other => Err(Error::invalid(format!(
            "不支持的导出格式：{other}（可选 csv、xlsx）"
        ))),
    }
}
