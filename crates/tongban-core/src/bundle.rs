//! 一件事一次办 (高效办成一件事, 国发〔2024〕3号): one application for a life event across
//! several items and departments, declared as data.
//!
//! A [`BundleDef`] names its member items (by the key it gives them), a questionnaire of
//! 情形 whose answers select the optional members, one merged form whose fields map onto
//! the members' fields, one merged material list, the order between members (a DAG:
//! `after` names the members whose result a member needs), 统一办结 or 分别办结, what a
//! refusal of one member does to the rest, and the promised total limit in working days.
//! The rules here are pure: which members an answer sheet selects, whether a definition
//! holds together, and the critical-path date over the members.

use crate::calendar::{CalendarError, TimeUnit, WorkCalendar};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The format version of a definition file this build reads.
pub const FORMAT: u32 = 1;

/// One 一件事 as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleDef {
    /// Short code used in URLs, e.g. `qykb` (企业开办).
    pub code: String,
    pub name: String,
    /// The definition's own version; importing the same code again adds a version.
    #[serde(default = "one")]
    pub version: u32,
    #[serde(default)]
    pub summary: String,
    /// 牵头部门.
    pub lead_department: String,
    /// 配合部门.
    #[serde(default)]
    pub cooperating_departments: Vec<String>,
    pub items: Vec<MemberItem>,
    /// 情形: questions whose answers select the optional members.
    #[serde(default)]
    pub questions: Vec<Question>,
    /// The merged form (一表申请): each field asked once, copied to the members' fields.
    #[serde(default)]
    pub fields: Vec<FormField>,
    /// The merged material list (一套材料): each material once, mapped to the members.
    #[serde(default)]
    pub materials: Vec<SharedMaterial>,
    pub completion: Completion,
    pub on_refusal: OnRefusal,
    /// The promised total limit, working days from the application.
    pub promised_days: u32,
}

fn one() -> u32 {
    1
}

/// A member item of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberItem {
    /// The key the definition uses for this member (`setup`, `seal` …).
    pub key: String,
    /// The catalog item's name (事项名称) …
    pub item: String,
    /// … and its 实施主体 (department), which together find it in the catalog.
    pub department: String,
    /// Members whose result this one needs (办结 first).
    #[serde(default)]
    pub after: Vec<String>,
    /// Optional members run only when an answer selects them.
    #[serde(default)]
    pub optional: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub code: String,
    pub text: String,
    pub answers: Vec<Answer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub code: String,
    pub label: String,
    /// The optional members this answer selects.
    #[serde(default)]
    pub selects: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    pub name: String,
    pub label: String,
    #[serde(default)]
    pub required: bool,
    /// (member key, the member's field name) pairs the value is copied to.
    pub maps: Vec<FieldMap>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMap {
    pub item: String,
    pub field: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedMaterial {
    /// The material's name, as the member items' checklists name it.
    pub name: String,
    /// The members that need it.
    pub items: Vec<String>,
    /// Produced by a prerequisite member (its e-licence), never uploaded (免提交).
    #[serde(default)]
    pub from_item: Option<String>,
}

/// 统一办结 (all results delivered together) or 分别办结 (each when ready).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Completion {
    Unified,
    Separate,
}

impl Completion {
    pub fn label(self) -> &'static str {
        match self {
            Completion::Unified => "统一办结",
            Completion::Separate => "分别办结",
        }
    }
}

/// What a withdrawal or refusal of one member does to the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnRefusal {
    /// Withdraw every other open member and start none of the waiting ones.
    WithdrawRest,
    /// The others go on; members that need the refused one's result cannot start.
    Continue,
}

impl OnRefusal {
    pub fn label(self) -> &'static str {
        match self {
            OnRefusal::WithdrawRest => "一项未获办理即撤回其余事项",
            OnRefusal::Continue => "其余事项继续办理",
        }
    }
}

/// Why a definition or an answer sheet is refused (the message is shown as is).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BundleError(pub String);

fn err<T>(m: impl Into<String>) -> Result<T, BundleError> {
    Err(BundleError(m.into()))
}

fn code_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

