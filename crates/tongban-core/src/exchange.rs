//! The 政务信息共享交换 rules, pure: members and their public documents, signed messages
//! (a request and a response bound to it by the request's hash), the replay window, the
//! resource catalog's metadata (GB/T 21063 core) and sharing classes, and the clock of a
//! conditional request (answered within 10 working days).
//!
//! The signed-message layer ([`sign_message`], [`verify_message`]) knows nothing of the
//! exchange itself, so the province link can carry its own messages over it.

use crate::ids::Uscc;
use crate::licence::proof::{self, ProofError};
use crate::licence::vc::proof_options;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// How far a request's timestamp may be from the receiver's clock.
pub const REPLAY_WINDOW_SECONDS: i64 = 300;
/// A conditional request is answered within this many working days (国发〔2016〕51号).
pub const ANSWER_WORKING_DAYS: u32 = 10;

/// A member's identifier: a 6-digit 行政区划代码 or an 18-character 统一社会信用代码.
pub fn parse_member_code(input: &str) -> Result<String, String> {
    let s = input.trim();
    if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0') {
        return Ok(s.to_string());
    }
    Uscc::parse(s)
        .map(|u| u.as_str().to_string())
        .map_err(|_| format!("成员代码应为6位行政区划代码或18位统一社会信用代码：{s}"))
}

/// A subsystem (a department) of a member: a short code of letters, digits, '-' and '_'.
pub fn parse_subsystem(input: &str) -> Result<String, String> {
    let s = input.trim();
    if s.is_empty()
        || s.chars().count() > 64
        || !s
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!("子系统代码不合规：{s}"));
    }
    Ok(s.to_string())
}

/// One public key of a member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberKey {
    pub id: String,
    /// `Ed25519` (Multikey) or `SM2` (SEC1 hex).
    pub algorithm: String,
    pub public_key: String,
}

/// The public document of a member: what a peer registers to trust it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberDocument {
    pub code: String,
    pub name: String,
    /// Where the member's exchange listens (`http://host:port`).
    #[serde(default)]
    pub endpoint: String,
    pub keys: Vec<MemberKey>,
}

impl MemberDocument {
    /// Checks a document received from outside.
    pub fn validate(&self) -> Result<(), String> {
        parse_member_code(&self.code)?;
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            return Err("成员名称必填，且不超过100字".into());
        }
        if self.endpoint.len() > 300
            || !(self.endpoint.is_empty()
                || self.endpoint.starts_with("http://")
                || self.endpoint.starts_with("https://"))
        {
            return Err("成员地址应为 http(s):// 开头".into());
        }
        let has = |alg: &str| self.keys.iter().any(|k| k.algorithm == alg);
        if !has("Ed25519") || !has("SM2") || self.keys.len() > 16 {
            return Err("成员文件须含 Ed25519 与 SM2 公钥".into());
        }
        Ok(())
    }

    fn key(&self, id: &str, algorithm: &str) -> Option<&MemberKey> {
        self.keys
            .iter()
            .find(|k| k.id == id && k.algorithm == algorithm)
    }
}

/// The verification method of a member's key, as written into proofs.
pub fn verification_method(member: &str, key_id: &str) -> String {
    format!("member:{member}#{key_id}")
}

/// Signs `payload` (a JSON object) with both member keys: `proofs` holds an Ed25519 and an
/// SM2 proof over the payload's canonical JSON.
pub fn sign_message(
    payload: &Value,
    member: &str,
    ed: (&str, &ed25519_dalek::SigningKey),
    sm2: (&str, &[u8; 32]),
    created: &str,
) -> Result<Value, ProofError> {
    let p1 = proof::sign_eddsa(
        payload,
        &proof_options(
            proof::EDDSA_JCS_2022,
            &verification_method(member, ed.0),
            created,
        ),
        ed.1,
    )?;
    let p2 = proof::sign_sm2(
        payload,
        &proof_options(
            proof::SM2_SM3_JCS,
            &verification_method(member, sm2.0),
            created,
        ),
        sm2.1,
    )?;
    let mut signed = payload.clone();
    signed["proofs"] = serde_json::json!([p1, p2]);
    Ok(signed)
}

