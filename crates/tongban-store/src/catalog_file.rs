//! Catalog files: CSV (UTF-8, with or without BOM) and XLSX in the national exchange
//! columns. Parsing checks everything before anything is written, and the import itself
//! is one transaction, so a file is taken whole or not at all.

use crate::catalog::{bump_rev, find_department, find_hall, save_item_tx, WriteOutcome};
use crate::{Result, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use tongban_core::catalog::{
    FieldError, Item, Material, ITEM_COLUMNS, ITEM_REQUIRED, MATERIAL_COLUMNS, MATERIAL_REQUIRED,
};

/// Refused above this size: a city catalog of a few thousand items is well under 10 MiB.
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;

/// A worksheet with more cells than this is refused.
pub const MAX_XLSX_CELLS: usize = 100_000;

/// Where and what: file, 1-based row as a spreadsheet shows it (header = row 1), column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{file} 第{row}行 「{column}」列：{message}{}", also_text(.also))]
pub struct ImportError {
    pub file: String,
    pub row: usize,
    pub column: String,
    pub message: String,
    /// The other bad rows of the same file (issue 12: an import reports every bad row, not
    /// only the first), in file order, at most [`MAX_ROW_ERRORS`] in all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<ImportError>,
}

/// How many bad rows one refused import reports.
pub const MAX_ROW_ERRORS: usize = 100;

fn also_text(also: &[ImportError]) -> String {
    also.iter()
        .map(|e| {
            format!(
                "；{} 第{}行 「{}」列：{}",
                e.file, e.row, e.column, e.message
            )
        })
        .collect()
}

/// Row errors collected while checking a whole file: the first, with the others attached.
fn first_with_others(mut errors: Vec<ImportError>) -> std::result::Result<(), ImportError> {
    if errors.is_empty() {
        return Ok(());
    }
    errors.truncate(MAX_ROW_ERRORS);
    let mut first = errors.remove(0);
    first.also = errors;
    Err(first)
}

impl ImportError {
    fn new(file: &str, row: usize, column: &str, message: impl Into<String>) -> Self {
        ImportError {
            file: file.to_string(),
            row,
            column: column.to_string(),
            message: message.into(),
            also: Vec::new(),
        }
    }
    fn file_level(file: &str, message: impl Into<String>) -> Self {
        ImportError::new(file, 0, "", message)
    }
}

/// A catalog file after checking: items and materials with their row numbers.
#[derive(Debug, Default, Clone)]
pub struct ParsedCatalog {
    pub items: Vec<(usize, Item)>,
    pub materials: Vec<(usize, Material)>,
}

/// A table of text cells with its header, from CSV or one XLSX sheet.
struct Table {
    file: String,
    header: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

fn check_size(file: &str, bytes: &[u8]) -> std::result::Result<(), ImportError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ImportError::file_level(
            file,
            format!(
                "文件过大（{} 字节），上限为 {} MiB",
                bytes.len(),
                MAX_FILE_BYTES / 1024 / 1024
            ),
        ));
    }
    if bytes.is_empty() {
        return Err(ImportError::file_level(file, "文件为空"));
    }
    Ok(())
}

