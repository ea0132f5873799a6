//! Electronic supervision (电子监察): the rules every case is watched against. Timer rules
//! are evaluated on the working-day calendar with the clock stopped exactly as the legal
//! clock is; event rules are judged when the event happens.

use crate::calendar::{CalendarError, WorkCalendar};
use crate::case::{Case, Event, Outcome, Status, DELIVERY_DAYS};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    YellowCard,
    RedCard,
    LegalBreach,
    StepOverdue,
    LateCorrectionNotice,
    RefusalWithoutReasons,
    IrregularFee,
    OutOfOrder,
    NotHandledOnline,
    RepeatedCorrectionNotice,
    SpecialOverrun,
    DeliveryOverdue,
    LateCompletion,
}

impl Rule {
    pub const ALL: &'static [Rule] = &[
        Rule::YellowCard,
        Rule::RedCard,
        Rule::LegalBreach,
        Rule::StepOverdue,
        Rule::LateCorrectionNotice,
        Rule::RefusalWithoutReasons,
        Rule::IrregularFee,
        Rule::OutOfOrder,
        Rule::NotHandledOnline,
        Rule::RepeatedCorrectionNotice,
        Rule::SpecialOverrun,
        Rule::DeliveryOverdue,
        Rule::LateCompletion,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Rule::YellowCard => "yellow_card",
            Rule::RedCard => "red_card",
            Rule::LegalBreach => "legal_breach",
            Rule::StepOverdue => "step_overdue",
            Rule::LateCorrectionNotice => "late_correction_notice",
            Rule::RefusalWithoutReasons => "refusal_without_reasons",
            Rule::IrregularFee => "irregular_fee",
            Rule::OutOfOrder => "out_of_order",
            Rule::NotHandledOnline => "not_handled_online",
            Rule::RepeatedCorrectionNotice => "repeated_correction_notice",
            Rule::SpecialOverrun => "special_overrun",
            Rule::DeliveryOverdue => "delivery_overdue",
            Rule::LateCompletion => "late_completion",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Rule::YellowCard => "黄牌预警（临近承诺期限）",
            Rule::RedCard => "红牌（超过承诺期限）",
            Rule::LegalBreach => "超过法定期限",
            Rule::StepOverdue => "环节超时",
            Rule::LateCorrectionNotice => "补正告知超期",
            Rule::RefusalWithoutReasons => "无理由不予受理/不予批准",
            Rule::IrregularFee => "违规收费",
            Rule::OutOfOrder => "未按受理顺序办理",
            Rule::NotHandledOnline => "全程网办事项被要求到现场",
            Rule::RepeatedCorrectionNotice => "多次补正告知（未一次性告知）",
            Rule::SpecialOverrun => "特别程序超过告知时长",
            Rule::DeliveryOverdue => "准予许可后未按期送达",
            Rule::LateCompletion => "超期办结",
        }
    }
    pub fn parse(s: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.code() == s)
    }
    pub fn severity(self) -> Severity {
        match self {
            Rule::YellowCard | Rule::NotHandledOnline => Severity::Warning,
            Rule::StepOverdue | Rule::LateCorrectionNotice | Rule::OutOfOrder => Severity::Serious,
            Rule::RedCard | Rule::RefusalWithoutReasons | Rule::IrregularFee => Severity::Serious,
            Rule::RepeatedCorrectionNotice | Rule::SpecialOverrun | Rule::DeliveryOverdue => {
                Severity::Serious
            }
            Rule::LegalBreach | Rule::LateCompletion => Severity::Critical,
        }
    }
    /// Timer rules end when their cause ends (the case is decided, the deadline moves);
    /// event rules stay until a supervisor closes them. A missed correction-notice window
    /// is a fact that no later action undoes (the case then counts as accepted on the
    /// receipt day), so it stays on record like an event rule though the timer finds it.
    pub fn is_timer(self) -> bool {
        matches!(
            self,
            Rule::YellowCard
                | Rule::RedCard
                | Rule::LegalBreach
                | Rule::StepOverdue
                | Rule::SpecialOverrun
                | Rule::DeliveryOverdue
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    Serious,
    Critical,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Warning => "预警",
            Severity::Serious => "严重",
            Severity::Critical => "特别严重",
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Serious => "serious",
            Severity::Critical => "critical",
        }
    }
}

