//! The 政务信息共享交换 use cases: this deployment as a member, trusted peers, the
//! resource catalog, grants, purpose-bound signed data calls (client and provider side),
//! conditional requests on the working-day clock, and the applicant's view of every access
//! to their data.

use crate::authz;
use crate::error::{Error, ErrorKind, Result};
use crate::App;
use serde_json::{json, Value};
use tongban_core::capability::{Capability, Standing};
use tongban_core::case::{Event, MaterialRef, Status};
use tongban_core::exchange::{
    self as rules, CallRequest, Light, MemberDocument, MemberKey, Party, Resource, SharingClass,
};
use tongban_store::accounts::User;
use tongban_store::exchange::{ConditionalRequest, DataAccess, NewLogEntry, SelfMember};
use tongban_store::StoreError;

/// The route a member's exchange answers on.
pub const EXCHANGE_PATH: &str = "/api/v1/federation/exchange";

/// This deployment as a member: what `member init` set, else the region code and address
/// of the configuration.
pub async fn self_member(app: &App) -> Result<SelfMember> {
    Ok(match app.store.self_member().await? {
        Some(m) => m,
        None => SelfMember {
            code: app.region.as_str().to_string(),
            name: "通办平台".into(),
            endpoint: app.base_url.clone(),
        },
    })
}

/// Names this deployment as a member and makes sure its keys exist.
pub async fn init_member(
    app: &App,
    code: &str,
    name: &str,
    endpoint: &str,
) -> Result<MemberDocument> {
    let code = rules::parse_member_code(code).map_err(Error::invalid)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("成员名称必填，且不超过100字"));
    }
    let m = SelfMember {
        code,
        name: name.to_string(),
        endpoint: if endpoint.is_empty() {
            app.base_url.clone()
        } else {
            endpoint.to_string()
        },
    };
    app.store.set_self_member(&m, app.now()).await?;
    let doc = member_document(app).await?;
    doc.validate().map_err(Error::invalid)?;
    Ok(doc)
}

/// The public member document: code, name, address and the keys in force (the Ed25519
/// and SM2 keys of the key registry, created on first use).
pub async fn member_document(app: &App) -> Result<MemberDocument> {
    let m = self_member(app).await?;
    let keys = app.store.issuer_keys(app.now()).await?;
    let published = app.store.published_keys().await?;
    let wanted = [keys.ed25519.0.as_str(), keys.sm2.0.as_str()];
    Ok(MemberDocument {
        code: m.code,
        name: m.name,
        endpoint: m.endpoint,
        keys: published
            .into_iter()
            .filter(|k| wanted.contains(&k.id.as_str()))
            .map(|k| MemberKey {
                id: k.id,
                algorithm: k.algorithm,
                public_key: k.public_key,
            })
            .collect(),
    })
}

/// Registers a peer from its member document (`tongban member trust FILE`).
pub async fn trust(app: &App, doc: &MemberDocument) -> Result<()> {
    doc.validate().map_err(Error::invalid)?;
    app.store.trust_peer(doc, app.now()).await?;
    Ok(())
}

pub(crate) async fn signed(app: &App, payload: &Value) -> Result<Value> {
    let me = self_member(app).await?;
    let keys = app.store.issuer_keys(app.now()).await?;
    let created = app.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    rules::sign_message(
        payload,
        &me.code,
        (&keys.ed25519.0, &keys.ed25519.1),
        (&keys.sm2.0, &keys.sm2.1),
        &created,
    )
    .map_err(Error::internal)
}

/// The document of a member that signs to us: ourselves or a trusted peer.
pub(crate) async fn signer_document(app: &App, code: &str) -> Result<Option<MemberDocument>> {
    if self_member(app).await?.code == code {
        return Ok(Some(member_document(app).await?));
    }
    Ok(app.store.peer(code).await?)
}

// ---- the catalog ----------------------------------------------------------------------

pub async fn publish(app: &App, user: &User, res: &Resource) -> Result<()> {
    authz::require_scope(app, user, Capability::AdministerExchange).await?;
    res.validate().map_err(Error::invalid)?;
    app.store.publish_resource(res, app.now()).await?;
    app.store
        .record_audit(app.now(), &user.username, "exchange.publish", &res.code)
        .await?;
    Ok(())
}