fn read_csv(file: &str, bytes: &[u8]) -> std::result::Result<Table, ImportError> {
    check_size(file, bytes)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Err(e) = std::str::from_utf8(bytes) {
        // Count the line the bad byte sits on, to point at it.
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        return Err(ImportError::new(
            file,
            line,
            "",
            "文件不是UTF-8编码（可能是GBK/GB18030），请另存为“CSV UTF-8”后再导入",
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .from_reader(bytes);
    let mut records = reader.records();
    let header: Vec<String> = match records.next() {
        Some(Ok(r)) => r.iter().map(|s| s.trim().to_string()).collect(),
        Some(Err(e)) => return Err(csv_error(file, &e)),
        None => return Err(ImportError::file_level(file, "文件没有表头行")),
    };
    let mut rows = Vec::new();
    for (i, rec) in records.enumerate() {
        let rec = rec.map_err(|e| csv_error(file, &e))?;
        // A cell our export protected from formula evaluation ('=…) reads back as it was.
        let cells: Vec<String> = rec.iter().map(unprotect).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        rows.push((i + 2, cells));
    }
    Ok(Table {
        file: file.to_string(),
        header,
        rows,
    })
}

/// Undoes [`tongban_core::text::csv_safe`]: `'` before a formula character is dropped.
fn unprotect(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if tongban_core::text::csv_safe(rest).len() != rest.len() => rest.to_string(),
        _ => cell.to_string(),
    }
}

fn csv_error(file: &str, e: &csv::Error) -> ImportError {
    let row = e.position().map(|p| p.line() as usize).unwrap_or(0);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("本行有{len}列，表头有{expected_len}列"),
        _ => format!("CSV格式错误：{e}"),
    };
    ImportError::new(file, row, "", message)
}

fn read_xlsx(file: &str, bytes: &[u8]) -> std::result::Result<(Table, Option<Table>), ImportError> {
    use calamine::{Data, Reader, Xlsx};
    check_size(file, bytes)?;
    // The central directory first: a workbook that would expand beyond the bounds is
    // refused before any sheet is decompressed.
    tongban_core::archive::inventory(bytes, tongban_core::archive::DEFAULT_BOUNDS)
        .map_err(|e| ImportError::file_level(file, format!("不是可接受的XLSX文件：{e}")))?;
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| ImportError::file_level(file, format!("不是有效的XLSX文件：{e}")))?;
    let names = book.sheet_names().to_vec();
    let cell = |d: &Data| -> String {
        match d {
            Data::Empty => String::new(),
            Data::String(s) => s.clone(),
            Data::Int(i) => i.to_string(),
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Data::Float(f) => f.to_string(),
            Data::Bool(b) => if *b { "是" } else { "否" }.to_string(),
            other => other.to_string(),
        }
    };
    let mut sheet = |name: &str| -> std::result::Result<Table, ImportError> {
        let range = book
            .worksheet_range(name)
            .map_err(|e| ImportError::file_level(file, format!("无法读取工作表「{name}」：{e}")))?;
        let label = format!("{file}[{name}]");
        let (h, w) = range.get_size();
        if h.saturating_mul(w) > MAX_XLSX_CELLS {
            return Err(ImportError::file_level(
                &label,
                format!("工作表过大（超过{MAX_XLSX_CELLS}个单元格）"),
            ));
        }
        let mut it = range.rows();
        let header = it
            .next()
            .ok_or_else(|| ImportError::file_level(&label, "工作表没有表头行"))?
            .iter()
            .map(|c| cell(c).trim().to_string())
            .collect::<Vec<_>>();
        // Trailing empty header cells are common in spreadsheets; drop them.
        let width = header
            .iter()
            .rposition(|h| !h.is_empty())
            .map_or(0, |p| p + 1);
        let header = header[..width].to_vec();
        let start_row = range.start().map_or(0, |(r, _)| r as usize);
        let mut rows = Vec::new();
        for (i, r) in it.enumerate() {
            let cells: Vec<String> = r.iter().map(cell).collect();
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            if cells.iter().skip(width).any(|c| !c.trim().is_empty()) {
                return Err(ImportError::new(
                    &label,
                    start_row + i + 2,
                    "",
                    "本行在表头以外的列有内容",
                ));
            }
            let mut cells = cells;
            cells.resize(width, String::new());
            rows.push((start_row + i + 2, cells));
        }
        Ok(Table {
            file: label,
            header,
            rows,
        })
    };
    let items_sheet = names
        .iter()
        .find(|n| n.as_str() != "申请材料")
        .cloned()
        .ok_or_else(|| ImportError::file_level(file, "工作簿中没有事项工作表"))?;
    let items = sheet(&items_sheet)?;
    let materials = if names.iter().any(|n| n == "申请材料") {
        Some(sheet("申请材料")?)
    } else {
        None
    };
    Ok((items, materials))
}

/// Checks a header against the allowed columns: no unknown, no duplicate, all required.
fn column_index(
    table: &Table,
    allowed: &[&str],
    required: &[&str],
) -> std::result::Result<HashMap<String, usize>, ImportError> {
    let mut idx = HashMap::new();
    for (i, h) in table.header.iter().enumerate() {
        if h.is_empty() {
            return Err(ImportError::new(
                &table.file,
                1,
                "",
                format!("第{}列表头为空", i + 1),
            ));
        }
        if !allowed.contains(&h.as_str()) {
            return Err(ImportError::new(
                &table.file,
                1,
                h,
                "未知的列（列名须与国家事项标准一致）",
            ));
        }
        if idx.insert(h.clone(), i).is_some() {
            return Err(ImportError::new(&table.file, 1, h, "列名重复"));
        }
    }
    for r in required {
        if !idx.contains_key(*r) {
            return Err(ImportError::new(&table.file, 1, r, "缺少必填列"));
        }
    }
    Ok(idx)
}