/// Thresholds are configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Yellow card when this many working days or fewer remain …
    pub yellow_remaining_days: i64,
    /// … or when this share of the promised limit is used.
    pub yellow_used_percent: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            yellow_remaining_days: 2,
            yellow_used_percent: 80,
        }
    }
}

/// A rule that holds for a case; `cause` tells occurrences apart (e.g. which step), so
/// each occurrence is raised exactly once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: Rule,
    pub cause: String,
    pub detail: String,
}

impl Finding {
    fn new(rule: Rule, cause: impl Into<String>, detail: impl Into<String>) -> Self {
        Finding {
            rule,
            cause: cause.into(),
            detail: detail.into(),
        }
    }
}

/// The timer rules that hold for `case` on `today`.
pub fn timer_findings(
    case: &Case,
    today: NaiveDate,
    cal: &WorkCalendar,
    t: &Thresholds,
) -> Result<Vec<Finding>, CalendarError> {
    let mut out = Vec::new();
    match case.status {
        Status::Submitted => {
            // 《行政许可法》第三十二条第一款第四项: no notice within 5 working days — the case
            // counts as accepted on the receipt day and its clock runs from there.
            let due = case.correction_notice_due(cal)?;
            if today > due {
                out.push(Finding::new(
                    Rule::LateCorrectionNotice,
                    format!("notice:{}", case.received_on),
                    format!(
                        "材料于 {} 收到，未在 {due} 前一次性告知补正；依法自收到材料之日起即为受理",
                        case.received_on
                    ),
                ));
                let (promised, legal) = case.dues(cal, case.received_on, 0, 0)?;
                if today > promised {
                    out.push(Finding::new(
                        Rule::RedCard,
                        "promised",
                        format!("视为受理，已超过承诺期限 {promised}"),
                    ));
                }
                if today > legal {
                    out.push(Finding::new(
                        Rule::LegalBreach,
                        "legal",
                        format!("视为受理，已超过法定期限 {legal}"),
                    ));
                }
            }
        }
        // 《行政许可法》第四十四条: issue and deliver within 10 working days of the decision.
        Status::Completed if case.outcome == Some(Outcome::Approved) => {
            if let Some(done) = case.completed_on {
                let due = cal.add_working_days(done, DELIVERY_DAYS)?;
                if today > due {
                    out.push(Finding::new(
                        Rule::DeliveryOverdue,
                        format!("delivery:{done}"),
                        format!("{done} 作出准予许可决定，应在 {due} 前颁发、送达"),
                    ));
                }
            }
        }
        Status::InApproval | Status::Suspended => {
            // While a special procedure runs the clock is stopped at its first day.
            let clock_day = case
                .special
                .as_ref()
                .map(|(_, since)| *since)
                .unwrap_or(today);
            if let Some(remaining) = case.remaining_working_days(today, cal)? {
                let total = i64::from(case.limits.promised + case.extension_days).max(1);
                let used_percent = (total - remaining).max(0) * 100 / total;
                if remaining < 0 {
                    out.push(Finding::new(
                        Rule::RedCard,
                        "promised",
                        format!("已超过承诺期限 {} 个工作日", -remaining),
                    ));
                } else if remaining <= t.yellow_remaining_days
                    || used_percent >= i64::from(t.yellow_used_percent)
                {
                    out.push(Finding::new(
                        Rule::YellowCard,
                        "promised",
                        format!("距承诺期限还剩 {remaining} 个工作日（已用 {used_percent}%）"),
                    ));
                }
                if let Some(legal) = case.legal_due {
                    if clock_day > legal {
                        out.push(Finding::new(
                            Rule::LegalBreach,
                            "legal",
                            format!("已超过法定期限 {legal}"),
                        ));
                    }
                }
                // 《行政许可法》第四十五条: a procedure running past the length told to the
                // applicant is on record.
                if let (Some((kind, since)), Some(end)) = (&case.special, case.special_expected_end)
                {
                    if today > end {
                        out.push(Finding::new(
                            Rule::SpecialOverrun,
                            format!("special:{since}"),
                            format!("{kind}于 {since} 开始，告知申请人预计 {end} 前结束，已超期"),
                        ));
                    }
                }
                if let (Some(step), Some(started)) = (case.current_step(), case.step_started_on) {
                    if let Some(limit) = step.effective_limit() {
                        let step_due = cal.add_working_days(started, limit)?;
                        if clock_day > step_due && remaining >= 0 {
                            out.push(Finding::new(
                                Rule::StepOverdue,
                                format!("step:{}:{started}", case.step),
                                format!("「{}」环节应在 {step_due} 前完成", step.name),
                            ));
                        }
                    }
                }
            }
        }
        _ => {}
    }
    Ok(out)
}

