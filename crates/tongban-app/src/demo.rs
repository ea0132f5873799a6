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
/// The demo city's 一件事 definitions (issue #17): 企业开办 and 新生儿出生.
pub const BUNDLES: &[&str] = &[
    include_str!("../demo/bundles/qykb.json"),
    include_str!("../demo/bundles/xsecs.json"),
];

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
    for text in BUNDLES {
        let def = tongban_core::bundle::BundleDef::parse(text)
            .map_err(|e| anyhow::anyhow!("a built-in 一件事 definition is invalid: {e}"))?;
        store.import_bundle_definition(&def, "demo", now).await?;
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

/// A demo licence type: (type code, name, validity years, fields, department,
/// item-name patterns of the items whose approval issues it).
pub type DemoLicenceType = (
    &'static str,
    &'static str,
    i64,
    &'static [&'static str],
    &'static str,
    &'static [&'static str],
);

/// Licence types of the demo city and the items whose approval issues them.
pub const DEMO_LICENCE_TYPES: &[DemoLicenceType] = &[
    (
        "11431900064277754A001",
        "营业执照",
        0,
        &["类型", "经营范围"],
        "市市场监督管理局",
        &[
            "企业设立登记",
            "个体工商户设立登记",
            "农民专业合作社设立登记",
        ],
    ),
    (
        "11431900064277754A002",
        "食品经营许可证",
        5,
        &["经营项目"],
        "市市场监督管理局",
        &[
            "食品经营许可证核发",
            "食品经营许可证变更",
            "食品经营许可证延续",
            "食品经营许可证补办",
        ],
    ),
    (
        "114319000032199051001",
        "不动产权证书",
        0,
        &["坐落", "用途"],
        "市自然资源和规划局",
        &[
            "不动产首次登记",
            "不动产转移登记",
            "国有建设用地使用权及房屋所有权",
        ],
    ),
    (
        "114319000861840491001",
        "医疗机构执业许可证",
        5,
        &["诊疗科目"],
        "市卫生健康委员会",
        &["医疗机构执业登记"],
    ),
    (
        "11431900001569098J001",
        "道路运输经营许可证",
        4,
        &["经营范围"],
        "市交通运输局",
        &[
            "道路运输经营许可",
            "道路旅客运输经营许可",
            "道路货物运输经营许可",
        ],
    ),
    (
        "11431900056547654F001",
        "建筑业企业资质证书",
        5,
        &["资质类别及等级"],
        "市住房和城乡建设局",
        &["建筑业企业资质"],
    ),
];

/// Defines the demo licence types and maps the items that issue them.
pub async fn seed_licence_types(store: &Store, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let items = store.all_items().await?;
    let mut mapped = 0;
    for (code, name, years, fields, dept, patterns) in DEMO_LICENCE_TYPES {
        let fields: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
        store
            .upsert_licence_type(code, name, *years, &fields, now)
            .await?;
        for it in items.iter().filter(|i| {
            i.item.department == *dept && patterns.iter().any(|p| i.item.name.contains(p))
        }) {
            // 变更, 延续, 补办 re-issue the holder's licence as its next version; 核发 issues a new one.
            let reissue = ["变更", "延续", "补办", "换发"]
                .iter()
                .any(|k| it.item.name.contains(k));
            store
                .set_item_licence_type(&it.item.impl_code, code, reissue)
                .await?;
            mapped += 1;
        }
    }
    Ok(mapped)
}