pub async fn catalog(app: &App, user: &User, q: Option<&str>) -> Result<Vec<Resource>> {
    authz::require_scope(app, user, Capability::ReadExchangeCatalog).await?;
    if q.is_some_and(|q| q.chars().count() > 100) {
        return Err(Error::invalid("检索词不超过100字"));
    }
    Ok(app.store.resources(q).await?)
}

/// The catalog as an XLSX workbook (GB/T 21063 core metadata, one row per resource).
pub async fn catalog_xlsx(app: &App, user: &User) -> Result<Vec<u8>> {
    let resources = catalog(app, user, None).await?;
    tongban_store::exchange::catalog_xlsx(&resources).map_err(Error::internal)
}

/// Grants a client (member and subsystem) the right to call a resource. Deny by default:
/// publishing grants nothing.
pub async fn grant(
    app: &App,
    user: &User,
    resource: &str,
    client_member: &str,
    client_subsystem: &str,
) -> Result<()> {
    authz::require_scope(app, user, Capability::AdministerExchange).await?;
    let member = rules::parse_member_code(client_member).map_err(Error::invalid)?;
    let sub = rules::parse_subsystem(client_subsystem).map_err(Error::invalid)?;
    let res = app
        .store
        .resource(resource)
        .await?
        .ok_or_else(|| Error::not_found(format!("未找到资源：{resource}")))?;
    if res.sharing_class == SharingClass::NotShared {
        return Err(Error::new(
            ErrorKind::Refused,
            "not_shared",
            format!("资源 {resource} 为不予共享（{}）", res.basis),
        ));
    }
    app.store
        .grant_access(resource, &member, &sub, &user.username, app.now())
        .await?;
    app.store
        .record_audit(
            app.now(),
            &user.username,
            "exchange.grant",
            &format!("{resource} → {member}/{sub}"),
        )
        .await?;
    Ok(())
}

/// Declares that an item's materials include a resource held by a provider member (the
/// evidence the purpose check allows the item's cases to fetch).
pub async fn declare_evidence(
    app: &App,
    user: &User,
    impl_code: &str,
    resource: &str,
    provider_member: &str,
) -> Result<()> {
    authz::require_scope(app, user, Capability::AdministerExchange).await?;
    let provider = rules::parse_member_code(provider_member).map_err(Error::invalid)?;
    app.store.item(impl_code).await?;
    if resource.is_empty() || resource.len() > 64 {
        return Err(Error::invalid("资源代码不合规"));
    }
    app.store
        .declare_evidence(impl_code, resource, &provider)
        .await?;
    Ok(())
}

// ---- the applicant ----------------------------------------------------------------------

/// The applicant confirms that the evidence the item declares may be fetched for the case.
pub async fn consent(app: &App, user: &User, case_no: &str) -> Result<Vec<String>> {
    authz::require_scope(app, user, Capability::OwnDataAccess).await?;
    let (rec, access) = authz::case_for(app, user, case_no).await?;
    if access != authz::Access::Owner {
        return Err(Error::forbidden());
    }
    let resources: Vec<String> = app
        .store
        .evidence_of(&rec.impl_code)
        .await?
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    if resources.is_empty() {
        return Err(Error::new(
            ErrorKind::Refused,
            "no_evidence",
            "该事项没有可共享调取的材料",
        ));
    }
    if app.store.consent_of(case_no).await?.is_none() {
        app.store
            .append_exchange_case_event(
                case_no,
                &Event::EvidenceConsented {
                    resources: resources.clone(),
                },
                &user.username,
                app.now(),
            )
            .await?;
    }
    Ok(resources)
}

/// Every access to the applicant's data, newest first.
pub async fn my_data_access(app: &App, user: &User) -> Result<Vec<DataAccess>> {
    authz::require_scope(app, user, Capability::OwnDataAccess).await?;
    let Some(a) = app.store.applicant_of_user(user.id).await? else {
        return Ok(vec![]);
    };
    Ok(app.store.data_accesses(&a.id_number).await?)
}

// ---- a data call, client side ---------------------------------------------------------

