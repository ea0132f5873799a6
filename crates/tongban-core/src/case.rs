//! The case (办件) state machine and its legal clock.
//!
//! A case is the fold of its events. A command is decided by a pure function of the
//! current state, the command, the acting role, today's date and the working-day
//! calendar; it returns the events to append or a typed refusal. Nothing here does IO.

use crate::calendar::{CalendarError, TimeUnit, WorkCalendar};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// 申请渠道 (办理形式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Window,
    Online,
    Mobile,
    Express,
}

impl Channel {
    pub fn label(self) -> &'static str {
        match self {
            Channel::Window => "窗口",
            Channel::Online => "网上",
            Channel::Mobile => "移动端",
            Channel::Express => "快递",
        }
    }
    pub fn parse(s: &str) -> Option<Channel> {
        [
            Channel::Window,
            Channel::Online,
            Channel::Mobile,
            Channel::Express,
        ]
        .into_iter()
        .find(|c| {
            c.label() == s
                || serde_json::to_value(c)
                    .ok()
                    .and_then(|v| v.as_str().map(|x| x == s))
                    .unwrap_or(false)
        })
    }
}

/// 送达方式.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Delivery {
    /// 窗口领取
    Window,
    /// 邮政寄递 (free of charge to the applicant)
    Post { address: String },
    /// 电子送达
    Electronic,
}

impl Delivery {
    pub fn label(&self) -> &'static str {
        match self {
            Delivery::Window => "窗口领取",
            Delivery::Post { .. } => "邮政寄递",
            Delivery::Electronic => "电子送达",
        }
    }
}

/// 办结结果.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 准予（出证办结）
    Approved,
    /// 不予批准（退回办结）
    Refused,
    /// 撤件: the applicant withdrew before the decision.
    Withdrawn,
    /// 作废: voided by staff, with reasons.
    Void,
    /// 补正逾期: the applicant did not correct by the correction deadline.
    CorrectionExpired,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Approved => "准予",
            Outcome::Refused => "不予批准",
            Outcome::Withdrawn => "撤件",
            Outcome::Void => "作废",
            Outcome::CorrectionExpired => "补正逾期",
        }
    }
}

/// 不予受理的类别 (《行政许可法》第三十二条第一款第一、二项, 第三十二条第一款第四项).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotAcceptCategory {
    /// 申请事项依法不需要取得行政许可
    NotLicensingMatter,
    /// 申请事项依法不属于本行政机关职权范围 (the competent agency is named)
    NotThisAgency,
    /// 补正后材料仍不齐全或不符合法定形式
    IncompleteAfterCorrection,
    /// 其他
    Other,
}

impl NotAcceptCategory {
    pub const ALL: &'static [NotAcceptCategory] = &[
        NotAcceptCategory::NotLicensingMatter,
        NotAcceptCategory::NotThisAgency,
        NotAcceptCategory::IncompleteAfterCorrection,
        NotAcceptCategory::Other,
    ];
    pub fn label(self) -> &'static str {
        match self {
            NotAcceptCategory::NotLicensingMatter => "不属于行政许可事项",
            NotAcceptCategory::NotThisAgency => "不属于本机关职权范围",
            NotAcceptCategory::IncompleteAfterCorrection => "补正后材料仍不齐全",
            NotAcceptCategory::Other => "其他",
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            NotAcceptCategory::NotLicensingMatter => "not_licensing_matter",
            NotAcceptCategory::NotThisAgency => "not_this_agency",
            NotAcceptCategory::IncompleteAfterCorrection => "incomplete_after_correction",
            NotAcceptCategory::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<NotAcceptCategory> {
        NotAcceptCategory::ALL
            .iter()
            .copied()
            .find(|c| c.code() == s || c.label() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 待预审: materials received, waiting for the window or department.
    Submitted,
    /// 待补正: a correction notice was sent; the clock has not started.
    AwaitingCorrection,
    /// 审批中
    InApproval,
    /// 特别程序中: the clock is stopped.
    Suspended,
    /// 已办结, result not yet delivered.
    Completed,
    /// 已寄出 (post), waiting for the applicant to confirm receipt.
    Dispatched,
    /// 已送达 (final)
    Delivered,
    /// 不予受理 (final)
    NotAccepted,
    /// 已撤件 (final)
    Withdrawn,
    /// 已作废 (final)
    Void,
    /// 补正逾期 (final): the applicant did not correct in time.
    CorrectionExpired,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Submitted => "待预审",
            Status::AwaitingCorrection => "待补正",
            Status::InApproval => "审批中",
            Status::Suspended => "特别程序中",
            Status::Completed => "已办结待送达",
            Status::Dispatched => "已寄出",
            Status::Delivered => "已送达",
            Status::NotAccepted => "不予受理",
            Status::Withdrawn => "已撤件",
            Status::Void => "已作废",
            Status::CorrectionExpired => "补正逾期",
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::AwaitingCorrection => "awaiting_correction",
            Status::InApproval => "in_approval",
            Status::Suspended => "suspended",
            Status::Completed => "completed",
            Status::Dispatched => "dispatched",
            Status::Delivered => "delivered",
            Status::NotAccepted => "not_accepted",
            Status::Withdrawn => "withdrawn",
            Status::Void => "void",
            Status::CorrectionExpired => "correction_expired",
        }
    }
    pub const ALL: &'static [Status] = &[
        Status::Submitted,
        Status::AwaitingCorrection,
        Status::InApproval,
        Status::Suspended,
        Status::Completed,
        Status::Dispatched,
        Status::Delivered,
        Status::NotAccepted,
        Status::Withdrawn,
        Status::Void,
        Status::CorrectionExpired,
    ];
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL
            .iter()
            .copied()
            .find(|x| x.code() == s || x.label() == s)
    }
    /// Open cases still count against their deadlines.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::Submitted | Status::AwaitingCorrection | Status::InApproval | Status::Suspended
        )
    }
}

/// Who acts, as far as the case rules care; department scoping and ownership are
/// checked by the caller before a command reaches the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Applicant,
    Clerk,
    Approver,
    Head,
}

/// One approval step (承办, 审核, 批准 …) and the role that may act on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    pub role: Actor,
    /// Optional step limit in working days.
    pub limit_days: Option<u32>,
    /// A lower-level agency's preliminary review (初审): at most 20 working days.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub preliminary: bool,
}

impl Step {
    /// The step limit in working days: the configured one, and for a preliminary review
    /// (初审) never more than 20.
    // 《行政许可法》第四十三条: 下级行政机关应当在法定期限内将初步审查意见和全部申请材料
    // 直接报送上级行政机关 (20 working days).
    pub fn effective_limit(&self) -> Option<u32> {
        if self.preliminary {
            Some(
                self.limit_days
                    .map_or(PRELIMINARY_DAYS, |d| d.min(PRELIMINARY_DAYS)),
            )
        } else {
            self.limit_days
        }
    }
}

pub fn default_steps() -> Vec<Step> {
    vec![
        Step {
            name: "承办".into(),
            role: Actor::Approver,
            limit_days: None,
            preliminary: false,
        },
        Step {
            name: "审核".into(),
            role: Actor::Approver,
            limit_days: None,
            preliminary: false,
        },
        Step {
            name: "批准".into(),
            role: Actor::Head,
            limit_days: None,
            preliminary: false,
        },
    ]
}

/// The time limits a case runs against, copied from the item when the case is opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub immediate: bool,
    pub promised: u32,
    pub promised_unit: TimeUnit,
    pub legal: u32,
    pub legal_unit: TimeUnit,
    /// 联合办理/集中办理: the legal limit is 45 working days and the extension cap 15.
    pub joint: bool,
    /// The item's own extension cap in working days (laws and regulations may set one);
    /// None: 10, or 15 for joint processing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_cap: Option<u32>,
}

impl Limits {
    /// The legal limit the case runs against: the item's, or 45 working days when the
    /// item is processed jointly.
    // 《行政许可法》第四十二条第二款: 统一办理或者联合办理、集中办理的，办理的时间不得超过
    // 四十五日；四十五日内不能办结的，经本级人民政府负责人批准，可以延长十五日.
    pub fn legal_limit(&self) -> (u32, TimeUnit) {
        if self.joint {
            (JOINT_LEGAL_DAYS, TimeUnit::WorkingDays)
        } else {
            (self.legal, self.legal_unit)
        }
    }
    /// The extension cap in working days.
    pub fn extension_cap(&self) -> u32 {
        self.extension_cap.unwrap_or(if self.joint {
            EXTENSION_CAP_JOINT
        } else {
            EXTENSION_CAP
        })
    }
}

/// Art. 32: a correction notice is due within 5 working days of receiving the materials.
pub const CORRECTION_NOTICE_DAYS: u32 = 5;
/// Art. 42: extension caps in working days.
pub const EXTENSION_CAP: u32 = 10;
pub const EXTENSION_CAP_JOINT: u32 = 15;
/// Art. 42(2): joint processing is decided within 45 working days.
pub const JOINT_LEGAL_DAYS: u32 = 45;
/// Art. 43: a preliminary review (初审) takes at most 20 working days.
pub const PRELIMINARY_DAYS: u32 = 20;
/// The applicant's correction deadline when the notice names none (working days).
pub const CORRECTION_DAYS_DEFAULT: u32 = 15;
/// Art. 44: the licence is issued and delivered within 10 working days of the decision.
pub const DELIVERY_DAYS: u32 = 10;
/// Art. 45: the expected length of a special procedure, in working days, is 1..=this
/// (per item caps may come later).
pub const SPECIAL_MAX_DAYS: u32 = 180;