/// The payload of a signed message (without its proofs).
pub fn payload_of(signed: &Value) -> Value {
    let mut p = signed.clone();
    if let Some(o) = p.as_object_mut() {
        o.remove("proofs");
    }
    p
}

/// Verifies both proofs of a signed message against the signer's member document: each
/// proof must name a key of that member and verify. A message with one proof, or signed by
/// another member's key, fails.
pub fn verify_message(signed: &Value, signer: &MemberDocument) -> Result<(), String> {
    let proofs = signed
        .get("proofs")
        .and_then(Value::as_array)
        .ok_or("消息未签名")?;
    let payload = payload_of(signed);
    let mut suites = Vec::new();
    for p in proofs {
        let method = p
            .get("verificationMethod")
            .and_then(Value::as_str)
            .unwrap_or("");
        let prefix = format!("member:{}#", signer.code);
        let key_id = method.strip_prefix(&prefix).ok_or("签名密钥不属于该成员")?;
        match p.get("cryptosuite").and_then(Value::as_str) {
            Some(proof::EDDSA_JCS_2022) => {
                let k = signer.key(key_id, "Ed25519").ok_or("未登记的签名密钥")?;
                let public =
                    proof::ed25519_from_multikey(&k.public_key).map_err(|e| e.to_string())?;
                proof::verify_eddsa(&payload, p, &public).map_err(|_| "Ed25519 签名无效")?;
                suites.push("Ed25519");
            }
            Some(proof::SM2_SM3_JCS) => {
                let k = signer.key(key_id, "SM2").ok_or("未登记的签名密钥")?;
                let public = hex::decode(&k.public_key).map_err(|e| e.to_string())?;
                proof::verify_sm2(&payload, p, &public).map_err(|_| "SM2 签名无效")?;
                suites.push("SM2");
            }
            _ => return Err("不支持的签名算法".into()),
        }
    }
    if !(suites.contains(&"Ed25519") && suites.contains(&"SM2")) {
        return Err("消息须同时带 Ed25519 与 SM2 签名".into());
    }
    Ok(())
}

/// The hash a response carries to bind it to its request: SHA-256 over the canonical JSON
/// of the whole signed request (proofs included), hex.
pub fn message_hash(signed: &Value) -> String {
    let canon = crate::licence::jcs::canonicalize(signed).unwrap_or_else(|_| signed.to_string());
    hex::encode(Sha256::digest(canon.as_bytes()))
}

/// Who takes part in a call: a member and one of its subsystems.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub member: String,
    pub subsystem: String,
}

/// A data call: who asks, whom, for what service, for which case and on what ground.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRequest {
    pub request_id: String,
    pub timestamp: String,
    pub client: Party,
    pub provider: Party,
    /// The resource (service) code.
    pub service: String,
    /// The 办件编号 the call is for.
    pub case_no: String,
    /// The item (实施编码) the case is for: the provider logs it.
    pub impl_code: String,
    /// The legal basis or the applicant's consent.
    pub legal_basis: String,
    pub purpose: String,
    /// Whose data (身份证号 or 统一社会信用代码).
    pub subject: String,
    /// The officer who asks (display name), shown to the applicant.
    pub officer: String,
}

impl CallRequest {
    /// Bounds and shapes of a request, checked before anything else.
    pub fn validate(&self) -> Result<(), String> {
        if self.request_id.is_empty()
            || self.request_id.len() > 64
            || !self
                .request_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err("请求编号不合规".into());
        }
        parse_member_code(&self.client.member)?;
        parse_member_code(&self.provider.member)?;
        parse_subsystem(&self.client.subsystem)?;
        if self.case_no.trim().is_empty() {
            return Err("请求须写明办件编号".into());
        }
        if self.legal_basis.trim().is_empty() {
            return Err("请求须写明法律依据或申请人授权".into());
        }
        for (name, v, max) in [
            ("服务", &self.service, 64),
            ("办件编号", &self.case_no, 64),
            ("事项", &self.impl_code, 64),
            ("法律依据", &self.legal_basis, 500),
            ("用途", &self.purpose, 500),
            ("数据主体", &self.subject, 32),
            ("经办人", &self.officer, 64),
        ] {
            if v.chars().count() > max {
                return Err(format!("{name}过长"));
            }
        }
        Ok(())
    }
}