/// What an officer asks for.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct CallInput {
    /// The provider member; empty means this deployment.
    #[serde(default)]
    pub provider: String,
    pub service: String,
    #[serde(default)]
    pub case_no: String,
    #[serde(default)]
    pub legal_basis: String,
    #[serde(default)]
    pub purpose: String,
}

/// The outcome of a granted call.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CallOutcome {
    pub request_id: String,
    pub request_hash: String,
    pub response_hash: String,
    pub data: Value,
    pub trust: &'static str,
}

fn refusal(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Error {
    Error::new(kind, code, message)
}

/// Fetches evidence for a case through the exchange. Refused unless the case is live, in
/// the caller's hands, its item declares the resource as evidence and the applicant
/// confirmed; every refusal is logged. A granted answer is verified (signature, request
/// hash), attached to the case with trust level A and shown to the applicant.
pub async fn call(app: &App, user: &User, input: &CallInput) -> Result<CallOutcome> {
    authz::require_scope(app, user, Capability::CallExchange).await?;
    let me = self_member(app).await?;
    let provider = if input.provider.trim().is_empty() {
        me.code.clone()
    } else {
        rules::parse_member_code(&input.provider).map_err(Error::invalid)?
    };
    let request_id = uuid_like();
    let log_refusal = |e: Error| {
        let provider = provider.clone();
        let me = me.code.clone();
        let request_id = request_id.clone();
        async move {
            let msg = json!({"code": e.code, "message": e.message, "case_no": input.case_no, "service": input.service, "officer": user.username});
            let _ = app
                .store
                .append_exchange_log(
                    &NewLogEntry {
                        direction: "out",
                        kind: "refusal",
                        request_id: &request_id,
                        client_member: &me,
                        provider_member: &provider,
                        case_no: &input.case_no,
                        service: &input.service,
                        outcome: e.code,
                        message: &msg,
                    },
                    app.now(),
                )
                .await;
            e
        }
    };
    if input.service.trim().is_empty() || input.service.len() > 64 {
        return Err(log_refusal(Error::invalid("请写明要调取的资源")).await);
    }
    // Purpose binding: a live case this officer handles.
    if input.case_no.trim().is_empty() {
        return Err(log_refusal(refusal(
            ErrorKind::Forbidden,
            "no_case",
            "共享调取须写明办件编号",
        ))
        .await);
    }
    let rec = match app.store.case_by_no(input.case_no.trim()).await {
        Ok(r) => r,
        Err(StoreError::NotFound(_)) => {
            return Err(log_refusal(refusal(
                ErrorKind::Forbidden,
                "no_case",
                format!("办件 {} 不存在", input.case_no),
            ))
            .await)
        }
        Err(e) => return Err(e.into()),
    };
    let standing = authz::department_standing(user, rec.department_id);
    if !tongban_core::capability::permits(user.role, Capability::CallExchange, standing) {
        return Err(log_refusal(refusal(
            ErrorKind::Forbidden,
            "not_handling",
            format!("办件 {} 不由您经办，不能为其调取数据", rec.case_no),
        ))
        .await);
    }
    if matches!(rec.status, Status::Completed) || rec.state.completed_on.is_some() {
        return Err(log_refusal(refusal(
            ErrorKind::Forbidden,
            "case_closed",
            format!("办件 {} 已办结，不能再调取数据", rec.case_no),
        ))
        .await);
    }
    let declared = app.store.evidence_of(&rec.impl_code).await?;
    if !declared
        .iter()
        .any(|(r, p)| r == input.service.trim() && *p == provider)
    {
        return Err(log_refusal(refusal(
            ErrorKind::Forbidden,
            "not_declared",
            format!(
                "资源 {} 不在该事项申报材料所列的共享材料之中",
                input.service
            ),
        ))
        .await);
    }
    if app.store.consent_of(&rec.case_no).await?.is_none() {
        return Err(log_refusal(refusal(
            ErrorKind::Forbidden,
            "no_consent",
            "申请人尚未确认同意共享调取材料",
        ))
        .await);
    }
    let applicant = app.store.applicant(rec.applicant_id).await?;
    let subsystem = match user.department_id {
        Some(id) => app.store.department(id).await?.code,
        None => "window".to_string(),
    };
    let department_name = match user.department_id {
        Some(id) => app.store.department(id).await?.name,
        None => "综合窗口".to_string(),
    };
    let legal_basis = if input.legal_basis.trim().is_empty() {
        format!("申请人授权（办件 {}）", rec.case_no)
    } else {
        input.legal_basis.trim().to_string()
    };
    let purpose = if input.purpose.trim().is_empty() {
        format!("办理「{}」", rec.item_name)
    } else {
        input.purpose.trim().to_string()
    };
    let req = CallRequest {
        request_id: request_id.clone(),
        timestamp: app.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        client: Party {
            member: me.code.clone(),
            subsystem,
        },
        provider: Party {
            member: provider.clone(),
            subsystem: String::new(),
        },
        service: input.service.trim().to_string(),
        case_no: rec.case_no.clone(),
        impl_code: rec.impl_code.clone(),
        legal_basis,
        purpose: purpose.clone(),
        subject: applicant.id_number.clone(),
        officer: format!("{}（{}）", user.display_name, department_name),
    };
    req.validate().map_err(Error::invalid)?;
    let payload = serde_json::to_value(&req).map_err(Error::internal)?;
    let signed_req = signed(app, &payload).await?;
    let request_hash = rules::message_hash(&signed_req);
    let log = |direction: &'static str, kind: &'static str, outcome: &'static str, msg: Value| {
        let req = &req;
        async move {
            app.store
                .append_exchange_log(
                    &NewLogEntry {
                        direction,
                        kind,
                        request_id: &req.request_id,
                        client_member: &req.client.member,
                        provider_member: &req.provider.member,
                        case_no: &req.case_no,
                        service: &req.service,
                        outcome,
                        message: &msg,
                    },
                    app.now(),
                )
                .await
        }
    };
    log("out", "request", "sent", signed_req.clone()).await?;
    // Send: to ourselves in process, to a peer over HTTP.
    let answer = if provider == me.code {
        answer(app, &signed_req).await
    } else {
        send(app, &provider, &signed_req).await
    };
    let response = match answer {
        Ok(r) => r,
        Err(e) => {
            log(
                "in",
                "refusal",
                e.code,
                json!({"code": e.code, "message": e.message}),
            )
            .await?;
            return Err(e);
        }
    };
    // The answer must be signed by the provider and bound to our request.
    let provider_doc = signer_document(app, &provider)
        .await?
        .ok_or_else(|| refusal(ErrorKind::Forbidden, "untrusted", "提供方不是受信成员"))?;
    if let Err(why) = rules::verify_message(&response, &provider_doc) {
        log("in", "refusal", "bad_signature", response.clone()).await?;
        return Err(refusal(
            ErrorKind::Unauthorized,
            "bad_signature",
            format!("应答签名核验失败：{why}"),
        ));
    }
    if response.get("request_hash").and_then(Value::as_str) != Some(request_hash.as_str()) {
        log("in", "refusal", "hash_mismatch", response.clone()).await?;
        return Err(refusal(
            ErrorKind::Unauthorized,
            "hash_mismatch",
            "应答未绑定本次请求",
        ));
    }
    let response_hash = rules::message_hash(&response);
    log("in", "response", "ok", response.clone()).await?;
    let res_name = response
        .get("resource_name")
        .and_then(Value::as_str)
        .unwrap_or(&req.service)
        .to_string();
    app.store
        .append_exchange_case_event(
            &rec.case_no,
            &Event::EvidenceFetched {
                request_id: req.request_id.clone(),
                provider: provider.clone(),
                service: req.service.clone(),
                request_hash: request_hash.clone(),
                response_hash: response_hash.clone(),
                material: MaterialRef {
                    name: res_name.clone(),
                    sha256: None,
                    file_name: None,
                    licence_id: None,
                    trust: Some('A'),
                },
            },
            &user.username,
            app.now(),
        )
        .await?;
    // The applicant sees the access on this platform; the provider records it on its own.
    if provider != me.code {
        app.store
            .record_data_access(
                &applicant.id_number,
                &DataAccess {
                    at: app.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    who: req.officer.clone(),
                    department: department_name,
                    member: me.name.clone(),
                    case_no: rec.case_no.clone(),
                    resource: res_name,
                    purpose,
                },
            )
            .await?;
    }
    Ok(CallOutcome {
        request_id: req.request_id,
        request_hash,
        response_hash,
        data: response.get("data").cloned().unwrap_or(Value::Null),
        trust: "A",
    })
}