/// 特别程序 kinds (Art. 45).
pub const SPECIAL_KINDS: &[&str] = &[
    "听证",
    "招标",
    "拍卖",
    "检验",
    "检测",
    "检疫",
    "鉴定",
    "专家评审",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaterialRef {
    pub name: String,
    /// SHA-256 of the uploaded file, if one was uploaded.
    pub sha256: Option<String>,
    pub file_name: Option<String>,
    /// An e-licence used instead of a paper copy (免提交), verified when attached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence_id: Option<String>,
    /// Trust level of the evidence: A (platform-signed licence), B (checked against the
    /// original), C (uploaded by the applicant), D (signed commitment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<char>,
}

/// Every event of a case. The national exchange moments map onto these kinds
/// (申办, 受理, 补正告知, 补正受理, 审批, 办结, 特别程序申请/结果, 领取登记).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// The first event carries the steps and limits the case runs against, so the ledger
    /// alone can rebuild the case.
    Submitted {
        channel: Channel,
        delivery: Delivery,
        materials: Vec<MaterialRef>,
        received_on: NaiveDate,
        steps: Vec<Step>,
        limits: Limits,
        /// What the applicant filled in on the form (e.g. the licence's own fields).
        #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
        details: serde_json::Map<String, serde_json::Value>,
    },
    CorrectionRequested {
        items: Vec<String>,
        notice_due: NaiveDate,
        /// The applicant's correction deadline (None in events before it was kept).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        correction_due: Option<NaiveDate>,
    },
    CorrectionSubmitted {
        materials: Vec<MaterialRef>,
        received_on: NaiveDate,
        /// Items of the notice still unanswered after this submission (issue #12: answers
        /// come item by item and are kept until all are in). Empty: the correction is
        /// complete and the case returns to pre-review (as in events before it was kept).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        outstanding: Vec<String>,
    },
    /// 容缺受理: required materials were missing at acceptance; the applicant must bring
    /// them by `due`.
    ShortfallTolerated {
        missing: Vec<String>,
        reason: String,
        due: NaiveDate,
    },
    Accepted {
        on: NaiveDate,
        promised_due: NaiveDate,
        legal_due: NaiveDate,
        /// Accepted by law (Art. 32(4)): no correction notice within 5 working days, so
        /// `on` is the day the materials were received.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        deemed: bool,
    },
    NotAccepted {
        reasons: String,
        /// None in events before categories were kept.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        category: Option<NotAcceptCategory>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        competent_agency: Option<String>,
        /// The applicant's rights (行政复议, 行政诉讼) as told in the notice.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        rights: String,
    },
    StepPassed {
        step: usize,
        name: String,
        opinion: String,
        on: NaiveDate,
    },
    StepReturned {
        step: usize,
        name: String,
        opinion: String,
        on: NaiveDate,
    },
    Completed {
        outcome: Outcome,
        reasons: String,
        on: NaiveDate,
        /// For a refusal: the applicant's rights (行政复议, 行政诉讼) as told in the decision.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        rights: String,
    },
    /// 收费登记: a fee taken for the case, in fen (0.01 yuan).
    FeeCharged {
        amount_fen: u64,
        note: String,
    },
    /// 督办: a supervisor orders the department to act by a date.
    SupervisionOrdered {
        order_no: String,
        instruction: String,
        due: NaiveDate,
    },
    /// The department's answer to a 督办 order.
    SupervisionAnswered {
        order_no: String,
        answer: String,
    },
    /// The supervisor closes or escalates a 督办 order.
    SupervisionClosed {
        order_no: String,
        escalated: bool,
        note: String,
    },
    /// An e-licence issued for this case (its signed document's SHA-256).
    LicenceIssued {
        licence_id: String,
        vc_sha256: String,
    },
    /// A licence of this case revoked, suspended or restored.
    LicenceStatusChanged {
        licence_id: String,
        status: String,
        reason: String,
    },
    SpecialStarted {
        procedure: String,
        reason: String,
        on: NaiveDate,
        /// Expected length in working days, as told to the applicant (Art. 45).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_days: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_end: Option<NaiveDate>,
    },
    SpecialEnded {
        result: String,
        on: NaiveDate,
        paused_days: u32,
        promised_due: NaiveDate,
        legal_due: NaiveDate,
    },
    Extended {
        days: u32,
        reason: String,
        promised_due: NaiveDate,
        legal_due: NaiveDate,
        /// For joint processing beyond 10 days: approved by 本级人民政府负责人.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        approved_by_government: bool,
    },
    Withdrawn {
        reason: String,
    },
    /// 作废, with reasons.
    Voided {
        reasons: String,
        on: NaiveDate,
    },
    /// 补正逾期: the correction deadline passed without the applicant's answer.
    CorrectionExpired {
        correction_due: NaiveDate,
        on: NaiveDate,
    },
    DeliveryRegistered {
        method: String,
        waybill: String,
    },
    ReceiptConfirmed {},
    /// 寄递跟踪: a carrier's event for the case's parcel (揽收, 运输中, 派送中, 签收, 退回,
    /// 异常). 签收 is the 送达 of a posted result.
    DeliveryTracked {
        waybill: String,
        /// A [`crate::hall::ParcelStatus`] code.
        status: String,
        /// When the carrier says it happened.
        at: chrono::DateTime<chrono::Utc>,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        reason: String,
        /// `staff`, `csv` or `webhook`.
        source: String,
    },
    /// The working-day calendar changed (a year's holidays were published or corrected):
    /// the open case's due dates are counted again from its acceptance.
    DeadlinesRecomputed {
        promised_due: NaiveDate,
        legal_due: NaiveDate,
        /// The calendar years whose tables changed, e.g. [2027].
        years: Vec<i32>,
    },
    /// 好差评: the applicant rated the case (stage `acceptance` or `completion`). The rating
    /// itself is kept with the ratings; it is never deleted.
    Rated {
        rating_id: i64,
        stage: String,
        channel: String,
        level: u8,
    },
    /// 申诉复核 upheld: the rating is excluded from the figures, kept, with the reason.
    RatingExcluded {
        rating_id: i64,
        reason: String,
    },
    /// The applicant confirmed that the evidence the item declares may be fetched through
    /// the exchange for this case (免提交).
    EvidenceConsented {
        resources: Vec<String>,
    },
    /// Evidence fetched through the exchange: the signed request and response are bound
    /// by their hashes; the material attaches with trust level A.
    EvidenceFetched {
        request_id: String,
        provider: String,
        service: String,
        request_hash: String,
        response_hash: String,
        material: MaterialRef,
    },
}

impl Event {
    /// What the applicant's message about this event must say besides its name: the whole
    /// 补正 notice (一次性告知, item by item, with the deadline), or what is still missing.
    pub fn applicant_note(&self) -> String {
        let numbered = |items: &[String]| {
            items
                .iter()
                .enumerate()
                .map(|(i, x)| format!("{}. {x}", i + 1))
                .collect::<Vec<_>>()
                .join("；")
        };
        match self {
            Event::CorrectionRequested {
                items,
                correction_due,
                ..
            } => format!(
                "需补正的全部内容：{}。{}请在办件页面逐项上传。",
                numbered(items),
                correction_due
                    .map(|d| format!("补正期限：{d}。"))
                    .unwrap_or_default()
            ),
            Event::CorrectionSubmitted { outstanding, .. } if !outstanding.is_empty() => {
                format!("已收到部分补正材料，尚缺：{}。", numbered(outstanding))
            }
            _ => String::new(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Event::Submitted { .. } => "submitted",
            Event::CorrectionRequested { .. } => "correction_requested",
            Event::CorrectionSubmitted { .. } => "correction_submitted",
            Event::ShortfallTolerated { .. } => "shortfall_tolerated",
            Event::Accepted { .. } => "accepted",
            Event::NotAccepted { .. } => "not_accepted",
            Event::StepPassed { .. } => "step_passed",
            Event::StepReturned { .. } => "step_returned",
            Event::Completed { .. } => "completed",
            Event::FeeCharged { .. } => "fee_charged",
            Event::SupervisionOrdered { .. } => "supervision_ordered",
            Event::SupervisionAnswered { .. } => "supervision_answered",
            Event::SupervisionClosed { .. } => "supervision_closed",
            Event::LicenceIssued { .. } => "licence_issued",
            Event::LicenceStatusChanged { .. } => "licence_status_changed",
            Event::SpecialStarted { .. } => "special_started",
            Event::SpecialEnded { .. } => "special_ended",
            Event::Extended { .. } => "extended",
            Event::Withdrawn { .. } => "withdrawn",
            Event::Voided { .. } => "voided",
            Event::CorrectionExpired { .. } => "correction_expired",
            Event::DeliveryRegistered { .. } => "delivery_registered",
            Event::ReceiptConfirmed {} => "receipt_confirmed",
            Event::DeliveryTracked { .. } => "delivery_tracked",
            Event::DeadlinesRecomputed { .. } => "deadlines_recomputed",
            Event::Rated { .. } => "rated",
            Event::RatingExcluded { .. } => "rating_excluded",
            Event::EvidenceConsented { .. } => "evidence_consented",
            Event::EvidenceFetched { .. } => "evidence_fetched",
        }
    }
    /// The name people read in a timeline.
    pub fn label(&self) -> &'static str {
        match self {
            Event::Submitted { .. } => "申办（收件）",
            Event::CorrectionRequested { .. } => "补正告知",
            Event::CorrectionSubmitted { .. } => "补正提交",
            Event::ShortfallTolerated { .. } => "容缺受理",
            Event::Accepted { .. } => "受理",
            Event::NotAccepted { .. } => "不予受理",
            Event::StepPassed { .. } => "审批通过",
            Event::StepReturned { .. } => "退回上一环节",
            Event::Completed { .. } => "办结",
            Event::FeeCharged { .. } => "收费登记",
            Event::SupervisionOrdered { .. } => "督办",
            Event::SupervisionAnswered { .. } => "督办反馈",
            Event::SupervisionClosed { .. } => "督办办结",
            Event::LicenceIssued { .. } => "电子证照签发",
            Event::LicenceStatusChanged { .. } => "电子证照状态变更",
            Event::SpecialStarted { .. } => "特别程序开始",
            Event::SpecialEnded { .. } => "特别程序结束",
            Event::Extended { .. } => "延长审批期限",
            Event::Withdrawn { .. } => "撤件",
            Event::Voided { .. } => "作废",
            Event::CorrectionExpired { .. } => "补正逾期",
            Event::DeliveryRegistered { .. } => "送达登记",
            Event::ReceiptConfirmed {} => "申请人确认收到",
            Event::DeliveryTracked { .. } => "寄递跟踪",
            Event::DeadlinesRecomputed { .. } => "按新公布的节假日安排重算期限",
            Event::Rated { .. } => "评价",
            Event::RatingExcluded { .. } => "差评申诉复核通过",
            Event::EvidenceConsented { .. } => "申请人同意共享调取材料",
            Event::EvidenceFetched { .. } => "共享交换调取材料",
        }
    }
}

/// A case as the fold of its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub status: Status,
    pub steps: Vec<Step>,
    pub step: usize,
    pub limits: Limits,
    pub channel: Channel,
    pub delivery: Delivery,
    pub materials: Vec<MaterialRef>,
    pub received_on: NaiveDate,
    pub accepted_on: Option<NaiveDate>,
    pub promised_due: Option<NaiveDate>,
    pub legal_due: Option<NaiveDate>,
    pub correction_items: Vec<String>,
    /// Items of the open notice not yet answered (a subset of `correction_items`).
    #[serde(default)]
    pub correction_outstanding: Vec<String>,
    pub correction_notice_due: Option<NaiveDate>,
    pub corrections: u32,
    pub special: Option<(String, NaiveDate)>,
    pub paused_days: u32,
    pub extension_days: u32,
    pub outcome: Option<Outcome>,
    pub waybill: Option<String>,
    /// The day the current approval step began (for step limits).
    #[serde(default)]
    pub step_started_on: Option<NaiveDate>,
    #[serde(default)]
    pub completed_on: Option<NaiveDate>,
    /// The applicant's correction deadline while a notice is open.
    #[serde(default)]
    pub correction_due: Option<NaiveDate>,
    /// Expected end of the running special procedure (Art. 45).
    #[serde(default)]
    pub special_expected_end: Option<NaiveDate>,
    /// Fees taken, in fen.
    #[serde(default)]
    pub fees_fen: u64,
    /// 送达 date of a posted result: the day the carrier reported 签收.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_on: Option<NaiveDate>,
    /// Number of events applied: the optimistic-concurrency version.
    pub version: i64,
}

/// The longest deadline a 容缺受理 may give for the missing materials (working days).
pub const SHORTFALL_MAX_DAYS: u32 = 30;

