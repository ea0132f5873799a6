//! A licence as a W3C Verifiable Credential 2.0, and its verification with every check
//! named — usable online (by the platform) and fully offline (by anyone with the keys).

use super::id::LicenceId;
use super::proof::{self, ProofError};
use super::status::Bitstring;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The licence's catalogue fields (共享目录字段) and the type's own fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LicenceData {
    pub id: LicenceId,
    /// 证照名称
    pub name: String,
    /// 证照编号 (printed)
    pub number: String,
    pub type_name: String,
    pub holder_name: String,
    pub holder_code: String,
    /// 身份证号 or 统一社会信用代码
    pub holder_code_type: String,
    pub issuer_name: String,
    pub issued_on: String,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub region: String,
    pub fields: Map<String, Value>,
}

/// Where the verifier finds status lists and keys.
#[derive(Debug, Clone)]
pub struct Published {
    pub base_url: String,
    pub status_index: u64,
}

pub fn build(d: &LicenceData, p: &Published) -> Value {
    let mut subject = Map::new();
    subject.insert(
        "id".into(),
        json!(format!(
            "urn:cn:{}:{}",
            if d.holder_code_type == "统一社会信用代码" {
                "uscc"
            } else {
                "resident"
            },
            d.holder_code
        )),
    );
    subject.insert("holderName".into(), json!(d.holder_name));
    subject.insert("holderCode".into(), json!(d.holder_code));
    subject.insert("holderCodeType".into(), json!(d.holder_code_type));
    subject.insert("licenceNumber".into(), json!(d.number));
    subject.insert("licenceTypeCode".into(), json!(d.id.type_code));
    subject.insert("licenceTypeName".into(), json!(d.type_name));
    subject.insert("region".into(), json!(d.region));
    subject.insert("fields".into(), Value::Object(d.fields.clone()));
    let mut vc = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": format!("urn:oid:{}", d.id),
        "type": ["VerifiableCredential", "ElectronicLicenceCredential"],
        "name": d.name,
        "issuer": { "id": format!("urn:cn:uscc:{}", d.id.issuer), "name": d.issuer_name },
        "validFrom": valid_from_instant(&d.valid_from),
        "credentialSubject": subject,
        "credentialStatus": [
            status_entry(p, "revocation"),
            status_entry(p, "suspension"),
        ],
    });
    if let Some(until) = &d.valid_until {
        vc["validUntil"] = json!(valid_until_instant(until));
    }
    vc
}

/// A licence is valid from the start of its first day, Beijing time (UTC+8): the day
/// printed on it is a day in China, not in Greenwich.
pub fn valid_from_instant(day: &str) -> String {
    format!("{day}T00:00:00+08:00")
}

/// … and until the end of its last day, Beijing time.
pub fn valid_until_instant(day: &str) -> String {
    format!("{day}T23:59:59+08:00")
}

/// Compares two RFC 3339 instants by the moment they name (offsets differ: `now` is UTC,
/// validity is Beijing time); text that does not parse compares as text.
fn instant_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    match (
        chrono::DateTime::parse_from_rfc3339(a),
        chrono::DateTime::parse_from_rfc3339(b),
    ) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

fn status_entry(p: &Published, purpose: &str) -> Value {
    let list = format!("{}/api/v1/licences/status/{purpose}", p.base_url);
    json!({
        "id": format!("{list}#{}", p.status_index),
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": p.status_index.to_string(),
        "statusListCredential": list,
    })
}

pub fn proof_options(cryptosuite: &str, verification_method: &str, created: &str) -> Value {
    json!({
        "type": "DataIntegrityProof",
        "cryptosuite": cryptosuite,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    })
}

/// Signs with both algorithms; `proof` becomes an array (a proof set).
pub fn sign(
    vc: &Value,
    ed: (&ed25519_dalek::SigningKey, &str),
    sm2: (&[u8; 32], &str),
    created: &str,
) -> Result<Value, ProofError> {
    let p1 = proof::sign_eddsa(
        vc,
        &proof_options(proof::EDDSA_JCS_2022, ed.1, created),
        ed.0,
    )?;
    let p2 = proof::sign_sm2(
        vc,
        &proof_options(proof::SM2_SM3_JCS, sm2.1, created),
        sm2.0,
    )?;
    let mut signed = vc.clone();
    signed["proof"] = json!([p1, p2]);
    Ok(signed)
}

/// A published key: id (the fragment of verificationMethod), algorithm, public bytes,
/// and its validity (RFC 3339).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PublishedKey {
    pub id: String,
    pub algorithm: String,
    /// Ed25519: Multikey (z6Mk…); SM2: hex SEC1 uncompressed point.
    pub public_key: String,
    pub valid_from: String,
    pub valid_until: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Check {
    pub name: &'static str,
    pub label: &'static str,
    /// None when the check could not be made (e.g. offline without a status list).
    pub ok: Option<bool>,
    pub detail: String,
}

