//! The service catalog (事项库): code lists, item and material records, the rules every
//! write must satisfy, and the handling-depth level derived from an item's capabilities.

use crate::calendar::TimeUnit;
use crate::ids::Uscc;
use serde::{Deserialize, Serialize};

/// A problem with one field of an item or material, named by its import column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub column: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(column: &'static str, message: impl Into<String>) -> Self {
        FieldError {
            column,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.column, self.message)
    }
}

/// Defines a code list whose values are written either as the code or as the name.
macro_rules! code_list {
    ($(#[$m:meta])* $name:ident { $($variant:ident = ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $($variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn code(self) -> &'static str { match self { $($name::$variant => $code),+ } }
            pub fn label(self) -> &'static str { match self { $($name::$variant => $label),+ } }
            /// Accepts the code or the name.
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                $name::ALL.iter().copied().find(|v| v.code() == s || v.label() == s)
            }
        }
    };
}

code_list!(
    /// 事项类型
    ItemType {
        Licensing = ("01", "行政许可"),
        Penalty = ("02", "行政处罚"),
        Enforcement = ("03", "行政强制"),
        Levy = ("04", "行政征收"),
        Benefit = ("05", "行政给付"),
        Inspection = ("06", "行政检查"),
        Confirmation = ("07", "行政确认"),
        Reward = ("08", "行政奖励"),
        Adjudication = ("09", "行政裁决"),
        OtherPower = ("10", "其他行政权力"),
        PublicService = ("20", "公共服务"),
    }
);

impl ItemType {
    /// Items started by an application (依申请) are handled as cases and counted by the
    /// catalog indicators; penalties, enforcement, levies and inspections are not.
    pub fn is_application(self) -> bool {
        !matches!(
            self,
            ItemType::Penalty | ItemType::Enforcement | ItemType::Levy | ItemType::Inspection
        )
    }
}

code_list!(
    /// 行使层级
    AdminLevel {
        National = ("1", "国家级"),
        Provincial = ("2", "省级"),
        City = ("3", "市级"),
        County = ("4", "县级"),
        Township = ("5", "乡镇(街道)级"),
        Village = ("6", "村(社区)级"),
    }
);

code_list!(
    /// 服务对象
    Audience {
        NaturalPerson = ("1", "自然人"),
        Enterprise = ("2", "企业法人"),
        PublicInstitution = ("3", "事业法人"),
        SocialOrganisation = ("4", "社会组织法人"),
        GovernmentOrgan = ("5", "行政机关"),
        OtherOrganisation = ("6", "其他组织"),
    }
);

code_list!(
    /// 办件类型
    CaseKind {
        Immediate = ("1", "即办件"),
        Promised = ("2", "承诺件"),
    }
);

code_list!(
    /// 通办范围
    ServiceScope {
        Nationwide = ("1", "全国"),
        CrossProvince = ("2", "跨省"),
        CrossCity = ("3", "跨市"),
        CrossCounty = ("4", "跨县"),
        None = ("5", "不通办"),
    }
);

code_list!(
    /// 网上办理深度 capabilities
    Capability {
        Consult = ("1", "互联网咨询"),
        Receive = ("2", "互联网收件"),
        PreReview = ("3", "互联网预审"),
        Accept = ("4", "互联网受理"),
        Handle = ("5", "互联网办理"),
        ResultFeedback = ("6", "办理结果信息反馈"),
        LicenceFeedback = ("7", "电子证照反馈"),
        Other = ("8", "其他"),
    }
);

code_list!(
    /// 材料必要性
    Necessity {
        Required = ("1", "必要"),
        Optional = ("2", "非必要"),
        Tolerated = ("3", "容缺"),
    }
);

code_list!(
    /// 材料形式
    MaterialForm {
        Paper = ("1", "纸质"),
        Electronic = ("2", "电子"),
        Both = ("3", "纸质和电子"),
    }
);

code_list!(
    /// 来源渠道
    MaterialSource {
        Applicant = ("1", "申请人自备"),
        Government = ("2", "政府部门核发"),
        Other = ("3", "其他"),
    }
);

/// A set of 网上办理深度 capabilities, written joined by `^`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DepthSet(u8);

