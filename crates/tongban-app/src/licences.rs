//! Electronic licences: issuing the licence of an approved case (run by the outbox worker,
//! exactly once per decision) and verification with everything the platform knows.

use crate::error::Error;
use crate::App;
use serde_json::{json, Map, Value};
use tongban_core::capability::Capability;
use tongban_core::licence::vc::{self, Check, StatusLists};
use tongban_store::accounts::User;
use tongban_store::licences::Licence;

/// Issues the licence of an approved case whose item issues one (no-op otherwise).
pub async fn issue_for_case(state: &App, case_no: &str) -> Result<Option<Licence>, Error> {
    issue_for(state, case_no, None).await
}

/// [`issue_for_case`], marking the outbox job `done_job` done in the licence's transaction.
async fn issue_for(
    state: &App,
    case_no: &str,
    done_job: Option<&str>,
) -> Result<Option<Licence>, Error> {
    let case = state.store.case_by_no(case_no).await?;
    // The licence prints its type's fields as the applicant filled them in.
    let details = state
        .store
        .case_events(case.id)
        .await?
        .into_iter()
        .find_map(|e| match e.event {
            tongban_core::case::Event::Submitted { details, .. } => Some(details),
            _ => None,
        })
        .unwrap_or_default();
    let declared = state
        .store
        .item_licence_type(&case.impl_code)
        .await?
        .map(|t| t.fields)
        .unwrap_or_default();
    let mut fields = Map::new();
    for name in declared {
        let value = details.get(&name).cloned().unwrap_or_else(|| json!("—"));
        fields.insert(name, value);
    }
    fields.insert("事项".into(), json!(case.item_name));
    fields.insert("办件编号".into(), json!(case.case_no));
    Ok(state
        .store
        .issue_licence(
            case_no,
            &state.base_url,
            fields,
            state.today(),
            state.now(),
            done_job,
        )
        .await?)
}

/// Verification with everything the platform knows: keys, live status, ledger.
pub async fn verify_online(state: &App, credential: &Value) -> Result<Vec<Check>, Error> {
    let keys = state.store.published_keys().await?;
    let (revocation, suspension) = state.store.status_bitstrings().await?;
    let id = credential
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim_start_matches("urn:oid:");
    let ledger = match vc::digest(credential) {
        Ok(d) => state.store.licence_on_ledger(id, &d).await?,
        Err(_) => false,
    };
    Ok(vc::verify(
        credential,
        &keys,
        Some(&StatusLists {
            revocation,
            suspension,
        }),
        Some(ledger),
        Some(
            &state
                .now()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ),
    ))
}

/// The outbox job of an approved case: sign and store its licence (no-op when the item
/// issues none; the existing licence when it already has one, so a retry never signs twice)
/// and tell the holder.
/// Returns whether the job was marked done with the licence (otherwise the caller marks it).
pub(crate) async fn issue_job(app: &App, case_no: &str, key: &str) -> Result<bool, Error> {
    app.faults.before_issuing()?;
    let already = app.store.licence_of_case(case_no).await?.is_some();
    let issued = issue_for(app, case_no, Some(key)).await?;
    app.faults.after_issuing()?;
    let marked = issued.is_some() && !already;
    if let (Some(l), false) = (issued, already) {
        // The holder is the case's applicant.
        crate::notify::notify_applicant(
            app,
            l.holder_applicant_id,
            &format!("您的电子证照「{}」已签发，可在证照夹查看", l.type_name),
        )
        .await;
    }
    // A 一件事 member waiting for this licence may start now.
    (app.after_case_change)(app, case_no).await;
    Ok(marked)
}

/// How a licence stands to the user: the holder's own, the issuing department's, or other.
async fn standing_of(
    app: &App,
    user: &User,
    l: &Licence,
) -> Result<tongban_core::capability::Standing, Error> {
    use tongban_core::capability::Standing;
    Ok(if user.role.is_applicant() {
        match app.store.applicant_of_user(user.id).await? {
            Some(a) if a.id == l.holder_applicant_id => Standing::Own,
            _ => Standing::Other,
        }
    } else {
        crate::authz::department_standing(user, l.issuer_department_id)
    })
}

