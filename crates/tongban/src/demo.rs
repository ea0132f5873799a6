//! The demo city (娄星市): its catalog (written for this project, see tools/gen_demo_catalog.py),
//! its halls and windows, and one account for each role.

use anyhow::Context;
use chrono::{DateTime, Utc};
use tongban_core::roles::Role;
use tongban_store::accounts::{hash_password, NewUser};
use tongban_store::cases::NewApplicant;
use tongban_store::catalog::HallDetails;
use tongban_store::{catalog_file, Store, StoreError};

pub const ITEMS_CSV: &[u8] = include_bytes!("../demo/items.csv");
pub const MATERIALS_CSV: &[u8] = include_bytes!("../demo/materials.csv");

/// Every demo account has this password (the demo prints it; never use it in production).
pub const DEMO_PASSWORD: &str = "tongban2026";

/// (username, display name, role, department name)
pub const DEMO_USERS: &[(&str, &str, Role, Option<&str>)] = &[
    ("admin", "系统管理员", Role::Admin, None),
    ("clerk", "综合窗口 李敏", Role::Clerk, None),
    (
        "approver",
        "市场监管局 王审批",
        Role::Approver,
        Some("市市场监督管理局"),
    ),
    (
        "head",
        "市场监管局 赵局长",
        Role::Head,
        Some("市市场监督管理局"),
    ),
    ("supervisor", "电子监察 陈监察", Role::Supervisor, None),
    ("sharing", "数据共享 刘专员", Role::SharingOfficer, None),
    ("auditor", "审计 周审计", Role::Auditor, None),
    ("zhangsan", "张三", Role::Person, None),
    (
        "enterprise",
        "娄星市星辰科技有限公司",
        Role::Enterprise,
        None,
    ),
];

/// (hall, address, hours, comprehensive windows, dedicated windows)
const HALLS: &[(&str, &str, &str, u32, &[&str])] = &[
    (
        "市民之家",
        "娄星市娄星区长青中街1号",
        "周一至周五 9:00-12:00，13:30-17:30；周六 9:00-12:00（部分高频事项）",
        24,
        &[
            "税务专窗",
            "公积金专窗",
            "“办不成事”反映窗口",
            "EMS寄递服务台",
        ],
    ),
    (
        "不动产登记分中心",
        "娄星市娄星区春园路88号",
        "周一至周五 9:00-17:30",
        8,
        &[],
    ),
    (
        "公安出入境分中心",
        "娄星市娄星区乐坪大道56号",
        "周一至周六 9:00-17:00",
        6,
        &[],
    ),
    (
        "社保医保分中心",
        "娄星市娄星区湘中大道202号",
        "周一至周五 9:00-17:30",
        8,
        &[],
    ),
    (
        "公积金分中心",
        "娄星市娄星区吉星路15号",
        "周一至周五 9:00-17:30",
        4,
        &[],
    ),
    (
        "车管所分中心",
        "娄星市娄星区二环西路1号",
        "周一至周日 8:30-17:30",
        6,
        &[],
    ),
];

#[derive(Debug, Default)]
pub struct DemoReport {
    pub import: Option<catalog_file::ImportReport>,
    pub users_created: usize,
}

/// Loads the demo city. Safe to run again: what exists is left as it is.
pub async fn seed(store: &Store, now: DateTime<Utc>) -> anyhow::Result<DemoReport> {
    let mut report = DemoReport::default();
    let parsed = catalog_file::parse_csv(
        "items.csv",
        ITEMS_CSV,
        Some(("materials.csv", MATERIALS_CSV)),
    )
    .context("the built-in demo catalog is invalid")?;
    report.import = Some(
        store
            .import_catalog("demo", "demo/items.csv", &parsed, now)
            .await?,
    );

    let halls = store.halls().await?;
    for (name, address, hours, comprehensive, dedicated) in HALLS {
        let Some(h) = halls.iter().find(|h| h.name == *name) else {
            continue;
        };
        if h.address.is_empty() {
            store
                .update_hall(
                    "demo",
                    h.id,
                    &HallDetails {
                        kind: h.kind,
                        address,
                        hours,
                        retired: false,
                    },
                    now,
                )
                .await?;
        }
        if store.hall_windows(h.id).await?.is_empty() {
            for n in 1..=*comprehensive {
                store
                    .create_window(
                        "demo",
                        h.id,
                        &n.to_string(),
                        "综合受理窗口",
                        "comprehensive",
                        now,
                    )
                    .await?;
            }
            for (i, d) in dedicated.iter().enumerate() {
                let number = (*comprehensive as usize + i + 1).to_string();
                store
                    .create_window("demo", h.id, &number, d, "dedicated", now)
                    .await?;
            }
        }
    }

    let departments = store.departments().await?;
    let hash = tokio::task::spawn_blocking(|| hash_password(DEMO_PASSWORD)).await??;
    for (username, name, role, dept) in DEMO_USERS {
        let department_id =
            dept.and_then(|d| departments.iter().find(|x| x.name == d).map(|x| x.id));
        let new = NewUser {
            username,
            password: DEMO_PASSWORD,
            display_name: name,
            role: *role,
            department_id,
        };
        match store.create_user("demo", &new, &hash, now).await {
            Ok(user) => {
                report.users_created += 1;
                if let Some(applicant) = demo_applicant(*role, name) {
                    store
                        .create_applicant(&applicant, Some(user.id), now)
                        .await?;
                }
            }
            Err(StoreError::Conflict(_)) => {
                // A data directory from an older version may lack the applicant record.
                if let Some(applicant) = demo_applicant(*role, name) {
                    let user = store
                        .users()
                        .await?
                        .into_iter()
                        .find(|u| u.username == *username);
                    if let Some(user) = user {
                        if store.applicant_of_user(user.id).await?.is_none()
                            && store
                                .applicant_by_id_number(applicant.id_number)
                                .await?
                                .is_none()
                        {
                            store
                                .create_applicant(&applicant, Some(user.id), now)
                                .await?;
                        }
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(report)
}

/// The applicant records behind the demo applicant accounts (identifiers made up, with
/// valid check characters).
fn demo_applicant(role: Role, name: &'static str) -> Option<NewApplicant<'static>> {
    match role {
        Role::Person => Some(NewApplicant {
            kind: "person",
            name,
            id_number: "431302198503150024",
            mobile: "13807381234",
            legal_rep: "",
            verified: true,
        }),
        Role::Enterprise => Some(NewApplicant {
            kind: "enterprise",
            name,
            id_number: "91431300MA4L000019",
            mobile: "13907385678",
            legal_rep: "刘星辰",
            verified: true,
        }),
        _ => None,
    }
}