fn uuid_like() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

async fn send(app: &App, provider: &str, signed_req: &Value) -> Result<Value> {
    let peer = app
        .store
        .peer(provider)
        .await?
        .ok_or_else(|| refusal(ErrorKind::Forbidden, "untrusted", "提供方不是受信成员"))?;
    let url = format!("{}{EXCHANGE_PATH}", peer.endpoint.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(15))
        .build()
        .map_err(Error::internal)?;
    let res = client
        .post(&url)
        .json(signed_req)
        .send()
        .await
        .map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                "unavailable",
                format!("提供方无法连接：{e}"),
            )
        })?;
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(body);
    }
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("提供方拒绝")
        .to_string();
    let code = body.get("code").and_then(Value::as_str).unwrap_or("");
    let (kind, code) = match code {
        "replay" => (ErrorKind::Conflict, "replay"),
        "bad_signature" => (ErrorKind::Unauthorized, "bad_signature"),
        "untrusted" => (ErrorKind::Forbidden, "untrusted"),
        "no_grant" => (ErrorKind::Forbidden, "no_grant"),
        "not_shared" => (ErrorKind::Forbidden, "not_shared"),
        "no_case" => (ErrorKind::Forbidden, "no_case"),
        _ => (ErrorKind::Forbidden, "refused"),
    };
    Err(refusal(kind, code, format!("提供方拒绝：{message}")))
}