/// A command on an existing case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Command {
    RequestCorrection {
        items: Vec<String>,
        /// Working days the applicant has to correct (default 15).
        #[serde(default)]
        correction_days: Option<u32>,
    },
    SubmitCorrection {
        materials: Vec<MaterialRef>,
    },
    Accept,
    /// 容缺受理: accepting although required materials are missing, recorded with the
    /// reason and the deadline by which the applicant must bring them. The application
    /// layer fills `missing` from the item's checklist.
    AcceptWithShortfall {
        #[serde(default)]
        missing: Vec<String>,
        reason: String,
        /// Working days the applicant has to bring the missing materials.
        due_days: u32,
    },
    NotAccept {
        category: NotAcceptCategory,
        reasons: String,
        /// Required when the category is 不属于本机关职权范围.
        #[serde(default)]
        competent_agency: String,
    },
    Pass {
        opinion: String,
    },
    Return {
        opinion: String,
    },
    Refuse {
        reasons: String,
    },
    StartSpecial {
        procedure: String,
        reason: String,
        /// Expected length in working days, told to the applicant.
        expected_days: u32,
    },
    EndSpecial {
        result: String,
    },
    Extend {
        days: u32,
        reason: String,
        /// Joint processing: the part beyond 10 days needs 本级人民政府负责人's approval.
        #[serde(default)]
        approved_by_government: bool,
    },
    Withdraw {
        reason: String,
    },
    RegisterDelivery {
        waybill: String,
    },
    ConfirmReceipt,
    /// 收费登记. Whether the fee is regular is supervision's business; the record is kept.
    ChargeFee {
        amount_fen: u64,
        note: String,
    },
    /// Ends a case whose correction deadline has passed (补正逾期).
    ExpireCorrection,
    /// 作废, with reasons.
    Void {
        reasons: String,
    },
}

/// What a command does, without its arguments: what the permission rules and the case
/// page's buttons speak of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseAction {
    RequestCorrection,
    SubmitCorrection,
    Accept,
    NotAccept,
    Pass,
    Return,
    Refuse,
    StartSpecial,
    EndSpecial,
    Extend,
    Withdraw,
    RegisterDelivery,
    ConfirmReceipt,
    ChargeFee,
    ExpireCorrection,
    Void,
}

impl CaseAction {
    pub const ALL: &'static [CaseAction] = &[
        CaseAction::Accept,
        CaseAction::RequestCorrection,
        CaseAction::NotAccept,
        CaseAction::SubmitCorrection,
        CaseAction::Pass,
        CaseAction::Return,
        CaseAction::Refuse,
        CaseAction::StartSpecial,
        CaseAction::EndSpecial,
        CaseAction::Extend,
        CaseAction::ChargeFee,
        CaseAction::RegisterDelivery,
        CaseAction::ConfirmReceipt,
        CaseAction::ExpireCorrection,
        CaseAction::Withdraw,
        CaseAction::Void,
    ];

    /// The `action` word of the API and the forms.
    pub fn code(self) -> &'static str {
        match self {
            CaseAction::RequestCorrection => "request_correction",
            CaseAction::SubmitCorrection => "submit_correction",
            CaseAction::Accept => "accept",
            CaseAction::NotAccept => "not_accept",
            CaseAction::Pass => "pass",
            CaseAction::Return => "return",
            CaseAction::Refuse => "refuse",
            CaseAction::StartSpecial => "start_special",
            CaseAction::EndSpecial => "end_special",
            CaseAction::Extend => "extend",
            CaseAction::Withdraw => "withdraw",
            CaseAction::RegisterDelivery => "register_delivery",
            CaseAction::ConfirmReceipt => "confirm_receipt",
            CaseAction::ChargeFee => "charge_fee",
            CaseAction::ExpireCorrection => "expire_correction",
            CaseAction::Void => "void",
        }
    }

    /// The verb, as in "不能{verb}".
    pub fn verb(self) -> &'static str {
        match self {
            CaseAction::RequestCorrection => "发出补正告知",
            CaseAction::SubmitCorrection => "提交补正材料",
            CaseAction::Accept => "受理",
            CaseAction::NotAccept => "决定不予受理",
            CaseAction::Pass => "审批通过",
            CaseAction::Return => "退回",
            CaseAction::Refuse => "不予批准",
            CaseAction::StartSpecial => "启动特别程序",
            CaseAction::EndSpecial => "结束特别程序",
            CaseAction::Extend => "延长审批期限",
            CaseAction::Withdraw => "撤件",
            CaseAction::RegisterDelivery => "登记送达",
            CaseAction::ConfirmReceipt => "确认收到",
            CaseAction::ChargeFee => "登记收费",
            CaseAction::ExpireCorrection => "作补正逾期办结",
            CaseAction::Void => "作废",
        }
    }
}

impl Command {
    pub fn action(&self) -> CaseAction {
        match self {
            Command::RequestCorrection { .. } => CaseAction::RequestCorrection,
            Command::SubmitCorrection { .. } => CaseAction::SubmitCorrection,
            Command::Accept | Command::AcceptWithShortfall { .. } => CaseAction::Accept,
            Command::NotAccept { .. } => CaseAction::NotAccept,
            Command::Pass { .. } => CaseAction::Pass,
            Command::Return { .. } => CaseAction::Return,
            Command::Refuse { .. } => CaseAction::Refuse,
            Command::StartSpecial { .. } => CaseAction::StartSpecial,
            Command::EndSpecial { .. } => CaseAction::EndSpecial,
            Command::Extend { .. } => CaseAction::Extend,
            Command::Withdraw { .. } => CaseAction::Withdraw,
            Command::RegisterDelivery { .. } => CaseAction::RegisterDelivery,
            Command::ConfirmReceipt => CaseAction::ConfirmReceipt,
            Command::ChargeFee { .. } => CaseAction::ChargeFee,
            Command::ExpireCorrection => CaseAction::ExpireCorrection,
            Command::Void { .. } => CaseAction::Void,
        }
    }
}

/// Why a command was refused. Each says what is wrong in words a clerk understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("当前状态为「{status}」，不能{action}")]
    WrongState {
        status: &'static str,
        action: &'static str,
    },
    #[error("{0}")]
    NotPermitted(String),
    #[error("{0}")]
    Invalid(String),
    #[error("期限计算失败：{0}")]
    Calendar(#[from] CalendarError),
}

fn wrong(status: Status, action: &'static str) -> Refusal {
    Refusal::WrongState {
        status: status.label(),
        action,
    }
}

fn required(text: &str, what: &str) -> Result<String, Refusal> {
    let t = text.trim();
    if t.is_empty() {
        Err(Refusal::Invalid(format!("{what}必须填写")))
    } else {
        Ok(t.to_string())
    }
}

impl Case {
    /// Opens a case from its first event.
    pub fn open(first: &Event) -> Result<Case, Refusal> {
        let Event::Submitted {
            channel,
            delivery,
            materials,
            received_on,
            steps,
            limits,
            ..
        } = first
        else {
            return Err(Refusal::Invalid("办件必须以申办事件开始".into()));
        };
        if steps.is_empty() && !limits.immediate {
            return Err(Refusal::Invalid("承诺件至少需要一个审批环节".into()));
        }
        if let Delivery::Post { address } = delivery {
            if address.trim().chars().count() < 5 {
                return Err(Refusal::Invalid("邮寄送达须填写完整的收件地址".into()));
            }
        }
        Ok(Case {
            status: Status::Submitted,
            steps: steps.clone(),
            step: 0,
            limits: limits.clone(),
            channel: *channel,
            delivery: delivery.clone(),
            materials: materials.clone(),
            received_on: *received_on,
            accepted_on: None,
            promised_due: None,
            legal_due: None,
            correction_items: vec![],
            correction_outstanding: vec![],
            correction_notice_due: None,
            corrections: 0,
            special: None,
            paused_days: 0,
            extension_days: 0,
            outcome: None,
            waybill: None,
            step_started_on: None,
            completed_on: None,
            correction_due: None,
            special_expected_end: None,
            fees_fen: 0,
            delivered_on: None,
            version: 1,
        })
    }

    /// The items of the open notice still to answer (notices folded before the list was
    /// kept have every item outstanding).
    pub fn correction_still_missing(&self) -> &[String] {
        if self.correction_outstanding.is_empty() {
            &self.correction_items
        } else {
            &self.correction_outstanding
        }
    }

    /// Checks a correction answer against the open notice (一次告知, answered item by
    /// item): each material names the item it answers (a notice of one item takes any
    /// name); returns the items still unanswered after it.
    fn correction_answer(&self, materials: &[MaterialRef]) -> Result<Vec<String>, Refusal> {
        let items = &self.correction_items;
        let single = items.len() == 1;
        let mut missing: Vec<String> = self.correction_still_missing().to_vec();
        for m in materials {
            let name = m.name.trim();
            if single {
                missing.clear();
            } else if items.iter().any(|i| i == name) {
                missing.retain(|i| i != name);
            } else {
                return Err(Refusal::Invalid(format!(
                    "补正材料「{name}」不对应补正告知中的任何一项；请按告知逐项上传：{}",
                    items.join("；")
                )));
            }
        }
        Ok(missing)
    }

    /// Folds events (after the first) into the state.
    pub fn apply(&mut self, e: &Event) {
        self.version += 1;
        match e {
            Event::Submitted { .. } => {}
            // Recorded for the timeline, the applicant and supervision; the acceptance
            // itself follows as its own event.
            Event::ShortfallTolerated { .. } => {}
            Event::CorrectionRequested {
                items,
                notice_due,
                correction_due,
            } => {
                self.status = Status::AwaitingCorrection;
                self.correction_items = items.clone();
                self.correction_outstanding = items.clone();
                self.correction_notice_due = Some(*notice_due);
                self.correction_due = *correction_due;
                self.corrections += 1;
            }
            Event::CorrectionSubmitted {
                materials,
                received_on,
                outstanding,
            } => {
                self.materials.extend(materials.iter().cloned());
                if outstanding.is_empty() {
                    self.status = Status::Submitted;
                    self.received_on = *received_on;
                    self.correction_items.clear();
                    self.correction_outstanding.clear();
                    self.correction_due = None;
                } else {
                    self.correction_outstanding = outstanding.clone();
                }
            }
            Event::Accepted {
                on,
                promised_due,
                legal_due,
                ..
            } => {
                self.status = Status::InApproval;
                self.accepted_on = Some(*on);
                self.promised_due = Some(*promised_due);
                self.legal_due = Some(*legal_due);
                self.step = 0;
                self.step_started_on = Some(*on);
            }
            Event::NotAccepted { .. } => self.status = Status::NotAccepted,
            Event::StepPassed { step, on, .. } => {
                self.step = step + 1;
                self.step_started_on = Some(*on);
            }
            Event::StepReturned { step, on, .. } => {
                self.step = step.saturating_sub(1);
                self.step_started_on = Some(*on);
            }
            Event::Completed { outcome, on, .. } => {
                self.status = Status::Completed;
                self.outcome = Some(*outcome);
                self.completed_on = Some(*on);
            }
            Event::FeeCharged { amount_fen, .. } => self.fees_fen += amount_fen,
            Event::SupervisionOrdered { .. }
            | Event::SupervisionAnswered { .. }
            | Event::SupervisionClosed { .. }
            | Event::LicenceIssued { .. }
            | Event::LicenceStatusChanged { .. }
            | Event::Rated { .. }
            | Event::RatingExcluded { .. }
            | Event::EvidenceConsented { .. } => {}
            Event::EvidenceFetched { material, .. } => self.materials.push(material.clone()),
            Event::SpecialStarted {
                procedure,
                on,
                expected_end,
                ..
            } => {
                self.status = Status::Suspended;
                self.special = Some((procedure.clone(), *on));
                self.special_expected_end = *expected_end;
            }
            Event::SpecialEnded {
                paused_days,
                promised_due,
                legal_due,
                ..
            } => {
                self.status = Status::InApproval;
                self.special = None;
                self.special_expected_end = None;
                self.paused_days += paused_days;
                self.promised_due = Some(*promised_due);
                self.legal_due = Some(*legal_due);
            }
            Event::Extended {
                days,
                promised_due,
                legal_due,
                ..
            } => {
                self.extension_days += days;
                self.promised_due = Some(*promised_due);
                self.legal_due = Some(*legal_due);
            }
            Event::Withdrawn { .. } => {
                self.status = Status::Withdrawn;
                self.outcome = Some(Outcome::Withdrawn);
            }
            Event::Voided { on, .. } => {
                self.status = Status::Void;
                self.outcome = Some(Outcome::Void);
                self.completed_on = Some(*on);
            }
            Event::CorrectionExpired { on, .. } => {
                self.status = Status::CorrectionExpired;
                self.outcome = Some(Outcome::CorrectionExpired);
                self.completed_on = Some(*on);
                self.correction_due = None;
            }
            Event::DeliveryRegistered { waybill, .. } => {
                if matches!(self.delivery, Delivery::Post { .. }) {
                    self.status = Status::Dispatched;
                    self.waybill = Some(waybill.clone());
                } else {
                    self.status = Status::Delivered;
                }
            }
            Event::ReceiptConfirmed {} => self.status = Status::Delivered,
            Event::DeliveryTracked {
                waybill,
                status,
                at,
                ..
            } => {
                if self.waybill.is_none() {
                    self.waybill = Some(waybill.clone());
                }
                // 签收 of a result that has left the office is its 送达.
                if status == "delivered"
                    && matches!(self.status, Status::Completed | Status::Dispatched)
                {
                    self.status = Status::Delivered;
                    let tz = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
                    self.delivered_on = Some(at.with_timezone(&tz).date_naive());
                }
            }
            Event::DeadlinesRecomputed {
                promised_due,
                legal_due,
                ..
            } => {
                self.promised_due = Some(*promised_due);
                self.legal_due = Some(*legal_due);
            }
        }
    }