/// Is a request's timestamp inside the replay window around `now`?
pub fn within_window(timestamp: &str, now: DateTime<Utc>) -> bool {
    DateTime::parse_from_rfc3339(timestamp)
        .map(|t| (now - t.with_timezone(&Utc)).num_seconds().abs() <= REPLAY_WINDOW_SECONDS)
        .unwrap_or(false)
}

/// The sharing class of a resource (共享属性).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SharingClass {
    Unconditional,
    Conditional,
    NotShared,
}

impl SharingClass {
    /// The name in the catalog and the API.
    pub fn code(self) -> &'static str {
        match self {
            SharingClass::Unconditional => "无条件",
            SharingClass::Conditional => "有条件",
            SharingClass::NotShared => "不予",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            SharingClass::Unconditional => "无条件共享",
            SharingClass::Conditional => "有条件共享",
            SharingClass::NotShared => "不予共享",
        }
    }
    pub fn parse(s: &str) -> Result<SharingClass, String> {
        match s.trim() {
            "无条件" | "无条件共享" | "unconditional" => Ok(SharingClass::Unconditional),
            "有条件" | "有条件共享" | "conditional" => Ok(SharingClass::Conditional),
            "不予" | "不予共享" | "not_shared" => Ok(SharingClass::NotShared),
            other => Err(format!("共享类型应为 无条件/有条件/不予：{other}")),
        }
    }
}

/// One 信息项 of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    #[serde(default)]
    pub kind: String,
}

/// A catalog entry with the GB/T 21063 core metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub code: String,
    pub name: String,
    /// 提供方 (a department of the member).
    pub provider: String,
    /// 提供方代码: the department's subsystem code.
    pub provider_code: String,
    #[serde(default)]
    pub summary: String,
    pub fields: Vec<Field>,
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub update_cycle: String,
    pub published_on: NaiveDate,
    pub sharing_class: SharingClass,
    /// The legal basis of a conditional or refused class.
    #[serde(default)]
    pub basis: String,
}

impl Resource {
    pub fn validate(&self) -> Result<(), String> {
        if self.code.is_empty()
            || self.code.len() > 64
            || !self
                .code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '/' || c == '.')
        {
            return Err("资源代码必填，由字母、数字、-、/、. 组成，不超过64位".into());
        }
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            return Err("资源名称必填，且不超过100字".into());
        }
        if self.provider.trim().is_empty() || self.provider.chars().count() > 100 {
            return Err("提供方必填".into());
        }
        parse_subsystem(&self.provider_code)?;
        if self.fields.is_empty() || self.fields.len() > 200 {
            return Err("信息项至少1项，至多200项".into());
        }
        if self
            .fields
            .iter()
            .any(|f| f.name.trim().is_empty() || f.name.chars().count() > 64 || f.kind.len() > 32)
        {
            return Err("信息项名称必填，且不超过64字".into());
        }
        for (name, v) in [
            ("摘要", &self.summary),
            ("格式", &self.format),
            ("更新周期", &self.update_cycle),
            ("依据", &self.basis),
        ] {
            if v.chars().count() > 500 {
                return Err(format!("{name}过长"));
            }
        }
        if self.sharing_class != SharingClass::Unconditional && self.basis.trim().is_empty() {
            return Err(format!(
                "{}须写明依据（国发〔2016〕51号）",
                self.sharing_class.label()
            ));
        }
        Ok(())
    }
}

/// How a conditional request stands on the supervision board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    Green,
    /// Due within the yellow threshold and not yet answered.
    Yellow,
    /// Past due and not answered, or answered after the due date.
    Red,
}

impl Light {
    pub fn code(self) -> &'static str {
        match self {
            Light::Green => "green",
            Light::Yellow => "yellow",
            Light::Red => "red",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Light::Green => "正常",
            Light::Yellow => "黄牌预警",
            Light::Red => "红牌超期",
        }
    }
}

/// The light of a conditional request due on `due`: `remaining` is the number of working
/// days from today to the due date (negative once past), `answered_late` whether an answer
/// came after it. Yellow when `yellow_days` or fewer remain, red once past.
pub fn request_light(answered: Option<bool>, remaining: i64, yellow_days: i64) -> Light {
    match answered {
        Some(true) => Light::Red,
        Some(false) => Light::Green,
        None if remaining < 0 => Light::Red,
        None if remaining <= yellow_days => Light::Yellow,
        None => Light::Green,
    }
}

