//! Written notices (文书) of a case, derived from its ledger events alone: what the
//! 《中华人民共和国行政许可法》 requires the agency to tell the applicant in writing.
//!
//! - 受理通知书 (Art. 32(1)(5); deemed acceptance Art. 32(1)(4))
//! - 不予受理决定书 (Art. 32(1)(1)(2), with the category, the competent agency where named,
//!   reasons and the applicant's rights, Art. 38(2) by analogy as the notice must state them)
//! - 补正材料通知书 (Art. 32(1)(4): everything to correct, at once, with the deadline)
//! - 准予行政许可决定书 (Art. 38(1)), 不予行政许可决定书 (Art. 38(2): reasons and rights);
//!   for a 即办件 decided on the spot also Art. 34
//! - 延期通知书 (Art. 42: extension, its reason, told to the applicant)
//! - 特别程序告知书 (Art. 45: kind and expected length, told in writing)
//!
//! The notices are a pure function of the events, so a notice renders to the same PDF bytes
//! every time it is asked for; the platform signs those bytes (a detached signature, see
//! [`signed_payload`] and ADR 0009).
//!
//! Numbering (文号), deterministic: `{short}〔{year}〕{code}字第{case_no}-{n}号` where
//! `short` is the first four characters of the agency name without a leading 「市」, `year`
//! the notice's (Beijing) year, `code` the kind's code (受, 不受, 补, 准, 不准, 延, 特), and
//! `n` the notice's position (1, 2, …) among the case's notices in ledger order — so a
//! notice's number never changes once the notice exists.

use crate::case::{Event, NotAcceptCategory, Outcome};
use crate::licence::pdf;
use crate::licence::proof::{self, ProofError};
use crate::licence::vc::{proof_options, PublishedKey};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const LAW: &str = "《中华人民共和国行政许可法》";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// 受理通知书
    Acceptance,
    /// 不予受理决定书
    NonAcceptance,
    /// 补正材料通知书
    Correction,
    /// 准予行政许可决定书
    Approval,
    /// 不予行政许可决定书
    Refusal,
    /// 延期通知书
    Extension,
    /// 特别程序告知书
    SpecialProcedure,
}

impl NoticeKind {
    pub fn title(self) -> &'static str {
        match self {
            NoticeKind::Acceptance => "受理通知书",
            NoticeKind::NonAcceptance => "不予受理决定书",
            NoticeKind::Correction => "补正材料通知书",
            NoticeKind::Approval => "准予行政许可决定书",
            NoticeKind::Refusal => "不予行政许可决定书",
            NoticeKind::Extension => "延期通知书",
            NoticeKind::SpecialProcedure => "特别程序告知书",
        }
    }

    /// The code in the document number.
    pub fn code(self) -> &'static str {
        match self {
            NoticeKind::Acceptance => "受",
            NoticeKind::NonAcceptance => "不受",
            NoticeKind::Correction => "补",
            NoticeKind::Approval => "准",
            NoticeKind::Refusal => "不准",
            NoticeKind::Extension => "延",
            NoticeKind::SpecialProcedure => "特",
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            NoticeKind::Acceptance => "acceptance",
            NoticeKind::NonAcceptance => "non_acceptance",
            NoticeKind::Correction => "correction",
            NoticeKind::Approval => "approval",
            NoticeKind::Refusal => "refusal",
            NoticeKind::Extension => "extension",
            NoticeKind::SpecialProcedure => "special_procedure",
        }
    }

    /// The article the notice rests on.
    pub fn basis(self) -> String {
        let article = match self {
            NoticeKind::Acceptance | NoticeKind::NonAcceptance | NoticeKind::Correction => {
                "第三十二条"
            }
            NoticeKind::Approval | NoticeKind::Refusal => "第三十八条",
            NoticeKind::Extension => "第四十二条",
            NoticeKind::SpecialProcedure => "第四十五条",
        };
        format!("{LAW}{article}")
    }
}