    /// The event that brings the due dates in line with `cal` after the calendar changed
    /// for `years`, or `None` when they are unchanged or the case's clock no longer runs.
    pub fn recompute_deadlines(
        &self,
        cal: &WorkCalendar,
        years: &[i32],
    ) -> Result<Option<Event>, Refusal> {
        let (Some(accepted), Some(p), Some(l)) =
            (self.accepted_on, self.promised_due, self.legal_due)
        else {
            return Ok(None);
        };
        if !matches!(self.status, Status::InApproval | Status::Suspended) {
            return Ok(None);
        }
        let (promised_due, legal_due) =
            self.dues(cal, accepted, self.paused_days, self.extension_days)?;
        if (promised_due, legal_due) == (p, l) {
            return Ok(None);
        }
        Ok(Some(Event::DeadlinesRecomputed {
            promised_due,
            legal_due,
            years: years.to_vec(),
        }))
    }

    /// True when a due date was counted over a year whose holidays are not yet published.
    pub fn deadlines_provisional(&self, cal: &WorkCalendar) -> bool {
        let Some(accepted) = self.accepted_on else {
            return false;
        };
        [self.promised_due, self.legal_due]
            .into_iter()
            .flatten()
            .any(|due| cal.depends_on_provisional(accepted, due))
    }

    /// The current approval step, while in approval.
    pub fn current_step(&self) -> Option<&Step> {
        matches!(self.status, Status::InApproval | Status::Suspended)
            .then(|| self.steps.get(self.step))
            .flatten()
    }

    /// Due dates from an acceptance date with the days the clock was stopped and the
    /// extension added on.
    pub fn dues(
        &self,
        cal: &WorkCalendar,
        accepted: NaiveDate,
        paused: u32,
        extension: u32,
    ) -> Result<(NaiveDate, NaiveDate), CalendarError> {
        // 《行政许可法》第八十二条: additions (paused days, extension) are working days,
        // whatever the unit of the base limit: the base is counted in its own unit (a
        // natural-day end on a rest day moves to the next working day), then the
        // additions in working days from there.
        let l = &self.limits;
        let extra = paused + extension;
        let promised = cal.add(accepted, l.promised, l.promised_unit)?;
        let promised = cal.add_working_days(promised, extra)?;
        let (legal_days, legal_unit) = l.legal_limit();
        let legal = cal.add(accepted, legal_days, legal_unit)?;
        let legal = cal.add_working_days(legal, extra)?;
        Ok((promised, legal))
    }

    /// The last day to send a correction notice for the current submission (Art. 32(4)).
    pub fn correction_notice_due(&self, cal: &WorkCalendar) -> Result<NaiveDate, CalendarError> {
        cal.add_working_days(self.received_on, CORRECTION_NOTICE_DAYS)
    }

