//! The service guide (办事指南) in the national portal's sections: 办理流程, the purpose of
//! each trip, 结果名称与样本, 送达方式, 常见问题 and 监督投诉电话 — all derived from the
//! item's catalog data, so that the guide says what the application form does.

use crate::catalog::{CaseKind, Item, ItemType, Material, MaterialForm, Necessity};

/// What the catalog alone does not say about an item.
#[derive(Debug, Default, Clone, Copy)]
pub struct Facts<'a> {
    /// The item's hall has a published address.
    pub hall_has_address: bool,
    /// The hall has windows that accept the item.
    pub windows: bool,
    /// The licence its approval issues: (name, printed fields, validity in years, 0 = 长期).
    pub result: Option<(&'a str, &'a [String], i64)>,
    /// The department's telephone.
    pub department_phone: &'a str,
}

/// The guide's derived sections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Guide {
    /// 办理流程: (step, what happens).
    pub process: Vec<(String, String)>,
    /// What each trip to the hall is for (empty words for zero trips are still a sentence).
    pub trips: String,
    /// A note above the materials list, consistent with the form.
    pub materials_note: String,
    /// 结果名称.
    pub result_name: String,
    /// 结果样本: what the result states.
    pub result_sample: Vec<String>,
    /// 送达方式: (way, note) — the choices of the application form.
    pub delivery: Vec<(&'static str, &'static str)>,
    /// 常见问题: (question, answer).
    pub faq: Vec<(String, String)>,
    /// 监督投诉电话: (who, number).
    pub complaints: Vec<(String, String)>,
    /// Where to go when the hall has no address yet.
    pub location_note: String,
}

/// The delivery choices of the application form, in its order.
pub const DELIVERY: [(&str, &str); 3] = [
    (
        "电子送达",
        "办结后电子证照和文书发送至“我的办件”和证照夹，可下载打印",
    ),
    ("邮政寄递（免费）", "由邮政 EMS 免费寄送至申请时填写的地址"),
    ("窗口领取", "办结后凭受理回执到办理窗口领取"),
];

fn limit_text(item: &Item) -> String {
    if item.promised_limit == 0 {
        "当场办结".into()
    } else {
        format!(
            "{} 个{}内",
            item.promised_limit,
            item.promised_unit.as_str()
        )
    }
}