impl Check {
    fn new(
        name: &'static str,
        label: &'static str,
        ok: Option<bool>,
        detail: impl Into<String>,
    ) -> Check {
        Check {
            name,
            label,
            ok,
            detail: detail.into(),
        }
    }
}

/// Status lists as the verifier has them: (revocation, suspension).
pub struct StatusLists {
    pub revocation: Bitstring,
    pub suspension: Bitstring,
}

/// Verifies a signed licence. `ledger` is Some(true/false) when the verifier could look
/// the issuance up on the ledger, None offline.
/// `now` (RFC 3339, UTC) checks the validity period; None skips that check.
/// The status check's detail when the revocation list marks a licence: the list's one bit
/// cannot tell 吊销 from 注销 or 换发, so it names none of them (the issuer's live status
/// does, when the platform is asked).
pub const REVOCATION_LIST_DETAIL: &str = "状态列表标记为失效（吊销、注销或换发新版本）";

pub fn verify(
    vc: &Value,
    keys: &[PublishedKey],
    status: Option<&StatusLists>,
    ledger: Option<bool>,
    now: Option<&str>,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let id_text = vc
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim_start_matches("urn:oid:");
    checks.push(match LicenceId::parse(id_text) {
        Ok(_) => Check::new("identifier", "证照标识校验位", Some(true), id_text),
        Err(e) => Check::new("identifier", "证照标识校验位", Some(false), e.to_string()),
    });
    let proofs: Vec<Value> = match vc.get("proof") {
        Some(Value::Array(a)) => a.clone(),
        Some(p @ Value::Object(_)) => vec![p.clone()],
        _ => vec![],
    };
    let mut key_ok = Some(true);
    let mut key_detail = Vec::new();
    for (suite, name, label) in [
        (
            proof::EDDSA_JCS_2022,
            "signature_eddsa",
            "Ed25519 签名（eddsa-jcs-2022）",
        ),
        (proof::SM2_SM3_JCS, "signature_sm2", "SM2/SM3 国密签名"),
    ] {
        let Some(p) = proofs
            .iter()
            .find(|p| p.get("cryptosuite").and_then(Value::as_str) == Some(suite))
        else {
            checks.push(Check::new(name, label, Some(false), "缺少该签名"));
            key_ok = Some(false);
            continue;
        };
        let method = p
            .get("verificationMethod")
            .and_then(Value::as_str)
            .unwrap_or("");
        let key_id = method.rsplit('#').next().unwrap_or("");
        let Some(key) = keys.iter().find(|k| k.id == key_id) else {
            checks.push(Check::new(
                name,
                label,
                Some(false),
                format!("未知的签名密钥 {key_id}"),
            ));
            key_ok = Some(false);
            continue;
        };
        let result = match suite {
            proof::EDDSA_JCS_2022 => proof::ed25519_from_multikey(&key.public_key)
                .and_then(|pk| proof::verify_eddsa(vc, p, &pk)),
            _ => hex::decode(&key.public_key)
                .map_err(|e| ProofError::Malformed(e.to_string()))
                .and_then(|pk| proof::verify_sm2(vc, p, &pk)),
        };
        checks.push(match result {
            Ok(()) => Check::new(name, label, Some(true), format!("密钥 {key_id}")),
            Err(e) => Check::new(name, label, Some(false), e.to_string()),
        });
        let created = p.get("created").and_then(Value::as_str).unwrap_or("");
        let in_window = !created.is_empty()
            && created >= key.valid_from.as_str()
            && key.valid_until.as_deref().is_none_or(|u| created < u);
        if !in_window {
            key_ok = Some(false);
            key_detail.push(format!(
                "{key_id} 有效期 {} 至 {}，签发于 {created}",
                key.valid_from,
                key.valid_until.as_deref().unwrap_or("今")
            ));
        }
    }
    let from = vc.get("validFrom").and_then(Value::as_str).unwrap_or("");
    let until = vc.get("validUntil").and_then(Value::as_str);
    checks.push(match now {
        None => Check::new("validity", "在有效期内", None, "未提供当前时间"),
        Some(now) if instant_cmp(now, from).is_lt() => Check::new(
            "validity",
            "在有效期内",
            Some(false),
            format!("尚未生效（{from} 起）"),
        ),
        Some(now) if until.is_some_and(|u| instant_cmp(now, u).is_gt()) => Check::new(
            "validity",
            "在有效期内",
            Some(false),
            format!("已过有效期（{} 止）", until.unwrap_or("")),
        ),
        Some(_) => Check::new(
            "validity",
            "在有效期内",
            Some(true),
            format!("{from} 至 {}", until.unwrap_or("长期")),
        ),
    });
    checks.push(Check::new(
        "key_valid_at_issuance",
        "签发时密钥有效",
        key_ok,
        if key_detail.is_empty() {
            "签发时间在密钥有效期内".to_string()
        } else {
            key_detail.join("；")
        },
    ));
    let index = vc
        .get("credentialStatus")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(|e| e.get("statusListIndex"))
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<usize>().ok());
    checks.push(match (status, index) {
        (Some(lists), Some(i)) => {
            let revoked = lists.revocation.get(i).unwrap_or(true);
            let suspended = lists.suspension.get(i).unwrap_or(true);
            match (revoked, suspended) {
                (false, false) => Check::new("status", "未被吊销或暂停", Some(true), "有效"),
                (true, _) => Check::new(
                    "status",
                    "未被吊销或暂停",
                    Some(false),
                    REVOCATION_LIST_DETAIL,
                ),
                (_, true) => Check::new("status", "未被吊销或暂停", Some(false), "已暂停"),
            }
        }
        (None, _) => Check::new("status", "未被吊销或暂停", None, "未提供状态列表，无法检查"),
        (_, None) => Check::new(
            "status",
            "未被吊销或暂停",
            Some(false),
            "证照缺少状态列表条目",
        ),
    });
    checks.push(match ledger {
        Some(true) => Check::new(
            "ledger",
            "签发记录在账本中",
            Some(true),
            "签发事件与证照摘要一致",
        ),
        Some(false) => Check::new(
            "ledger",
            "签发记录在账本中",
            Some(false),
            "账本中没有与该证照一致的签发记录",
        ),
        None => Check::new("ledger", "签发记录在账本中", None, "离线验证，未查询账本"),
    });
    checks
}