/// What the notices say about the case besides its events.
#[derive(Debug, Clone)]
pub struct CaseFacts<'a> {
    pub case_no: &'a str,
    /// The case's department: the agency that issues the notice.
    pub agency: &'a str,
    pub applicant: &'a str,
    pub item: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// Position among the case's notices, from 1.
    pub n: u32,
    pub kind: NoticeKind,
    pub title: &'static str,
    pub number: String,
    /// The day (Beijing time) of the event the notice records.
    pub date: NaiveDate,
    pub agency: String,
    pub applicant: String,
    pub item: String,
    pub case_no: String,
    /// Paragraphs of the body.
    pub body: Vec<String>,
    pub basis: String,
    /// The applicant's remedies, where the law requires them (不予受理, 不予许可).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rights: Option<String>,
}

/// The Beijing (UTC+8) day of an instant: the date a notice bears.
pub fn beijing_day(at: DateTime<Utc>) -> NaiveDate {
    let tz = FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    at.with_timezone(&tz).date_naive()
}

/// The agency's short name in document numbers.
pub fn agency_short(agency: &str) -> String {
    let name = agency.strip_prefix('市').unwrap_or(agency);
    name.chars().take(4).collect()
}

pub fn number(agency: &str, year: i32, kind: NoticeKind, case_no: &str, n: u32) -> String {
    format!(
        "{}〔{year}〕{}字第{case_no}-{n}号",
        agency_short(agency),
        kind.code()
    )
}