/// A licence the user holds `cap` over (`ReadLicence`, `ManageLicence`). Anyone who may not
/// read it is told it does not exist; a reader who may not manage it is refused.
pub async fn licence_for(
    app: &App,
    user: &User,
    id: &str,
    cap: Capability,
) -> Result<Licence, Error> {
    let hidden = || Error::not_found(tongban_core::messages::no_such_licence(id));
    let l = match app.store.licence(id).await {
        Ok(l) => l,
        Err(tongban_store::StoreError::NotFound(_)) => return Err(hidden()),
        Err(e) => return Err(e.into()),
    };
    let standing = standing_of(app, user, &l).await?;
    if !tongban_core::capability::permits(user.role, Capability::ReadLicence, standing) {
        // A role that reads licences is told this one does not exist (identifiers cannot be
        // probed); a role that reads none is refused outright.
        let holds = tongban_core::capability::holds(user.role, Capability::ReadLicence);
        let how = if holds {
            crate::authz::Refuse::Hidden
        } else {
            crate::authz::Refuse::Forbidden
        };
        let e = crate::authz::refused(app, user, Capability::ReadLicence, id, how).await;
        return Err(if holds {
            e.with_message(hidden().message)
        } else {
            e
        });
    }
    if cap != Capability::ReadLicence {
        crate::authz::require(app, user, cap, standing, id).await?;
    } else if standing != tongban_core::capability::Standing::Own {
        crate::security::record_personal_read(app, user, "licence", id).await;
    }
    Ok(l)
}

/// May the user manage this licence (for the buttons on its page)?
pub async fn can_manage(app: &App, user: &User, l: &Licence) -> Result<bool, Error> {
    let standing = standing_of(app, user, l).await?;
    Ok(tongban_core::capability::permits(
        user.role,
        Capability::ManageLicence,
        standing,
    ))
}

/// The licences the user may list: an applicant's own, a department's issued ones, or all.
pub async fn visible_licences(app: &App, user: &User) -> Result<Vec<Licence>, Error> {
    use tongban_core::capability::Scope;
    Ok(
        match crate::authz::require_scope(app, user, Capability::ReadLicence).await? {
            Scope::Own => match app.store.applicant_of_user(user.id).await? {
                Some(a) => app.store.licences_of_holder(a.id).await?,
                None => vec![],
            },
            Scope::Department => app
                .store
                .all_licences()
                .await?
                .into_iter()
                .filter(|l| user.department_id == Some(l.issuer_department_id))
                .collect(),
            Scope::Any => app.store.all_licences().await?,
        },
    )
}

/// A department looks up the holder's licences for a case it handles, saying why; each
/// look-up is recorded against the licence (the holder sees who looked and why).
pub async fn look_up_holder_licences(
    app: &App,
    user: &User,
    case_no: &str,
    purpose: &str,
) -> Result<Vec<Licence>, Error> {
    let purpose = purpose.trim();
    let (case, _) = crate::authz::case_for(app, user, case_no).await?;
    crate::authz::require(
        app,
        user,
        Capability::LookUpHolderLicences,
        crate::authz::department_standing(user, case.department_id),
        case_no,
    )
    .await?;
    let n = purpose.chars().count();
    if !(2..=200).contains(&n) {
        return Err(Error::invalid(
            "查询电子证照必须说明用途 purpose（2—200字）",
        ));
    }
    let licences = app.store.licences_of_holder(case.applicant_id).await?;
    for l in &licences {
        app.store
            .record_licence_use(
                &l.licence_id,
                case_no,
                &user.username,
                &format!("查询：{purpose}"),
                app.now(),
            )
            .await?;
    }
    Ok(licences)
}

/// What a verification concludes, in one line a citizen understands.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// True only for a genuine licence that is valid today.
    pub valid: bool,
    /// 有效 / 已吊销 / 已注销 / 已被新版本替代 / 已暂停 / 已过期 / 无效
    pub label: &'static str,
    /// Why, when not valid (e.g. which check failed).
    pub reason: String,
    /// The licence named, when the platform knows it.
    pub licence: Option<Licence>,
}

impl Verdict {
    fn invalid(reason: impl Into<String>) -> Verdict {
        Verdict {
            valid: false,
            label: "无效",
            reason: reason.into(),
            licence: None,
        }
    }
}