/// Runs a few cases through the real workflow so the demo has history: decided cases
/// with signed licences (one re-issued, one revoked) and open cases in the inbox.
pub async fn seed_cases(state: &crate::App) -> anyhow::Result<usize> {
    use crate::cases::{execute, submit, Submission};
    use tongban_core::case::{Channel, Command, Delivery};
    let store = &state.store;
    if store
        .find_cases(&tongban_store::cases::CaseFilter {
            limit: 1,
            ..Default::default()
        })
        .await?
        .1
        > 0
    {
        return Ok(0);
    }
    let users = store.users().await?;
    let user = |name: &str| {
        users
            .iter()
            .find(|u| u.username == name)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("demo user {name} missing"))
    };
    let (clerk, approver, head) = (user("clerk")?, user("approver")?, user("head")?);
    let zhangsan = store
        .applicant_of_user(user("zhangsan")?.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("zhangsan has no applicant"))?;
    let company = store
        .applicant_of_user(user("enterprise")?.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("enterprise has no applicant"))?;
    let items = store.all_items().await?;
    let code_of = |name: &str| {
        items
            .iter()
            .find(|i| i.item.name == name && i.item.department == "市市场监督管理局")
            .map(|i| i.item.impl_code.clone())
            .ok_or_else(|| anyhow::anyhow!("demo item {name} missing"))
    };
    let mut made = 0;
    // (item, applicant, how far: 0 = submitted, 1 = in approval, 3 = approved and delivered)
    let plan: [(&str, &tongban_store::cases::Applicant, u8); 5] = [
        ("食品经营许可证核发", &company, 3),
        ("食品经营许可证变更", &company, 3),
        ("个体工商户设立登记", &zhangsan, 3),
        ("企业设立登记", &company, 1),
        ("食品经营许可证延续", &zhangsan, 0),
    ];
    for (item, applicant, stage) in plan {
        let code = code_of(item)?;
        // The window's checklist: every required material received with its original
        // checked, the first one scanned (the material viewer opens it); the case still
        // in pre-review lacks its last required material (受理 then needs 容缺受理).
        let required: Vec<String> = items
            .iter()
            .find(|i| i.item.impl_code == code)
            .map(|i| {
                i.materials
                    .iter()
                    .filter(|m| m.necessity == tongban_core::catalog::Necessity::Required)
                    .map(|m| m.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        let keep = if stage == 0 {
            required.len().saturating_sub(1)
        } else {
            required.len()
        };
        let scan = crate::cases::store_uploads(
            state,
            &clerk,
            &[crate::cases::Upload {
                field: "scan".into(),
                file_name: "扫描件.png".into(),
                bytes: tongban_store::objects::sample_png(620, 877),
            }],
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo scan: {}", e.message))?;
        let materials: Vec<tongban_core::case::MaterialRef> = required
            .iter()
            .take(keep)
            .enumerate()
            .map(|(n, name)| tongban_core::case::MaterialRef {
                name: name.clone(),
                sha256: (n == 0).then(|| scan[0].2.clone()),
                file_name: (n == 0).then(|| scan[0].1.clone()),
                licence_id: None,
                trust: Some('B'),
            })
            .collect();
        let (rec, _) = submit(
            state,
            &clerk,
            Submission {
                impl_code: &code,
                applicant,
                channel: Channel::Window,
                delivery: Delivery::Electronic,
                materials,
                idem_key: None,
                details: Default::default(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo case {item}: {}", e.message))?;
        made += 1;
        if stage == 0 {
            continue;
        }
        let run = |who: tongban_store::accounts::User, no: String, cmd: Command| async move {
            let version = state.store.case_by_no(&no).await?.version;
            execute(state, &who, &no, version, &cmd)
                .await
                .map_err(|e| anyhow::anyhow!("demo {no}: {}", e.message))
        };
        run(clerk.clone(), rec.case_no.clone(), Command::Accept).await?;
        if stage == 1 {
            continue;
        }
        run(
            approver.clone(),
            rec.case_no.clone(),
            Command::Pass {
                opinion: "材料齐全，符合受理条件".into(),
            },
        )
        .await?;
        run(
            approver.clone(),
            rec.case_no.clone(),
            Command::Pass {
                opinion: "经审查符合法定条件".into(),
            },
        )
        .await?;
        run(
            head.clone(),
            rec.case_no.clone(),
            Command::Pass {
                opinion: "准予许可".into(),
            },
        )
        .await?;
        run(
            clerk.clone(),
            rec.case_no.clone(),
            Command::RegisterDelivery {
                waybill: String::new(),
            },
        )
        .await?;
    }
    // One licence revoked, as operators will meet them.
    if let Some(l) = store
        .licences_of_holder(zhangsan.id)
        .await?
        .into_iter()
        .find(|l| l.status == "valid")
    {
        store
            .set_licence_status(
                &l.licence_id,
                tongban_store::licences::StatusChange::Revoke,
                "经营者申请注销",
                "head",
                state.now(),
            )
            .await?;
    }
    // 好差评: ratings of every level, an open and a done rectification, an upheld appeal.
    crate::ratings::seed_demo(state)
        .await
        .map_err(|e| anyhow::anyhow!("demo ratings: {}", e.message))?;
    Ok(made)
}

/// The exchange of the demo city: a catalog of three resources (one of each sharing class),
/// a grant, the evidence 企业设立登记 declares, a pending conditional request, and one real
/// signed, purpose-bound call for the enterprise's case in approval, so the enterprise's
/// "谁因哪个办件查询了我的数据" has an entry. Does nothing when the catalog holds resources.
pub async fn seed_exchange(state: &crate::App) -> anyhow::Result<usize> {
    use tongban_core::exchange::{Field, Resource, SharingClass};
    let store = &state.store;
    if !store.resources(None).await?.is_empty() {
        return Ok(0);
    }
    let view = state
        .catalog()
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let dept = |name: &str| view.departments.iter().find(|d| d.name == name).cloned();
    let Some(scj) = dept("市市场监督管理局") else {
        return Ok(0);
    };
    let gaj = dept("市公安局").unwrap_or_else(|| scj.clone());
    let today = state.today();
    let fields = |names: &[&str]| {
        names
            .iter()
            .map(|n| Field {
                name: n.to_string(),
                kind: "string".into(),
            })
            .collect::<Vec<_>>()
    };
    let resources = [
        Resource {
            code: "DEMO-SCJG-001".into(),
            name: "市场主体登记信息".into(),
            provider: scj.name.clone(),
            provider_code: scj.code.clone(),
            summary: "企业、个体工商户的登记事项和状态".into(),
            fields: fields(&["名称", "统一社会信用代码", "法定代表人", "登记状态"]),
            format: "JSON".into(),
            update_cycle: "实时".into(),
            published_on: today,
            sharing_class: SharingClass::Unconditional,
            basis: String::new(),
        },
        Resource {
            code: "DEMO-GA-002".into(),
            name: "居民户籍信息".into(),
            provider: gaj.name.clone(),
            provider_code: gaj.code.clone(),
            summary: "户籍登记的姓名、身份证号、户籍地址".into(),
            fields: fields(&["姓名", "公民身份号码", "户籍地址"]),
            format: "JSON".into(),
            update_cycle: "每日".into(),
            published_on: today,
            sharing_class: SharingClass::Conditional,
            basis: "《中华人民共和国居民身份证法》第十三条；仅限依法办理政务服务事项时核验".into(),
        },
        Resource {
            code: "DEMO-GA-003".into(),
            name: "在侦案件信息".into(),
            provider: gaj.name.clone(),
            provider_code: gaj.code.clone(),
            summary: "侦查中的案件线索".into(),
            fields: fields(&["案件编号", "案由"]),
            format: "JSON".into(),
            update_cycle: "实时".into(),
            published_on: today,
            sharing_class: SharingClass::NotShared,
            basis: "《中华人民共和国刑事诉讼法》第五十四条，侦查秘密".into(),
        },
    ];
    for r in &resources {
        store.publish_resource(r, state.now()).await?;
    }
    let me = crate::exchange::self_member(state)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    store
        .grant_access("DEMO-SCJG-001", &me.code, &scj.code, "sharing", state.now())
        .await?;
    let due = crate::calendar::deadline(state, today, tongban_core::exchange::ANSWER_WORKING_DAYS)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?
        .due;
    store
        .create_conditional_request(
            "DEMO-GA-002",
            &me.code,
            &scj.code,
            "食品经营许可现场核查前核验经营者身份",
            "《食品经营许可和备案管理办法》第十八条",
            "approver",
            today,
            due,
        )
        .await?;
    // One real call for the enterprise's case in approval.
    let users = store.users().await?;
    let user = |name: &str| users.iter().find(|u| u.username == name).cloned();
    let (Some(approver), Some(ent)) = (user("approver"), user("enterprise")) else {
        return Ok(resources.len());
    };
    let (cases, _) = store
        .find_cases(&tongban_store::cases::CaseFilter {
            limit: 50,
            ..Default::default()
        })
        .await?;
    let Some(case) = cases
        .into_iter()
        .find(|c| c.item_name == "企业设立登记" && c.state.completed_on.is_none())
    else {
        return Ok(resources.len());
    };
    store
        .declare_evidence(&case.impl_code, "DEMO-SCJG-001", &me.code)
        .await?;
    crate::exchange::consent(state, &ent, &case.case_no)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    crate::exchange::call(
        state,
        &approver,
        &crate::exchange::CallInput {
            provider: String::new(),
            service: "DEMO-SCJG-001".into(),
            case_no: case.case_no.clone(),
            legal_basis: "《中华人民共和国市场主体登记管理条例》".into(),
            purpose: "核验申请人已登记的市场主体信息".into(),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.message))?;
    Ok(resources.len())
}