fn parse_tables(
    items: Table,
    materials: Option<Table>,
) -> std::result::Result<ParsedCatalog, ImportError> {
    let mut out = ParsedCatalog::default();
    let idx = column_index(&items, &ITEM_COLUMNS, &ITEM_REQUIRED)?;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut handling: HashMap<String, usize> = HashMap::new();
    // Every row is checked; all bad rows are reported together.
    let mut errors = Vec::new();
    for (row, cells) in &items.rows {
        let get = |c: &str| idx.get(c).map(|i| cells[*i].as_str()).unwrap_or("");
        let item = match Item::from_columns(get) {
            Ok(item) => item,
            Err(FieldError { column, message }) => {
                errors.push(ImportError::new(&items.file, *row, column, message));
                continue;
            }
        };
        if let Some(first) = seen.get(&item.impl_code) {
            errors.push(ImportError::new(
                &items.file,
                *row,
                "实施编码",
                format!("实施编码 {} 与第{first}行重复", item.impl_code),
            ));
            continue;
        }
        seen.insert(item.impl_code.clone(), *row);
        if !item.handling_code.is_empty() {
            if let Some(first) = handling.insert(item.handling_code.clone(), *row) {
                errors.push(ImportError::new(
                    &items.file,
                    *row,
                    "业务办理项编码",
                    format!("业务办理项编码 {} 与第{first}行重复", item.handling_code),
                ));
                continue;
            }
        }
        out.items.push((*row, item));
    }
    first_with_others(errors)?;
    if out.items.is_empty() {
        return Err(ImportError::file_level(&items.file, "文件中没有事项"));
    }
    if let Some(mt) = materials {
        let idx = column_index(&mt, &MATERIAL_COLUMNS, &MATERIAL_REQUIRED)?;
        let mut errors = Vec::new();
        for (row, cells) in &mt.rows {
            let get = |c: &str| idx.get(c).map(|i| cells[*i].as_str()).unwrap_or("");
            let m = match Material::from_columns(get) {
                Ok(m) => m,
                Err(FieldError { column, message }) => {
                    errors.push(ImportError::new(&mt.file, *row, column, message));
                    continue;
                }
            };
            if !seen.contains_key(&m.impl_code) {
                errors.push(ImportError::new(
                    &mt.file,
                    *row,
                    "实施编码",
                    format!("事项文件中没有实施编码 {}", m.impl_code),
                ));
                continue;
            }
            out.materials.push((*row, m));
        }
        first_with_others(errors)?;
    }
    Ok(out)
}

/// Parses a CSV item file and an optional CSV materials file.
pub fn parse_csv(
    items_name: &str,
    items: &[u8],
    materials: Option<(&str, &[u8])>,
) -> std::result::Result<ParsedCatalog, ImportError> {
    let items = read_csv(items_name, items)?;
    let materials = match materials {
        Some((name, bytes)) => Some(read_csv(name, bytes)?),
        None => None,
    };
    parse_tables(items, materials)
}

/// Parses an XLSX workbook: the first sheet is the items, a sheet named 申请材料 the materials.
pub fn parse_xlsx(name: &str, bytes: &[u8]) -> std::result::Result<ParsedCatalog, ImportError> {
    let (items, materials) = read_xlsx(name, bytes)?;
    parse_tables(items, materials)
}

/// Detects the format by content: XLSX files are ZIP archives.
pub fn parse_any(
    items_name: &str,
    items: &[u8],
    materials: Option<(&str, &[u8])>,
) -> std::result::Result<ParsedCatalog, ImportError> {
    if items.starts_with(b"PK\x03\x04") {
        if materials.is_some() {
            return Err(ImportError::file_level(
                items_name,
                "XLSX文件的申请材料应放在同一工作簿的「申请材料」工作表中",
            ));
        }
        parse_xlsx(items_name, items)
    } else {
        parse_csv(items_name, items, materials)
    }
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub materials: usize,
    pub created_departments: Vec<String>,
    pub created_halls: Vec<String>,
}

