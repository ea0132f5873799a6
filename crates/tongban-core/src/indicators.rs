//! Catalog indicators (大数据分析): each figure is computed from the catalog, over
//! application-type items only, and states its numerator and denominator.

use crate::catalog::{CaseKind, DepthLevel, Item};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ratio {
    pub count: u64,
    pub of: u64,
    pub rate: f64,
}

impl Ratio {
    pub fn new(count: u64, of: u64) -> Ratio {
        let rate = if of == 0 {
            0.0
        } else {
            // Four decimals, as the city reports percentages to one decimal place.
            ((count as f64 / of as f64) * 10_000.0).round() / 10_000.0
        };
        Ratio { count, of, rate }
    }
    pub fn percent(&self) -> String {
        format!("{:.1}%", self.rate * 100.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatalogStats {
    /// Application-type items (依申请类) in service.
    pub total: u64,
    pub by_depth_level: BTreeMap<String, u64>,
    /// 网上可办率: level ≥ 二级.
    pub online_capable: Ratio,
    /// 全程网办率: level 四级.
    pub fully_online: Ratio,
    /// "一门"进驻率: 进驻综合大厅 = 是.
    pub in_comprehensive_hall: Ratio,
    /// 即办件.
    pub immediate: Ratio,
    /// 最多跑一次率: 到办事现场次数 ≤ 1.
    pub at_most_one_trip: Ratio,
    /// 零跑动率: 到办事现场次数 = 0.
    pub zero_trip: Ratio,
    /// 高频事项网办率: online-capable high-frequency items / high-frequency items.
    pub high_frequency_online: Ratio,
    /// Departments with at least one item in the comprehensive hall.
    pub hall_departments: u64,
    /// 分中心及部门大厅事项: items handled in person outside the comprehensive hall.
    pub other_hall_items: u64,
    /// Catalogued items that are not started by an application and so are not counted.
    pub excluded_non_application: u64,
}

/// A definition shown next to each figure.
pub const DEFINITIONS: &[(&str, &str, &str)] = &[
    (
        "total",
        "事项总数",
        "目录中在用的依申请类事项数（不含行政处罚、强制、征收、检查）",
    ),
    (
        "online_capable",
        "网上可办率",
        "办理深度二级及以上事项数 ÷ 事项总数",
    ),
    (
        "fully_online",
        "全程网办率",
        "办理深度四级（全程网办、零跑动）事项数 ÷ 事项总数",
    ),
    (
        "in_comprehensive_hall",
        "“一门”进驻率",
        "进驻综合大厅的事项数 ÷ 事项总数",
    ),
    (
        "immediate",
        "即办件占比",
        "办件类型为即办件的事项数 ÷ 事项总数",
    ),
    (
        "at_most_one_trip",
        "最多跑一次率",
        "到办事现场次数 ≤ 1 的事项数 ÷ 事项总数",
    ),
    (
        "zero_trip",
        "零跑动率",
        "到办事现场次数 = 0 的事项数 ÷ 事项总数",
    ),
    (
        "high_frequency_online",
        "高频事项网办率",
        "网上可办的高频事项数 ÷ 高频事项数",
    ),
];

pub fn catalog_stats<'a>(items: impl IntoIterator<Item = &'a Item>) -> CatalogStats {
    let mut total = 0u64;
    let mut excluded = 0u64;
    let mut levels = [0u64; 4];
    let (mut hall, mut immediate, mut one_trip, mut zero_trip) = (0u64, 0u64, 0u64, 0u64);
    let (mut hf, mut hf_online, mut other_hall) = (0u64, 0u64, 0u64);
    let mut hall_depts: BTreeSet<&str> = BTreeSet::new();
    for it in items {
        if !it.item_type.is_application() {
            excluded += 1;
            continue;
        }
        total += 1;
        let level = it.depth_level();
        levels[level as usize - 1] += 1;
        if it.in_comprehensive_hall {
            hall += 1;
            hall_depts.insert(it.department_code.as_str());
        } else if !it.hall.is_empty() {
            other_hall += 1;
        }
        if it.kind == CaseKind::Immediate {
            immediate += 1;
        }
        if it.trips <= 1 {
            one_trip += 1;
        }
        if it.trips == 0 {
            zero_trip += 1;
        }
        if it.high_frequency {
            hf += 1;
            if level >= DepthLevel::Two {
                hf_online += 1;
            }
        }
    }
    let by_depth_level = (1..=4)
        .map(|l| (l.to_string(), levels[l - 1]))
        .collect::<BTreeMap<_, _>>();
    CatalogStats {
        total,
        online_capable: Ratio::new(levels[1] + levels[2] + levels[3], total),
        fully_online: Ratio::new(levels[3], total),
        by_depth_level,
        in_comprehensive_hall: Ratio::new(hall, total),
        immediate: Ratio::new(immediate, total),
        at_most_one_trip: Ratio::new(one_trip, total),
        zero_trip: Ratio::new(zero_trip, total),
        high_frequency_online: Ratio::new(hf_online, hf),
        hall_departments: hall_depts.len() as u64,
        other_hall_items: other_hall,
        excluded_non_application: excluded,
    }
}

/// Stats for each group (department, hall …) chosen by `key`.
pub fn grouped_stats<'a>(
    items: &'a [Item],
    key: impl Fn(&'a Item) -> String,
) -> BTreeMap<String, CatalogStats> {
    let mut groups: BTreeMap<String, Vec<&Item>> = BTreeMap::new();
    for it in items {
        groups.entry(key(it)).or_default().push(it);
    }
    groups
        .into_iter()
        .map(|(k, v)| (k, catalog_stats(v)))
        .collect()
}