impl DepthSet {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut bits = 0u8;
        for part in s.split('^').map(str::trim).filter(|p| !p.is_empty()) {
            let cap = Capability::parse(part)
                .ok_or_else(|| format!("未知的网上办理深度代码「{part}」(应为1-8)"))?;
            bits |= 1 << (cap as u8);
        }
        Ok(DepthSet(bits))
    }
    pub fn contains(self, c: Capability) -> bool {
        self.0 & (1 << (c as u8)) != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn capabilities(self) -> impl Iterator<Item = Capability> {
        Capability::ALL
            .iter()
            .copied()
            .filter(move |c| self.contains(*c))
    }
    /// The `^`-joined codes, e.g. `1^2^3^4`.
    pub fn to_codes(self) -> String {
        self.capabilities()
            .map(Capability::code)
            .collect::<Vec<_>>()
            .join("^")
    }
}

/// 办理深度 一级…四级 as this project derives them (see docs/domain): the level says how far
/// an applicant can get without going on site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DepthLevel {
    One = 1,
    Two = 2,
    Three = 3,
    Four = 4,
}

impl DepthLevel {
    pub fn derive(depth: DepthSet, trips: u32) -> DepthLevel {
        if depth.contains(Capability::Accept) {
            if depth.contains(Capability::Handle) && trips == 0 {
                DepthLevel::Four
            } else {
                // Online acceptance but either a visit or no online handling: not 全程网办.
                DepthLevel::Three
            }
        } else if depth.contains(Capability::Receive) || depth.contains(Capability::PreReview) {
            DepthLevel::Two
        } else {
            DepthLevel::One
        }
    }
    pub fn number(self) -> u8 {
        self as u8
    }
    pub fn label(self) -> &'static str {
        match self {
            DepthLevel::One => "一级",
            DepthLevel::Two => "二级",
            DepthLevel::Three => "三级",
            DepthLevel::Four => "四级",
        }
    }
}

/// The columns of the item file, in order (GB/T 39046 exchange names).
pub const ITEM_COLUMNS: [&str; 26] = [
    "事项名称",
    "基本编码",
    "实施编码",
    "业务办理项编码",
    "事项类型",
    "行使层级",
    "实施主体",
    "实施主体编码",
    "服务对象",
    "办件类型",
    "法定办结时限",
    "法定办结时限单位",
    "承诺办结时限",
    "承诺办结时限单位",
    "是否收费",
    "收费标准",
    "是否网办",
    "网上办理深度",
    "到办事现场次数",
    "办理地点",
    "进驻综合大厅",
    "通办范围",
    "高频事项",
    "设定依据",
    "受理条件",
    "咨询电话",
];

pub const ITEM_REQUIRED: [&str; 12] = [
    "事项名称",
    "基本编码",
    "实施编码",
    "事项类型",
    "行使层级",
    "实施主体",
    "实施主体编码",
    "办件类型",
    "法定办结时限",
    "承诺办结时限",
    "是否网办",
    "到办事现场次数",
];

pub const MATERIAL_COLUMNS: [&str; 8] = [
    "实施编码",
    "材料名称",
    "材料必要性",
    "材料形式",
    "纸质份数",
    "来源渠道",
    "可用电子证照类型",
    "填报须知",
];

pub const MATERIAL_REQUIRED: [&str; 2] = ["实施编码", "材料名称"];

/// One service item (政务服务事项) as the catalog keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub name: String,
    pub basic_code: String,
    pub impl_code: String,
    pub handling_code: String,
    pub item_type: ItemType,
    pub level: AdminLevel,
    pub department: String,
    pub department_code: Uscc,
    pub audiences: Vec<Audience>,
    pub kind: CaseKind,
    pub legal_limit: u32,
    pub legal_unit: TimeUnit,
    pub promised_limit: u32,
    pub promised_unit: TimeUnit,
    pub charged: bool,
    pub fee_standard: String,
    pub online: bool,
    pub depth: DepthSet,
    pub trips: u32,
    pub hall: String,
    pub in_comprehensive_hall: bool,
    pub scope: Option<ServiceScope>,
    pub high_frequency: bool,
    pub legal_basis: String,
    pub conditions: String,
    pub phone: String,
}

/// One required material (申请材料) of an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Material {
    pub impl_code: String,
    pub name: String,
    pub necessity: Necessity,
    pub form: MaterialForm,
    pub paper_copies: u32,
    pub source: MaterialSource,
    /// A licence type code (21 characters) whose e-licence may replace this material.
    pub licence_type: String,
    pub notes: String,
}