/// The verdict on a stored licence: its live status and validity dates first, then every
/// cryptographic and ledger check of its credential.
pub async fn verdict_of(app: &App, l: Licence) -> Result<(Verdict, Vec<Check>), Error> {
    use tongban_core::licence::state::LicenceState;
    let mut checks = verify_online(app, &l.vc).await?;
    let state = LicenceState::parse(&l.status).unwrap_or(LicenceState::Revoked);
    // The status list's bit cannot say which change it was; the stored status can.
    if state != LicenceState::Valid {
        for c in checks.iter_mut().filter(|c| c.name == "status") {
            c.detail = if l.status_reason.is_empty() {
                state.label().to_string()
            } else {
                format!("{}（{}）", state.label(), l.status_reason)
            };
        }
    }
    let today = app.today().to_string();
    let expired = l.valid_until.as_deref().is_some_and(|u| u < today.as_str());
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| c.ok == Some(false))
        .map(|c| c.label)
        .collect();
    let verdict = if state != LicenceState::Valid {
        Verdict {
            valid: false,
            label: state.label(),
            reason: l.status_reason.clone(),
            licence: Some(l),
        }
    } else if expired {
        Verdict {
            valid: false,
            label: LicenceState::Expired.label(),
            reason: String::new(),
            licence: Some(l),
        }
    } else if !failed.is_empty() {
        Verdict {
            valid: false,
            label: "无效",
            reason: format!("未通过：{}", failed.join("、")),
            licence: Some(l),
        }
    } else {
        Verdict {
            valid: true,
            label: LicenceState::Valid.label(),
            reason: String::new(),
            licence: Some(l),
        }
    };
    Ok((verdict, checks))
}