/// Errors of an import: either the file is wrong (with its place) or the store failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error(transparent)]
    File(#[from] ImportError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Writes a parsed catalog in one transaction: creates unknown departments and halls,
    /// creates or updates items (a version for each change). Items not in the file are left
    /// as they are. Any problem rolls everything back.
    pub async fn import_catalog(
        &self,
        actor: &str,
        file: &str,
        parsed: &ParsedCatalog,
        now: DateTime<Utc>,
    ) -> std::result::Result<ImportReport, ImportFailure> {
        let mut by_item: HashMap<&str, Vec<Material>> = HashMap::new();
        for (_, m) in &parsed.materials {
            by_item
                .entry(m.impl_code.as_str())
                .or_default()
                .push(m.clone());
        }
        let has_materials = !parsed.materials.is_empty();
        let mut report = ImportReport {
            materials: parsed.materials.len(),
            ..Default::default()
        };
        let mut tx = self.begin_write().await.map_err(StoreError::from)?;
        let mut new_depts = HashSet::new();
        let mut new_halls = HashSet::new();
        for (row, item) in &parsed.items {
            let place = |col: &str, e: StoreError| -> ImportFailure {
                match e {
                    StoreError::Invalid(m) | StoreError::Conflict(m) => {
                        ImportError::new(file, *row, col, m).into()
                    }
                    other => other.into(),
                }
            };
            let dept = find_department(&mut tx, item, Some(now))
                .await
                .map_err(|e| place("实施主体编码", e))?;
            if dept.1 && new_depts.insert(item.department.clone()) {
                report.created_departments.push(item.department.clone());
            }
            let hall = find_hall(&mut tx, item, Some(now))
                .await
                .map_err(|e| place("办理地点", e))?;
            if hall.1 && new_halls.insert(item.hall.clone()) {
                report.created_halls.push(item.hall.clone());
            }
            let materials: Vec<Material> = if has_materials {
                by_item.remove(item.impl_code.as_str()).unwrap_or_default()
            } else {
                // An item file alone keeps the materials already on record.
                crate::catalog::current_materials(&mut tx, &item.impl_code).await?
            };
            match save_item_tx(&mut tx, actor, item, &materials, dept, hall, now, "import")
                .await
                .map_err(|e| place("实施编码", e))?
            {
                WriteOutcome::Created => report.created += 1,
                WriteOutcome::Updated => report.updated += 1,
                WriteOutcome::Unchanged => report.unchanged += 1,
            }
        }
        bump_rev(&mut tx).await?;
        crate::catalog::audit(
            &mut tx,
            now,
            actor,
            "catalog.import",
            &format!(
                "{file}: {} created, {} updated, {} unchanged",
                report.created, report.updated, report.unchanged
            ),
        )
        .await?;
        self.commit(tx).await?;
        self.revs_changed();
        Ok(report)
    }
}

/// Writes the catalog as two CSV files (items, materials), UTF-8 with BOM so that
/// spreadsheet programs open the Chinese correctly.
pub fn export_csv(items: &[(Item, Vec<Material>)]) -> (Vec<u8>, Vec<u8>) {
    let mut iw = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    iw.write_record(ITEM_COLUMNS).expect("write to memory");
    let mut mw = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    mw.write_record(MATERIAL_COLUMNS).expect("write to memory");
    for (item, materials) in items {
        // Cells a spreadsheet would run as formulas are exported as text ('=…).
        let safe = |cols: Vec<String>| -> Vec<String> {
            cols.iter()
                .map(|c| tongban_core::text::csv_safe(c).into_owned())
                .collect()
        };
        iw.write_record(safe(item.to_columns()))
            .expect("write to memory");
        for m in materials {
            mw.write_record(safe(m.to_columns()))
                .expect("write to memory");
        }
    }
    (
        iw.into_inner().expect("flush to memory"),
        mw.into_inner().expect("flush to memory"),
    )
}

/// Writes the catalog as one XLSX workbook: sheet 事项 and sheet 申请材料.
pub fn export_xlsx(items: &[(Item, Vec<Material>)]) -> Result<Vec<u8>> {
    use rust_xlsxwriter::Workbook;
    let err = |e: rust_xlsxwriter::XlsxError| StoreError::Internal(format!("xlsx: {e}"));
    let mut book = Workbook::new();
    {
        let sheet = book.add_worksheet().set_name("事项").map_err(err)?;
        for (c, h) in ITEM_COLUMNS.iter().enumerate() {
            sheet.write_string(0, c as u16, *h).map_err(err)?;
        }
        for (r, (item, _)) in items.iter().enumerate() {
            for (c, v) in item.to_columns().iter().enumerate() {
                sheet.write_string(r as u32 + 1, c as u16, v).map_err(err)?;
            }
        }
    }
    {
        let sheet = book.add_worksheet().set_name("申请材料").map_err(err)?;
        for (c, h) in MATERIAL_COLUMNS.iter().enumerate() {
            sheet.write_string(0, c as u16, *h).map_err(err)?;
        }
        let mut r = 1u32;
        for (_, materials) in items {
            for m in materials {
                for (c, v) in m.to_columns().iter().enumerate() {
                    sheet.write_string(r, c as u16, v).map_err(err)?;
                }
                r += 1;
            }
        }
    }
    book.save_to_buffer().map_err(err)
}
