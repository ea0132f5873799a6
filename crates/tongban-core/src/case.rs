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
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Approved => "准予",
            Outcome::Refused => "不予批准",
        }
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
}

pub fn default_steps() -> Vec<Step> {
    vec![
        Step {
            name: "承办".into(),
            role: Actor::Approver,
            limit_days: None,
        },
        Step {
            name: "审核".into(),
            role: Actor::Approver,
            limit_days: None,
        },
        Step {
            name: "批准".into(),
            role: Actor::Head,
            limit_days: None,
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
    /// 联合办理/集中办理: the extension cap is 15 instead of 10 working days.
    pub joint: bool,
}

/// Art. 32: a correction notice is due within 5 working days of receiving the materials.
pub const CORRECTION_NOTICE_DAYS: u32 = 5;
/// Art. 42: extension caps in working days.
pub const EXTENSION_CAP: u32 = 10;
pub const EXTENSION_CAP_JOINT: u32 = 15;

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
    },
    CorrectionSubmitted {
        materials: Vec<MaterialRef>,
        received_on: NaiveDate,
    },
    Accepted {
        on: NaiveDate,
        promised_due: NaiveDate,
        legal_due: NaiveDate,
    },
    NotAccepted {
        reasons: String,
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
    },
    Withdrawn {
        reason: String,
    },
    DeliveryRegistered {
        method: String,
        waybill: String,
    },
    ReceiptConfirmed {},
    /// The working-day calendar changed (a year's holidays were published or corrected):
    /// the open case's due dates are counted again from its acceptance.
    DeadlinesRecomputed {
        promised_due: NaiveDate,
        legal_due: NaiveDate,
        /// The calendar years whose tables changed, e.g. [2027].
        years: Vec<i32>,
    },
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Submitted { .. } => "submitted",
            Event::CorrectionRequested { .. } => "correction_requested",
            Event::CorrectionSubmitted { .. } => "correction_submitted",
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
            Event::DeliveryRegistered { .. } => "delivery_registered",
            Event::ReceiptConfirmed {} => "receipt_confirmed",
            Event::DeadlinesRecomputed { .. } => "deadlines_recomputed",
        }
    }
    /// The name people read in a timeline.
    pub fn label(&self) -> &'static str {
        match self {
            Event::Submitted { .. } => "申办（收件）",
            Event::CorrectionRequested { .. } => "补正告知",
            Event::CorrectionSubmitted { .. } => "补正提交",
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
            Event::DeliveryRegistered { .. } => "送达登记",
            Event::ReceiptConfirmed {} => "申请人确认收到",
            Event::DeadlinesRecomputed { .. } => "按新公布的节假日安排重算期限",
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
    /// Fees taken, in fen.
    #[serde(default)]
    pub fees_fen: u64,
    /// Number of events applied: the optimistic-concurrency version.
    pub version: i64,
}

/// A command on an existing case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Command {
    RequestCorrection {
        items: Vec<String>,
    },
    SubmitCorrection {
        materials: Vec<MaterialRef>,
    },
    Accept,
    NotAccept {
        reasons: String,
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
    },
    EndSpecial {
        result: String,
    },
    Extend {
        days: u32,
        reason: String,
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
        CaseAction::Withdraw,
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
        }
    }
}