fn parse_bool(column: &'static str, s: &str, default: bool) -> Result<bool, FieldError> {
    match s.trim() {
        "" => Ok(default),
        "是" | "1" | "Y" | "y" | "true" => Ok(true),
        "否" | "0" | "N" | "n" | "false" => Ok(false),
        other => Err(FieldError::new(
            column,
            format!("应为「是」或「否」，而不是「{other}」"),
        )),
    }
}

fn parse_u32(column: &'static str, s: &str) -> Result<u32, FieldError> {
    s.trim()
        .parse::<u32>()
        .map_err(|_| FieldError::new(column, format!("应为非负整数，而不是「{}」", s.trim())))
}

fn parse_unit(column: &'static str, s: &str) -> Result<TimeUnit, FieldError> {
    if s.trim().is_empty() {
        return Ok(TimeUnit::WorkingDays);
    }
    TimeUnit::parse(s.trim()).ok_or_else(|| {
        FieldError::new(
            column,
            format!("应为「工作日」或「自然日」，而不是「{}」", s.trim()),
        )
    })
}

fn parse_code<T>(
    column: &'static str,
    s: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, FieldError> {
    parse(s).ok_or_else(|| FieldError::new(column, format!("不在代码表中：「{}」", s.trim())))
}

fn max_len(column: &'static str, s: &str, max: usize) -> Result<(), FieldError> {
    if s.chars().count() > max {
        Err(FieldError::new(column, format!("不能超过{max}个字符")))
    } else {
        Ok(())
    }
}

/// 实施编码, checked by [`crate::codes::ImplCode::parse`] (it goes into URLs and case rows).
fn impl_code(s: &str) -> Result<String, FieldError> {
    required("实施编码", s)?;
    crate::codes::ImplCode::parse(s)
        .map(|c| c.as_str().to_string())
        .map_err(|e| FieldError::new("实施编码", e.to_string()))
}

fn required<'a>(column: &'static str, s: &'a str) -> Result<&'a str, FieldError> {
    let t = s.trim();
    if t.is_empty() {
        Err(FieldError::new(column, "必填"))
    } else {
        Ok(t)
    }
}

impl Item {
    /// Parses an item from its column values (`get(column)` returns "" for absent columns)
    /// and checks every rule of the catalog.
    pub fn from_columns<'a>(get: impl Fn(&str) -> &'a str) -> Result<Item, FieldError> {
        let name = required("事项名称", get("事项名称"))?.to_string();
        let basic_code = required("基本编码", get("基本编码"))?.to_string();
        max_len("基本编码", &basic_code, 12)?;
        let impl_code = impl_code(get("实施编码"))?;
        let handling_code = get("业务办理项编码").trim().to_string();
        max_len("业务办理项编码", &handling_code, 50)?;
        let item_type = parse_code(
            "事项类型",
            required("事项类型", get("事项类型"))?,
            ItemType::parse,
        )?;
        let level = parse_code(
            "行使层级",
            required("行使层级", get("行使层级"))?,
            AdminLevel::parse,
        )?;
        let department = required("实施主体", get("实施主体"))?.to_string();
        let department_code = Uscc::parse(required("实施主体编码", get("实施主体编码"))?)
            .map_err(|e| FieldError::new("实施主体编码", e.to_string()))?;
        let mut audiences = Vec::new();
        for part in get("服务对象")
            .split('^')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let a = parse_code("服务对象", part, Audience::parse)?;
            if !audiences.contains(&a) {
                audiences.push(a);
            }
        }
        audiences.sort();
        let kind = parse_code(
            "办件类型",
            required("办件类型", get("办件类型"))?,
            CaseKind::parse,
        )?;
        let legal_limit = parse_u32(
            "法定办结时限",
            required("法定办结时限", get("法定办结时限"))?,
        )?;
        let legal_unit = parse_unit("法定办结时限单位", get("法定办结时限单位"))?;
        let promised_limit = parse_u32(
            "承诺办结时限",
            required("承诺办结时限", get("承诺办结时限"))?,
        )?;
        let promised_unit = parse_unit("承诺办结时限单位", get("承诺办结时限单位"))?;
        let charged = parse_bool("是否收费", get("是否收费"), false)?;
        let fee_standard = get("收费标准").trim().to_string();
        let online = parse_bool("是否网办", required("是否网办", get("是否网办"))?, false)?;
        let depth =
            DepthSet::parse(get("网上办理深度")).map_err(|m| FieldError::new("网上办理深度", m))?;
        let trips = parse_u32(
            "到办事现场次数",
            required("到办事现场次数", get("到办事现场次数"))?,
        )?;
        let hall = get("办理地点").trim().to_string();
        let in_comprehensive_hall = parse_bool("进驻综合大厅", get("进驻综合大厅"), false)?;
        let scope = match get("通办范围").trim() {
            "" => None,
            s => Some(parse_code("通办范围", s, ServiceScope::parse)?),
        };
        let high_frequency = parse_bool("高频事项", get("高频事项"), false)?;
        let item = Item {
            name,
            basic_code,
            impl_code,
            handling_code,
            item_type,
            level,
            department,
            department_code,
            audiences,
            kind,
            legal_limit,
            legal_unit,
            promised_limit,
            promised_unit,
            charged,
            fee_standard,
            online,
            depth,
            trips,
            hall,
            in_comprehensive_hall,
            scope,
            high_frequency,
            legal_basis: get("设定依据").trim().to_string(),
            conditions: get("受理条件").trim().to_string(),
            phone: get("咨询电话").trim().to_string(),
        };
        item.check_text()?;
        item.validate()?;
        Ok(item)
    }

    /// Lengths and characters of the free-text fields (core::text): names and other
    /// single-line fields refuse control, bidi and zero-width characters.
    pub fn check_text(&self) -> Result<(), FieldError> {
        use crate::text::{multi_line, single_line, MAX_ADDRESS, MAX_COMMENT, MAX_SHORT};
        let err = |column: &'static str| {
            move |e: crate::text::TextError| FieldError::new(column, e.to_string())
        };
        single_line("事项名称", &self.name, MAX_SHORT).map_err(err("事项名称"))?;
        single_line("基本编码", &self.basic_code, MAX_SHORT).map_err(err("基本编码"))?;
        single_line("业务办理项编码", &self.handling_code, MAX_SHORT)
            .map_err(err("业务办理项编码"))?;
        single_line("实施主体", &self.department, MAX_SHORT).map_err(err("实施主体"))?;
        single_line("办理地点", &self.hall, MAX_ADDRESS).map_err(err("办理地点"))?;
        single_line("咨询电话", &self.phone, MAX_SHORT).map_err(err("咨询电话"))?;
        multi_line("收费标准", &self.fee_standard, MAX_COMMENT).map_err(err("收费标准"))?;
        multi_line("设定依据", &self.legal_basis, MAX_COMMENT).map_err(err("设定依据"))?;
        multi_line("受理条件", &self.conditions, MAX_COMMENT).map_err(err("受理条件"))?;
        Ok(())
    }

    /// Rules that relate several fields; run on every write.
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.promised_unit == self.legal_unit && self.promised_limit > self.legal_limit {
            return Err(FieldError::new(
                "承诺办结时限",
                format!(
                    "承诺办结时限（{}）不能超过法定办结时限（{}）",
                    self.promised_limit, self.legal_limit
                ),
            ));
        }
        if self.kind == CaseKind::Immediate && self.promised_limit != 0 {
            return Err(FieldError::new(
                "承诺办结时限",
                "即办件当场办结，承诺办结时限应为0",
            ));
        }
        if self.kind == CaseKind::Promised && self.promised_limit == 0 {
            return Err(FieldError::new(
                "承诺办结时限",
                "承诺件的承诺办结时限应大于0（当场办结的应登记为即办件）",
            ));
        }
        let beyond_consult = self
            .depth
            .capabilities()
            .any(|c| !matches!(c, Capability::Consult));
        if self.online && !beyond_consult {
            return Err(FieldError::new(
                "网上办理深度",
                "是否网办为「是」时，网上办理深度必须包含互联网咨询以外的能力",
            ));
        }
        if !self.online && beyond_consult {
            return Err(FieldError::new(
                "网上办理深度",
                "是否网办为「否」时，网上办理深度只能为空或仅含1（互联网咨询）",
            ));
        }
        if self.charged && self.fee_standard.is_empty() {
            return Err(FieldError::new("收费标准", "收费事项必须填写收费标准"));
        }
        if self.in_comprehensive_hall && self.hall.is_empty() {
            return Err(FieldError::new(
                "办理地点",
                "进驻综合大厅的事项必须填写办理地点",
            ));
        }
        Ok(())
    }

    pub fn depth_level(&self) -> DepthLevel {
        DepthLevel::derive(self.depth, self.trips)
    }

    /// The column values in [`ITEM_COLUMNS`] order, as the export writes them.
    pub fn to_columns(&self) -> Vec<String> {
        let b = |v: bool| if v { "是" } else { "否" }.to_string();
        vec![
            self.name.clone(),
            self.basic_code.clone(),
            self.impl_code.clone(),
            self.handling_code.clone(),
            self.item_type.code().to_string(),
            self.level.code().to_string(),
            self.department.clone(),
            self.department_code.to_string(),
            self.audiences
                .iter()
                .map(|a| a.code())
                .collect::<Vec<_>>()
                .join("^"),
            self.kind.label().to_string(),
            self.legal_limit.to_string(),
            self.legal_unit.as_str().to_string(),
            self.promised_limit.to_string(),
            self.promised_unit.as_str().to_string(),
            b(self.charged),
            self.fee_standard.clone(),
            b(self.online),
            self.depth.to_codes(),
            self.trips.to_string(),
            self.hall.clone(),
            b(self.in_comprehensive_hall),
            self.scope
                .map(|s| s.label().to_string())
                .unwrap_or_default(),
            b(self.high_frequency),
            self.legal_basis.clone(),
            self.conditions.clone(),
            self.phone.clone(),
        ]
    }

    /// Field-by-field differences, for the version history (事项版本).
    pub fn diff(&self, newer: &Item) -> Vec<(String, String, String)> {
        ITEM_COLUMNS
            .iter()
            .zip(self.to_columns().into_iter().zip(newer.to_columns()))
            .filter(|(_, (a, b))| a != b)
            .map(|(c, (a, b))| (c.to_string(), a, b))
            .collect()
    }
}