// ---- a data call, provider side -------------------------------------------------------

/// Answers a signed request from a member (or from ourselves): checks the signature,
/// the replay window and id, the grant; logs the request and the signed answer (or the
/// refusal); records the access for the data subject.
pub async fn answer(app: &App, signed_req: &Value) -> Result<Value> {
    let me = self_member(app).await?;
    let req: std::result::Result<CallRequest, _> =
        serde_json::from_value(rules::payload_of(signed_req));
    let (request_id, client, case_no, service) = match &req {
        Ok(r) => (
            r.request_id.clone(),
            r.client.member.clone(),
            r.case_no.clone(),
            r.service.clone(),
        ),
        Err(_) => Default::default(),
    };
    let log = |kind: &'static str, outcome: &'static str, msg: Value| {
        let (request_id, client, case_no, service, me) =
            (&request_id, &client, &case_no, &service, &me.code);
        async move {
            app.store
                .append_exchange_log(
                    &NewLogEntry {
                        direction: if kind == "request" { "in" } else { "out" },
                        kind,
                        request_id,
                        client_member: client,
                        provider_member: me,
                        case_no,
                        service,
                        outcome,
                        message: &msg,
                    },
                    app.now(),
                )
                .await
        }
    };
    let refuse = |kind: ErrorKind, code: &'static str, message: String| {
        let log = &log;
        async move {
            log("request", "received", signed_req.clone()).await?;
            log("refusal", code, json!({"code": code, "message": message})).await?;
            Err::<Value, Error>(refusal(kind, code, message))
        }
    };
    let req = match req {
        Ok(r) => r,
        Err(e) => {
            return refuse(
                ErrorKind::Invalid,
                "invalid",
                format!("请求格式不合规：{e}"),
            )
            .await
        }
    };
    if let Err(why) = req.validate() {
        let code = if req.case_no.trim().is_empty() {
            "no_case"
        } else {
            "invalid"
        };
        return refuse(ErrorKind::Forbidden, code, why).await;
    }
    if req.provider.member != me.code {
        return refuse(
            ErrorKind::Invalid,
            "wrong_provider",
            format!("本成员为 {}，不是 {}", me.code, req.provider.member),
        )
        .await;
    }
    let Some(client_doc) = signer_document(app, &req.client.member).await? else {
        return refuse(
            ErrorKind::Forbidden,
            "untrusted",
            format!("成员 {} 未登记为受信成员", req.client.member),
        )
        .await;
    };
    if let Err(why) = rules::verify_message(signed_req, &client_doc) {
        return refuse(
            ErrorKind::Unauthorized,
            "bad_signature",
            format!("请求签名核验失败：{why}"),
        )
        .await;
    }
    if !rules::within_window(&req.timestamp, app.now()) {
        return refuse(
            ErrorKind::Conflict,
            "replay",
            "请求时间不在允许的时间窗内".into(),
        )
        .await;
    }
    if !app
        .store
        .mark_request_seen(&req.client.member, &req.request_id, app.now())
        .await?
    {
        return refuse(
            ErrorKind::Conflict,
            "replay",
            format!("请求 {} 已处理过，拒绝重放", req.request_id),
        )
        .await;
    }
    let Some(res) = app.store.resource(&req.service).await? else {
        return refuse(
            ErrorKind::NotFound,
            "not_found",
            format!("未找到资源：{}", req.service),
        )
        .await;
    };
    if res.sharing_class == SharingClass::NotShared {
        return refuse(
            ErrorKind::Forbidden,
            "not_shared",
            format!("资源 {} 不予共享（{}）", res.name, res.basis),
        )
        .await;
    }
    if !app
        .store
        .has_grant(&res.code, &req.client.member, &req.client.subsystem)
        .await?
    {
        return refuse(
            ErrorKind::Forbidden,
            "no_grant",
            format!(
                "{}/{} 未获授权调用资源 {}",
                req.client.member, req.client.subsystem, res.code
            ),
        )
        .await;
    }
    log("request", "accepted", signed_req.clone()).await?;
    // The data: what this platform holds on the subject (name, valid licences).
    let holder = app.store.applicant_by_id_number(&req.subject).await?;
    let data = match &holder {
        Some(a) => {
            let licences: Vec<Value> = app
                .store
                .licences_of_holder(a.id)
                .await?
                .into_iter()
                .filter(|l| l.status == "valid")
                .map(|l| json!({"licence_id": l.licence_id, "type": l.type_name, "number": l.number}))
                .collect();
            json!({"found": true, "name": a.name, "verified": a.verified, "licences": licences})
        }
        None => json!({"found": false}),
    };
    let payload = json!({
        "request_id": req.request_id,
        "request_hash": rules::message_hash(signed_req),
        "provider": {"member": me.code, "subsystem": res.provider_code},
        "service": res.code,
        "resource_name": res.name,
        "timestamp": app.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "status": "ok",
        "data": data,
    });
    let response = signed(app, &payload).await?;
    log("response", "ok", response.clone()).await?;
    let member_name = if req.client.member == me.code {
        me.name.clone()
    } else {
        client_doc.name.clone()
    };
    app.store
        .record_data_access(
            &req.subject,
            &DataAccess {
                at: app.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                who: req.officer.clone(),
                department: format!("{member_name} {}", req.client.subsystem),
                member: member_name,
                case_no: req.case_no.clone(),
                resource: res.name.clone(),
                purpose: req.purpose.clone(),
            },
        )
        .await?;
    Ok(response)
}

