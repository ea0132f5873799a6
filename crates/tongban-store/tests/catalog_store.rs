//! Catalog storage on every backend: import all-or-nothing, round trips, versions.

use chrono::{TimeZone, Utc};
use tongban_store::catalog::{ItemStatus, WriteOutcome};
use tongban_store::catalog_file::{
    export_csv, export_xlsx, parse_any, parse_csv, parse_xlsx, ImportFailure, MAX_FILE_BYTES,
};
use tongban_store::testing::TestDb;

const ITEMS: &[u8] = include_bytes!("../../tongban-app/demo/items.csv");
const MATERIALS: &[u8] = include_bytes!("../../tongban-app/demo/materials.csv");

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap()
}

const HEADER: &str = "事项名称,基本编码,实施编码,事项类型,行使层级,实施主体,实施主体编码,办件类型,法定办结时限,承诺办结时限,是否网办,网上办理深度,到办事现场次数,办理地点,进驻综合大厅";

fn row(code: &str, name: &str) -> String {
    format!("{name},000117001000,{code},01,3,市市场监督管理局,11100000000013338W,承诺件,20,5,是,1^2^3^4^5,0,市民之家,是")
}

async fn count(db: &TestDb) -> usize {
    db.store.all_items().await.unwrap().len()
}

#[tokio::test]
async fn import_round_trip_is_identical_on_every_backend() {
    for db in TestDb::all().await {
        let parsed = parse_csv("items.csv", ITEMS, Some(("materials.csv", MATERIALS))).unwrap();
        let r = db
            .store
            .import_catalog("t", "items.csv", &parsed, now())
            .await
            .unwrap();
        assert_eq!(r.created, parsed.items.len(), "{:?}", db.backend);
        assert!(r.created >= 300);
        assert!(r.created_departments.len() >= 25);
        assert!(r.created_halls.contains(&"市民之家".to_string()));
        let first: Vec<_> = db
            .store
            .all_items()
            .await
            .unwrap()
            .into_iter()
            .map(|i| (i.item, i.materials))
            .collect();
        let (items_csv, materials_csv) = export_csv(&first);

        // The export imports into a fresh database as the same catalog ...
        let fresh = TestDb::sqlite().await;
        let reparsed = parse_csv("e.csv", &items_csv, Some(("m.csv", &materials_csv))).unwrap();
        fresh
            .store
            .import_catalog("t", "e.csv", &reparsed, now())
            .await
            .unwrap();
        let second: Vec<_> = fresh
            .store
            .all_items()
            .await
            .unwrap()
            .into_iter()
            .map(|i| (i.item, i.materials))
            .collect();
        assert_eq!(first, second);
        assert_eq!(
            export_csv(&second),
            (items_csv.clone(), materials_csv.clone())
        );

        // ... and importing the export again changes nothing (no new versions).
        let again = db
            .store
            .import_catalog("t", "e.csv", &reparsed, now())
            .await
            .unwrap();
        assert_eq!(
            (again.created, again.updated, again.unchanged),
            (0, 0, first.len())
        );

        // XLSX round trip too.
        let xlsx = export_xlsx(&first).unwrap();
        let from_xlsx = parse_xlsx("c.xlsx", &xlsx).unwrap();
        let items: Vec<_> = from_xlsx.items.iter().map(|(_, i)| i.clone()).collect();
        assert_eq!(
            items,
            first.iter().map(|(i, _)| i.clone()).collect::<Vec<_>>()
        );
        assert_eq!(from_xlsx.materials.len(), parsed.materials.len());
        fresh.cleanup().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_bad_row_anywhere_refuses_the_whole_import() {
    for db in TestDb::all().await {
        // Bad last row: the parser names file, row and column; nothing is stored.
        let csv = format!(
            "{HEADER}\n{}\n{}\n{}\n",
            row("A", "甲"),
            row("B", "乙"),
            row("C", "丙").replace(",20,5,", ",20,30,")
        );
        let e = parse_csv("bad.csv", csv.as_bytes(), None).unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.row, e.column.as_str()),
            ("bad.csv", 4, "承诺办结时限")
        );
        assert!(e.to_string().contains("bad.csv 第4行"), "{e}");
        assert_eq!(count(&db).await, 0);

        // A row that only the database can refuse (a known department code under another
        // name) rolls back the rows before it.
        db.store
            .create_department(
                "t",
                &tongban_core::ids::Uscc::parse("91350100M000100Y43").unwrap(),
                "市自然资源和规划局",
                "",
                now(),
            )
            .await
            .unwrap();
        let csv = format!(
            "{HEADER}\n{}\n{}\n",
            row("A", "甲"),
            row("B", "乙").replace(
                "市市场监督管理局,11100000000013338W",
                "市市场监督管理局,91350100M000100Y43"
            )
        );
        let parsed = parse_csv("dept.csv", csv.as_bytes(), None).unwrap();
        match db
            .store
            .import_catalog("t", "dept.csv", &parsed, now())
            .await
        {
            Err(ImportFailure::File(e)) => {
                assert_eq!((e.row, e.column.as_str()), (3, "实施主体编码"));
                assert!(
                    e.message.contains("已登记为「市自然资源和规划局」"),
                    "{}",
                    e.message
                );
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(
            count(&db).await,
            0,
            "{:?}: the first row must be rolled back",
            db.backend
        );
        assert_eq!(db.store.departments().await.unwrap().len(), 1);
        db.cleanup().await;
    }
}

#[test]
fn malformed_files_are_refused_with_clear_messages() {
    // Unknown column.
    let e = parse_csv("a.csv", format!("{HEADER},备注\n").as_bytes(), None).unwrap_err();
    assert_eq!((e.row, e.column.as_str()), (1, "备注"));
    assert!(e.message.contains("未知的列"));
    // Missing required column.
    let e = parse_csv("a.csv", "事项名称,基本编码\n甲,1\n".as_bytes(), None).unwrap_err();
    assert!(e.message.contains("缺少必填列"), "{e}");
    // Duplicate 实施编码.
    let csv = format!("{HEADER}\n{}\n{}\n", row("A", "甲"), row("A", "乙"));
    let e = parse_csv("a.csv", csv.as_bytes(), None).unwrap_err();
    assert_eq!((e.row, e.column.as_str()), (3, "实施编码"));
    assert!(e.message.contains("与第2行重复"), "{e}");
    // Wrong encoding: GBK bytes.
    let mut gbk = format!("{HEADER}\n").into_bytes();
    gbk.extend_from_slice(&[0xCA, 0xC2, 0xCF, 0xEE]); // 事项 in GBK
    gbk.extend_from_slice(row("A", "").as_bytes());
    let e = parse_csv("gbk.csv", &gbk, None).unwrap_err();
    assert_eq!(e.row, 2);
    assert!(e.message.contains("UTF-8"), "{e}");
    // Ragged CSV.
    let csv = format!("{HEADER}\n{},多余\n", row("A", "甲"));
    let e = parse_csv("r.csv", csv.as_bytes(), None).unwrap_err();
    assert_eq!(e.row, 2);
    assert!(e.message.contains("列"), "{e}");
    // Oversized.
    let big = vec![b'a'; MAX_FILE_BYTES + 1];
    let e = parse_csv("big.csv", &big, None).unwrap_err();
    assert!(e.message.contains("文件过大"), "{e}");
    // Empty, and header only.
    assert!(parse_csv("e.csv", b"", None)
        .unwrap_err()
        .message
        .contains("为空"));
    assert!(parse_csv("h.csv", HEADER.as_bytes(), None)
        .unwrap_err()
        .message
        .contains("没有事项"));
    // A BOM is fine.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(format!("{HEADER}\n{}\n", row("A", "甲")).as_bytes());
    assert_eq!(parse_csv("bom.csv", &bom, None).unwrap().items.len(), 1);
    // Malformed XLSX: a ZIP signature that is not a workbook.
    let e = parse_any("x.xlsx", b"PK\x03\x04garbage", None).unwrap_err();
    assert!(e.message.contains("XLSX"), "{e}");
    // Material for an item that is not in the file.
    let m = "实施编码,材料名称\nZZZ,身份证\n";
    let e = parse_csv(
        "a.csv",
        format!("{HEADER}\n{}\n", row("A", "甲")).as_bytes(),
        Some(("m.csv", m.as_bytes())),
    )
    .unwrap_err();
    assert_eq!(
        (e.file.as_str(), e.row, e.column.as_str()),
        ("m.csv", 2, "实施编码")
    );
}

#[tokio::test]
async fn every_change_is_a_version_and_retired_items_are_kept() {
    for db in TestDb::all().await {
        let parsed = parse_csv(
            "a.csv",
            format!("{HEADER}\n{}\n", row("A", "食品经营许可")).as_bytes(),
            None,
        )
        .unwrap();
        db.store
            .import_catalog("importer", "a.csv", &parsed, now())
            .await
            .unwrap();
        let mut item = db.store.item("A").await.unwrap().item;
        item.promised_limit = 3;
        let later = now() + chrono::Duration::hours(1);
        assert_eq!(
            db.store
                .save_item("editor", &item, &[], later)
                .await
                .unwrap(),
            WriteOutcome::Updated
        );
        assert_eq!(
            db.store
                .save_item("editor", &item, &[], later)
                .await
                .unwrap(),
            WriteOutcome::Unchanged
        );
        // An invalid change is refused and stores nothing.
        let mut bad = item.clone();
        bad.promised_limit = 99;
        assert!(db
            .store
            .save_item("editor", &bad, &[], later)
            .await
            .is_err());
        // Retiring needs a reason, then keeps the item.
        assert!(db
            .store
            .set_item_status("admin", "A", true, " ", later)
            .await
            .is_err());
        db.store
            .set_item_status("admin", "A", true, "事项合并", later)
            .await
            .unwrap();
        let stored = db.store.item("A").await.unwrap();
        assert_eq!(stored.status, ItemStatus::Retired);
        assert_eq!(stored.version, 3);
        let versions = db.store.item_versions("A").await.unwrap();
        let summary: Vec<(i64, &str, &str)> = versions
            .iter()
            .map(|v| (v.version, v.action.as_str(), v.actor.as_str()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (3, "retire", "admin"),
                (2, "edit", "editor"),
                (1, "import", "importer")
            ]
        );
        let change = &versions[1].changes[0];
        assert_eq!(
            (
                change.field.as_str(),
                change.before.as_str(),
                change.after.as_str()
            ),
            ("承诺办结时限", "5", "3")
        );
        let (old, _) = db.store.item_snapshot("A", 1).await.unwrap();
        assert_eq!(old.promised_limit, 5);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn windows_are_renamed_and_retired_never_deleted() {
    for db in TestDb::all().await {
        let hall = db
            .store
            .create_hall(
                "admin",
                "市民之家",
                tongban_store::catalog::HallKind::Comprehensive,
                "",
                "",
                now(),
            )
            .await
            .unwrap();
        let w = db
            .store
            .create_window(
                "admin",
                hall.id,
                "1",
                "综合受理窗口",
                "comprehensive",
                now(),
            )
            .await
            .unwrap();
        assert!(
            db.store
                .create_window("admin", hall.id, "1", "重复", "comprehensive", now())
                .await
                .is_err(),
            "window numbers are unique per hall"
        );
        assert!(db
            .store
            .update_window("admin", w.id, " ", "comprehensive", false, now())
            .await
            .is_err());
        assert!(db
            .store
            .update_window("admin", w.id, "x", "vip", false, now())
            .await
            .is_err());
        assert!(matches!(
            db.store
                .update_window("admin", 9999, "x", "dedicated", false, now())
                .await,
            Err(tongban_store::StoreError::NotFound(_))
        ));
        db.store
            .update_window("admin", w.id, "税务专窗", "dedicated", true, now())
            .await
            .unwrap();
        let ws = db.store.hall_windows(hall.id).await.unwrap();
        assert_eq!(ws.len(), 1);
        assert_eq!(
            (ws[0].name.as_str(), ws[0].kind.as_str(), ws[0].retired),
            ("税务专窗", "dedicated", true)
        );
        db.cleanup().await;
    }
}

/// The two migration sets are the same schema: they may differ only where the dialects
/// do (auto-increment keys). Catches a change made to one backend and forgotten in the other.
#[test]
fn sqlite_and_postgres_migrations_do_not_drift() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let list = |b: &str| {
        let mut v: Vec<_> = std::fs::read_dir(dir.join(b))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    };
    let (sqlite, postgres) = (list("sqlite"), list("postgres"));
    assert_eq!(sqlite, postgres, "the same migrations on both backends");
    assert!(sqlite.len() >= 10);
    for name in &sqlite {
        // Triggers are written in each dialect after this marker.
        let common = |t: String| match t.find("-- Dialect-specific below") {
            Some(i) => t[..i].to_string(),
            None => t,
        };
        let s = common(std::fs::read_to_string(dir.join("sqlite").join(name)).unwrap());
        let p = common(std::fs::read_to_string(dir.join("postgres").join(name)).unwrap());
        assert_eq!(
            s.replace("id INTEGER PRIMARY KEY", "id BIGSERIAL PRIMARY KEY"),
            p,
            "{name} differs beyond the dialect"
        );
    }
}

/// Issue #13 (4, 11): what an import may not carry.
#[test]
fn imports_refuse_bad_codes_invisible_characters_duplicates_and_bombs() {
    let h = "事项名称,基本编码,实施编码,业务办理项编码,事项类型,行使层级,实施主体,实施主体编码,办件类型,法定办结时限,承诺办结时限,是否网办,网上办理深度,到办事现场次数,办理地点,进驻综合大厅";
    let row2 = |code: &str, handling: &str, name: &str| {
        format!("{name},000117001000,{code},{handling},01,3,市市场监督管理局,11100000000013338W,承诺件,20,5,是,1^2^3^4^5,0,市民之家,是")
    };
    // 实施编码 is checked by ImplCode::parse (it goes into URLs).
    let csv = format!("{h}\n{}\n", row2("A/../x", "", "甲"));
    let e = parse_csv("a.csv", csv.as_bytes(), None).unwrap_err();
    assert_eq!((e.row, e.column.as_str()), (2, "实施编码"), "{e}");
    // A bidi override or a zero-width space in a name.
    for name in ["甲\u{202E}乙", "甲\u{200B}乙"] {
        let csv = format!("{h}\n{}\n", row2("A", "", name));
        let e = parse_csv("a.csv", csv.as_bytes(), None).unwrap_err();
        assert_eq!(e.column, "事项名称", "{e}");
        assert!(e.message.contains("不允许的字符"), "{e}");
    }
    // A name of 101 characters.
    let csv = format!("{h}\n{}\n", row2("A", "", &"甲".repeat(101)));
    assert!(parse_csv("a.csv", csv.as_bytes(), None).is_err());
    // Duplicate 业务办理项编码 within one file.
    let csv = format!(
        "{h}\n{}\n{}\n",
        row2("A", "H1", "甲"),
        row2("B", "H1", "乙")
    );
    let e = parse_csv("a.csv", csv.as_bytes(), None).unwrap_err();
    assert_eq!((e.row, e.column.as_str()), (3, "业务办理项编码"), "{e}");
    assert!(e.message.contains("与第2行重复"), "{e}");
    // An XLSX that declares 60 MB of content is refused from its central directory.
    let bomb = tongban_core::archive::build_stored_zip(
        &[
            ("[Content_Types].xml", b"<x/>"),
            ("xl/worksheets/sheet1.xml", b"<x/>"),
        ],
        Some(&[4, 60 << 20]),
    );
    let e = parse_any("bomb.xlsx", &bomb, None).unwrap_err();
    assert!(e.message.contains("解压后过大"), "{e}");
}

/// Issue #13 (11): an exported CSV opened in a spreadsheet runs no formula, and reads
/// back as it was.
#[test]
fn csv_export_neutralises_formula_cells() {
    let csv = format!("{HEADER}\n{}\n", row("A", "=HYPERLINK(\"http://x\")"));
    let parsed = parse_csv("a.csv", csv.as_bytes(), None).unwrap();
    let items: Vec<_> = parsed.items.into_iter().map(|(_, i)| (i, vec![])).collect();
    let (out, _) = export_csv(&items);
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(text.contains("'=HYPERLINK"), "{text}");
    assert!(!text.contains(",=HYPERLINK") && !text.contains("\n=HYPERLINK"));
    let back = parse_csv("b.csv", &out, None).unwrap();
    assert_eq!(back.items[0].1, items[0].0);
}
