//! The service catalog's use cases for files: import (all or nothing) and export.

use crate::error::Error;
use crate::App;
use tongban_core::catalog::{Item, Material};
use tongban_core::indicators::CatalogStats;
use tongban_store::catalog::ItemStatus;
use tongban_store::catalog_file::{self, ImportReport};

/// Imports items (and materials) from a CSV or XLSX file: every row is checked before
/// anything is stored, and an error names the file, row and column.
pub async fn import(
    app: &App,
    actor: &str,
    items: (&str, &[u8]),
    materials: Option<(&str, &[u8])>,
) -> Result<ImportReport, Error> {
    let parsed = catalog_file::parse_any(items.0, items.1, materials)
        .map_err(|e| Error::invalid(e.to_string()))?;
    app.store
        .import_catalog(actor, items.0, &parsed, app.now())
        .await
        .map_err(|e| match e {
            catalog_file::ImportFailure::File(f) => Error::invalid(f.to_string()),
            catalog_file::ImportFailure::Store(s) => s.into(),
        })
}

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
