//! Catalog rules and indicators on hand-built items with known answers.

use std::collections::HashMap;
use tongban_core::catalog::{four_same_report, DepthLevel, Item, Material};
use tongban_core::indicators::{catalog_stats, Ratio};

const DEPT: &str = "11100000000013338W";

fn base() -> HashMap<&'static str, String> {
    [
        ("事项名称", "食品经营许可"),
        ("基本编码", "000117001000"),
        ("实施编码", "X-1"),
        ("事项类型", "01"),
        ("行使层级", "3"),
        ("实施主体", "市市场监督管理局"),
        ("实施主体编码", DEPT),
        ("服务对象", "2"),
        ("办件类型", "承诺件"),
        ("法定办结时限", "20"),
        ("承诺办结时限", "5"),
        ("是否网办", "是"),
        ("网上办理深度", "1^2^3^4^5"),
        ("到办事现场次数", "0"),
        ("办理地点", "市民之家"),
        ("进驻综合大厅", "是"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

fn item(changes: &[(&'static str, &str)]) -> Result<Item, tongban_core::catalog::FieldError> {
    let mut m = base();
    for (k, v) in changes {
        m.insert(k, v.to_string());
    }
    Item::from_columns(|c| m.get(c).map(String::as_str).unwrap_or(""))
}

fn refused(changes: &[(&'static str, &str)], column: &str, needle: &str) {
    let e = item(changes).expect_err("must be refused");
    assert_eq!(e.column, column, "{e}");
    assert!(
        e.message.contains(needle),
        "message {:?} lacks {needle:?}",
        e.message
    );
}

#[test]
fn a_complete_item_parses_with_codes_or_names() {
    let a = item(&[]).unwrap();
    let b = item(&[
        ("事项类型", "行政许可"),
        ("行使层级", "市级"),
        ("服务对象", "企业法人"),
    ])
    .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.depth_level(), DepthLevel::Four);
}

#[test]
fn promised_limit_may_not_exceed_legal_limit_when_units_agree() {
    refused(
        &[("承诺办结时限", "21")],
        "承诺办结时限",
        "不能超过法定办结时限",
    );
    // Different units are not compared.
    assert!(item(&[("承诺办结时限", "25"), ("承诺办结时限单位", "自然日")]).is_ok());
}

#[test]
fn immediate_items_are_decided_on_the_spot() {
    refused(&[("办件类型", "即办件")], "承诺办结时限", "即办件");
    assert!(item(&[
        ("办件类型", "即办件"),
        ("承诺办结时限", "0"),
        ("法定办结时限", "0")
    ])
    .is_ok());
    refused(&[("承诺办结时限", "0")], "承诺办结时限", "承诺件");
}

#[test]
fn depth_must_agree_with_online_flag() {
    refused(&[("网上办理深度", "")], "网上办理深度", "必须包含");
    refused(&[("网上办理深度", "1")], "网上办理深度", "必须包含");
    refused(&[("是否网办", "否")], "网上办理深度", "只能为空");
    assert!(item(&[("是否网办", "否"), ("网上办理深度", "")]).is_ok());
    refused(&[("网上办理深度", "1^9")], "网上办理深度", "未知");
}

#[test]
fn codes_must_come_from_the_code_lists() {
    refused(&[("事项类型", "11")], "事项类型", "不在代码表");
    refused(&[("行使层级", "7")], "行使层级", "不在代码表");
    refused(&[("服务对象", "1^8")], "服务对象", "不在代码表");
    refused(&[("办件类型", "急件")], "办件类型", "不在代码表");
    refused(&[("通办范围", "全省")], "通办范围", "不在代码表");
    refused(
        &[("法定办结时限单位", "小时")],
        "法定办结时限单位",
        "工作日",
    );
    refused(&[("是否收费", "也许")], "是否收费", "是");
}

#[test]
fn identifiers_and_lengths_are_checked() {
    refused(
        &[("实施主体编码", "11100000000013338X")],
        "实施主体编码",
        "校验位",
    );
    refused(&[("基本编码", "0001170010001")], "基本编码", "12");
    refused(&[("实施编码", &"X".repeat(37))], "实施编码", "36");
    refused(&[("事项名称", "  ")], "事项名称", "必填");
    refused(&[("到办事现场次数", "-1")], "到办事现场次数", "非负整数");
    refused(&[("是否收费", "是")], "收费标准", "收费标准");
    refused(&[("办理地点", "")], "办理地点", "办理地点");
}

#[test]
fn material_rules() {
    let cols: HashMap<&str, &str> = [
        ("实施编码", "X-1"),
        ("材料名称", "营业执照"),
        ("材料必要性", "必要"),
        ("材料形式", "电子"),
        ("纸质份数", "0"),
        ("可用电子证照类型", "11100000000013338W001"),
    ]
    .into_iter()
    .collect();
    let m = Material::from_columns(|c| cols.get(c).copied().unwrap_or("")).unwrap();
    assert_eq!(m.licence_type, "11100000000013338W001");
    let mut bad = cols.clone();
    bad.insert("可用电子证照类型", "11100000000013338X001");
    let e = Material::from_columns(|c| bad.get(c).copied().unwrap_or("")).unwrap_err();
    assert_eq!(e.column, "可用电子证照类型");
    let mut bad = cols.clone();
    bad.insert("纸质份数", "2");
    assert_eq!(
        Material::from_columns(|c| bad.get(c).copied().unwrap_or(""))
            .unwrap_err()
            .column,
        "纸质份数"
    );
    let mut bad = cols;
    bad.insert("材料必要性", "随便");
    assert_eq!(
        Material::from_columns(|c| bad.get(c).copied().unwrap_or(""))
            .unwrap_err()
            .column,
        "材料必要性"
    );
}

#[test]
fn depth_levels_follow_the_project_rule() {
    let level = |depth: &str, online: &str, trips: &str| {
        item(&[
            ("网上办理深度", depth),
            ("是否网办", online),
            ("到办事现场次数", trips),
        ])
        .unwrap()
        .depth_level()
    };
    assert_eq!(level("", "否", "2"), DepthLevel::One);
    assert_eq!(level("1^2", "是", "1"), DepthLevel::Two);
    assert_eq!(level("1^3", "是", "1"), DepthLevel::Two);
    assert_eq!(level("1^2^3^4", "是", "1"), DepthLevel::Three);
    assert_eq!(level("1^2^3^4^5", "是", "1"), DepthLevel::Three);
    // Online acceptance without online handling is not 全程网办, even with zero trips.
    assert_eq!(level("1^2^3^4", "是", "0"), DepthLevel::Three);
    assert_eq!(level("1^2^3^4^5^6", "是", "0"), DepthLevel::Four);
}

/// Ten items with hand-counted answers, plus two non-application items that must not count.
#[test]
fn every_indicator_on_a_hand_built_catalog() {
    let mut items = Vec::new();
    let mut add = |code: &str, changes: &[(&'static str, &str)]| {
        let mut c = vec![("实施编码", code)];
        c.extend_from_slice(changes);
        items.push(item(&c).unwrap());
    };
    // 1-3: level 4, hall, zero trips; #1 high frequency.
    add("A1", &[("高频事项", "是")]);
    add("A2", &[]);
    add("A3", &[("办件类型", "即办件"), ("承诺办结时限", "0")]);
    // 4-6: level 3 (one trip), hall; #4 high frequency.
    add(
        "B1",
        &[
            ("网上办理深度", "1^2^3^4"),
            ("到办事现场次数", "1"),
            ("高频事项", "是"),
        ],
    );
    add(
        "B2",
        &[("网上办理深度", "1^2^3^4^5"), ("到办事现场次数", "1")],
    );
    add(
        "B3",
        &[
            ("网上办理深度", "1^2^3^4"),
            ("到办事现场次数", "1"),
            ("办件类型", "即办件"),
            ("承诺办结时限", "0"),
        ],
    );
    // 7-9: level 2, two trips, sub-centre (not in the comprehensive hall), other department.
    for code in ["C1", "C2", "C3"] {
        add(
            code,
            &[
                ("网上办理深度", "1^2^3"),
                ("到办事现场次数", "2"),
                ("进驻综合大厅", "否"),
                ("办理地点", "不动产登记分中心"),
                ("实施主体", "市自然资源和规划局"),
                ("实施主体编码", "91350100M000100Y43"),
            ],
        );
    }
    // 10: level 1, high frequency, not online.
    add(
        "D1",
        &[
            ("是否网办", "否"),
            ("网上办理深度", ""),
            ("到办事现场次数", "1"),
            ("高频事项", "是"),
        ],
    );
    // Non-application items: a penalty and an inspection, online and zero-trip, which would
    // change every figure if they were counted.
    add("P1", &[("事项类型", "02")]);
    add("P2", &[("事项类型", "行政检查"), ("高频事项", "是")]);

    let s = catalog_stats(&items);
    assert_eq!(s.total, 10);
    assert_eq!(s.excluded_non_application, 2);
    let levels: Vec<u64> = (1..=4).map(|l| s.by_depth_level[&l.to_string()]).collect();
    assert_eq!(levels, vec![1, 3, 3, 3]);
    assert_eq!(s.online_capable, Ratio::new(9, 10));
    assert_eq!(s.online_capable.rate, 0.9);
    assert_eq!(s.fully_online, Ratio::new(3, 10));
    assert_eq!(s.in_comprehensive_hall, Ratio::new(7, 10));
    assert_eq!(s.immediate, Ratio::new(2, 10));
    assert_eq!(s.at_most_one_trip, Ratio::new(7, 10));
    assert_eq!(s.zero_trip, Ratio::new(3, 10));
    assert_eq!(s.high_frequency_online, Ratio::new(2, 3));
    assert_eq!(s.high_frequency_online.rate, 0.6667);
    assert_eq!(s.hall_departments, 1);
    assert_eq!(s.other_hall_items, 3);
}

#[test]
fn empty_catalog_has_zero_rates_not_nan() {
    let s = catalog_stats(&[]);
    assert_eq!(s.total, 0);
    assert_eq!(s.online_capable.rate, 0.0);
}

#[test]
fn four_same_finds_differences_across_levels() {
    let city = item(&[("实施编码", "C"), ("基本编码", "B1")]).unwrap();
    let county_same = item(&[("实施编码", "K1"), ("基本编码", "B1"), ("行使层级", "4")]).unwrap();
    let county_other = item(&[
        ("实施编码", "K2"),
        ("基本编码", "B1"),
        ("行使层级", "4"),
        ("事项名称", "食品经营许可（小餐饮）"),
        ("设定依据", "某条例"),
    ])
    .unwrap();
    assert!(four_same_report(&[city.clone(), county_same.clone()]).is_empty());
    let r = four_same_report(&[city, county_same, county_other]);
    let fields: Vec<&str> = r.iter().map(|v| v.field).collect();
    assert_eq!(fields, vec!["事项名称", "设定依据"]);
    assert_eq!(r[0].basic_code, "B1");
    assert_eq!(r[0].variants.len(), 2);
}

#[test]
fn export_columns_round_trip() {
    let a = item(&[
        ("通办范围", "全国"),
        ("服务对象", "2^1"),
        ("是否收费", "是"),
        ("收费标准", "每件10元"),
    ])
    .unwrap();
    let cols = a.to_columns();
    let get = |c: &str| {
        tongban_core::catalog::ITEM_COLUMNS
            .iter()
            .position(|x| *x == c)
            .map(|i| cols[i].as_str())
            .unwrap_or("")
    };
    assert_eq!(Item::from_columns(get).unwrap(), a);
}