// ---- conditional requests ---------------------------------------------------------------

/// A conditional request with its light on the supervision board.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RequestView {
    #[serde(flatten)]
    pub request: ConditionalRequest,
    pub light: &'static str,
    pub light_label: &'static str,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct RequestInput {
    pub resource: String,
    #[serde(default)]
    pub client_member: String,
    #[serde(default)]
    pub client_subsystem: String,
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub legal_basis: String,
}

/// Files a request for a conditional resource; the provider answers within 10 working days.
pub async fn request_sharing(app: &App, user: &User, input: &RequestInput) -> Result<RequestView> {
    authz::require_scope(app, user, Capability::RequestSharing).await?;
    if input.purpose.trim().is_empty() || input.legal_basis.trim().is_empty() {
        return Err(Error::invalid("申请须写明用途和依据"));
    }
    let res = app
        .store
        .resource(input.resource.trim())
        .await?
        .ok_or_else(|| Error::not_found(format!("未找到资源：{}", input.resource)))?;
    if res.sharing_class != SharingClass::Conditional {
        return Err(Error::new(
            ErrorKind::Refused,
            "not_conditional",
            format!(
                "资源 {} 为{}，无需申请",
                res.code,
                res.sharing_class.label()
            ),
        ));
    }
    if input.purpose.chars().count() > 500 || input.legal_basis.chars().count() > 500 {
        return Err(Error::invalid("用途和依据各不超过500字"));
    }
    let member = if input.client_member.trim().is_empty() {
        self_member(app).await?.code
    } else {
        rules::parse_member_code(&input.client_member).map_err(Error::invalid)?
    };
    let sub = if input.client_subsystem.trim().is_empty() {
        match user.department_id {
            Some(id) => app.store.department(id).await?.code,
            None => return Err(Error::invalid("请写明申请部门（子系统代码）")),
        }
    } else {
        rules::parse_subsystem(&input.client_subsystem).map_err(Error::invalid)?
    };
    let today = app.today();
    let due = crate::calendar::deadline(app, today, rules::ANSWER_WORKING_DAYS)
        .await?
        .due;
    let r = app
        .store
        .create_conditional_request(
            &res.code,
            &member,
            &sub,
            input.purpose.trim(),
            input.legal_basis.trim(),
            &user.username,
            today,
            due,
        )
        .await?;
    view(app, r).await
}