pub fn guide(item: &Item, materials: &[Material], facts: &Facts<'_>) -> Guide {
    let mut g = Guide::default();
    let immediate = item.kind == CaseKind::Immediate;
    let licensing = item.item_type == ItemType::Licensing;
    let licence_materials = materials.iter().any(|m| !m.licence_type.is_empty());
    let originals = materials
        .iter()
        .any(|m| matches!(m.form, MaterialForm::Paper | MaterialForm::Both));

    // 办理流程
    let mut step = |name: &str, what: String| g.process.push((name.to_string(), what));
    if item.online {
        step(
            "网上申请",
            "登录后点击“在线申请”，逐项上传材料（PDF、JPG、PNG、OFD）；已有电子证照的材料可直接选用，免于提交".into(),
        );
    } else {
        step(
            "窗口申请",
            format!(
                "携带材料到{}综合窗口提交，窗口当场录入并扫描材料",
                if item.hall.is_empty() {
                    "办事大厅".to_string()
                } else {
                    item.hall.clone()
                }
            ),
        );
    }
    step(
        "预审",
        "窗口工作人员审查材料是否齐全、符合法定形式；需要补正的，一次性告知全部补正内容".into(),
    );
    step(
        "受理",
        "材料齐全、符合法定形式的予以受理，出具受理回执；不予受理的出具书面决定并说明理由".into(),
    );
    if immediate {
        step("办结", "即办件：受理后当场作出决定".into());
    } else if licensing {
        step(
            "审查与决定",
            format!("承办、审核、批准，{}作出决定", limit_text(item)),
        );
    } else {
        step("审查与决定", format!("{}作出决定", limit_text(item)));
    }
    if item.charged {
        step("缴费", format!("按收费标准缴费：{}", item.fee_standard));
    }
    step(
        "送达",
        "按申请时选择的送达方式送达办理结果（见“送达方式”）".into(),
    );

    // What the trips are for.
    g.trips = match (item.trips, item.online) {
        (0, _) => "全程网办，无需到现场：申请、补正、结果领取均可在网上完成（结果可选电子送达或免费邮寄）。".into(),
        (1, true) => format!(
            "最多跑一次：网上申请通过预审后，到现场一次{}。办理结果可选择邮寄，不必为领取结果再跑。",
            if originals { "，核验身份证件和纸质材料原件" } else { "，核验身份" }
        ),
        (1, false) => "最多跑一次：到窗口提交材料并核验身份；办理结果可选择免费邮寄，不必为领取结果再跑。".into(),
        (n, _) => format!("需到现场 {n} 次：提交材料并核验身份，以及现场核查或领取结果；请先电话咨询，合并办理可减少跑动。"),
    };

    // The materials note: what the form asks, not more.
    g.materials_note = if item.online {
        let mut s =
            String::from("网上申请时，按清单逐项上传扫描件或照片；标“必要”的材料必须提供。");
        if licence_materials {
            s.push_str(
                "标有“可用电子证照代替”的材料，可在申请页直接选用证照夹中的电子证照，免于提交。",
            );
        }
        if item.trips > 0 && originals {
            s.push_str("到现场时请携带纸质原件备核。");
        }
        s
    } else {
        "请携带以下材料到窗口办理；标“必要”的材料必须提供。".into()
    };
    let tolerated = materials
        .iter()
        .any(|m| m.necessity == Necessity::Tolerated);
    if tolerated {
        g.materials_note
            .push_str("标“容缺”的材料可先受理、在承诺期限内补齐。");
    }

    // 结果名称与样本
    match facts.result {
        Some((name, fields, years)) => {
            g.result_name = format!("{name}（电子证照，与纸质证照具有同等法律效力）");
            g.result_sample = vec![
                format!("证照名称：{name}"),
                "证照编号、持证主体及其代码（个人证件号部分隐去）".into(),
                format!("颁发机构：{}", item.department),
                "颁发日期、有效期至".to_string()
                    + &if years > 0 {
                        format!("（有效期 {years} 年）")
                    } else {
                        "（长期有效）".into()
                    },
            ];
            for f in fields {
                g.result_sample
                    .push(format!("{f}：按申请时填报并经审查的内容"));
            }
            g.result_sample
                .push("核验二维码：扫码或在“证照核验”输入证照编号即可核验".into());
        }
        None => {
            g.result_name = format!("{}结果通知书（电子文书）", item.name);
            g.result_sample = vec![
                format!("文书名称：{}结果通知书", item.name),
                "办件编号、申请人、办理结果及理由".into(),
                format!("作出机关：{}（加盖印章）", item.department),
                "作出日期".into(),
            ];
        }
    }

    g.delivery = DELIVERY.to_vec();

    // 常见问题
    g.faq.push((
        "可以网上办理吗？".into(),
        if item.online {
            "可以。登录后在本页点击“在线申请”。".into()
        } else {
            "暂不支持网上申请，请到窗口办理。".into()
        },
    ));
    g.faq.push(("需要到现场几次？".into(), g.trips.clone()));
    g.faq.push((
        "多长时间能办好？".into(),
        format!(
            "承诺{}；法定办结时限为 {} 个{}。补正材料、特别程序（如听证、检验、专家评审）的时间不计算在内。",
            limit_text(item),
            item.legal_limit,
            item.legal_unit.as_str()
        ),
    ));
    g.faq.push((
        "收费吗？".into(),
        if item.charged {
            format!("收费：{}", item.fee_standard)
        } else {
            "不收费。".into()
        },
    ));
    g.faq.push((
        "材料不齐怎么办？".into(),
        "窗口在预审时一次性告知需要补正的全部内容，按告知补齐后即可继续办理，不会让您反复跑。"
            .into(),
    ));

    // 监督投诉电话
    g.complaints
        .push(("政务服务便民热线".into(), "12345".into()));
    if !facts.department_phone.trim().is_empty() {
        g.complaints.push((
            format!("{}（咨询与投诉）", item.department),
            facts.department_phone.to_string(),
        ));
    } else if !item.phone.trim().is_empty() {
        g.complaints
            .push((format!("{}（咨询）", item.department), item.phone.clone()));
    }

    if !item.hall.is_empty() && !facts.hall_has_address {
        g.location_note = format!(
            "该办理地点的地址和办公时间尚未公布，请先致电 {} 咨询后前往。",
            if item.phone.trim().is_empty() {
                "12345"
            } else {
                item.phone.as_str()
            }
        );
    } else if !item.hall.is_empty() && !facts.windows {
        g.location_note = "该办理地点暂未登记受理窗口，请先电话咨询具体窗口。".into();
    }
    g
}