impl Material {
    pub fn from_columns<'a>(get: impl Fn(&str) -> &'a str) -> Result<Material, FieldError> {
        let impl_code = impl_code(get("实施编码"))?;
        let name = required("材料名称", get("材料名称"))?.to_string();
        crate::text::single_line("材料名称", &name, crate::text::MAX_FILE_NAME)
            .map_err(|e| FieldError::new("材料名称", e.to_string()))?;
        crate::text::multi_line("填报须知", get("填报须知").trim(), crate::text::MAX_COMMENT)
            .map_err(|e| FieldError::new("填报须知", e.to_string()))?;
        let necessity = match get("材料必要性").trim() {
            "" => Necessity::Required,
            s => parse_code("材料必要性", s, Necessity::parse)?,
        };
        let form = match get("材料形式").trim() {
            "" => MaterialForm::Both,
            s => parse_code("材料形式", s, MaterialForm::parse)?,
        };
        let paper_copies = match get("纸质份数").trim() {
            "" => 0,
            s => parse_u32("纸质份数", s)?,
        };
        let source = match get("来源渠道").trim() {
            "" => MaterialSource::Applicant,
            s => parse_code("来源渠道", s, MaterialSource::parse)?,
        };
        let licence_type = get("可用电子证照类型").trim().to_string();
        if !licence_type.is_empty() {
            validate_licence_type_code(&licence_type)
                .map_err(|m| FieldError::new("可用电子证照类型", m))?;
        }
        if form == MaterialForm::Electronic && paper_copies > 0 {
            return Err(FieldError::new("纸质份数", "电子材料不应要求纸质份数"));
        }
        Ok(Material {
            impl_code,
            name,
            necessity,
            form,
            paper_copies,
            source,
            licence_type,
            notes: get("填报须知").trim().to_string(),
        })
    }

    pub fn to_columns(&self) -> Vec<String> {
        vec![
            self.impl_code.clone(),
            self.name.clone(),
            self.necessity.label().to_string(),
            self.form.label().to_string(),
            self.paper_copies.to_string(),
            self.source.label().to_string(),
            self.licence_type.clone(),
            self.notes.clone(),
        ]
    }
}