impl BundleDef {
    /// Parses and checks a definition (JSON).
    pub fn parse(text: &str) -> Result<BundleDef, BundleError> {
        let def: BundleDef = serde_json::from_str(text)
            .map_err(|e| BundleError(format!("一件事定义格式有误：{e}")))?;
        def.check()?;
        Ok(def)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// A definition holds together: codes well formed, keys unique, every reference names a
    /// member, the order has no cycle, answers select only optional members.
    pub fn check(&self) -> Result<(), BundleError> {
        if !code_ok(&self.code) {
            return err(format!(
                "一件事编码「{}」应为 1–40 个小写字母、数字、_ 或 -",
                self.code
            ));
        }
        if self.name.trim().is_empty() || self.name.chars().count() > 50 {
            return err("一件事名称不能为空，且不超过 50 字");
        }
        if self.lead_department.trim().is_empty() {
            return err("须写明牵头部门");
        }
        if self.version == 0 {
            return err("版本号应为正整数");
        }
        if self.items.is_empty() || self.items.len() > 30 {
            return err("一件事应包含 1–30 个事项");
        }
        if self.promised_days == 0 || self.promised_days > 365 {
            return err("承诺总时限应为 1–365 个工作日");
        }
        let mut keys = BTreeSet::new();
        for m in &self.items {
            if !code_ok(&m.key) {
                return err(format!("事项键「{}」格式有误", m.key));
            }
            if !keys.insert(m.key.as_str()) {
                return err(format!("事项键「{}」重复", m.key));
            }
            if m.item.trim().is_empty() || m.department.trim().is_empty() {
                return err(format!("事项「{}」须写明事项名称和实施主体", m.key));
            }
        }
        let known = |k: &str, what: &str| -> Result<(), BundleError> {
            if keys.contains(k) {
                Ok(())
            } else {
                err(format!("{what}引用了不存在的事项「{k}」"))
            }
        };
        for m in &self.items {
            for a in &m.after {
                known(a, &format!("事项「{}」的前置", m.key))?;
                if a == &m.key {
                    return err(format!("事项「{}」不能以自身为前置", m.key));
                }
            }
        }
        self.order()?;
        let mut qcodes = BTreeSet::new();
        for q in &self.questions {
            if !code_ok(&q.code) || !qcodes.insert(q.code.as_str()) {
                return err(format!("情形问题编码「{}」格式有误或重复", q.code));
            }
            if q.answers.len() < 2 {
                return err(format!("情形问题「{}」至少应有两个选项", q.text));
            }
            let mut acodes = BTreeSet::new();
            for a in &q.answers {
                if !code_ok(&a.code) || !acodes.insert(a.code.as_str()) {
                    return err(format!("问题「{}」的选项编码「{}」有误", q.code, a.code));
                }
                for s in &a.selects {
                    known(s, &format!("问题「{}」的选项", q.code))?;
                    if !self.member(s).is_some_and(|m| m.optional) {
                        return err(format!("选项只能选择可选事项，「{s}」是必办事项"));
                    }
                }
            }
        }
        let mut fnames = BTreeSet::new();
        for f in &self.fields {
            if f.name.trim().is_empty() || !fnames.insert(f.name.as_str()) {
                return err(format!("表单字段「{}」为空或重复", f.name));
            }
            for m in &f.maps {
                known(&m.item, &format!("字段「{}」", f.name))?;
            }
        }
        let mut mnames = BTreeSet::new();
        for m in &self.materials {
            if m.name.trim().is_empty() || !mnames.insert(m.name.as_str()) {
                return err(format!("材料「{}」为空或重复", m.name));
            }
            for i in &m.items {
                known(i, &format!("材料「{}」", m.name))?;
            }
            if let Some(from) = &m.from_item {
                known(from, &format!("材料「{}」的来源", m.name))?;
                for i in &m.items {
                    if !self.needs(i, from) {
                        return err(format!(
                            "材料「{}」来自「{from}」的结果，须为「{i}」的前置事项",
                            m.name
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    pub fn member(&self, key: &str) -> Option<&MemberItem> {
        self.items.iter().find(|m| m.key == key)
    }

    /// True when `key` needs `other` (directly or through others).
    pub fn needs(&self, key: &str, other: &str) -> bool {
        let mut stack = vec![key];
        let mut seen = BTreeSet::new();
        while let Some(k) = stack.pop() {
            if !seen.insert(k) {
                continue;
            }
            if let Some(m) = self.member(k) {
                for a in &m.after {
                    if a == other {
                        return true;
                    }
                    stack.push(a);
                }
            }
        }
        false
    }

    /// The members in an order where every member follows its prerequisites; refused when
    /// the order has a cycle.
    pub fn order(&self) -> Result<Vec<&MemberItem>, BundleError> {
        let mut done: Vec<&MemberItem> = Vec::new();
        let mut left: Vec<&MemberItem> = self.items.iter().collect();
        while !left.is_empty() {
            let before = left.len();
            let (ready, rest): (Vec<_>, Vec<_>) = left
                .into_iter()
                .partition(|m| m.after.iter().all(|a| done.iter().any(|d| &d.key == a)));
            done.extend(ready);
            left = rest;
            if left.len() == before {
                return err(format!(
                    "事项的先后顺序有循环：{}",
                    left.iter()
                        .map(|m| m.key.as_str())
                        .collect::<Vec<_>>()
                        .join("、")
                ));
            }
        }
        Ok(done)
    }

    /// The members an answer sheet selects, in order: every required member, the optional
    /// ones an answer selects, and the prerequisites of each. Every question must be
    /// answered with one of its answers (a code, a label, or true/false for 是/否).
    pub fn select(&self, answers: &BTreeMap<String, String>) -> Result<Vec<String>, BundleError> {
        for k in answers.keys() {
            if !self.questions.iter().any(|q| &q.code == k) {
                return err(format!("没有这个情形问题：{k}"));
            }
        }
        let mut chosen: BTreeSet<&str> = self
            .items
            .iter()
            .filter(|m| !m.optional)
            .map(|m| m.key.as_str())
            .collect();
        for q in &self.questions {
            let Some(given) = answers.get(&q.code) else {
                return err(format!("请回答情形问题：{}", q.text));
            };
            let a = q
                .answers
                .iter()
                .find(|a| a.code == *given || a.label == *given)
                .ok_or_else(|| BundleError(format!("问题「{}」没有选项「{given}」", q.text)))?;
            chosen.extend(a.selects.iter().map(String::as_str));
        }
        // A member brings its prerequisites.
        let mut stack: Vec<&str> = chosen.iter().copied().collect();
        while let Some(k) = stack.pop() {
            if let Some(m) = self.member(k) {
                for a in &m.after {
                    if chosen.insert(a.as_str()) {
                        stack.push(a.as_str());
                    }
                }
            }
        }
        Ok(self
            .order()?
            .into_iter()
            .filter(|m| chosen.contains(m.key.as_str()))
            .map(|m| m.key.clone())
            .collect())
    }

    /// The members' form details from the merged form: each value copied to the fields it
    /// maps to. Unknown fields and missing required ones are refused.
    pub fn details_for(
        &self,
        fields: &BTreeMap<String, String>,
        selected: &[String],
    ) -> Result<HashMap<String, BTreeMap<String, String>>, BundleError> {
        for k in fields.keys() {
            if !self.fields.iter().any(|f| &f.name == k) {
                return err(format!("表单没有这个字段：{k}"));
            }
        }
        let mut out: HashMap<String, BTreeMap<String, String>> = HashMap::new();
        for f in &self.fields {
            let value = fields.get(&f.name).map(|v| v.trim()).unwrap_or("");
            let needed = f.maps.iter().any(|m| selected.contains(&m.item));
            if value.is_empty() {
                if f.required && needed {
                    return err(format!("请填写：{}", f.label));
                }
                continue;
            }
            for m in f.maps.iter().filter(|m| selected.contains(&m.item)) {
                out.entry(m.item.clone())
                    .or_default()
                    .insert(m.field.clone(), value.to_string());
            }
        }
        Ok(out)
    }
}

/// How far a member is, for the critical path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberProgress {
    /// Not yet started: it will take `days` in `unit` once its prerequisites are done.
    Waiting { days: u32, unit: TimeUnit },
    /// Running; expected done on this date (its promised date, or an estimate).
    Running { expected: NaiveDate },
    /// 办结 (approved) on this date.
    Done { on: NaiveDate },
    /// Ended without a result (refused, withdrawn, cancelled): not on the path.
    Ended,
}

/// The critical-path date: the latest expected end over the members, each waiting member
/// starting when the last of its prerequisites is expected done (never before `today`),
/// counted in working days with the 调休 calendar. `None` when no member is on the path.
pub fn critical_path(
    def: &BundleDef,
    progress: &BTreeMap<String, MemberProgress>,
    today: NaiveDate,
    cal: &WorkCalendar,
) -> Result<Option<NaiveDate>, CalendarError> {
    let order = match def.order() {
        Ok(o) => o,
        Err(_) => return Ok(None),
    };
    let mut end: BTreeMap<&str, NaiveDate> = BTreeMap::new();
    for m in order {
        let Some(p) = progress.get(&m.key) else {
            continue;
        };
        let e = match *p {
            MemberProgress::Done { on } => on,
            MemberProgress::Running { expected } => expected,
            MemberProgress::Waiting { days, unit } => {
                let start = m
                    .after
                    .iter()
                    .filter_map(|a| end.get(a.as_str()).copied())
                    .max()
                    .unwrap_or(today)
                    .max(today);
                cal.add(start, days, unit)?
            }
            MemberProgress::Ended => continue,
        };
        end.insert(m.key.as_str(), e);
    }
    Ok(end.values().copied().max())
}

/// Supervision of the bundle's promised total limit, as for cases: red once past the due
/// date, yellow on its last `yellow_days` working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    Green,
    Yellow,
    Red,
}

impl Light {
    pub fn label(self) -> &'static str {
        match self {
            Light::Green => "正常",
            Light::Yellow => "黄灯预警",
            Light::Red => "红灯超期",
        }
    }
}

pub fn light(
    limit_due: NaiveDate,
    today: NaiveDate,
    yellow_days: u32,
    cal: &WorkCalendar,
) -> Result<Light, CalendarError> {
    if today > limit_due {
        return Ok(Light::Red);
    }
    let left = cal.working_days_between(today, limit_due)?;
    Ok(if left <= yellow_days {
        Light::Yellow
    } else {
        Light::Green
    })
}

/// Figures of finished bundles: count, median and mean working days end to end, share
/// finished within the promise.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundleFigures {
    pub applications: usize,
    pub completed: usize,
    pub median_working_days: Option<f64>,
    pub mean_working_days: Option<f64>,
    pub within_promise_share: Option<f64>,
}

/// `done`: (working days end to end, within the promise) of each completed bundle.
pub fn figures(applications: usize, done: &[(u32, bool)]) -> BundleFigures {
    let mut days: Vec<u32> = done.iter().map(|d| d.0).collect();
    days.sort_unstable();
    let n = days.len();
    let median = (n > 0).then(|| {
        if n % 2 == 1 {
            f64::from(days[n / 2])
        } else {
            (f64::from(days[n / 2 - 1]) + f64::from(days[n / 2])) / 2.0
        }
    });
    let mean = (n > 0).then(|| f64::from(days.iter().sum::<u32>()) / n as f64);
    let within = (n > 0).then(|| done.iter().filter(|d| d.1).count() as f64 / n as f64);
    BundleFigures {
        applications,
        completed: n,
        median_working_days: median,
        mean_working_days: mean,
        within_promise_share: within,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn def() -> BundleDef {
        BundleDef::parse(
            r#"{"code":"qykb","name":"企业开办","lead_department":"市市场监督管理局",
            "items":[
              {"key":"setup","item":"企业设立登记","department":"市市场监督管理局"},
              {"key":"seal","item":"印章刻制备案","department":"市公安局","after":["setup"],"optional":true},
              {"key":"invoice","item":"发票领用","department":"市税务局","after":["setup"],"optional":true}],
            "questions":[{"code":"seal","text":"是否需要刻制公章","answers":[
              {"code":"yes","label":"是","selects":["seal"]},{"code":"no","label":"否"}]},
              {"code":"invoice","text":"是否申领发票","answers":[
              {"code":"yes","label":"是","selects":["invoice"]},{"code":"no","label":"否"}]}],
            "fields":[{"name":"企业名称","label":"企业名称","required":true,
              "maps":[{"item":"setup","field":"名称"},{"item":"seal","field":"单位名称"}]}],
            "materials":[{"name":"营业执照","items":["seal"],"from_item":"setup"}],
            "completion":"unified","on_refusal":"withdraw_rest","promised_days":3}"#,
        )
        .unwrap()
    }

    fn answers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn answers_select_the_members_and_their_prerequisites() {
        let def = def();
        assert_eq!(
            def.select(&answers(&[("seal", "yes"), ("invoice", "否")]))
                .unwrap(),
            vec!["setup", "seal"]
        );
        assert_eq!(
            def.select(&answers(&[("seal", "no"), ("invoice", "no")]))
                .unwrap(),
            vec!["setup"]
        );
        assert!(def.select(&answers(&[("seal", "yes")])).is_err());
        assert!(def
            .select(&answers(&[("seal", "maybe"), ("invoice", "no")]))
            .is_err());
        assert!(def
            .select(&answers(&[("seal", "yes"), ("invoice", "no"), ("x", "y")]))
            .is_err());
    }

    #[test]
    fn a_cycle_or_an_unknown_reference_is_refused() {
        let mut d = def();
        d.items[0].after = vec!["seal".into()];
        assert!(d.check().unwrap_err().0.contains("循环"));
        let mut d = def();
        d.items[1].after = vec!["nothing".into()];
        assert!(d.check().is_err());
        // A licence can only come from a prerequisite.
        let mut d = def();
        d.materials[0].from_item = Some("invoice".into());
        assert!(d.check().is_err());
    }

    #[test]
    fn the_merged_form_fills_the_selected_members_fields() {
        let def = def();
        let sel = vec!["setup".to_string()];
        let out = def
            .details_for(&answers(&[("企业名称", "星辰科技")]), &sel)
            .unwrap();
        assert_eq!(out["setup"]["名称"], "星辰科技");
        assert!(!out.contains_key("seal"));
        assert!(def.details_for(&answers(&[]), &sel).is_err());
        assert!(def
            .details_for(&answers(&[("企业名称", "x"), ("别的", "y")]), &sel)
            .is_err());
    }

    /// 国务院办公厅关于2026年部分节假日安排的通知: 国庆 10月1日至7日放假 (and the built-in
    /// table): a bundle applied for on 30 September waits out the holiday.
    #[test]
    fn the_critical_path_counts_working_days_across_national_day() {
        let cal = WorkCalendar::builtin();
        let def = def();
        let wd = |n| MemberProgress::Waiting {
            days: n,
            unit: TimeUnit::WorkingDays,
        };
        let mut p = BTreeMap::new();
        p.insert("setup".to_string(), wd(1));
        p.insert("seal".to_string(), wd(1));
        p.insert("invoice".to_string(), wd(0));
        let today = d("2026-09-30");
        let first = cal.add_working_days(today, 1).unwrap();
        assert!(first >= d("2026-10-08"), "{first}");
        let path = critical_path(&def, &p, today, &cal).unwrap().unwrap();
        assert_eq!(path, cal.add_working_days(today, 2).unwrap());
        // Recomputed as members move: the prerequisite done early pulls the path in.
        p.insert("setup".to_string(), MemberProgress::Done { on: today });
        let path = critical_path(&def, &p, today, &cal).unwrap().unwrap();
        assert_eq!(path, first);
        // An ended member is off the path.
        p.insert("seal".to_string(), MemberProgress::Ended);
        assert_eq!(critical_path(&def, &p, today, &cal).unwrap(), Some(today));
    }

    #[test]
    fn the_light_turns_yellow_then_red() {
        let cal = WorkCalendar::builtin();
        let due = d("2026-03-06");
        assert_eq!(light(due, d("2026-03-02"), 1, &cal).unwrap(), Light::Green);
        assert_eq!(light(due, d("2026-03-05"), 1, &cal).unwrap(), Light::Yellow);
        assert_eq!(light(due, d("2026-03-09"), 1, &cal).unwrap(), Light::Red);
    }

    #[test]
    fn figures_give_median_mean_and_share() {
        let f = figures(5, &[(2, true), (4, false), (3, true), (1, true)]);
        assert_eq!(f.completed, 4);
        assert_eq!(f.median_working_days, Some(2.5));
        assert_eq!(f.mean_working_days, Some(2.5));
        assert_eq!(f.within_promise_share, Some(0.75));
        assert_eq!(figures(0, &[]).median_working_days, None);
    }
}