async fn view(app: &App, r: ConditionalRequest) -> Result<RequestView> {
    let cal = app.calendar().await?;
    let today = app.today();
    let due: chrono::NaiveDate = r.due_on.parse().map_err(Error::internal)?;
    let answered = r
        .answered_on
        .as_deref()
        .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
        .map(|d| d > due);
    let remaining = if today <= due {
        i64::from(
            cal.working_days_between(today, due)
                .map_err(Error::internal)?,
        )
    } else {
        -i64::from(
            cal.working_days_between(due, today)
                .map_err(Error::internal)?
                .max(1),
        )
    };
    let light: Light =
        rules::request_light(answered, remaining, app.thresholds.yellow_remaining_days);
    Ok(RequestView {
        request: r,
        light: light.code(),
        light_label: light.label(),
    })
}

/// The requests, each with its light.
pub async fn requests(app: &App, user: &User) -> Result<Vec<RequestView>> {
    // Who files requests follows them; supervision watches their deadlines.
    if !tongban_core::capability::holds(user.role, Capability::RequestSharing) {
        authz::require_scope(app, user, Capability::ReadSupervision).await?;
    }
    let mut out = Vec::new();
    for r in app.store.conditional_requests().await? {
        out.push(view(app, r).await?);
    }
    Ok(out)
}

/// The provider grants (which records the grant) or refuses with reasons.
pub async fn answer_request(
    app: &App,
    user: &User,
    id: i64,
    grant_it: bool,
    reasons: &str,
) -> Result<RequestView> {
    authz::require_scope(app, user, Capability::AdministerExchange).await?;
    let r = app
        .store
        .conditional_request(id)
        .await?
        .ok_or_else(|| Error::not_found(format!("未找到共享申请：{id}")))?;
    let reasons = reasons.trim();
    if !grant_it && reasons.is_empty() {
        return Err(Error::invalid("不予共享须说明理由"));
    }
    if reasons.chars().count() > 500 {
        return Err(Error::invalid("理由不超过500字"));
    }
    if r.status != "pending" {
        return Err(Error::conflict(format!("共享申请 {id} 已答复")));
    }
    let status = if grant_it { "granted" } else { "refused" };
    if !app
        .store
        .answer_conditional_request(id, status, reasons, app.today())
        .await?
    {
        return Err(Error::conflict(format!("共享申请 {id} 已答复")));
    }
    if grant_it {
        app.store
            .grant_access(
                &r.resource_code,
                &r.client_member,
                &r.client_subsystem,
                &user.username,
                app.now(),
            )
            .await?;
    }
    let r = app
        .store
        .conditional_request(id)
        .await?
        .ok_or_else(|| Error::internal("request vanished"))?;
    view(app, r).await
}

/// Whether the user may administer the exchange (for pages that offer its forms).
pub fn administers(user: &User) -> bool {
    tongban_core::capability::permits(user.role, Capability::AdministerExchange, Standing::Other)
}