impl Command {
    pub fn action(&self) -> CaseAction {
        match self {
            Command::RequestCorrection { .. } => CaseAction::RequestCorrection,
            Command::SubmitCorrection { .. } => CaseAction::SubmitCorrection,
            Command::Accept => CaseAction::Accept,
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
            correction_notice_due: None,
            corrections: 0,
            special: None,
            paused_days: 0,
            extension_days: 0,
            outcome: None,
            waybill: None,
            step_started_on: None,
            completed_on: None,
            fees_fen: 0,
            version: 1,
        })
    }

    /// Folds events (after the first) into the state.
    pub fn apply(&mut self, e: &Event) {
        self.version += 1;
        match e {
            Event::Submitted { .. } => {}
            Event::CorrectionRequested { items, notice_due } => {
                self.status = Status::AwaitingCorrection;
                self.correction_items = items.clone();
                self.correction_notice_due = Some(*notice_due);
                self.corrections += 1;
            }
            Event::CorrectionSubmitted {
                materials,
                received_on,
            } => {
                self.status = Status::Submitted;
                self.materials.extend(materials.iter().cloned());
                self.received_on = *received_on;
                self.correction_items.clear();
            }
            Event::Accepted {
                on,
                promised_due,
                legal_due,
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
            | Event::LicenceStatusChanged { .. } => {}
            Event::SpecialStarted { procedure, on, .. } => {
                self.status = Status::Suspended;
                self.special = Some((procedure.clone(), *on));
            }
            Event::SpecialEnded {
                paused_days,
                promised_due,
                legal_due,
                ..
            } => {
                self.status = Status::InApproval;
                self.special = None;
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
            Event::Withdrawn { .. } => self.status = Status::Withdrawn,
            Event::DeliveryRegistered { waybill, .. } => {
                if matches!(self.delivery, Delivery::Post { .. }) {
                    self.status = Status::Dispatched;
                    self.waybill = Some(waybill.clone());
                } else {
                    self.status = Status::Delivered;
                }
            }
            Event::ReceiptConfirmed {} => self.status = Status::Delivered,
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
    fn dues(
        &self,
        cal: &WorkCalendar,
        accepted: NaiveDate,
        paused: u32,
        extension: u32,
    ) -> Result<(NaiveDate, NaiveDate), Refusal> {
        let l = &self.limits;
        let promised = cal.add(accepted, l.promised + paused + extension, l.promised_unit)?;
        let legal = cal.add(accepted, l.legal + paused + extension, l.legal_unit)?;
        Ok((promised, legal))
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
        let due = cal.add_working_days(self.received_on, CORRECTION_NOTICE_DAYS)?;
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
            A::RequestCorrection | A::NotAccept | A::RegisterDelivery | A::ChargeFee if !staff => {
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
            A::Pass | A::Return | A::Refuse if !staff => {
                return not_permitted(&format!("申请人不能{}", action.verb()))
            }
            _ => {}
        }
        // When: by the case's state.
        let in_state = match action {
            A::RequestCorrection | A::Accept | A::NotAccept => self.status == Status::Submitted,
            A::SubmitCorrection => self.status == Status::AwaitingCorrection,
            A::Pass | A::Return | A::Refuse | A::StartSpecial => self.status == Status::InApproval,
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
        if matches!(action, A::Pass | A::Return | A::Refuse) {
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
        }
        Ok(())
    }

    /// The actions `actor` may take now, in the order the case page shows them.
    pub fn available(&self, actor: Actor) -> Vec<CaseAction> {
        CaseAction::ALL
            .iter()
            .copied()
            .filter(|a| self.allowed(*a, actor).is_ok())
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
        self.allowed(cmd.action(), actor)?;
        match cmd {
            Command::RequestCorrection { items } => {
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
                let notice_due = cal.add_working_days(self.received_on, CORRECTION_NOTICE_DAYS)?;
                Ok(vec![Event::CorrectionRequested { items, notice_due }])
            }
            Command::SubmitCorrection { materials } => {
                if materials.is_empty() {
                    return Err(Refusal::Invalid("请提交补正材料".into()));
                }
                Ok(vec![Event::CorrectionSubmitted {
                    materials: materials.clone(),
                    received_on: today,
                }])
            }
            Command::Accept => {
                let (promised_due, legal_due) = self.dues(cal, today, 0, 0)?;
                let mut events = vec![Event::Accepted {
                    on: today,
                    promised_due,
                    legal_due,
                }];
                if self.limits.immediate {
                    events.push(Event::Completed {
                        outcome: Outcome::Approved,
                        reasons: "即办件当场办结".into(),
                        on: today,
                    });
                }
                Ok(events)
            }
            Command::NotAccept { reasons } => Ok(vec![Event::NotAccepted {
                reasons: required(reasons, "不予受理的理由")?,
            }]),
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
                    _ => Ok(vec![Event::Completed {
                        outcome: Outcome::Refused,
                        on: today,
                        reasons: required(opinion, "不予批准的理由")?,
                    }]),
                }
            }
            Command::StartSpecial { procedure, reason } => {
                if !SPECIAL_KINDS.contains(&procedure.trim()) {
                    return Err(Refusal::Invalid(format!(
                        "特别程序种类应为：{}",
                        SPECIAL_KINDS.join("、")
                    )));
                }
                Ok(vec![Event::SpecialStarted {
                    procedure: procedure.trim().into(),
                    reason: required(reason, "启动特别程序的理由")?,
                    on: today,
                }])
            }
            Command::EndSpecial { result } => {
                let Some((_, since)) = &self.special else {
                    return Err(wrong(self.status, "结束特别程序"));
                };
                let accepted = self
                    .accepted_on
                    .ok_or_else(|| Refusal::Invalid("尚未受理".into()))?;
                let paused_days = match self.limits.promised_unit {
                    TimeUnit::WorkingDays => cal.working_days_between(*since, today)?,
                    TimeUnit::NaturalDays => (today - *since).num_days().max(0) as u32,
                };
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
            Command::Extend { days, reason } => {
                let cap = if self.limits.joint {
                    EXTENSION_CAP_JOINT
                } else {
                    EXTENSION_CAP
                };
                if *days == 0 || self.extension_days + days > cap {
                    return Err(Refusal::Invalid(format!(
                        "延长期限累计不得超过{cap}个工作日（已延长{}个）",
                        self.extension_days
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
                    reasons: "  ".into()
                },
                Actor::Clerk
            ),
            Refusal::Invalid(_)
        ));
        assert!(matches!(
            refused(Command::RequestCorrection { items: vec![] }, Actor::Clerk),
            Refusal::Invalid(_)
        ));
        assert!(matches!(
            refused(
                Command::Extend {
                    days: 5,
                    reason: "x".into()
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
        assert!(matches!(
            c.decide(
                &Command::Refuse {
                    reasons: " ".into()
                },
                Actor::Approver,
                d("2026-03-04"),
                &cal
            ),
            Err(Refusal::Invalid(_))
        ));
        run(
            &mut c,
            Command::Refuse {
                reasons: "不符合法定条件".into(),
            },
            Actor::Approver,
            "2026-03-04",
        );
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
                    reason: "x".into()
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
            },
            Actor::Head,
            "2026-10-16",
        );
        assert!(matches!(
            c.decide(
                &Command::Extend {
                    days: 5,
                    reason: "x".into()
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
                    reason: "x".into()
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
}