/// A date as written in a document: 2026年3月2日.
pub fn chinese_date(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

fn rights_or_default(rights: &str) -> String {
    if rights.trim().is_empty() {
        crate::messages::remedy_rights()
    } else {
        rights.to_string()
    }
}

/// The notices of a case: `events` are its ledger events in order, each with the Beijing
/// day it was recorded.
pub fn notices(facts: &CaseFacts<'_>, events: &[(NaiveDate, Event)]) -> Vec<Notice> {
    let mut out: Vec<Notice> = Vec::new();
    let mut received: Option<NaiveDate> = None;
    // A 即办件 is decided on the spot (Art. 34).
    let mut immediate = false;
    let to = facts.applicant;
    let item = facts.item;
    for (day, event) in events {
        let (kind, body, rights): (NoticeKind, Vec<String>, Option<String>) = match event {
            Event::Submitted {
                received_on,
                limits,
                ..
            } => {
                received = Some(*received_on);
                immediate = limits.immediate;
                continue;
            }
            Event::CorrectionSubmitted { received_on, .. } => {
                received = Some(*received_on);
                continue;
            }
            Event::Accepted {
                on,
                legal_due,
                deemed,
                ..
            } => {
                let got = chinese_date(received.unwrap_or(*on));
                let mut body = vec![format!("{to}：")];
                if *deemed {
                    body.push(format!(
                        "你（单位）于{got}提出的「{item}」申请，本机关未在五日内一次性告知需要补正的全部内容，依照{LAW}第三十二条第一款第四项的规定，自收到申请材料之日起即为受理。"
                    ));
                } else {
                    body.push(format!(
                        "你（单位）于{got}提出的「{item}」申请，申请材料齐全、符合法定形式，依照{LAW}第三十二条第一款第五项的规定，本机关决定予以受理，受理日期为{}。",
                        chinese_date(*on)
                    ));
                }
                body.push(format!(
                    "本机关将于{}前作出行政许可决定（期限按工作日计算，法定节假日除外）。",
                    chinese_date(*legal_due)
                ));
                (NoticeKind::Acceptance, body, None)
            }
            Event::NotAccepted {
                reasons,
                category,
                competent_agency,
                rights,
            } => {
                let mut body = vec![
                    format!("{to}："),
                    format!(
                        "你（单位）于{}提出的「{item}」申请，经审查，本机关决定不予受理。",
                        received.map(chinese_date).unwrap_or_default()
                    ),
                ];
                let category = category.unwrap_or(NotAcceptCategory::Other);
                body.push(format!("不予受理类别：{}。", category.label()));
                if let Some(a) = competent_agency.as_deref().filter(|a| !a.trim().is_empty()) {
                    body.push(format!(
                        "该申请事项依法不属于本机关职权范围，请向{a}申请（{LAW}第三十二条第一款第二项）。"
                    ));
                }
                body.push(format!("理由：{reasons}"));
                (
                    NoticeKind::NonAcceptance,
                    body,
                    Some(rights_or_default(rights)),
                )
            }
            Event::CorrectionRequested {
                items,
                correction_due,
                ..
            } => {
                let mut body = vec![
                    format!("{to}："),
                    format!(
                        "你（单位）于{}提出的「{item}」申请，申请材料不齐全或者不符合法定形式。依照{LAW}第三十二条第一款第四项的规定，现一次性告知需要补正的全部内容：",
                        received.map(chinese_date).unwrap_or_default()
                    ),
                ];
                for (i, it) in items.iter().enumerate() {
                    body.push(format!("{}. {it}", i + 1));
                }
                body.push(match correction_due {
                    Some(d) => format!(
                        "请于{}前提交补正材料；逾期未补正的，本次申请按补正逾期办结。补正材料齐全后本机关予以受理。",
                        chinese_date(*d)
                    ),
                    None => "请按上述要求提交补正材料；补正材料齐全后本机关予以受理。".into(),
                });
                (NoticeKind::Correction, body, None)
            }
            Event::Completed {
                outcome: Outcome::Approved,
                reasons,
                ..
            } => {
                let mut body = vec![
                    format!("{to}："),
                    format!(
                        "你（单位）提出的「{item}」申请，经审查，符合法定条件、标准，依照{LAW}第三十八条第一款的规定，本机关决定准予行政许可。"
                    ),
                ];
                if !reasons.trim().is_empty() {
                    body.push(format!("审查意见：{reasons}"));
                }
                (NoticeKind::Approval, body, None)
            }
            Event::Completed {
                outcome: Outcome::Refused,
                reasons,
                rights,
                ..
            } => (
                NoticeKind::Refusal,
                vec![
                    format!("{to}："),
                    format!(
                        "你（单位）提出的「{item}」申请，经审查，不符合法定条件、标准，依照{LAW}第三十八条第二款的规定，本机关决定不予行政许可。"
                    ),
                    format!("理由：{reasons}"),
                ],
                Some(rights_or_default(rights)),
            ),
            Event::Extended {
                days,
                reason,
                legal_due,
                approved_by_government,
                ..
            } => {
                let by = if *approved_by_government {
                    "本级人民政府负责人"
                } else {
                    "本机关负责人"
                };
                (
                    NoticeKind::Extension,
                    vec![
                        format!("{to}："),
                        format!(
                            "你（单位）提出的「{item}」申请，因{reason}，不能在法定期限内作出决定。依照{LAW}第四十二条的规定，经{by}批准，审查期限延长{days}个工作日，延长后的期限至{}。",
                            chinese_date(*legal_due)
                        ),
                    ],
                    None,
                )
            }
            Event::SpecialStarted {
                procedure,
                reason,
                expected_days,
                expected_end,
                ..
            } => {
                let mut body = vec![
                    format!("{to}："),
                    format!(
                        "你（单位）提出的「{item}」申请，需要进行{procedure}（{reason}）。依照{LAW}第四十五条的规定，{procedure}所需时间不计算在行政许可期限内。"
                    ),
                ];
                if let Some(n) = expected_days {
                    body.push(format!(
                        "预计所需时间为{n}个工作日{}。",
                        expected_end
                            .map(|d| format!("（至{}）", chinese_date(d)))
                            .unwrap_or_default()
                    ));
                }
                (NoticeKind::SpecialProcedure, body, None)
            }
            _ => continue,
        };
        let basis = if immediate && matches!(kind, NoticeKind::Approval | NoticeKind::Refusal) {
            format!("{LAW}第三十四条、第三十八条")
        } else {
            kind.basis()
        };
        let n = out.len() as u32 + 1;
        out.push(Notice {
            n,
            kind,
            title: kind.title(),
            number: number(facts.agency, day.year(), kind, facts.case_no, n),
            date: *day,
            agency: facts.agency.to_string(),
            applicant: facts.applicant.to_string(),
            item: facts.item.to_string(),
            case_no: facts.case_no.to_string(),
            body,
            basis,
            rights,
        });
    }
    out
}

/// The notice as a one-page PDF (deterministic: the same notice, the same bytes).
pub fn render_pdf(n: &Notice) -> Vec<u8> {
    let mut paragraphs = n.body.clone();
    if let Some(r) = &n.rights {
        paragraphs.push(String::new());
        paragraphs.push(r.clone());
    }
    paragraphs.push(String::new());
    paragraphs.push(format!("办件编号：{}", n.case_no));
    paragraphs.push(format!("法律依据：{}", n.basis));
    let date = chinese_date(n.date);
    pdf::render_document(&pdf::Document {
        title: n.title,
        number: &n.number,
        paragraphs,
        agency: &n.agency,
        date: &date,
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What the platform signs for a notice: the PDF's SHA-256 and the notice's particulars.
pub fn signed_payload(n: &Notice, pdf: &[u8]) -> Value {
    json!({
        "document_sha256": sha256_hex(pdf),
        "notice": {
            "number": n.number,
            "kind": n.kind.slug(),
            "title": n.title,
            "case_no": n.case_no,
            "agency": n.agency,
            "date": n.date.to_string(),
        },
    })
}

/// The detached signature file (`notice.json`): the payload and a proof per issuer key,
/// Ed25519 (`eddsa-jcs-2022`) and SM2 over SM3, over the payload's canonical JSON — the
/// licence issuer keys' constructions. `ed`/`sm2` are (key, verificationMethod).
pub fn sign(
    payload: &Value,
    ed: (&ed25519_dalek::SigningKey, &str),
    sm2: (&[u8; 32], &str),
    created: &str,
) -> Result<Value, ProofError> {
    let p1 = proof::sign_eddsa(
        payload,
        &proof_options(proof::EDDSA_JCS_2022, ed.1, created),
        ed.0,
    )?;
    let p2 = proof::sign_sm2(
        payload,
        &proof_options(proof::SM2_SM3_JCS, sm2.1, created),
        sm2.0,
    )?;
    let mut signed = payload.clone();
    signed["proofs"] = json!([p1, p2]);
    Ok(signed)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

/// Verifies a document against its signature file with the published keys: the SHA-256 of
/// the bytes, both signatures, and that each key was in force when it signed.
pub fn verify(document: &[u8], signature: &Value, keys: &[PublishedKey]) -> Vec<Check> {
    let mut checks = Vec::new();
    let want = signature
        .get("document_sha256")
        .and_then(Value::as_str)
        .unwrap_or("");
    let have = sha256_hex(document);
    checks.push(Check {
        name: "document_sha256",
        ok: want == have,
        detail: if want == have {
            have
        } else {
            format!("文件摘要 {have} 与签名文件 {want} 不符")
        },
    });
    let mut payload = signature.clone();
    if let Some(o) = payload.as_object_mut() {
        o.remove("proofs");
    }
    let proofs: Vec<Value> = signature
        .get("proofs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (suite, name) in [
        (proof::EDDSA_JCS_2022, "signature_eddsa"),
        (proof::SM2_SM3_JCS, "signature_sm2"),
    ] {
        let Some(p) = proofs
            .iter()
            .find(|p| p.get("cryptosuite").and_then(Value::as_str) == Some(suite))
        else {
            checks.push(Check {
                name,
                ok: false,
                detail: "缺少该签名".into(),
            });
            continue;
        };
        let method = p
            .get("verificationMethod")
            .and_then(Value::as_str)
            .unwrap_or("");
        let key_id = method.rsplit('#').next().unwrap_or("");
        let Some(key) = keys.iter().find(|k| k.id == key_id) else {
            checks.push(Check {
                name,
                ok: false,
                detail: format!("未知的签名密钥 {key_id}"),
            });
            continue;
        };
        let result = match suite {
            proof::EDDSA_JCS_2022 => proof::ed25519_from_multikey(&key.public_key)
                .and_then(|pk| proof::verify_eddsa(&payload, p, &pk)),
            _ => hex::decode(&key.public_key)
                .map_err(|e| ProofError::Malformed(e.to_string()))
                .and_then(|pk| proof::verify_sm2(&payload, p, &pk)),
        };
        let created = p.get("created").and_then(Value::as_str).unwrap_or("");
        let in_force = !created.is_empty()
            && created >= key.valid_from.as_str()
            && key.valid_until.as_deref().is_none_or(|u| created < u);
        checks.push(match (result, in_force) {
            (Ok(()), true) => Check {
                name,
                ok: true,
                detail: format!("密钥 {key_id}，签署于 {created}"),
            },
            (Ok(()), false) => Check {
                name,
                ok: false,
                detail: format!(
                    "密钥 {key_id} 有效期 {} 至 {}，签署于 {created}",
                    key.valid_from,
                    key.valid_until.as_deref().unwrap_or("今")
                ),
            },
            (Err(e), _) => Check {
                name,
                ok: false,
                detail: e.to_string(),
            },
        });
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::TimeUnit;
    use crate::case::{Channel, Delivery, Limits};

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    const FACTS: CaseFacts<'static> = CaseFacts {
        case_no: "43130020260302000001",
        agency: "市市场监督管理局",
        applicant: "张三",
        item: "食品经营许可证核发",
    };

    fn submitted() -> (NaiveDate, Event) {
        (
            d(3, 2),
            Event::Submitted {
                channel: Channel::Online,
                delivery: Delivery::Electronic,
                materials: vec![],
                received_on: d(3, 2),
                steps: vec![],
                limits: Limits {
                    immediate: false,
                    promised: 10,
                    promised_unit: TimeUnit::WorkingDays,
                    legal: 20,
                    legal_unit: TimeUnit::WorkingDays,
                    joint: false,
                    extension_cap: None,
                },
                details: Default::default(),
            },
        )
    }

    fn one(events: Vec<(NaiveDate, Event)>) -> Notice {
        let mut all = vec![submitted()];
        all.extend(events);
        let mut n = notices(&FACTS, &all);
        assert_eq!(n.len(), 1, "{n:?}");
        n.remove(0)
    }

    fn text(n: &Notice) -> String {
        let mut s = n.body.join("\n");
        if let Some(r) = &n.rights {
            s.push_str(r);
        }
        s
    }

    // 《行政许可法》第三十二条第一款第五项: 受理 in writing, dated, with the agency's seal.
    #[test]
    fn acceptance_notice() {
        let n = one(vec![(
            d(3, 3),
            Event::Accepted {
                on: d(3, 3),
                promised_due: d(3, 17),
                legal_due: d(3, 31),
                deemed: false,
            },
        )]);
        assert_eq!(n.kind, NoticeKind::Acceptance);
        assert_eq!(n.title, "受理通知书");
        assert_eq!(n.number, "市场监督〔2026〕受字第43130020260302000001-1号");
        assert_eq!(n.date, d(3, 3));
        assert_eq!(n.agency, "市市场监督管理局");
        assert!(n.basis.contains("第三十二条"));
        assert!(n.rights.is_none());
        let t = text(&n);
        assert!(t.starts_with("张三："), "{t}");
        assert!(
            t.contains("2026年3月2日提出的「食品经营许可证核发」申请"),
            "{t}"
        );
        assert!(t.contains("2026年3月31日前作出行政许可决定"), "{t}");
    }

    // 第三十二条第一款第四项: no notice within five days, accepted on receipt.
    #[test]
    fn deemed_acceptance_says_so() {
        let n = one(vec![(
            d(3, 10),
            Event::Accepted {
                on: d(3, 2),
                promised_due: d(3, 17),
                legal_due: d(3, 30),
                deemed: true,
            },
        )]);
        assert!(text(&n).contains("自收到申请材料之日起即为受理"));
        assert_eq!(n.date, d(3, 10));
    }

    // 第三十二条第一款第二项: not this agency's power — the competent agency is named,
    // and (第三十八条第二款) the rights are told.
    #[test]
    fn non_acceptance_names_category_agency_reasons_and_rights() {
        let n = one(vec![(
            d(3, 3),
            Event::NotAccepted {
                reasons: "该事项由区级部门办理".into(),
                category: Some(NotAcceptCategory::NotThisAgency),
                competent_agency: Some("娄星区市场监督管理局".into()),
                rights: String::new(),
            },
        )]);
        assert_eq!(n.kind, NoticeKind::NonAcceptance);
        let t = text(&n);
        assert!(t.contains("不予受理类别：不属于本机关职权范围"), "{t}");
        assert!(t.contains("请向娄星区市场监督管理局申请"), "{t}");
        assert!(t.contains("理由：该事项由区级部门办理"), "{t}");
        assert_eq!(n.rights, Some(crate::messages::remedy_rights()));
        assert!(n.number.contains("不受字第"));
    }

    // 第三十二条第一款第四项: everything to correct in one notice, with the deadline.
    #[test]
    fn correction_notice_lists_every_item_and_the_deadline() {
        let n = one(vec![(
            d(3, 4),
            Event::CorrectionRequested {
                items: vec!["营业执照副本不清晰".into(), "补充经营场所平面图".into()],
                notice_due: d(3, 9),
                correction_due: Some(d(3, 25)),
            },
        )]);
        assert_eq!(n.kind, NoticeKind::Correction);
        assert!(n.body.contains(&"1. 营业执照副本不清晰".to_string()));
        assert!(n.body.contains(&"2. 补充经营场所平面图".to_string()));
        assert!(text(&n).contains("请于2026年3月25日前提交补正材料"));
        assert!(n.rights.is_none());
    }

    // 第三十八条: a written decision; a refusal gives reasons and the rights.
    #[test]
    fn approval_and_refusal_decisions() {
        let approved = one(vec![(
            d(3, 20),
            Event::Completed {
                outcome: Outcome::Approved,
                reasons: "符合条件".into(),
                on: d(3, 20),
                rights: String::new(),
            },
        )]);
        assert_eq!(approved.title, "准予行政许可决定书");
        assert!(text(&approved).contains("决定准予行政许可"));
        assert!(approved.rights.is_none());
        let refused = one(vec![(
            d(3, 20),
            Event::Completed {
                outcome: Outcome::Refused,
                reasons: "经营场所不符合食品安全要求".into(),
                on: d(3, 20),
                rights: "自定的权利告知".into(),
            },
        )]);
        assert_eq!(refused.title, "不予行政许可决定书");
        assert!(refused.basis.ends_with("第三十八条"));
        assert!(text(&refused).contains("理由：经营场所不符合食品安全要求"));
        assert_eq!(refused.rights.as_deref(), Some("自定的权利告知"));
        // 第三十四条: a 即办件 decided on the spot cites it too.
        let (day, mut sub) = submitted();
        if let Event::Submitted { limits, .. } = &mut sub {
            limits.immediate = true;
        }
        let on_the_spot = notices(
            &FACTS,
            &[
                (day, sub),
                (
                    d(3, 2),
                    Event::Completed {
                        outcome: Outcome::Refused,
                        reasons: "不符合条件".into(),
                        on: d(3, 2),
                        rights: String::new(),
                    },
                ),
            ],
        );
        assert!(on_the_spot[0].basis.ends_with("第三十四条、第三十八条"));
        assert_eq!(
            on_the_spot[0].rights,
            Some(crate::messages::remedy_rights())
        );
        // Other endings have no decision notice.
        let none = notices(
            &FACTS,
            &[
                submitted(),
                (
                    d(3, 5),
                    Event::Withdrawn {
                        reason: "不办了".into(),
                    },
                ),
            ],
        );
        assert!(none.is_empty());
    }

    // 第四十二条: extension with reason and new limit; joint processing by the government.
    #[test]
    fn extension_notice() {
        let n = one(vec![(
            d(3, 20),
            Event::Extended {
                days: 10,
                reason: "情况复杂".into(),
                promised_due: d(4, 1),
                legal_due: d(4, 14),
                approved_by_government: false,
            },
        )]);
        assert_eq!(n.kind, NoticeKind::Extension);
        let t = text(&n);
        assert!(
            t.contains("因情况复杂") && t.contains("经本机关负责人批准"),
            "{t}"
        );
        assert!(
            t.contains("延长10个工作日，延长后的期限至2026年4月14日"),
            "{t}"
        );
        assert!(n.basis.ends_with("第四十二条"));
    }

    // 第四十五条: the kind and the expected length, in writing.
    #[test]
    fn special_procedure_notice() {
        let n = one(vec![(
            d(3, 6),
            Event::SpecialStarted {
                procedure: "检验".into(),
                reason: "送样检验".into(),
                on: d(3, 6),
                expected_days: Some(20),
                expected_end: Some(d(4, 3)),
            },
        )]);
        assert_eq!(n.kind, NoticeKind::SpecialProcedure);
        let t = text(&n);
        assert!(t.contains("需要进行检验（送样检验）"), "{t}");
        assert!(
            t.contains("预计所需时间为20个工作日（至2026年4月3日）"),
            "{t}"
        );
        assert!(n.basis.ends_with("第四十五条"));
    }

    #[test]
    fn numbers_follow_ledger_order_and_the_pdf_is_deterministic() {
        let all = vec![
            submitted(),
            (
                d(3, 4),
                Event::CorrectionRequested {
                    items: vec!["身份证明".into()],
                    notice_due: d(3, 9),
                    correction_due: Some(d(3, 25)),
                },
            ),
            (
                d(3, 5),
                Event::CorrectionSubmitted {
                    materials: vec![],
                    received_on: d(3, 5),
                    outstanding: vec![],
                },
            ),
            (
                d(3, 6),
                Event::Accepted {
                    on: d(3, 6),
                    promised_due: d(3, 20),
                    legal_due: d(4, 3),
                    deemed: false,
                },
            ),
        ];
        let ns = notices(&FACTS, &all);
        assert_eq!(
            ns.iter().map(|n| (n.n, n.kind)).collect::<Vec<_>>(),
            vec![(1, NoticeKind::Correction), (2, NoticeKind::Acceptance)]
        );
        // Accepted after correction: the receipt date is the correction's.
        assert!(text(&ns[1]).contains("2026年3月5日提出"));
        assert!(ns[1].number.ends_with("-2号"));
        let a = render_pdf(&ns[1]);
        assert_eq!(a, render_pdf(&ns[1]));
        assert!(a.starts_with(b"%PDF-1.7"));
        // The seal: a red stroke colour and the agency name (UCS-2 of 市 = 5E02).
        let s = String::from_utf8_lossy(&a);
        assert!(s.contains("0.85 0.1 0.1 RG") && s.contains("<5E02>"));
    }

    #[test]
    fn signatures_verify_and_catch_a_changed_byte() {
        let n = one(vec![(
            d(3, 3),
            Event::Accepted {
                on: d(3, 3),
                promised_due: d(3, 17),
                legal_due: d(3, 31),
                deemed: false,
            },
        )]);
        let pdf = render_pdf(&n);
        let ed = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let sm = [9u8; 32];
        let keys = vec![
            PublishedKey {
                id: "ed-1".into(),
                algorithm: "Ed25519".into(),
                public_key: proof::ed25519_multikey(&ed.verifying_key().to_bytes()),
                valid_from: "2026-01-01T00:00:00Z".into(),
                valid_until: None,
            },
            PublishedKey {
                id: "sm2-1".into(),
                algorithm: "SM2".into(),
                public_key: hex::encode(proof::sm2_public(&sm).unwrap()),
                valid_from: "2026-01-01T00:00:00Z".into(),
                valid_until: None,
            },
        ];
        let sig = sign(
            &signed_payload(&n, &pdf),
            (&ed, "https://x/keys#ed-1"),
            (&sm, "https://x/keys#sm2-1"),
            "2026-03-03T01:00:00Z",
        )
        .unwrap();
        let checks = verify(&pdf, &sig, &keys);
        assert!(checks.iter().all(|c| c.ok), "{checks:?}");
        assert_eq!(checks.len(), 3);
        let mut bad = pdf.clone();
        let at = bad.len() / 2;
        bad[at] ^= 1;
        let checks = verify(&bad, &sig, &keys);
        assert_eq!(
            checks
                .iter()
                .filter(|c| !c.ok)
                .map(|c| c.name)
                .collect::<Vec<_>>(),
            vec!["document_sha256"]
        );
        // Changing the signed particulars breaks both signatures.
        let mut forged = sig.clone();
        forged["notice"]["agency"] = "别的机关".into();
        let checks = verify(&pdf, &forged, &keys);
        assert_eq!(checks.iter().filter(|c| !c.ok).count(), 2);
        // A key signing outside its validity fails.
        let mut retired = keys.clone();
        retired[0].valid_until = Some("2026-02-01T00:00:00Z".into());
        assert!(!verify(&pdf, &sig, &retired)[1].ok);
    }
}