/// 证照类型代码: the defining authority's 统一社会信用代码 + a 3-digit type number.
pub fn validate_licence_type_code(code: &str) -> Result<(), String> {
    if code.len() != 21 || !code.is_ascii() {
        return Err("证照类型代码应为21位（18位统一社会信用代码+3位类型序号）".into());
    }
    Uscc::parse(&code[..18]).map_err(|e| format!("证照类型代码前18位：{e}"))?;
    if !code[18..].bytes().all(|b| b.is_ascii_digit()) {
        return Err("证照类型代码后3位应为数字".into());
    }
    Ok(())
}

/// Themes / life events (主题服务) are derived from item names, so a newly imported item
/// lands in its theme without anyone tagging it.
pub const THEMES: &[(&str, &str, &[&str])] = &[
    (
        "kaiban",
        "开办企业",
        &[
            "企业设立",
            "公司设立",
            "营业执照",
            "开办",
            "印章",
            "税务登记",
            "企业名称",
            "个体工商户",
        ],
    ),
    (
        "budongchan",
        "不动产登记",
        &["不动产", "房屋", "土地", "抵押", "预告登记"],
    ),
    (
        "shengyu",
        "生育收养",
        &["生育", "出生", "收养", "计划生育", "母婴", "独生子女"],
    ),
    (
        "jiuye",
        "就业创业",
        &["就业", "创业", "失业", "职业", "技能", "人才", "劳动"],
    ),
    (
        "jiaotong",
        "交通出行",
        &[
            "驾驶",
            "机动车",
            "道路",
            "运输",
            "车辆",
            "出租",
            "公交",
            "水路",
        ],
    ),
    (
        "shebao",
        "社保医保",
        &[
            "社会保障",
            "社保",
            "养老",
            "医疗保险",
            "医保",
            "工伤",
            "生育保险",
        ],
    ),
    (
        "zhufang",
        "住房保障",
        &["住房", "公积金", "保障房", "公租房"],
    ),
    (
        "jiaoyu",
        "教育入学",
        &["学校", "教育", "教师", "入学", "学籍", "培训"],
    ),
    (
        "yiliao",
        "医疗卫生",
        &["医疗机构", "医师", "护士", "卫生", "药品", "诊所", "疫苗"],
    ),
    (
        "jianshe",
        "工程建设",
        &["建设工程", "建筑", "施工", "规划", "竣工", "工程"],
    ),
    (
        "minzheng",
        "民政婚姻",
        &[
            "婚姻",
            "结婚",
            "离婚",
            "低保",
            "最低生活",
            "殡葬",
            "社会组织",
            "救助",
            "养老机构",
        ],
    ),
    (
        "churujing",
        "出入境户籍",
        &[
            "出入境",
            "护照",
            "港澳",
            "台湾",
            "户口",
            "户籍",
            "居民身份证",
            "居住证",
        ],
    ),
    (
        "shipin",
        "食品药品",
        &["食品", "餐饮", "药品", "医疗器械", "化妆品"],
    ),
];