    /// The time rules on top of [`Case::allowed`]: what may no longer (or not yet) be done
    /// on `today`.
    pub fn allowed_on(
        &self,
        action: CaseAction,
        actor: Actor,
        today: NaiveDate,
        cal: &WorkCalendar,
    ) -> Result<(), Refusal> {
        use CaseAction as A;
        self.allowed(action, actor)?;
        match action {
            // 《行政许可法》第三十二条第一款第四项: after 5 working days no notice may be sent.
            A::RequestCorrection => {
                let due = self.correction_notice_due(cal)?;
                if today > due {
                    return Err(Refusal::Invalid(format!(
                        "补正告知应在收到材料后5个工作日内（{due} 前）发出；逾期未告知的，依法自收到材料之日（{}）起即为受理，不能再发出补正告知",
                        self.received_on
                    )));
                }
            }
            A::ExpireCorrection => match self.correction_due {
                Some(due) if today > due => {}
                Some(due) => {
                    return Err(Refusal::Invalid(format!(
                        "补正期限为 {due}，期限届满前不能作补正逾期办结"
                    )))
                }
                None => return Err(Refusal::Invalid("该补正告知未设补正期限".into())),
            },
            // 《行政许可法》第四十二条第一款: the extension is approved within the limit.
            A::Extend => {
                let clock_day = self.special.as_ref().map(|(_, s)| *s).unwrap_or(today);
                if let Some(legal) = self.legal_due {
                    if clock_day > legal {
                        return Err(Refusal::Invalid(format!(
                            "法定办理期限已于 {legal} 届满，延长期限须在期限届满前批准；超期情况已记录在案"
                        )));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Working days left until the promised deadline (negative when overdue). While the
    /// clock is stopped the count is frozen at the day the procedure began.
    pub fn remaining_working_days(
        &self,
        today: NaiveDate,
        cal: &WorkCalendar,
    ) -> Result<Option<i64>, CalendarError> {
        let Some(due) = self.promised_due else {
            return Ok(None);
        };
        if !self.status.is_open() {
            return Ok(None);
        }
        let from = match &self.special {
            Some((_, since)) => *since,
            None => today,
        };
        Ok(Some(if from <= due {
            cal.working_days_between(from, due)? as i64
        } else {
            -(cal.working_days_between(due, from)? as i64)
        }))
    }

    /// Working days left to send a correction notice (Art. 32), while the case waits for pre-review.
    pub fn correction_notice_days_left(
        &self,
        today: NaiveDate,
        cal: &WorkCalendar,
    ) -> Result<Option<i64>, CalendarError> {
        if self.status != Status::Submitted {
            return Ok(None);
        }
        let due = self.correction_notice_due(cal)?;
        Ok(Some(if today <= due {
            cal.working_days_between(today, due)? as i64
        } else {
            -(cal.working_days_between(due, today)? as i64)
        }))
    }

    /// May `actor` take `action` now? The one answer for both what [`Case::decide`] accepts
    /// and which actions the case page offers. Ownership and department are checked before a
    /// command reaches the core (an applicant reaches only their own case), so an
    /// `Actor::Applicant` here is the case's applicant.
    pub fn allowed(&self, action: CaseAction, actor: Actor) -> Result<(), Refusal> {
        use CaseAction as A;
        let staff = matches!(actor, Actor::Clerk | Actor::Approver | Actor::Head);
        let not_permitted = |who: &str| Err(Refusal::NotPermitted(who.to_string()));
        // Who: by role, before the state is looked at (so nobody learns more than they may).
        match action {
            A::RequestCorrection
            | A::NotAccept
            | A::RegisterDelivery
            | A::ChargeFee
            | A::ExpireCorrection
                if !staff =>
            {
                return not_permitted(&format!("申请人不能{}", action.verb()))
            }
            A::Accept if !staff => return not_permitted("只有窗口或部门人员可以受理"),
            A::SubmitCorrection if actor != Actor::Applicant => {
                return not_permitted("补正材料须由申请人本人提交")
            }
            A::ConfirmReceipt if actor != Actor::Applicant => {
                return not_permitted("只有申请人可以确认收到")
            }
            A::StartSpecial | A::EndSpecial if !matches!(actor, Actor::Approver | Actor::Head) => {
                return not_permitted(&format!("只有审批人员或部门负责人可以{}", action.verb()))
            }
            A::Extend if actor != Actor::Head => {
                return not_permitted("延长审批期限须经部门负责人批准")
            }
            A::Withdraw if !matches!(actor, Actor::Applicant | Actor::Clerk) => {
                return not_permitted("撤件须由申请人提出（可由窗口人员代为登记）")
            }
            A::Void if !matches!(actor, Actor::Clerk | Actor::Head) => {
                return not_permitted("作废须由窗口人员或部门负责人办理")
            }
            A::Pass | A::Return | A::Refuse if !staff => {
                return not_permitted(&format!("申请人不能{}", action.verb()))
            }
            _ => {}
        }
        // When: by the case's state.
        let in_state = match action {
            A::RequestCorrection | A::Accept | A::NotAccept => self.status == Status::Submitted,
            A::SubmitCorrection | A::ExpireCorrection => self.status == Status::AwaitingCorrection,
            // 《行政许可法》第三十四条第二款: a 即办件 is decided on the spot, so it may be
            // refused at pre-review.
            A::Refuse if self.limits.immediate => self.status == Status::Submitted,
            A::Pass | A::Return | A::Refuse | A::StartSpecial => self.status == Status::InApproval,
            A::Void => self.status.is_open(),
            A::EndSpecial => self.special.is_some(),
            A::Extend => matches!(self.status, Status::InApproval | Status::Suspended),
            A::Withdraw => self.status.is_open(),
            A::RegisterDelivery => self.status == Status::Completed,
            A::ConfirmReceipt => self.status == Status::Dispatched,
            A::ChargeFee => matches!(
                self.status,
                Status::Submitted | Status::InApproval | Status::Suspended | Status::Completed
            ),
        };
        if !in_state {
            return Err(wrong(self.status, action.verb()));
        }
        // Approval steps: the step's role acts (a head may act on an approver's step).
        if matches!(action, A::Pass | A::Return | A::Refuse) && self.status == Status::InApproval {
            let step = self
                .steps
                .get(self.step)
                .ok_or_else(|| Refusal::Invalid("没有待办审批环节".into()))?;
            if step.role != actor && !(actor == Actor::Head && step.role == Actor::Approver) {
                return Err(Refusal::NotPermitted(format!(
                    "「{}」环节应由{}办理",
                    step.name,
                    role_label(step.role)
                )));
            }
            if action == A::Return && self.step == 0 {
                return Err(Refusal::Invalid("已是第一个审批环节，不能退回".into()));
            }
            // 《行政许可法》第三十八条第二款: 不予许可 is the agency's written decision, made
            // at its decision step (the last), not by whoever holds an earlier step.
            if action == A::Refuse && self.step + 1 != self.steps.len() {
                let last = self.steps.last().map(|s| s.name.as_str()).unwrap_or("");
                return Err(Refusal::NotPermitted(format!(
                    "不予许可须在决定环节「{last}」作出，「{}」环节不能作出不予许可决定（可退回或提出意见）",
                    step.name
                )));
            }
        }
        Ok(())
    }

    /// The actions `actor` may take now, in the order the case page shows them.
    pub fn available(&self, actor: Actor, today: NaiveDate, cal: &WorkCalendar) -> Vec<CaseAction> {
        CaseAction::ALL
            .iter()
            .copied()
            .filter(|a| self.allowed_on(*a, actor, today, cal).is_ok())
            .collect()
    }

    /// Decides a command: the events to append, or why not.
    pub fn decide(
        &self,
        cmd: &Command,
        actor: Actor,
        today: NaiveDate,
        cal: &WorkCalendar,
    ) -> Result<Vec<Event>, Refusal> {
        self.allowed_on(cmd.action(), actor, today, cal)?;
        match cmd {
            Command::RequestCorrection {
                items,
                correction_days,
            } => {
                let items: Vec<String> = items
                    .iter()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect();
                if items.is_empty() {
                    return Err(Refusal::Invalid(
                        "补正告知须一次性列明需要补正的全部材料和内容".into(),
                    ));
                }
                let days = correction_days.unwrap_or(CORRECTION_DAYS_DEFAULT);
                if !(1..=60).contains(&days) {
                    return Err(Refusal::Invalid("补正期限应为1至60个工作日".into()));
                }
                let notice_due = self.correction_notice_due(cal)?;
                Ok(vec![Event::CorrectionRequested {
                    items,
                    notice_due,
                    correction_due: Some(cal.add_working_days(today, days)?),
                }])
            }
            Command::SubmitCorrection { materials } => {
                if materials.is_empty() {
                    return Err(Refusal::Invalid("请提交补正材料".into()));
                }
                let outstanding = self.correction_answer(materials)?;
                Ok(vec![Event::CorrectionSubmitted {
                    materials: materials.clone(),
                    received_on: today,
                    outstanding,
                }])
            }
            Command::AcceptWithShortfall {
                missing,
                reason,
                due_days,
            } => {
                let missing: Vec<String> = missing
                    .iter()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect();
                if missing.is_empty() {
                    return Err(Refusal::Invalid(
                        "材料齐全，无需容缺受理，请直接受理".into(),
                    ));
                }
                if reason.trim().is_empty() {
                    return Err(Refusal::Invalid("容缺受理须登记容缺理由".into()));
                }
                if !(1..=SHORTFALL_MAX_DAYS).contains(due_days) {
                    return Err(Refusal::Invalid(format!(
                        "容缺补齐期限应为1至{SHORTFALL_MAX_DAYS}个工作日"
                    )));
                }
                let mut events = vec![Event::ShortfallTolerated {
                    missing,
                    reason: reason.trim().to_string(),
                    due: cal.add_working_days(today, *due_days)?,
                }];
                events.extend(self.decide(&Command::Accept, actor, today, cal)?);
                Ok(events)
            }
            Command::Accept => {
                // 《行政许可法》第三十二条第一款第四项: past the notice window the case counts
                // as accepted on the day the materials were received.
                let deemed = today > self.correction_notice_due(cal)?;
                let on = if deemed { self.received_on } else { today };
                let (promised_due, legal_due) = self.dues(cal, on, 0, 0)?;
                let mut events = vec![Event::Accepted {
                    on,
                    promised_due,
                    legal_due,
                    deemed,
                }];
                if self.limits.immediate {
                    events.push(Event::Completed {
                        outcome: Outcome::Approved,
                        reasons: "即办件当场办结".into(),
                        on: today,
                        rights: String::new(),
                    });
                }
                Ok(events)
            }
            Command::NotAccept {
                category,
                reasons,
                competent_agency,
            } => {
                let reasons = required(reasons, "不予受理的理由")?;
                let agency = competent_agency.trim();
                // 《行政许可法》第三十二条第一款第二项: 告知申请人向有关行政机关申请.
                let competent_agency = match category {
                    NotAcceptCategory::NotThisAgency if agency.is_empty() => {
                        return Err(Refusal::Invalid(
                            "不属于本机关职权范围的，须告知申请人向哪个有权机关申请".into(),
                        ))
                    }
                    NotAcceptCategory::NotThisAgency => Some(agency.to_string()),
                    _ => None,
                };
                Ok(vec![Event::NotAccepted {
                    reasons,
                    category: Some(*category),
                    competent_agency,
                    rights: crate::messages::remedy_rights(),
                }])
            }
            // 《行政许可法》第三十四条第二款: a 即办件 refused on the spot, in writing.
            Command::Refuse { reasons } if self.status == Status::Submitted => {
                let reasons = required(reasons, "不予批准的理由")?;
                let (promised_due, legal_due) = self.dues(cal, today, 0, 0)?;
                Ok(vec![
                    Event::Accepted {
                        on: today,
                        promised_due,
                        legal_due,
                        deemed: false,
                    },
                    Event::Completed {
                        outcome: Outcome::Refused,
                        reasons,
                        on: today,
                        rights: crate::messages::remedy_rights(),
                    },
                ])
            }
            Command::Pass { opinion }
            | Command::Return { opinion }
            | Command::Refuse { reasons: opinion } => {
                // `allowed` has checked that the step exists and is this actor's.
                let step = &self.steps[self.step];
                match cmd {
                    Command::Pass { .. } => {
                        let mut events = vec![Event::StepPassed {
                            step: self.step,
                            name: step.name.clone(),
                            opinion: opinion.trim().to_string(),
                            on: today,
                        }];
                        if self.step + 1 == self.steps.len() {
                            events.push(Event::Completed {
                                outcome: Outcome::Approved,
                                reasons: opinion.trim().to_string(),
                                on: today,
                                rights: String::new(),
                            });
                        }
                        Ok(events)
                    }
                    Command::Return { .. } => Ok(vec![Event::StepReturned {
                        step: self.step,
                        name: step.name.clone(),
                        opinion: required(opinion, "退回意见")?,
                        on: today,
                    }]),
                    // 《行政许可法》第三十八条第二款: reasons and the applicant's rights.
                    _ => Ok(vec![Event::Completed {
                        outcome: Outcome::Refused,
                        on: today,
                        reasons: required(opinion, "不予批准的理由")?,
                        rights: crate::messages::remedy_rights(),
                    }]),
                }
            }
            Command::StartSpecial {
                procedure,
                reason,
                expected_days,
            } => {
                if !SPECIAL_KINDS.contains(&procedure.trim()) {
                    return Err(Refusal::Invalid(format!(
                        "特别程序种类应为：{}",
                        SPECIAL_KINDS.join("、")
                    )));
                }
                // 《行政许可法》第四十五条: the time it needs is told to the applicant in writing.
                if !(1..=SPECIAL_MAX_DAYS).contains(expected_days) {
                    return Err(Refusal::Invalid(format!(
                        "须书面告知申请人特别程序所需时间：预计时长应为1至{SPECIAL_MAX_DAYS}个工作日"
                    )));
                }
                Ok(vec![Event::SpecialStarted {
                    procedure: procedure.trim().into(),
                    reason: required(reason, "启动特别程序的理由")?,
                    on: today,
                    expected_days: Some(*expected_days),
                    expected_end: Some(cal.add_working_days(today, *expected_days)?),
                }])
            }
            Command::EndSpecial { result } => {
                let Some((_, since)) = &self.special else {
                    return Err(wrong(self.status, "结束特别程序"));
                };
                let accepted = self
                    .accepted_on
                    .ok_or_else(|| Refusal::Invalid("尚未受理".into()))?;
                // 《行政许可法》第八十二条: paused days are working days whatever the base unit.
                let paused_days = cal.working_days_between(*since, today)?;
                let (promised_due, legal_due) = self.dues(
                    cal,
                    accepted,
                    self.paused_days + paused_days,
                    self.extension_days,
                )?;
                Ok(vec![Event::SpecialEnded {
                    result: required(result, "特别程序结果")?,
                    on: today,
                    paused_days,
                    promised_due,
                    legal_due,
                }])
            }
            Command::Extend {
                days,
                reason,
                approved_by_government,
            } => {
                let cap = self.limits.extension_cap();
                if *days == 0 || self.extension_days + days > cap {
                    return Err(Refusal::Invalid(format!(
                        "延长期限累计不得超过{cap}个工作日（已延长{}个）",
                        self.extension_days
                    )));
                }
                // 《行政许可法》第四十二条第二款: joint processing's extension beyond 10 days
                // needs the approval of 本级人民政府负责人, not only the agency head's.
                if self.limits.joint
                    && self.extension_days + days > EXTENSION_CAP
                    && !approved_by_government
                {
                    return Err(Refusal::Invalid(format!(
                        "联合办理延长超过{EXTENSION_CAP}个工作日的部分须经本级人民政府负责人批准，请确认已取得批准"
                    )));
                }
                let accepted = self
                    .accepted_on
                    .ok_or_else(|| Refusal::Invalid("尚未受理".into()))?;
                let (promised_due, legal_due) =
                    self.dues(cal, accepted, self.paused_days, self.extension_days + days)?;
                Ok(vec![Event::Extended {
                    days: *days,
                    reason: required(reason, "延长理由")?,
                    promised_due,
                    legal_due,
                    approved_by_government: *approved_by_government,
                }])
            }
            Command::Withdraw { reason } => Ok(vec![Event::Withdrawn {
                reason: required(reason, "撤件原因")?,
            }]),
            Command::RegisterDelivery { waybill } => {
                let waybill = waybill.trim().to_string();
                if matches!(self.delivery, Delivery::Post { .. })
                    && (waybill.len() < 8 || !waybill.chars().all(|c| c.is_ascii_alphanumeric()))
                {
                    return Err(Refusal::Invalid(
                        "邮寄送达须登记有效的邮件号（8位以上字母数字）".into(),
                    ));
                }
                Ok(vec![Event::DeliveryRegistered {
                    method: self.delivery.label().into(),
                    waybill,
                }])
            }
            Command::ChargeFee { amount_fen, note } => {
                if *amount_fen == 0 {
                    return Err(Refusal::Invalid("收费金额应大于0".into()));
                }
                Ok(vec![Event::FeeCharged {
                    amount_fen: *amount_fen,
                    note: note.trim().to_string(),
                }])
            }
            Command::ConfirmReceipt => Ok(vec![Event::ReceiptConfirmed {}]),
            Command::ExpireCorrection => Ok(vec![Event::CorrectionExpired {
                // `allowed_on` has checked that the deadline is set and passed.
                correction_due: self.correction_due.unwrap_or(today),
                on: today,
            }]),
            Command::Void { reasons } => Ok(vec![Event::Voided {
                reasons: required(reasons, "作废理由")?,
                on: today,
            }]),
        }
    }
}

pub fn role_label(a: Actor) -> &'static str {
    match a {
        Actor::Applicant => "申请人",
        Actor::Clerk => "窗口人员",
        Actor::Approver => "审批人员",
        Actor::Head => "部门负责人",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn limits(promised: u32, legal: u32) -> Limits {
        Limits {
            immediate: false,
            promised,
            promised_unit: TimeUnit::WorkingDays,
            legal,
            legal_unit: TimeUnit::WorkingDays,
            joint: false,
            extension_cap: None,
        }
    }

    fn new_case(l: Limits, delivery: Delivery, on: &str) -> Case {
        let first = Event::Submitted {
            channel: Channel::Online,
            delivery,
            materials: vec![],
            received_on: d(on),
            steps: default_steps(),
            limits: l,
            details: Default::default(),
        };
        Case::open(&first).unwrap()
    }

    fn run(c: &mut Case, cmd: Command, actor: Actor, on: &str) -> Vec<Event> {
        let cal = WorkCalendar::builtin();
        let ev = c
            .decide(&cmd, actor, d(on), &cal)
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        for e in &ev {
            c.apply(e);
        }
        ev
    }

    #[test]
    fn full_lifecycle_with_correction_and_post() {
        let mut c = new_case(
            limits(5, 20),
            Delivery::Post {
                address: "娄星区长青中街1号 张三收".into(),
            },
            "2026-02-12",
        );
        run(
            &mut c,
            Command::RequestCorrection {
                items: vec!["营业执照复印件不清晰".into(), " ".into()],
                correction_days: None,
            },
            Actor::Clerk,
            "2026-02-12",
        );
        assert_eq!(c.status, Status::AwaitingCorrection);
        assert_eq!(c.correction_items, vec!["营业执照复印件不清晰".to_string()]);
        run(
            &mut c,
            Command::SubmitCorrection {
                materials: vec![MaterialRef {
                    name: "营业执照".into(),
                    sha256: None,
                    file_name: None,
                    licence_id: None,
                    trust: None,
                }],
            },
            Actor::Applicant,
            "2026-02-13",
        );
        // Accepted Fri 13 Feb 2026: 5 working days → 27 Feb (14 Feb is a make-up day, 15–23 off).
        run(&mut c, Command::Accept, Actor::Clerk, "2026-02-13");
        assert_eq!(c.promised_due, Some(d("2026-02-27")));
        run(
            &mut c,
            Command::Pass {
                opinion: "材料齐全".into(),
            },
            Actor::Approver,
            "2026-02-24",
        );
        run(
            &mut c,
            Command::Pass {
                opinion: "符合条件".into(),
            },
            Actor::Approver,
            "2026-02-24",
        );
        assert_eq!(c.current_step().unwrap().name, "批准");
        let ev = run(
            &mut c,
            Command::Pass {
                opinion: "准予许可".into(),
            },
            Actor::Head,
            "2026-02-25",
        );
        assert_eq!(ev.len(), 2);
        assert_eq!(
            (c.status, c.outcome),
            (Status::Completed, Some(Outcome::Approved))
        );
        run(
            &mut c,
            Command::RegisterDelivery {
                waybill: "EMS1234567890".into(),
            },
            Actor::Clerk,
            "2026-02-25",
        );
        assert_eq!(c.status, Status::Dispatched);
        run(
            &mut c,
            Command::ConfirmReceipt,
            Actor::Applicant,
            "2026-02-27",
        );
        assert_eq!(c.status, Status::Delivered);
        assert_eq!(c.version, 10);
    }

    #[test]
    fn illegal_transitions_are_refused_with_a_reason() {
        let cal = WorkCalendar::builtin();
        let c = new_case(limits(5, 20), Delivery::Window, "2026-03-02");
        let today = d("2026-03-02");
        let refused = |cmd: Command, actor: Actor| c.decide(&cmd, actor, today, &cal).unwrap_err();
        assert!(matches!(
            refused(
                Command::Pass {
                    opinion: "x".into()
                },
                Actor::Approver
            ),
            Refusal::WrongState { .. }
        ));
        assert!(matches!(
            refused(Command::ConfirmReceipt, Actor::Applicant),
            Refusal::WrongState { .. }
        ));
        assert!(matches!(
            refused(
                Command::RegisterDelivery {
                    waybill: "X".into()
                },
                Actor::Clerk
            ),
            Refusal::WrongState { .. }
        ));
        assert!(matches!(
            refused(Command::Accept, Actor::Applicant),
            Refusal::NotPermitted(_)
        ));
        assert!(matches!(
            refused(
                Command::NotAccept {
                    category: NotAcceptCategory::Other,
                    reasons: "  ".into(),
                    competent_agency: String::new(),
                },
                Actor::Clerk
            ),
            Refusal::Invalid(_)
        ));
        assert!(matches!(
            refused(
                Command::RequestCorrection {
                    items: vec![],
                    correction_days: None
                },
                Actor::Clerk
            ),
            Refusal::Invalid(_)
        ));
        assert!(matches!(
            refused(
                Command::Extend {
                    days: 5,
                    reason: "x".into(),
                    approved_by_government: false,
                },
                Actor::Head
            ),
            Refusal::WrongState { .. }
        ));
        let msg = refused(
            Command::Pass {
                opinion: "x".into(),
            },
            Actor::Approver,
        )
        .to_string();
        assert!(msg.contains("待预审"), "{msg}");
    }

    #[test]
    fn steps_need_their_role_and_refusal_needs_reasons() {
        let cal = WorkCalendar::builtin();
        let mut c = new_case(limits(5, 20), Delivery::Window, "2026-03-02");
        run(&mut c, Command::Accept, Actor::Clerk, "2026-03-02");
        assert!(matches!(
            c.decide(
                &Command::Pass {
                    opinion: String::new()
                },
                Actor::Clerk,
                d("2026-03-03"),
                &cal
            ),
            Err(Refusal::NotPermitted(_))
        ));
        assert!(matches!(
            c.decide(
                &Command::Return {
                    opinion: "x".into()
                },
                Actor::Approver,
                d("2026-03-03"),
                &cal
            ),
            Err(Refusal::Invalid(_))
        ));
        run(
            &mut c,
            Command::Pass {
                opinion: String::new(),
            },
            Actor::Approver,
            "2026-03-03",
        );
        run(
            &mut c,
            Command::Pass {
                opinion: String::new(),
            },
            Actor::Approver,
            "2026-03-03",
        );
        // 批准 is the head's.
        assert!(matches!(
            c.decide(
                &Command::Pass {
                    opinion: String::new()
                },
                Actor::Approver,
                d("2026-03-03"),
                &cal
            ),
            Err(Refusal::NotPermitted(_))
        ));
        run(
            &mut c,
            Command::Return {
                opinion: "请补充核查意见".into(),
            },
            Actor::Head,
            "2026-03-04",
        );
        assert_eq!(c.current_step().unwrap().name, "审核");
        // 《行政许可法》第三十八条第二款: 不予许可 is decided at the decision step, not by
        // whoever holds an earlier one.
        assert!(matches!(
            c.decide(
                &Command::Refuse {
                    reasons: "不符合法定条件".into()
                },
                Actor::Approver,
                d("2026-03-04"),
                &cal
            ),
            Err(Refusal::NotPermitted(_))
        ));
        assert!(!c
            .available(Actor::Approver, d("2026-03-04"), &cal)
            .contains(&CaseAction::Refuse));
        run(
            &mut c,
            Command::Pass {
                opinion: String::new(),
            },
            Actor::Approver,
            "2026-03-04",
        );
        assert!(matches!(
            c.decide(
                &Command::Refuse {
                    reasons: " ".into()
                },
                Actor::Head,
                d("2026-03-04"),
                &cal
            ),
            Err(Refusal::Invalid(_))
        ));
        let ev = run(
            &mut c,
            Command::Refuse {
                reasons: "不符合法定条件".into(),
            },
            Actor::Head,
            "2026-03-04",
        );
        // The decision tells the applicant's rights: 复议 in 60 days, 诉讼 in 6 months.
        let Event::Completed { rights, .. } = &ev[0] else {
            panic!("{ev:?}")
        };
        assert!(
            rights.contains("六十日") && rights.contains("六个月"),
            "{rights}"
        );
        assert!(rights.contains("行政复议") && rights.contains("行政诉讼"));
        assert_eq!(c.outcome, Some(Outcome::Refused));
        assert!(matches!(
            c.decide(
                &Command::Withdraw { reason: "x".into() },
                Actor::Applicant,
                d("2026-03-05"),
                &cal
            ),
            Err(Refusal::WrongState { .. })
        ));
    }

    #[test]
    fn special_procedure_stops_the_clock_and_extension_is_capped() {
        let cal = WorkCalendar::builtin();
        // Accepted Wed 30 Sep 2026, 3 working days → Sat 10 Oct (a make-up day).
        let mut c = new_case(limits(3, 20), Delivery::Electronic, "2026-09-30");
        run(&mut c, Command::Accept, Actor::Clerk, "2026-09-30");
        assert_eq!(c.promised_due, Some(d("2026-10-10")));
        // Expert review from Mon 12 Oct to Fri 16 Oct: 4 working days stopped.
        run(
            &mut c,
            Command::StartSpecial {
                procedure: "专家评审".into(),
                reason: "技术方案需专家论证".into(),
                expected_days: 30,
            },
            Actor::Approver,
            "2026-10-12",
        );
        assert_eq!(c.status, Status::Suspended);
        // Frozen while stopped.
        let frozen = c.remaining_working_days(d("2026-10-16"), &cal).unwrap();
        assert_eq!(
            frozen,
            c.remaining_working_days(d("2026-10-12"), &cal).unwrap()
        );
        run(
            &mut c,
            Command::EndSpecial {
                result: "专家评审通过".into(),
            },
            Actor::Approver,
            "2026-10-16",
        );
        assert_eq!(c.paused_days, 4);
        assert_eq!(
            c.promised_due,
            Some(cal.add_working_days(d("2026-09-30"), 7).unwrap())
        );
        // Extension: head only, within 10 working days in total.
        assert!(matches!(
            c.decide(
                &Command::Extend {
                    days: 5,
                    reason: "x".into(),
                    approved_by_government: false,
                },
                Actor::Approver,
                d("2026-10-16"),
                &cal
            ),
            Err(Refusal::NotPermitted(_))
        ));
        run(
            &mut c,
            Command::Extend {
                days: 6,
                reason: "情况复杂".into(),
                approved_by_government: false,
            },
            Actor::Head,
            "2026-10-16",
        );
        assert!(matches!(
            c.decide(
                &Command::Extend {
                    days: 5,
                    reason: "x".into(),
                    approved_by_government: false,
                },
                Actor::Head,
                d("2026-10-16"),
                &cal
            ),
            Err(Refusal::Invalid(_))
        ));
        run(
            &mut c,
            Command::Extend {
                days: 4,
                reason: "仍需核查".into(),
                approved_by_government: false,
            },
            Actor::Head,
            "2026-10-16",
        );
        assert_eq!(
            c.legal_due,
            Some(cal.add_working_days(d("2026-09-30"), 20 + 4 + 10).unwrap())
        );
        assert!(matches!(
            c.decide(
                &Command::StartSpecial {
                    procedure: "喝茶".into(),
                    reason: "x".into(),
                    expected_days: 5,
                },
                Actor::Approver,
                d("2026-10-19"),
                &cal
            ),
            Err(Refusal::Invalid(_))
        ));
    }

    #[test]
    fn immediate_items_are_accepted_and_completed_at_once() {
        let mut l = limits(0, 0);
        l.immediate = true;
        let mut c = new_case(l, Delivery::Window, "2026-03-02");
        let ev = run(&mut c, Command::Accept, Actor::Clerk, "2026-03-02");
        assert_eq!(
            ev.iter().map(Event::kind).collect::<Vec<_>>(),
            vec!["accepted", "completed"]
        );
        assert_eq!(c.status, Status::Completed);
        assert_eq!(c.promised_due, Some(d("2026-03-02")));
    }

    #[test]
    fn publishing_next_years_holidays_recomputes_open_deadlines() {
        // Accepted on 2026-12-20 with 20 working days: weekends-only in 2027 gives 15 Jan.
        let mut cal = WorkCalendar::builtin();
        let mut c = new_case(limits(20, 20), Delivery::Window, "2026-12-20");
        for e in c
            .decide(&Command::Accept, Actor::Clerk, d("2026-12-20"), &cal)
            .unwrap()
        {
            c.apply(&e);
        }
        assert_eq!(c.legal_due, Some(d("2027-01-15")));
        assert!(c.deadlines_provisional(&cal));
        assert_eq!(c.recompute_deadlines(&cal, &[2027]).unwrap(), None);
        // The State Council's table for 2027 (元旦 off): one working day later.
        cal.insert_year(
            crate::calendar::YearTable::parse("year 2027\nholiday 2027-01-01\n").unwrap(),
        );
        let e = c.recompute_deadlines(&cal, &[2027]).unwrap().unwrap();
        assert_eq!(
            e,
            Event::DeadlinesRecomputed {
                promised_due: d("2027-01-18"),
                legal_due: d("2027-01-18"),
                years: vec![2027],
            }
        );
        c.apply(&e);
        assert_eq!(c.legal_due, Some(d("2027-01-18")));
        assert!(!c.deadlines_provisional(&cal));
        // A decided case keeps its dates.
        let mut done = c.clone();
        done.status = Status::Completed;
        assert_eq!(done.recompute_deadlines(&cal, &[2027]).unwrap(), None);
    }

    #[test]
    fn a_deadline_in_an_unpublished_year_is_provisional_not_refused() {
        // The State Council publishes next year's holidays late in the year: a case
        // accepted in December is still accepted, on a weekends-only count for 2027.
        let cal = WorkCalendar::builtin();
        let c = new_case(limits(20, 20), Delivery::Window, "2026-12-20");
        let ev = c
            .decide(&Command::Accept, Actor::Clerk, d("2026-12-20"), &cal)
            .unwrap();
        let Event::Accepted { legal_due, .. } = &ev[0] else {
            panic!("{ev:?}")
        };
        assert_eq!(*legal_due, d("2027-01-15"));
        assert!(cal.depends_on_provisional(d("2026-12-20"), *legal_due));
    }

    #[test]
    fn correction_notice_days_and_remaining_days() {
        let cal = WorkCalendar::builtin();
        let mut c = new_case(limits(5, 20), Delivery::Window, "2026-02-13");
        assert_eq!(
            c.correction_notice_days_left(d("2026-02-13"), &cal)
                .unwrap(),
            Some(5)
        );
        assert_eq!(
            c.correction_notice_days_left(d("2026-02-24"), &cal)
                .unwrap(),
            Some(3)
        );
        run(&mut c, Command::Accept, Actor::Clerk, "2026-02-13");
        assert_eq!(
            c.remaining_working_days(d("2026-02-13"), &cal).unwrap(),
            Some(5)
        );
        // Sat 28 Feb is a make-up working day, so Mon 2 Mar is two working days late.
        assert_eq!(
            c.remaining_working_days(d("2026-03-02"), &cal).unwrap(),
            Some(-2)
        );
        let bad_address = Event::Submitted {
            channel: Channel::Online,
            delivery: Delivery::Post {
                address: "x".into(),
            },
            materials: vec![],
            received_on: d("2026-02-13"),
            steps: default_steps(),
            limits: limits(5, 20),
            details: Default::default(),
        };
        assert!(Case::open(&bad_address).is_err());
    }

    fn refused(c: &Case, cmd: Command, actor: Actor, on: &str) -> Refusal {
        c.decide(&cmd, actor, d(on), &WorkCalendar::builtin())
            .expect_err("should be refused")
    }

    #[test]
    fn no_notice_within_five_working_days_means_accepted_on_the_receipt_day() {
        // 《行政许可法》第三十二条第一款第四项: 逾期不告知的，自收到申请材料之日起即为受理.
        let cal = WorkCalendar::builtin();
        // Received Thu 12 Feb 2026: the notice window ends Thu 26 Feb (13, Sat 14, 24, 25, 26).
        let c = new_case(limits(5, 20), Delivery::Window, "2026-02-12");
        assert!(c
            .available(Actor::Clerk, d("2026-02-26"), &cal)
            .contains(&CaseAction::RequestCorrection));
        assert!(!c
            .available(Actor::Clerk, d("2026-02-27"), &cal)
            .contains(&CaseAction::RequestCorrection));
        let late = Command::RequestCorrection {
            items: vec!["补充材料".into()],
            correction_days: None,
        };
        let msg = refused(&c, late, Actor::Clerk, "2026-02-27").to_string();
        assert!(msg.contains("即为受理"), "{msg}");
        // Accepting later dates acceptance and the due dates from the receipt day.
        let mut c2 = c.clone();
        let ev = run(&mut c2, Command::Accept, Actor::Clerk, "2026-03-02");
        assert_eq!(
            ev[0],
            Event::Accepted {
                on: d("2026-02-12"),
                promised_due: d("2026-02-26"),
                legal_due: d("2026-03-18"),
                deemed: true,
            }
        );
        assert_eq!(c2.accepted_on, Some(d("2026-02-12")));
        // Within the window acceptance is dated the day it happens.
        let mut c3 = c.clone();
        let ev = run(&mut c3, Command::Accept, Actor::Clerk, "2026-02-26");
        assert!(
            matches!(ev[0], Event::Accepted { deemed: false, on, .. } if on == d("2026-02-26"))
        );
    }

    #[test]
    fn an_extension_after_the_legal_limit_is_refused() {
        // 《行政许可法》第四十二条第一款: the extension is approved before the limit expires.
        let cal = WorkCalendar::builtin();
        // Accepted Mon 2 Mar 2026, legal 5 working days → Mon 9 Mar.
        let mut c = new_case(limits(3, 5), Delivery::Window, "2026-03-02");
        run(&mut c, Command::Accept, Actor::Clerk, "2026-03-02");
        assert_eq!(c.legal_due, Some(d("2026-03-09")));
        let extend = || Command::Extend {
            days: 3,
            reason: "情况复杂".into(),
            approved_by_government: false,
        };
        let msg = refused(&c, extend(), Actor::Head, "2026-03-10").to_string();
        assert!(msg.contains("届满"), "{msg}");
        assert!(!c
            .available(Actor::Head, d("2026-03-10"), &cal)
            .contains(&CaseAction::Extend));
        run(&mut c, extend(), Actor::Head, "2026-03-09");
        assert_eq!(c.legal_due, Some(d("2026-03-12")));
    }

    #[test]
    fn a_special_procedure_tells_its_expected_length() {
        // 《行政许可法》第四十五条: 所需时间书面告知申请人.
        let mut c = new_case(limits(5, 20), Delivery::Window, "2026-03-02");
        run(&mut c, Command::Accept, Actor::Clerk, "2026-03-02");
        let start = |days| Command::StartSpecial {
            procedure: "检验".into(),
            reason: "送样".into(),
            expected_days: days,
        };
        assert!(matches!(
            refused(&c, start(0), Actor::Approver, "2026-03-03"),
            Refusal::Invalid(_)
        ));
        assert!(matches!(
            refused(
                &c,
                start(SPECIAL_MAX_DAYS + 1),
                Actor::Approver,
                "2026-03-03"
            ),
            Refusal::Invalid(_)
        ));
        let ev = run(&mut c, start(5), Actor::Approver, "2026-03-03");
        assert!(matches!(
            &ev[0],
            Event::SpecialStarted { expected_days: Some(5), expected_end: Some(end), .. }
                if *end == d("2026-03-10")
        ));
        assert_eq!(c.special_expected_end, Some(d("2026-03-10")));
    }

    #[test]
    fn joint_processing_runs_45_days_and_its_last_5_need_the_government() {
        // 《行政许可法》第四十二条第二款: 联合办理 45 日；经本级人民政府负责人批准可延长 15 日.
        let mut l = limits(10, 20);
        l.joint = true;
        let mut c = new_case(l, Delivery::Window, "2026-03-02");
        run(&mut c, Command::Accept, Actor::Clerk, "2026-03-02");
        let cal = WorkCalendar::builtin();
        assert_eq!(
            c.legal_due,
            Some(cal.add_working_days(d("2026-03-02"), 45).unwrap())
        );
        let extend = |days, gov| Command::Extend {
            days,
            reason: "联合审查".into(),
            approved_by_government: gov,
        };
        run(&mut c, extend(10, false), Actor::Head, "2026-03-03");
        let msg = refused(&c, extend(5, false), Actor::Head, "2026-03-03").to_string();
        assert!(msg.contains("本级人民政府负责人"), "{msg}");
        let ev = run(&mut c, extend(5, true), Actor::Head, "2026-03-03");
        assert!(matches!(
            ev[0],
            Event::Extended {
                approved_by_government: true,
                ..
            }
        ));
        assert!(matches!(
            refused(&c, extend(1, true), Actor::Head, "2026-03-03"),
            Refusal::Invalid(_)
        ));
        assert_eq!(
            c.legal_due,
            Some(cal.add_working_days(d("2026-03-02"), 60).unwrap())
        );
    }

    #[test]
    fn a_preliminary_review_step_takes_at_most_20_working_days() {
        // 《行政许可法》第四十三条: 下级行政机关应当自其受理申请之日起二十日内审查完毕.
        let step = |limit, preliminary| Step {
            name: "初审".into(),
            role: Actor::Approver,
            limit_days: limit,
            preliminary,
        };
        assert_eq!(step(None, true).effective_limit(), Some(PRELIMINARY_DAYS));
        assert_eq!(step(Some(30), true).effective_limit(), Some(20));
        assert_eq!(step(Some(7), true).effective_limit(), Some(7));
        assert_eq!(step(None, false).effective_limit(), None);
        // Stored steps without the flag still read.
        let old: Step =
            serde_json::from_str(r#"{"name":"审核","role":"approver","limit_days":null}"#).unwrap();
        assert!(!old.preliminary);
    }

    #[test]
    fn the_extension_cap_is_per_item() {
        // 《行政许可法》第四十二条第一款: 法律、法规另有规定的，依照其规定.
        let mut l = limits(5, 20);
        l.extension_cap = Some(5);
        let mut c = new_case(l, Delivery::Window, "2026-03-02");
        run(&mut c, Command::Accept, Actor::Clerk, "2026-03-02");
        let extend = |days| Command::Extend {
            days,
            reason: "情况复杂".into(),
            approved_by_government: false,
        };
        let msg = refused(&c, extend(6), Actor::Head, "2026-03-03").to_string();
        assert!(msg.contains("5个工作日"), "{msg}");
        run(&mut c, extend(5), Actor::Head, "2026-03-03");
        // Unset: 10, or 15 jointly.
        assert_eq!(limits(5, 20).extension_cap(), EXTENSION_CAP);
        let old: Limits = serde_json::from_str(r#"{"immediate":false,"promised":5,"promised_unit":"WorkingDays","legal":20,"legal_unit":"WorkingDays","joint":true}"#).unwrap();
        assert_eq!(old.extension_cap(), EXTENSION_CAP_JOINT);
    }

    #[test]
    fn not_accepting_names_its_category() {
        // 《行政许可法》第三十二条第一款第二项: 不属于本机关职权范围的，告知申请人向有关行政机关申请.
        let c = new_case(limits(5, 20), Delivery::Window, "2026-03-02");
        let not_accept = |category, agency: &str| Command::NotAccept {
            category,
            reasons: "申请事项由区级部门实施".into(),
            competent_agency: agency.into(),
        };
        let msg = refused(
            &c,
            not_accept(NotAcceptCategory::NotThisAgency, " "),
            Actor::Clerk,
            "2026-03-02",
        )
        .to_string();
        assert!(msg.contains("有权机关"), "{msg}");
        let mut c2 = c.clone();
        let ev = run(
            &mut c2,
            not_accept(NotAcceptCategory::NotThisAgency, "娄星区市场监督管理局"),
            Actor::Clerk,
            "2026-03-02",
        );
        let Event::NotAccepted {
            category,
            competent_agency,
            rights,
            ..
        } = &ev[0]
        else {
            panic!("{ev:?}")
        };
        assert_eq!(*category, Some(NotAcceptCategory::NotThisAgency));
        assert_eq!(competent_agency.as_deref(), Some("娄星区市场监督管理局"));
        assert!(rights.contains("行政复议"));
        assert_eq!(c2.status, Status::NotAccepted);
        // Other needs reasons.
        let blank = Command::NotAccept {
            category: NotAcceptCategory::Other,
            reasons: " ".into(),
            competent_agency: String::new(),
        };
        assert!(matches!(
            refused(&c, blank, Actor::Clerk, "2026-03-02"),
            Refusal::Invalid(_)
        ));
        // Stored events without a category still read.
        let old: Event = serde_json::from_str(r#"{"kind":"not_accepted","reasons":"x"}"#).unwrap();
        assert!(matches!(old, Event::NotAccepted { category: None, .. }));
        assert_eq!(
            NotAcceptCategory::parse("not_this_agency"),
            Some(NotAcceptCategory::NotThisAgency)
        );
    }

    #[test]
    fn a_correction_is_answered_item_by_item_and_kept_until_complete() {
        // Issue #12: one slot per item; a partial answer stays on the case, which waits
        // for the rest; a file answering no item is refused.
        let mut c = new_case(limits(5, 20), Delivery::Window, "2026-03-02");
        let file = |name: &str| MaterialRef {
            name: name.into(),
            sha256: Some("ab".repeat(32)),
            file_name: Some("x.pdf".into()),
            licence_id: None,
            trust: Some('C'),
        };
        run(
            &mut c,
            Command::RequestCorrection {
                items: vec!["营业执照副本".into(), "平面图".into()],
                correction_days: None,
            },
            Actor::Clerk,
            "2026-03-02",
        );
        let stray = Command::SubmitCorrection {
            materials: vec![file("补正材料")],
        };
        assert!(matches!(
            refused(&c, stray, Actor::Applicant, "2026-03-03"),
            Refusal::Invalid(m) if m.contains("逐项")
        ));
        let ev = run(
            &mut c,
            Command::SubmitCorrection {
                materials: vec![file("平面图")],
            },
            Actor::Applicant,
            "2026-03-03",
        );
        assert!(ev[0].applicant_note().contains("尚缺：1. 营业执照副本"));
        assert_eq!(c.status, Status::AwaitingCorrection);
        assert_eq!(c.correction_still_missing(), ["营业执照副本".to_string()]);
        assert_eq!(c.materials.last().unwrap().name, "平面图");
        run(
            &mut c,
            Command::SubmitCorrection {
                materials: vec![file("营业执照副本")],
            },
            Actor::Applicant,
            "2026-03-04",
        );
        assert_eq!(c.status, Status::Submitted);
        assert_eq!(c.received_on, d("2026-03-04"));
        assert!(c.correction_items.is_empty() && c.correction_outstanding.is_empty());
        // Events stored before the list was kept read as complete answers.
        let old: Event = serde_json::from_str(
            r#"{"kind":"correction_submitted","materials":[],"received_on":"2026-03-04"}"#,
        )
        .unwrap();
        assert!(
            matches!(old, Event::CorrectionSubmitted { outstanding, .. } if outstanding.is_empty())
        );
    }

    #[test]
    fn a_second_notice_needs_a_new_submission() {
        // 《行政许可法》第三十二条第一款第四项: 一次告知; a new notice only after a correction.
        let mut c = new_case(limits(5, 20), Delivery::Window, "2026-03-02");
        let notice = || Command::RequestCorrection {
            items: vec!["补充平面图".into()],
            correction_days: None,
        };
        run(&mut c, notice(), Actor::Clerk, "2026-03-02");
        assert!(matches!(
            refused(&c, notice(), Actor::Clerk, "2026-03-02"),
            Refusal::WrongState { .. }
        ));
        run(
            &mut c,
            Command::SubmitCorrection {
                materials: vec![MaterialRef {
                    name: "平面图".into(),
                    sha256: None,
                    file_name: None,
                    licence_id: None,
                    trust: None,
                }],
            },
            Actor::Applicant,
            "2026-03-03",
        );
        run(&mut c, notice(), Actor::Clerk, "2026-03-03");
        assert_eq!(c.corrections, 2);
    }

    #[test]
    fn paused_days_and_extensions_add_working_days_to_a_natural_day_limit() {
        // 《行政许可法》第八十二条: 期限以工作日计算，不含法定节假日.
        let l = Limits {
            promised_unit: TimeUnit::NaturalDays,
            legal_unit: TimeUnit::NaturalDays,
            ..limits(5, 5)
        };
        let mut c = new_case(l, Delivery::Window, "2026-03-02");
        // Mon 2 Mar + 5 natural days = Sat 7 Mar, a rest day → Mon 9 Mar.
        run(&mut c, Command::Accept, Actor::Clerk, "2026-03-02");
        assert_eq!(c.promised_due, Some(d("2026-03-09")));
        // Stopped Tue 3 to Mon 9 Mar: 4 working days (4, 5, 6, 9), not 6 natural days.
        run(
            &mut c,
            Command::StartSpecial {
                procedure: "检测".into(),
                reason: "送检".into(),
                expected_days: 5,
            },
            Actor::Approver,
            "2026-03-03",
        );
        run(
            &mut c,
            Command::EndSpecial {
                result: "合格".into(),
            },
            Actor::Approver,
            "2026-03-09",
        );
        assert_eq!(c.paused_days, 4);
        assert_eq!(c.promised_due, Some(d("2026-03-13")));
        // Two more working days of extension: Mon 9 Mar + 6 working days = Tue 17 Mar.
        run(
            &mut c,
            Command::Extend {
                days: 2,
                reason: "情况复杂".into(),
                approved_by_government: false,
            },
            Actor::Head,
            "2026-03-10",
        );
        assert_eq!(c.legal_due, Some(d("2026-03-17")));
    }

    #[test]
    fn correction_lapse_void_and_withdrawal_end_the_case_with_an_outcome() {
        // 《行政许可法》第三十二条: the applicant gets a correction deadline; missing it ends
        // the case as 补正逾期.
        let mut c = new_case(limits(5, 20), Delivery::Window, "2026-03-02");
        run(
            &mut c,
            Command::RequestCorrection {
                items: vec!["补充平面图".into()],
                correction_days: Some(3),
            },
            Actor::Clerk,
            "2026-03-02",
        );
        assert_eq!(c.correction_due, Some(d("2026-03-05")));
        assert!(matches!(
            refused(&c, Command::ExpireCorrection, Actor::Clerk, "2026-03-05"),
            Refusal::Invalid(_)
        ));
        assert!(matches!(
            refused(
                &c,
                Command::ExpireCorrection,
                Actor::Applicant,
                "2026-03-06"
            ),
            Refusal::NotPermitted(_)
        ));
        let mut lapsed = c.clone();
        run(
            &mut lapsed,
            Command::ExpireCorrection,
            Actor::Clerk,
            "2026-03-06",
        );
        assert_eq!(
            (lapsed.status, lapsed.outcome),
            (Status::CorrectionExpired, Some(Outcome::CorrectionExpired))
        );
        assert!(!lapsed.status.is_open());
        // The default deadline is 15 working days.
        let mut c15 = new_case(limits(5, 20), Delivery::Window, "2026-03-02");
        run(
            &mut c15,
            Command::RequestCorrection {
                items: vec!["x".into()],
                correction_days: None,
            },
            Actor::Clerk,
            "2026-03-02",
        );
        assert_eq!(c15.correction_due, Some(d("2026-03-23")));
        // 作废 needs reasons and staff.
        let mut void = c.clone();
        assert!(matches!(
            refused(
                &void,
                Command::Void {
                    reasons: " ".into()
                },
                Actor::Clerk,
                "2026-03-03"
            ),
            Refusal::Invalid(_)
        ));
        assert!(matches!(
            refused(
                &void,
                Command::Void {
                    reasons: "重复录入".into()
                },
                Actor::Applicant,
                "2026-03-03"
            ),
            Refusal::NotPermitted(_)
        ));
        run(
            &mut void,
            Command::Void {
                reasons: "重复录入".into(),
            },
            Actor::Clerk,
            "2026-03-03",
        );
        assert_eq!(
            (void.status, void.outcome),
            (Status::Void, Some(Outcome::Void))
        );
        // 撤件 is an outcome too.
        let mut w = c.clone();
        run(
            &mut w,
            Command::Withdraw {
                reason: "不再需要".into(),
            },
            Actor::Applicant,
            "2026-03-03",
        );
        assert_eq!(
            (w.status, w.outcome),
            (Status::Withdrawn, Some(Outcome::Withdrawn))
        );
    }

    #[test]
    fn an_immediate_item_may_be_refused_on_the_spot() {
        // 《行政许可法》第三十四条第二款 and 第三十八条第二款: 当场作出书面的不予许可决定.
        let mut l = limits(0, 0);
        l.immediate = true;
        let mut c = new_case(l, Delivery::Window, "2026-03-02");
        let cal = WorkCalendar::builtin();
        assert!(c
            .available(Actor::Clerk, d("2026-03-02"), &cal)
            .contains(&CaseAction::Refuse));
        assert!(matches!(
            refused(
                &c,
                Command::Refuse { reasons: "".into() },
                Actor::Clerk,
                "2026-03-02"
            ),
            Refusal::Invalid(_)
        ));
        assert!(matches!(
            refused(
                &c,
                Command::Refuse {
                    reasons: "x".into()
                },
                Actor::Applicant,
                "2026-03-02"
            ),
            Refusal::NotPermitted(_)
        ));
        let ev = run(
            &mut c,
            Command::Refuse {
                reasons: "不符合法定条件".into(),
            },
            Actor::Clerk,
            "2026-03-02",
        );
        assert_eq!(
            ev.iter().map(Event::kind).collect::<Vec<_>>(),
            vec!["accepted", "completed"]
        );
        assert!(matches!(&ev[1], Event::Completed { rights, .. } if rights.contains("六个月")));
        assert_eq!(c.outcome, Some(Outcome::Refused));
        // A promised item is not refused at pre-review.
        let p = new_case(limits(5, 20), Delivery::Window, "2026-03-02");
        assert!(matches!(
            refused(
                &p,
                Command::Refuse {
                    reasons: "x".into()
                },
                Actor::Clerk,
                "2026-03-02"
            ),
            Refusal::WrongState { .. }
        ));
    }

    #[test]
    fn stored_events_from_before_still_read() {
        for json in [
            r#"{"kind":"completed","outcome":"refused","reasons":"x","on":"2026-03-02"}"#,
            r#"{"kind":"special_started","procedure":"检验","reason":"x","on":"2026-03-02"}"#,
            r#"{"kind":"extended","days":3,"reason":"x","promised_due":"2026-03-05","legal_due":"2026-03-05"}"#,
            r#"{"kind":"correction_requested","items":["x"],"notice_due":"2026-03-05"}"#,
            r#"{"kind":"accepted","on":"2026-03-02","promised_due":"2026-03-05","legal_due":"2026-03-05"}"#,
        ] {
            let e: Event = serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
            // And what is written again reads the same.
            let again: Event = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
            assert_eq!(e, again);
        }
    }
}