/// The material that is the application form itself (…申请表 or …申请书), if the item has one:
/// the guide offers it blank and as a sample.
pub fn form_material(materials: &[Material]) -> Option<&Material> {
    materials
        .iter()
        .find(|m| m.name.ends_with("申请表") || m.name.ends_with("申请书"))
}

/// An example value for a field of the form (the sample, 样表).
fn example(field: &str) -> &'static str {
    match field {
        "经营项目" => "预包装食品销售（含冷藏冷冻食品）",
        "经营范围" => {
            "软件开发；信息技术咨询服务（依法须经批准的项目，经相关部门批准后方可开展经营活动）"
        }
        "诊疗科目" => "预防保健科；全科医疗科",
        "资质类别及等级" => "施工总承包 建筑工程 三级",
        "坐落" => "娄星区乐坪大道1号",
        "用途" => "商业服务",
        "类型" => "有限责任公司（自然人投资或控股）",
        _ => "按实际情况填写",
    }
}

/// The application form of an item, blank or filled with example values (a sample, marked
/// 样表): the applicant's particulars, the fields of the result it issues, the delivery
/// choice of the online form (the same three, in the same order) and the materials to attach.
/// None when the item has no application form among its materials.
pub fn application_form(
    item: &Item,
    materials: &[Material],
    result_fields: &[String],
    sample: bool,
) -> Option<Vec<u8>> {
    let form = form_material(materials)?;
    let v = |example: &str| {
        if sample {
            example.to_string()
        } else {
            String::new()
        }
    };
    let mut fields = vec![
        (
            "申请人（单位）名称".to_string(),
            v("娄星市星辰科技有限公司"),
        ),
        (
            "统一社会信用代码或身份证件号码".to_string(),
            v("91431900MA4L000001（示例）"),
        ),
        ("法定代表人（负责人）".to_string(), v("张三")),
        ("联系电话".to_string(), v("0738-0000000（示例）")),
        ("通讯地址".to_string(), v("娄星区乐坪大道1号（示例）")),
    ];
    for f in result_fields {
        fields.push((f.clone(), v(example(f))));
    }
    let delivery = DELIVERY
        .iter()
        .enumerate()
        .map(|(i, (way, note))| (format!("{way}：{note}"), sample && i == 0))
        .collect();
    let attached = materials
        .iter()
        .filter(|m| m.name != form.name)
        .map(|m| {
            (
                format!("{}（{}）", m.name, m.necessity.label()),
                sample && m.necessity == Necessity::Required,
            )
        })
        .collect();
    let sheet = crate::licence::pdf::FormSheet {
        title: &form.name,
        heading: vec![
            format!("申请事项：{}", item.name),
            format!("实施机关：{}", item.department),
            format!("实施编码：{}", item.impl_code),
        ],
        fields,
        choices: vec![
            ("送达方式（选择一种）：".into(), delivery),
            ("随表提交的材料（请勾选）：".into(), attached),
        ],
        declaration: "申请人声明：本人（单位）对所提交申请材料的真实性、合法性、有效性负责，如有虚假，愿承担相应法律责任。",
        signature: vec![
            ("申请人（签字或盖章）".into(), v("张三")),
            ("日期".into(), v("2026年3月2日")),
        ],
        sample,
    };
    Some(crate::licence::pdf::render_form(&sheet))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(online: bool, trips: u32, kind: CaseKind) -> Item {
        let header = "事项名称,基本编码,实施编码,业务办理项编码,事项类型,行使层级,实施主体,实施主体编码,服务对象,办件类型,法定办结时限,法定办结时限单位,承诺办结时限,承诺办结时限单位,是否收费,收费标准,是否网办,网上办理深度,到办事现场次数,办理地点,进驻综合大厅,通办范围,高频事项,设定依据,受理条件,咨询电话";
        let row = "食品经营许可证核发,010010300100,11431900064277754A010010300100000,,01,3,市市场监督管理局,11431900064277754A,2,承诺件,20,工作日,10,工作日,否,,是,1^2^3^4^5^6^7,0,市民之家,是,全国,是,《食品经营许可和备案管理办法》,申请材料齐全,0738-8211315";
        let cols: Vec<&str> = header.split(',').collect();
        let vals: Vec<&str> = row.split(',').collect();
        let mut it =
            Item::from_columns(|c| cols.iter().position(|h| *h == c).map_or("", |i| vals[i]))
                .unwrap();
        it.online = online;
        it.trips = trips;
        it.kind = kind;
        it
    }

    #[test]
    fn the_guide_says_what_the_form_does() {
        let it = item(true, 0, CaseKind::Promised);
        let fields = vec!["经营项目".to_string()];
        let g = guide(
            &it,
            &[],
            &Facts {
                hall_has_address: true,
                windows: true,
                result: Some(("食品经营许可证", &fields, 5)),
                department_phone: "0738-1234567",
            },
        );
        let steps: Vec<&str> = g.process.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(steps, ["网上申请", "预审", "受理", "审查与决定", "送达"]);
        assert!(g.trips.starts_with("全程网办"));
        assert!(!g.materials_note.contains("只跑一次"));
        assert!(g.result_name.starts_with("食品经营许可证"));
        assert!(g.result_sample.iter().any(|l| l.contains("经营项目")));
        assert_eq!(g.delivery.len(), 3);
        assert!(g.complaints.iter().any(|c| c.1 == "12345"));
        assert!(g.complaints.iter().any(|c| c.1 == "0738-1234567"));
        assert!(g.location_note.is_empty());

        let it = item(false, 1, CaseKind::Immediate);
        let g = guide(&it, &[], &Facts::default());
        assert_eq!(g.process[0].0, "窗口申请");
        assert!(g.process.iter().any(|p| p.1.contains("即办件")));
        assert!(g.trips.contains("最多跑一次"));
        assert!(g.result_name.contains("结果通知书"));
    }

    #[test]
    fn blank_and_sample_forms_come_from_the_items_form_material() {
        let it = item(true, 0, CaseKind::Promised);
        let m = |name: &str, necessity: Necessity| Material {
            impl_code: it.impl_code.clone(),
            name: name.into(),
            necessity,
            form: MaterialForm::Both,
            paper_copies: 1,
            source: crate::catalog::MaterialSource::Applicant,
            licence_type: String::new(),
            notes: String::new(),
        };
        let fields = vec!["经营项目".to_string()];
        // No form among the materials: nothing to offer.
        assert!(
            application_form(&it, &[m("营业执照", Necessity::Required)], &fields, false).is_none()
        );
        let mats = [
            m("食品经营许可证核发申请表", Necessity::Required),
            m("营业执照", Necessity::Required),
        ];
        assert_eq!(
            form_material(&mats).unwrap().name,
            "食品经营许可证核发申请表"
        );
        let blank = application_form(&it, &mats, &fields, false).unwrap();
        let sample = application_form(&it, &mats, &fields, true).unwrap();
        let has = |pdf: &[u8], s: &str| {
            String::from_utf8_lossy(pdf).contains(&crate::licence::pdf::encoded(s))
        };
        for pdf in [&blank, &sample] {
            assert!(pdf.starts_with(b"%PDF-"));
            assert!(
                has(pdf, "食品经营许可证核发申请表")
                    && has(pdf, "经营项目")
                    && has(pdf, "营业执照")
            );
        }
        assert!(has(&sample, "样表") && has(&sample, "预包装食品销售"));
        assert!(!has(&blank, "样表") && !has(&blank, "预包装食品销售"));
    }
}