/// Finds a licence by its identifier or by the number printed on it (证照编号).
pub async fn find_licence(app: &App, id_or_number: &str) -> Result<Option<Licence>, Error> {
    let key = id_or_number.trim();
    if key.is_empty() || key.chars().count() > 120 {
        return Ok(None);
    }
    match app.store.licence(key).await {
        Ok(l) => return Ok(Some(l)),
        Err(tongban_store::StoreError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(app
        .store
        .all_licences()
        .await?
        .into_iter()
        .find(|l| l.number == key))
}

/// The QR printed on a licence carries `{id, n (number), h (holder), v (valid until)}`
/// signed with the issuer's Ed25519 key. The signature says the fields were printed by the
/// platform; it says nothing of the licence's status, and it binds only the licence it names:
/// a payload is checked against the `id` it is presented with and against the stored
/// licence, and the verdict is always the licence's live status.
pub async fn verify_qr(
    app: &App,
    presented_id: &str,
    key_id: &str,
    payload_b64: &str,
    signature: &str,
) -> Result<(Verdict, Vec<Check>), Error> {
    use base64::Engine;
    let keys = app.store.published_keys().await?;
    let Some(key) = keys.iter().find(|k| k.id == key_id) else {
        return Ok((
            Verdict::invalid("二维码签名密钥未知，二维码可能伪造"),
            vec![],
        ));
    };
    let Ok(payload) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload_b64) else {
        return Ok((Verdict::invalid("二维码内容有误"), vec![]));
    };
    let signed = (|| {
        let pk = tongban_core::licence::proof::ed25519_from_multikey(&key.public_key).ok()?;
        let sig: [u8; 64] = tongban_core::licence::proof::from_multibase(signature)
            .ok()?
            .try_into()
            .ok()?;
        use ed25519_dalek::Verifier;
        ed25519_dalek::VerifyingKey::from_bytes(&pk)
            .ok()?
            .verify(&payload, &ed25519_dalek::Signature::from_bytes(&sig))
            .ok()
    })()
    .is_some();
    if !signed {
        return Ok((
            Verdict::invalid("二维码签名无效，证照面信息可能被篡改"),
            vec![],
        ));
    }
    let fields: Value = serde_json::from_slice(&payload).unwrap_or(Value::Null);
    let Some(signed_id) = fields["id"].as_str().filter(|s| !s.is_empty()) else {
        return Ok((Verdict::invalid("二维码未载明证照标识"), vec![]));
    };
    let presented = presented_id.trim();
    if !presented.is_empty() && presented != signed_id {
        return Ok((
            Verdict::invalid("二维码与所核验的证照不符（二维码属于另一张证照）"),
            vec![],
        ));
    }
    let Some(l) = find_licence(app, signed_id).await? else {
        return Ok((Verdict::invalid("本平台没有签发该电子证照"), vec![]));
    };
    if fields["n"].as_str() != Some(l.number.as_str()) {
        return Ok((Verdict::invalid("二维码上的证照编号与签发记录不符"), vec![]));
    }
    verdict_of(app, l).await
}

/// The short verification URL printed as the licence PDF's QR: the verify page with the
/// printed number (证照编号). The page shows the live status with the holder and the
/// licence's name from the register, so a forged face is caught by comparing them; the
/// short code scans quickly even when printed small.
pub fn short_verify_url(app: &App, l: &Licence) -> String {
    let number: String = l
        .number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
        .collect();
    format!("{}/verify?id={number}", app.base_url)
}

/// The QR printed on a licence: the verify URL with the licence's identifier and its compact
/// face fields signed by the issuer's Ed25519 key, so the printed face can be checked.
pub async fn qr_url(app: &App, l: &Licence) -> Result<String, Error> {
    use base64::Engine;
    use ed25519_dalek::Signer;
    let holder = l.vc["credentialSubject"]["holderName"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let fields = json!({ "id": l.licence_id, "n": l.number, "h": holder, "v": l.valid_until });
    let canonical = tongban_core::licence::jcs::canonicalize(&fields).map_err(Error::internal)?;
    let keys = app.store.issuer_keys(app.now()).await?;
    let sig = keys.ed25519.1.sign(canonical.as_bytes());
    Ok(format!(
        "{}/verify?id={}&k={}&p={}&s={}",
        app.base_url,
        l.licence_id,
        keys.ed25519.0,
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(canonical.as_bytes()),
        tongban_core::licence::proof::multibase(&sig.to_bytes())
    ))
}

/// Every licence, newest first (the registry's own view: CLI and administrators).
pub async fn all(app: &App) -> Result<Vec<Licence>, Error> {
    Ok(app.store.all_licences().await?)
}

/// One licence by its identifier.
pub async fn by_id(app: &App, id: &str) -> Result<Licence, Error> {
    match app.store.licence(id).await {
        Ok(l) => Ok(l),
        Err(tongban_store::StoreError::NotFound(_)) => Err(Error::not_found(
            tongban_core::messages::no_such_licence(id),
        )),
        Err(e) => Err(e.into()),
    }
}

/// The issuer key set as published (current and retired keys), for offline verification.
pub async fn published_keys(
    app: &App,
) -> Result<Vec<tongban_core::licence::vc::PublishedKey>, Error> {
    // Make sure keys exist before the first licence is issued.
    app.store.issuer_keys(app.now()).await?;
    Ok(app.store.published_keys().await?)
}

/// A signed Bitstring Status List credential for `purpose` (`revocation` or `suspension`).
pub async fn status_list(app: &App, purpose: &str) -> Result<Value, Error> {
    let (revocation, suspension) = app.store.status_bitstrings().await?;
    let list = match purpose {
        "revocation" => revocation,
        "suspension" => suspension,
        other => {
            return Err(Error::not_found(format!(
                "没有状态列表 {other}（应为 revocation 或 suspension）"
            )))
        }
    };
    let keys = app.store.issuer_keys(app.now()).await?;
    let created = app.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    vc::status_list_credential(
        &app.base_url,
        purpose,
        &list,
        &keys.ed25519.1,
        &keys.ed25519.0,
        &created,
    )
    .map_err(Error::internal)
}

/// Changes a licence's status as an operator (the CLI): recorded on its case's ledger with
/// the operator named. Web users go through [`licence_for`] with `ManageLicence` first.
pub async fn change_status(
    app: &App,
    actor: &str,
    id: &str,
    change: tongban_store::licences::StatusChange,
    reason: &str,
) -> Result<Licence, Error> {
    Ok(app
        .store
        .set_licence_status(id, change, reason, actor, app.now())
        .await?)
}

/// Retires the issuer keys in force and creates new ones; returns the new key ids.
pub async fn rotate_keys(app: &App) -> Result<Vec<String>, Error> {
    app.store.issuer_keys(app.now()).await?;
    Ok(app.store.rotate_issuer_keys(app.now()).await?)
}

/// Repair: issues the licences of approved cases that have none (the outbox does this by
/// itself; this is for data from before it). Returns (issued, found missing, failures).
pub async fn issue_missing(app: &App) -> Result<(usize, usize, Vec<(String, String)>), Error> {
    let missing = app.store.cases_missing_licences().await?;
    let (mut issued, mut failures) = (0, vec![]);
    for no in &missing {
        match issue_for_case(app, no).await {
            Ok(Some(_)) => issued += 1,
            Ok(None) => {}
            Err(e) => failures.push((no.clone(), e.message)),
        }
    }
    Ok((issued, missing.len(), failures))
}