/// Valid when no check failed (checks that could not be made do not fail it).
pub fn all_ok(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.ok != Some(false))
}

/// SHA-256 (hex) of the signed document's canonical form: what the ledger records.
pub fn digest(vc: &Value) -> Result<String, ProofError> {
    use sha2::Digest;
    Ok(hex::encode(sha2::Sha256::digest(
        super::jcs::canonicalize(vc)?.as_bytes(),
    )))
}

/// The status list credential, signed with eddsa-jcs-2022.
pub fn status_list_credential(
    base_url: &str,
    purpose: &str,
    list: &Bitstring,
    key: &ed25519_dalek::SigningKey,
    key_id: &str,
    created: &str,
) -> Result<Value, ProofError> {
    let url = format!("{base_url}/api/v1/licences/status/{purpose}");
    let vc = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": format!("{base_url}/api/v1/licences/keys"),
        "validFrom": created,
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": list.encode(),
        },
    });
    let method = format!("{base_url}/api/v1/licences/keys#{key_id}");
    let p = proof::sign_eddsa(
        &vc,
        &proof_options(proof::EDDSA_JCS_2022, &method, created),
        key,
    )?;
    let mut signed = vc;
    signed["proof"] = p;
    Ok(signed)
}

/// Reads a status list credential after checking its signature.
pub fn read_status_list(vc: &Value, keys: &[PublishedKey]) -> Result<Bitstring, String> {
    let p = vc.get("proof").ok_or("status list is not signed")?;
    let method = p
        .get("verificationMethod")
        .and_then(Value::as_str)
        .unwrap_or("");
    let key_id = method.rsplit('#').next().unwrap_or("");
    let key = keys
        .iter()
        .find(|k| k.id == key_id)
        .ok_or_else(|| format!("unknown key {key_id}"))?;
    let pk = proof::ed25519_from_multikey(&key.public_key).map_err(|e| e.to_string())?;
    proof::verify_eddsa(vc, p, &pk).map_err(|e| format!("status list signature: {e}"))?;
    let encoded = vc["credentialSubject"]["encodedList"]
        .as_str()
        .ok_or("no encodedList")?;
    Bitstring::decode(encoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_is_counted_in_beijing_time() {
        // Instants shown or signed are Beijing time (UTC+8): a licence issued on 2 Mar is
        // valid from 00:00 in Beijing, which is 16:00 UTC the day before.
        assert_eq!(
            valid_from_instant("2026-03-02"),
            "2026-03-02T00:00:00+08:00"
        );
        assert_eq!(
            valid_until_instant("2031-03-01"),
            "2031-03-01T23:59:59+08:00"
        );
        let from = valid_from_instant("2026-03-02");
        let until = valid_until_instant("2031-03-01");
        assert!(instant_cmp("2026-03-01T16:00:00Z", &from).is_eq());
        assert!(instant_cmp("2026-03-01T15:59:59Z", &from).is_lt());
        // 23:59:59 in Beijing is 15:59:59 UTC; at 16:00 UTC the licence has expired.
        assert!(instant_cmp("2031-03-01T15:59:59Z", &until).is_eq());
        assert!(instant_cmp("2031-03-01T16:00:00Z", &until).is_gt());
    }
}