/// Masks a subject identifier for screens: the first 3 and the last 2 characters.
pub fn mask_subject(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 5 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 5))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn member() -> (MemberDocument, ed25519_dalek::SigningKey, [u8; 32]) {
        let ed = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let sm = [9u8; 32];
        let doc = MemberDocument {
            code: "431300".into(),
            name: "娄星市".into(),
            endpoint: "http://127.0.0.1:1".into(),
            keys: vec![
                MemberKey {
                    id: "ed-1".into(),
                    algorithm: "Ed25519".into(),
                    public_key: proof::ed25519_multikey(&ed.verifying_key().to_bytes()),
                },
                MemberKey {
                    id: "sm-1".into(),
                    algorithm: "SM2".into(),
                    public_key: hex::encode(proof::sm2_public(&sm).unwrap()),
                },
            ],
        };
        (doc, ed, sm)
    }

    #[test]
    fn a_signed_message_verifies_and_a_changed_one_does_not() {
        let (doc, ed, sm) = member();
        doc.validate().unwrap();
        let payload = json!({"request_id": "r1", "case_no": "X"});
        let signed = sign_message(
            &payload,
            "431300",
            ("ed-1", &ed),
            ("sm-1", &sm),
            "2026-03-02T01:00:00Z",
        )
        .unwrap();
        verify_message(&signed, &doc).unwrap();
        let mut changed = signed.clone();
        changed["case_no"] = json!("Y");
        assert!(verify_message(&changed, &doc).is_err());
        // One proof only is not enough.
        let mut one = signed.clone();
        one["proofs"].as_array_mut().unwrap().pop();
        assert!(verify_message(&one, &doc).is_err());
        // Another member's document does not verify it.
        let other = MemberDocument {
            code: "430100".into(),
            ..doc.clone()
        };
        assert!(verify_message(&signed, &other).is_err());
        assert_ne!(message_hash(&signed), message_hash(&changed));
    }

    #[test]
    fn the_replay_window_is_five_minutes_either_way() {
        let now: DateTime<Utc> = "2026-03-02T01:00:00Z".parse().unwrap();
        assert!(within_window("2026-03-02T01:04:59Z", now));
        assert!(within_window("2026-03-02T00:55:00Z", now));
        assert!(!within_window("2026-03-02T00:54:59Z", now));
        assert!(!within_window("not a time", now));
    }

    #[test]
    fn conditional_and_refused_classes_need_a_basis() {
        let mut r = Resource {
            code: "RES-1".into(),
            name: "户籍信息".into(),
            provider: "市公安局".into(),
            provider_code: "gaj".into(),
            summary: String::new(),
            fields: vec![Field {
                name: "姓名".into(),
                kind: "string".into(),
            }],
            format: "JSON".into(),
            update_cycle: "实时".into(),
            published_on: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            sharing_class: SharingClass::Conditional,
            basis: String::new(),
        };
        assert!(r.validate().is_err());
        r.basis = "《居民身份证法》".into();
        r.validate().unwrap();
        r.sharing_class = SharingClass::Unconditional;
        r.basis.clear();
        r.validate().unwrap();
        assert_eq!(
            SharingClass::parse("有条件共享"),
            Ok(SharingClass::Conditional)
        );
        assert!(SharingClass::parse("随便").is_err());
    }

    #[test]
    fn a_late_request_turns_yellow_then_red() {
        assert_eq!(request_light(None, 5, 2), Light::Green);
        assert_eq!(request_light(None, 2, 2), Light::Yellow);
        assert_eq!(request_light(None, 0, 2), Light::Yellow);
        assert_eq!(request_light(None, -1, 2), Light::Red);
        assert_eq!(request_light(Some(true), 3, 2), Light::Red);
        assert_eq!(request_light(Some(false), -3, 2), Light::Green);
    }

    #[test]
    fn member_codes_are_region_codes_or_credit_codes() {
        assert!(parse_member_code("431300").is_ok());
        assert!(parse_member_code("031300").is_err());
        assert!(parse_member_code("4313").is_err());
        assert_eq!(mask_subject("430102199001011234"), "430*************34");
    }
}