/// The first day after `today` on which the timer findings differ from today's; the
/// supervision worker looks at the case again then (and not before).
pub fn next_check(
    case: &Case,
    today: NaiveDate,
    cal: &WorkCalendar,
    t: &Thresholds,
) -> Result<Option<NaiveDate>, CalendarError> {
    // The correction deadline: looked at the day after it passes (补正逾期).
    if case.status == Status::AwaitingCorrection {
        return Ok(case
            .correction_due
            .map(|d| (d + chrono::Duration::days(1)).max(today + chrono::Duration::days(1))));
    }
    let awaiting_delivery =
        case.status == Status::Completed && case.outcome == Some(Outcome::Approved);
    if !case.status.is_open() && !awaiting_delivery {
        return Ok(None);
    }
    // Only which rules hold matters, not their changing details.
    let keys = |f: &[Finding]| {
        f.iter()
            .map(|f| (f.rule, f.cause.clone()))
            .collect::<Vec<_>>()
    };
    let now = keys(&timer_findings(case, today, cal, t)?);
    let horizon = if awaiting_delivery {
        today
    } else {
        case.legal_due.or(case.promised_due).unwrap_or(today)
    }
    .max(case.special_expected_end.unwrap_or(today))
    .max(today)
        + chrono::Duration::days(40);
    let mut d = today;
    while d < horizon {
        d = d.succ_opt().expect("date in range");
        match timer_findings(case, d, cal, t) {
            Ok(f) if keys(&f) != now => return Ok(Some(d)),
            Ok(_) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// What the event rules need to know beyond the case itself.
#[derive(Debug, Clone, Default)]
pub struct EventContext {
    /// The item is 全程网办 (depth level 四级).
    pub item_fully_online: bool,
    pub item_charged: bool,
    /// Amounts (fen) named in the item's 收费标准.
    pub fee_amounts_fen: Vec<u64>,
    /// Cases of the same item at the same department accepted earlier and still undecided.
    pub earlier_open_cases: usize,
    /// Today, for the late-notice check.
    pub today: Option<NaiveDate>,
}

/// Rules judged when events happen.
pub fn event_findings(
    before: &Case,
    events: &[Event],
    ctx: &EventContext,
    cal: &WorkCalendar,
) -> Vec<Finding> {
    let _ = cal;
    let mut out = Vec::new();
    for e in events {
        match e {
            Event::Submitted { channel, .. }
                if ctx.item_fully_online && *channel == crate::case::Channel::Window =>
            {
                out.push(Finding::new(
                    Rule::NotHandledOnline,
                    "submitted",
                    "全程网办事项在窗口收件，申请人被要求到现场",
                ));
            }
            // 一次告知: the first notice must list everything; another notice (allowed only
            // after a new submission) is on record.
            // 《行政许可法》第三十二条第一款第四项: 一次告知申请人需要补正的全部内容.
            Event::CorrectionRequested { .. } if before.corrections >= 1 => {
                out.push(Finding::new(
                    Rule::RepeatedCorrectionNotice,
                    format!("notice:{}:{}", before.received_on, before.corrections + 1),
                    format!(
                        "第 {} 次补正告知：补正告知应一次性列明需要补正的全部内容",
                        before.corrections + 1
                    ),
                ));
            }
            // 超期办结: decided after the legal due date — a permanent record.
            Event::Completed { on, .. } if before.legal_due.is_some_and(|legal| *on > legal) => {
                out.push(Finding::new(
                    Rule::LateCompletion,
                    "completed",
                    format!(
                        "{on} 办结，超过法定期限 {}",
                        before.legal_due.unwrap_or(*on)
                    ),
                ));
                if ctx.earlier_open_cases > 0 {
                    out.push(out_of_order(ctx.earlier_open_cases));
                }
            }
            Event::FeeCharged { amount_fen, .. } => {
                let irregular = !ctx.item_charged
                    || (!ctx.fee_amounts_fen.is_empty()
                        && !ctx.fee_amounts_fen.contains(amount_fen));
                if irregular {
                    let detail = if ctx.item_charged {
                        format!(
                            "收费 {}.{:02} 元与收费标准不符",
                            amount_fen / 100,
                            amount_fen % 100
                        )
                    } else {
                        format!(
                            "不收费事项收取了 {}.{:02} 元",
                            amount_fen / 100,
                            amount_fen % 100
                        )
                    };
                    out.push(Finding::new(
                        Rule::IrregularFee,
                        format!("fee:{}", before.version),
                        detail,
                    ));
                }
            }
            Event::Completed { .. } if ctx.earlier_open_cases > 0 => {
                out.push(out_of_order(ctx.earlier_open_cases));
            }
            _ => {}
        }
    }
    out
}

fn out_of_order(earlier: usize) -> Finding {
    Finding::new(
        Rule::OutOfOrder,
        "decided",
        format!("先于 {earlier} 件更早受理的同事项办件作出决定"),
    )
}

/// Amounts in yuan named in a 收费标准 text (e.g. "每件10元，加急20元" → 1000, 2000 fen).
pub fn parse_fee_amounts(standard: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let chars: Vec<char> = standard.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if chars.get(i) == Some(&'元') {
                let n: String = chars[start..i].iter().collect();
                if let Ok(v) = n.parse::<f64>() {
                    out.push((v * 100.0).round() as u64);
                }
            }
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::TimeUnit;
    use crate::case::{default_steps, Actor, Channel, Command, Delivery, Limits};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn accepted(on: &str, promised: u32, legal: u32) -> Case {
        let cal = WorkCalendar::builtin();
        let first = Event::Submitted {
            channel: Channel::Online,
            delivery: Delivery::Electronic,
            materials: vec![],
            received_on: d(on),
            steps: default_steps(),
            limits: Limits {
                immediate: false,
                promised,
                promised_unit: TimeUnit::WorkingDays,
                legal,
                legal_unit: TimeUnit::WorkingDays,
                joint: false,
                extension_cap: None,
            },
            details: Default::default(),
        };
        let mut c = Case::open(&first).unwrap();
        for e in c
            .decide(&Command::Accept, Actor::Clerk, d(on), &cal)
            .unwrap()
        {
            c.apply(&e);
        }
        c
    }

    fn rules(c: &Case, on: &str) -> Vec<Rule> {
        timer_findings(c, d(on), &WorkCalendar::builtin(), &Thresholds::default())
            .unwrap()
            .into_iter()
            .map(|f| f.rule)
            .collect()
    }

    #[test]
    fn yellow_then_red_then_legal_across_the_2026_spring_festival() {
        // Accepted Fri 13 Feb 2026, promised 5 → due Fri 27 Feb; legal 8 → due Tue 3 Mar
        // (Sat 14 and Sat 28 Feb are make-up working days).
        let c = accepted("2026-02-13", 5, 8);
        assert_eq!(c.promised_due, Some(d("2026-02-27")));
        assert!(
            rules(&c, "2026-02-14").is_empty(),
            "Sat 14 Feb is a make-up working day: 4 left, 20% used"
        );
        // Through the holiday nothing changes: 15–23 Feb are not working days.
        assert!(rules(&c, "2026-02-23").is_empty());
        // Tue 24 Feb: 3 left (60% used) — not yet; Wed 25 Feb: 2 left → yellow.
        assert!(rules(&c, "2026-02-24").is_empty());
        assert_eq!(rules(&c, "2026-02-25"), vec![Rule::YellowCard]);
        assert_eq!(rules(&c, "2026-02-27"), vec![Rule::YellowCard]);
        // Sat 28 Feb is a make-up working day: overdue by one.
        assert_eq!(rules(&c, "2026-02-28"), vec![Rule::RedCard]);
        assert_eq!(c.legal_due, Some(d("2026-03-03")));
        assert_eq!(rules(&c, "2026-03-03"), vec![Rule::RedCard]);
        assert_eq!(
            rules(&c, "2026-03-04"),
            vec![Rule::RedCard, Rule::LegalBreach]
        );
        let next = next_check(
            &c,
            d("2026-02-13"),
            &WorkCalendar::builtin(),
            &Thresholds::default(),
        )
        .unwrap();
        assert_eq!(next, Some(d("2026-02-25")));
        assert_eq!(
            next_check(
                &c,
                d("2026-02-25"),
                &WorkCalendar::builtin(),
                &Thresholds::default()
            )
            .unwrap(),
            Some(d("2026-02-28"))
        );
    }

    #[test]
    fn national_day_and_the_stopped_clock() {
        let cal = WorkCalendar::builtin();
        // Accepted Wed 30 Sep 2026 with 3 working days → due Sat 10 Oct (make-up day).
        let c = accepted("2026-09-30", 3, 20);
        // 1–7 Oct are holidays: on 8 Oct 2 days remain (9 and Sat 10 Oct) → yellow; not before.
        assert!(rules(&c, "2026-09-30").is_empty());
        assert!(rules(&c, "2026-10-07").is_empty());
        assert_eq!(rules(&c, "2026-10-08"), vec![Rule::YellowCard]);
        assert_eq!(
            rules(&c, "2026-10-11"),
            vec![Rule::YellowCard],
            "Sun 11 Oct is a rest day: still due 10 Oct, 0 left"
        );
        assert_eq!(rules(&c, "2026-10-12"), vec![Rule::RedCard]);
        let c2 = accepted("2026-09-29", 5, 20);
        assert!(rules(&c2, "2026-09-30").is_empty());
        assert!(rules(&c2, "2026-10-07").is_empty());
        // Special procedure from 9 Oct: while it runs, nothing advances.
        let mut c3 = accepted("2026-09-29", 5, 20);
        for e in c3
            .decide(
                &Command::StartSpecial {
                    procedure: "检测".into(),
                    reason: "送检".into(),
                    expected_days: 30,
                },
                Actor::Approver,
                d("2026-10-08"),
                &cal,
            )
            .unwrap()
        {
            c3.apply(&e);
        }
        let frozen = rules(&c3, "2026-10-08");
        // 30 working days from Thu 8 Oct 2026 (Sat 10 Oct a make-up day): Wed 18 Nov.
        assert_eq!(c3.special_expected_end, Some(d("2026-11-18")));
        assert_eq!(
            rules(&c3, "2026-11-18"),
            frozen,
            "the clock is stopped during 特别程序"
        );
        // 《行政许可法》第四十五条: running past the length told to the applicant is on record,
        // while the legal clock stays stopped.
        assert_eq!(rules(&c3, "2026-11-19"), vec![Rule::SpecialOverrun]);
        assert!(Rule::SpecialOverrun.is_timer());
        assert_eq!(
            next_check(&c3, d("2026-10-08"), &cal, &Thresholds::default()).unwrap(),
            Some(d("2026-11-19"))
        );
    }

    #[test]
    fn late_correction_notice_and_auto_resolution_on_decision() {
        let cal = WorkCalendar::builtin();
        let first = Event::Submitted {
            channel: Channel::Online,
            delivery: Delivery::Electronic,
            materials: vec![],
            received_on: d("2026-02-12"),
            steps: default_steps(),
            limits: Limits {
                immediate: false,
                promised: 5,
                promised_unit: TimeUnit::WorkingDays,
                legal: 20,
                legal_unit: TimeUnit::WorkingDays,
                joint: false,
                extension_cap: None,
            },
            details: Default::default(),
        };
        let c = Case::open(&first).unwrap();
        // Received Thu 12 Feb: notice due 5 working days later = Thu 26 Feb
        // (13, Sat 14, 24, 25, 26 — the Spring Festival in between).
        assert!(rules(&c, "2026-02-26").is_empty());
        // 《行政许可法》第三十二条第一款第四项: the window has passed — the case counts as
        // accepted on Thu 12 Feb, so its promised 5 days ended Thu 26 Feb (red on the 27th).
        assert_eq!(
            rules(&c, "2026-02-27"),
            vec![Rule::LateCorrectionNotice, Rule::RedCard]
        );
        // Legal 20 working days from 12 Feb (Sat 14 and 28 Feb make-up days): 18 Mar.
        assert!(!rules(&c, "2026-03-18").contains(&Rule::LegalBreach));
        assert!(rules(&c, "2026-03-19").contains(&Rule::LegalBreach));
        // A late notice can no longer be sent, and the record does not lapse by itself.
        assert!(c
            .decide(
                &Command::RequestCorrection {
                    items: vec!["补充材料".into()],
                    correction_days: None,
                },
                Actor::Clerk,
                d("2026-02-27"),
                &cal,
            )
            .is_err());
        assert!(!Rule::LateCorrectionNotice.is_timer());
        // Decided cases have no timer findings left.
        let mut done = accepted("2026-02-13", 5, 8);
        for cmd in [
            Command::Pass {
                opinion: String::new(),
            },
            Command::Pass {
                opinion: String::new(),
            },
        ] {
            for e in done
                .decide(&cmd, Actor::Approver, d("2026-03-02"), &cal)
                .unwrap()
            {
                done.apply(&e);
            }
        }
        for e in done
            .decide(
                &Command::Pass {
                    opinion: String::new(),
                },
                Actor::Head,
                d("2026-03-05"),
                &cal,
            )
            .unwrap()
        {
            done.apply(&e);
        }
        assert_eq!(done.status, Status::Completed);
        assert!(rules(&done, "2026-03-05").is_empty());
    }

    #[test]
    fn event_rules() {
        let cal = WorkCalendar::builtin();
        let c = accepted("2026-03-02", 5, 20);
        let fee = |amount: u64, ctx: &EventContext| {
            event_findings(
                &c,
                &[Event::FeeCharged {
                    amount_fen: amount,
                    note: String::new(),
                }],
                ctx,
                &cal,
            )
        };
        assert_eq!(
            fee(1000, &EventContext::default())[0].rule,
            Rule::IrregularFee,
            "a fee on a free item"
        );
        let charged = EventContext {
            item_charged: true,
            fee_amounts_fen: parse_fee_amounts("每件10元，加急20.5元"),
            ..Default::default()
        };
        assert!(fee(1000, &charged).is_empty());
        assert!(fee(2050, &charged).is_empty());
        assert_eq!(fee(3000, &charged).len(), 1);
        let ooo = EventContext {
            earlier_open_cases: 2,
            ..Default::default()
        };
        let completed = Event::Completed {
            outcome: crate::case::Outcome::Approved,
            reasons: String::new(),
            on: d("2026-03-03"),
            rights: String::new(),
        };
        assert_eq!(
            event_findings(&c, std::slice::from_ref(&completed), &ooo, &cal)[0].rule,
            Rule::OutOfOrder
        );
        assert!(event_findings(&c, &[completed], &EventContext::default(), &cal).is_empty());
        assert_eq!(parse_fee_amounts("不收费"), Vec::<u64>::new());
    }

    fn act(c: &mut Case, cmd: Command, actor: Actor, on: &str) -> Vec<Event> {
        let ev = c
            .decide(&cmd, actor, d(on), &WorkCalendar::builtin())
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        for e in &ev {
            c.apply(e);
        }
        ev
    }

    #[test]
    fn a_second_correction_notice_is_on_record() {
        // 《行政许可法》第三十二条第一款第四项: 一次告知申请人需要补正的全部内容.
        let cal = WorkCalendar::builtin();
        let mut c = accepted("2026-03-02", 5, 20);
        c.status = Status::Submitted; // a case still in pre-review
        let notice = || Command::RequestCorrection {
            items: vec!["补充材料".into()],
            correction_days: None,
        };
        let ctx = EventContext::default();
        let before = c.clone();
        let first = act(&mut c, notice(), Actor::Clerk, "2026-03-02");
        assert!(event_findings(&before, &first, &ctx, &cal).is_empty());
        act(
            &mut c,
            Command::SubmitCorrection {
                materials: vec![crate::case::MaterialRef {
                    name: "x".into(),
                    sha256: None,
                    file_name: None,
                    licence_id: None,
                    trust: None,
                }],
            },
            Actor::Applicant,
            "2026-03-03",
        );
        let before = c.clone();
        let second = act(&mut c, notice(), Actor::Clerk, "2026-03-03");
        let f = event_findings(&before, &second, &ctx, &cal);
        assert_eq!(
            f.iter().map(|f| f.rule).collect::<Vec<_>>(),
            vec![Rule::RepeatedCorrectionNotice]
        );
        assert!(!Rule::RepeatedCorrectionNotice.is_timer());
    }

    #[test]
    fn delivery_within_ten_working_days_and_late_completion_on_record() {
        // 《行政许可法》第四十四条: 自作出决定之日起十日内颁发、送达行政许可证件.
        let cal = WorkCalendar::builtin();
        // Accepted Mon 2 Mar, legal 3 → due Thu 5 Mar; decided Fri 6 Mar: 超期办结.
        let mut c = accepted("2026-03-02", 3, 3);
        let pass = || Command::Pass {
            opinion: String::new(),
        };
        act(&mut c, pass(), Actor::Approver, "2026-03-03");
        act(&mut c, pass(), Actor::Approver, "2026-03-04");
        let before = c.clone();
        let done = act(&mut c, pass(), Actor::Head, "2026-03-06");
        let f = event_findings(&before, &done, &EventContext::default(), &cal);
        assert_eq!(
            f.iter().map(|f| f.rule).collect::<Vec<_>>(),
            vec![Rule::LateCompletion]
        );
        assert!(
            !Rule::LateCompletion.is_timer(),
            "超期办结 is never resolved by itself"
        );
        // Decided Fri 6 Mar: delivery due Fri 20 Mar; on Mon 23 Mar it is overdue.
        assert!(rules(&c, "2026-03-20").is_empty());
        assert_eq!(rules(&c, "2026-03-23"), vec![Rule::DeliveryOverdue]);
        assert_eq!(
            next_check(&c, d("2026-03-06"), &cal, &Thresholds::default()).unwrap(),
            Some(d("2026-03-21"))
        );
        // Delivered: nothing holds, nothing to look at.
        act(
            &mut c,
            Command::RegisterDelivery {
                waybill: String::new(),
            },
            Actor::Clerk,
            "2026-03-23",
        );
        assert!(rules(&c, "2026-03-23").is_empty());
        assert_eq!(
            next_check(&c, d("2026-03-23"), &cal, &Thresholds::default()).unwrap(),
            None
        );
    }
}