/// The labels and keywords of the themes an item name belongs to (search by 主题).
pub fn theme_words(name: &str) -> Vec<&'static str> {
    THEMES
        .iter()
        .filter(|(_, _, kws)| kws.iter().any(|k| name.contains(k)))
        .flat_map(|(_, label, kws)| std::iter::once(*label).chain(kws.iter().copied()))
        .collect()
}

pub fn themes_of(name: &str) -> Vec<&'static str> {
    THEMES
        .iter()
        .filter(|(_, _, kws)| kws.iter().any(|k| name.contains(k)))
        .map(|(slug, _, _)| *slug)
        .collect()
}

/// One disagreement found by the 四级四同 check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FourSameViolation {
    pub basic_code: String,
    pub field: &'static str,
    /// (value, implementations having it as (level label, 实施编码))
    pub variants: Vec<(String, Vec<(String, String)>)>,
}

/// Reads one compared field of an item.
type FieldOf = fn(&Item) -> String;

/// 四级四同: the same 基本编码 must have the same name, type and legal basis at every
/// level (and the basic code itself is the grouping key).
pub fn four_same_report(items: &[Item]) -> Vec<FourSameViolation> {
    use std::collections::BTreeMap;
    let mut groups: BTreeMap<&str, Vec<&Item>> = BTreeMap::new();
    for it in items {
        groups.entry(it.basic_code.as_str()).or_default().push(it);
    }
    let mut out = Vec::new();
    for (code, group) in groups {
        if group.len() < 2 {
            continue;
        }
        let fields: [(&'static str, FieldOf); 3] = [
            ("事项名称", |i| i.name.clone()),
            ("事项类型", |i| i.item_type.label().to_string()),
            ("设定依据", |i| i.legal_basis.clone()),
        ];
        for (field, value_of) in fields {
            let mut variants: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
            for it in &group {
                variants
                    .entry(value_of(it))
                    .or_default()
                    .push((it.level.label().to_string(), it.impl_code.clone()));
            }
            if variants.len() > 1 {
                out.push(FourSameViolation {
                    basic_code: code.to_string(),
                    field,
                    variants: variants.into_iter().collect(),
                });
            }
        }
    }
    out
}
