//! The OpenAPI 3.1 document for /api/v1, written out by hand from the routes in lib.rs so
//! it stays readable; a test checks that every API route is listed.

use serde_json::{json, Map, Value};
use utoipa::openapi::path::ParameterIn;
use utoipa::{IntoParams, PartialSchema, ToSchema};

/// (method, path, summary, needs admin)
pub const OPERATIONS: &[(&str, &str, &str, bool)] = &[
    (
        "get",
        "/api/v1/items/{impl_code}/workflow",
        "An item's approval steps (role and limit per step) and joint processing",
        false,
    ),
    (
        "put",
        "/api/v1/admin/items/{impl_code}/workflow",
        "Configure an item's approval steps: {steps: [{name, role, limit_days}], joint}",
        true,
    ),
    (
        "get",
        "/api/v1/items",
        "Search and browse items (q, dept, theme, audience, hall, page)",
        false,
    ),
    (
        "get",
        "/api/v1/items/{impl_code}",
        "One item with its materials (办事指南)",
        false,
    ),
    (
        "get",
        "/api/v1/catalog/stats",
        "Catalog indicators; by=department|hall for breakdowns",
        false,
    ),
    (
        "get",
        "/api/v1/analytics/cases",
        "Case figures (from, to, group_by=department|item|hall|window|channel|district|level|day|week|month|year, department, item, level, district): rows and total with counts, numerators and denominators; window groups by the hall window that accepted the case (key 0: not accepted at a window); satisfaction carries 好评率 and the rating counts",
        false,
    ),
    (
        "get",
        "/api/v1/analytics/compare",
        "The same case figures over before_from..before_to and from..to, side by side",
        false,
    ),
    (
        "get",
        "/api/v1/analytics/cases/list",
        "The cases behind the figures (staff; department staff see their department's)",
        false,
    ),
    ("get", "/api/v1/departments", "Departments", false),
    ("get", "/api/v1/halls", "Halls and their windows", false),
    ("get", "/api/v1/themes", "Themes / life events", false),
    (
        "get",
        "/api/v1/bundles",
        "一件事 definitions: {bundles: [{code, name, lead_department, items}]}",
        false,
    ),
    (
        "get",
        "/api/v1/bundles/{bundle_code}",
        "One 一件事 with its questionnaire (情形), merged form and merged material list",
        false,
    ),
    (
        "post",
        "/api/v1/bundles/{bundle_code}/applications",
        "Apply for a 一件事 (applicant online, clerk at a window with `applicant`): {answers, fields, materials, delivery, idempotency_key} → 201 {bundle_no, cases, promised_due}; a retry with the same key answers 200 with the same bundle",
        false,
    ),
    (
        "get",
        "/api/v1/bundle-cases/{bundle_no}",
        "A 一件事 application: its member cases with their status, the bundle's status (completed when all are) and promised_due (the critical path)",
        false,
    ),
    (
        "get",
        "/api/v1/bundle-figures",
        "Figures per 一件事: applications, completed, median and mean working days end to end, share within the promise, open ones under yellow/red",
        false,
    ),
    (
        "post",
        "/api/v1/admin/bundles",
        "Import a 一件事 definition (the definition file as the body) as its next version",
        true,
    ),
    (
        "get",
        "/api/v1/admin/bundles/{bundle_code}",
        "Export a 一件事 definition file (latest version)",
        true,
    ),
    (
        "post",
        "/api/v1/session",
        "Sign in: {username, password} -> {token}",
        false,
    ),
    ("delete", "/api/v1/session", "Sign out", false),
    ("get", "/api/v1/me", "The signed-in user", false),
    (
        "post",
        "/api/v1/me/password",
        "Change one's own password: {current_password, new_password}",
        false,
    ),
    (
        "get",
        "/api/v1/audit",
        "The newest audit log rows and the hash chain's verification (auditors, administrators)",
        false,
    ),
    (
        "get",
        "/api/v1/audit/export",
        "The whole audit log as CSV (auditors, administrators)",
        false,
    ),
    (
        "post",
        "/api/v1/admin/users/{id}/password",
        "Reset a password: {password}, to be changed at the next sign-in",
        true,
    ),
    (
        "post",
        "/api/v1/admin/items",
        "Create an item: {columns, materials}",
        true,
    ),
    (
        "put",
        "/api/v1/admin/items/{impl_code}",
        "Change an item (new version)",
        true,
    ),
    (
        "post",
        "/api/v1/admin/items/{impl_code}/retire",
        "Retire an item: {reason}",
        true,
    ),
    (
        "post",
        "/api/v1/admin/items/{impl_code}/restore",
        "Put a retired item back in service: {reason}",
        true,
    ),
    (
        "get",
        "/api/v1/admin/items/{impl_code}/versions",
        "Version history of an item",
        true,
    ),
    (
        "post",
        "/api/v1/admin/catalog/import",
        "Import CSV/XLSX (multipart: items, materials); all or nothing",
        true,
    ),
    (
        "get",
        "/api/v1/admin/catalog/export",
        "Export (format=csv|xlsx, part=items|materials)",
        true,
    ),
    (
        "get",
        "/api/v1/admin/catalog/four-same",
        "四级四同 consistency report",
        true,
    ),
    (
        "post",
        "/api/v1/admin/departments",
        "Register a department",
        true,
    ),
    ("post", "/api/v1/admin/halls", "Register a hall", true),
    ("get", "/api/v1/admin/users", "Users", true),
    ("post", "/api/v1/admin/users", "Create a user", true),
    (
        "post",
        "/api/v1/admin/users/{id}/unlock",
        "Lift the sign-in delays of an account (every client)",
        true,
    ),
    (
        "post",
        "/api/v1/applicants",
        "Register an applicant account (natural person or enterprise)",
        false,
    ),
    (
        "post",
        "/api/v1/files",
        "Upload one material file (raw body: PDF, JPG, PNG or OFD) -> {sha256}",
        false,
    ),
    (
        "post",
        "/api/v1/cases",
        "Apply (applicant) or take in at a window (clerk); idempotency_key makes retries safe",
        false,
    ),
    (
        "get",
        "/api/v1/cases",
        "Search cases (staff): q, status, from, to, dept",
        false,
    ),
    (
        "get",
        "/api/v1/cases/{no}",
        "One case with deadlines and remaining working days",
        false,
    ),
    (
        "get",
        "/api/v1/cases/{no}/events",
        "The case's ledger events (timeline)",
        false,
    ),
    (
        "get",
        "/api/v1/cases/{no}/notices",
        "The case's written notices (文书) with links to each PDF and its signature file",
        false,
    ),
    (
        "post",
        "/api/v1/cases/{no}/commands",
        "Act on a case: {expected_version, action, ...}; 409 when someone acted first",
        false,
    ),
    (
        "post",
        "/api/v1/cases/{no}/holder-licences",
        "A department looks up the applicant's licences for a case: {purpose} required, logged",
        false,
    ),
    (
        "get",
        "/api/v1/my/cases",
        "The applicant's cases and messages",
        false,
    ),
    (
        "get",
        "/api/v1/inbox",
        "The department inbox, by deadline",
        false,
    ),
    (
        "post",
        "/api/v1/admin/calendar",
        "Load a year of the working-day calendar: {source}",
        true,
    ),
    (
        "get",
        "/api/v1/supervision/records",
        "Supervision records (open=true|false, case_no); department staff see their own",
        false,
    ),
    (
        "post",
        "/api/v1/cases/{no}/ratings",
        "好差评: the case's applicant rates it: {level 1..5, channel web|mobile, stage acceptance|completion, indicators, comment} → 201; a second for the same channel and stage 409; stage not reached 422",
        false,
    ),
    (
        "get",
        "/api/v1/ratings/stats",
        "Public 好差评 figures (from, to = YYYY-MM-DD, department = code): total, by_level, good, bad, rectified, rectified_on_time, called_back, each {count, of, rate}",
        false,
    ),
    (
        "get",
        "/api/v1/ratings/export",
        "A month's ratings as CSV for the provincial 好差评 system (month = YYYY-MM; supervisors, auditors, admins)",
        false,
    ),
    (
        "get",
        "/api/v1/ratings/rectifications",
        "差评 follow-up records (status = open|done): the department's, or all for supervisors",
        false,
    ),
    (
        "post",
        "/api/v1/ratings/{id}/callback",
        "Record the 回访 of a 差评: {note} (the rating's department)",
        false,
    ),
    (
        "post",
        "/api/v1/ratings/{id}/rectify",
        "Record the 整改 of a 差评 after its 回访: {note} (the rating's department)",
        false,
    ),
    (
        "post",
        "/api/v1/ratings/{id}/appeal",
        "The department appeals a rating: {reason, evidence} → 201",
        false,
    ),
    (
        "post",
        "/api/v1/ratings/{id}/appeal/decision",
        "A supervisor outside the department decides: {upheld: bool, reason}; upheld excludes the rating from the figures (kept, marked)",
        false,
    ),
    ("get", "/api/v1/supervision/orders", "督办 orders", false),
    (
        "post",
        "/api/v1/supervision/orders",
        "Issue a 督办 order on a record: {record_no, instruction, due} (supervisor)",
        false,
    ),
    (
        "post",
        "/api/v1/supervision/orders/{no}/answer",
        "The department answers an order: {answer}",
        false,
    ),
    (
        "post",
        "/api/v1/supervision/orders/{no}/close",
        "Close or escalate an order: {escalate, note} (supervisor)",
        false,
    ),
    (
        "get",
        "/api/v1/supervision/departments",
        "Per-department on-time rate, warnings, red cards, average working days (from=YYYY-MM-DD)",
        false,
    ),
    (
        "get",
        "/api/v1/licences",
        "Licences visible to the caller (the holder's 证照夹, or a department's)",
        false,
    ),
    (
        "get",
        "/api/v1/licences/keys",
        "Issuer keys (Ed25519 Multikey, SM2 SEC1 hex) with validity",
        false,
    ),
    (
        "get",
        "/api/v1/licences/status/{purpose}",
        "Signed Bitstring Status List credential (revocation | suspension)",
        false,
    ),
    (
        "post",
        "/api/v1/licences/verify",
        "Verify a licence: {id} or {credential}; every check named",
        false,
    ),
    (
        "get",
        "/api/v1/licences/{id}",
        "One licence with its VC and where it was used",
        false,
    ),
    (
        "post",
        "/api/v1/licences/{id}/status",
        "Revoke, suspend, expire or restore: {action, reason}",
        false,
    ),
    (
        "post",
        "/api/v1/admin/licence-types",
        "Define a licence type and the items that issue it",
        true,
    ),
    (
        "get",
        "/api/v1/ledger/checkpoint",
        "Signed checkpoint of the ledger's Merkle tree (tree size, root, time; Ed25519)",
        false,
    ),
    (
        "get",
        "/api/v1/ledger/keys",
        "Public keys that sign ledger checkpoints",
        false,
    ),
    (
        "get",
        "/api/v1/ledger/entries",
        "Exact leaf bytes of ledger entries [start, end) (auditors, supervisors, administrators)",
        false,
    ),
    (
        "get",
        "/api/v1/ledger/proof/inclusion",
        "RFC 6962 inclusion proof: index, size",
        false,
    ),
    (
        "get",
        "/api/v1/ledger/proof/consistency",
        "RFC 6962 consistency proof: from, to",
        false,
    ),
    ("get", "/api/v1/openapi.json", "This document", false),
    (
        "get",
        "/api/v1/federation/member",
        "This deployment's member document: {code, name, endpoint, keys: [{id, algorithm, public_key}]} (Ed25519 Multikey, SM2 SEC1 hex)",
        false,
    ),
    (
        "post",
        "/api/v1/federation/exchange",
        "A member's signed data call (client, provider, service, case_no, legal_basis, request_id, timestamp; Ed25519 + SM2 proofs) -> the signed response carrying request_hash; refused without a grant, on replay or a bad signature",
        false,
    ),
    (
        "post",
        "/api/v1/federation/events",
        "A member's signed batch of reported case events {type, from, timestamp, events: [{event_id, case_no, case_version, kind, at, event}]} (Ed25519 + SM2 proofs) -> {accepted, duplicates, checkpoint_size}; an event already held is skipped; refused for an untrusted member, a bad signature, or a member under alarm",
        false,
    ),
    (
        "post",
        "/api/v1/federation/checkpoints",
        "A member's signed ledger checkpoint {checkpoint: {size, root, signature}, from_size, proof} -> {consistent}; a proof from another size than the one kept -> 409 {checkpoint_size}; a failed consistency proof raises the alarm -> 422",
        false,
    ),
    (
        "get",
        "/api/v1/federation/outbox",
        "The province link's outbox: {pending, delivered, failed} (administrators)",
        false,
    ),
    (
        "get",
        "/api/v1/federation/reconciliation",
        "Reconciliation with a member (member=CODE): {member, cases, events, digest, last_checkpoint: {size, root}, consistent} (administrators, auditors)",
        false,
    ),
    (
        "get",
        "/api/v1/federation/standard-items",
        "The provincial standard item list held and its differences from the local catalog: {items, differences: [{code, impl_code, name, field, label, standard, local}]} (administrators)",
        false,
    ),
    (
        "post",
        "/api/v1/federation/standard-items",
        "Replace the provincial standard item list: the body is a file in the catalog's import format (CSV or XLSX) -> {items, differences} (administrators)",
        false,
    ),
    (
        "post",
        "/api/v1/federation/cross",
        "跨域通办: a receiving window forwards an application for an item another member owns {owner, impl_code, applicant: {name, id_number}, identity_checked, seen, materials: [{name, sha256, original_checked}], waybill} -> 201 the receipt with its timeline (window clerks)",
        false,
    ),
    (
        "post",
        "/api/v1/federation/cross/receive",
        "跨域通办: the owner takes a member's signed receipt attestation with its materials -> {receipt_id, status}",
        false,
    ),
    (
        "post",
        "/api/v1/federation/cross/status",
        "跨域通办: the receiving member takes the owner's signed answer {receipt_id, status, case_no, reasons}",
        false,
    ),
    (
        "get",
        "/api/v1/federation/cross/{id}",
        "跨域通办: a receipt and its one timeline, on either member (window clerks, or the applicant it is for)",
        false,
    ),
    (
        "post",
        "/api/v1/federation/cross/{id}/decision",
        "跨域通办: the owner accepts (opens its case; its own 受理 starts the legal clock) or refuses with reasons: {decision: accept|refuse, reasons} (window clerks)",
        false,
    ),
    (
        "get",
        "/api/v1/exchange/catalog",
        "The resource catalog (q to search): {resources: [{code, name, provider, sharing_class, basis, fields, ...}]} (staff)",
        false,
    ),
    (
        "get",
        "/api/v1/exchange/catalog.xlsx",
        "The resource catalog as XLSX (GB/T 21063 core metadata)",
        false,
    ),
    (
        "post",
        "/api/v1/exchange/resources",
        "Publish a resource: {code, name, provider, provider_code, summary, fields, format, update_cycle, published_on, sharing_class (无条件|有条件|不予), basis} (sharing officer)",
        false,
    ),
    (
        "post",
        "/api/v1/exchange/grants",
        "Grant a client the right to call a resource: {resource, client_member, client_subsystem} (sharing officer)",
        false,
    ),
    (
        "post",
        "/api/v1/exchange/evidence",
        "Declare a resource as evidence of an item: {impl_code, resource, provider_member} (sharing officer)",
        false,
    ),
    (
        "post",
        "/api/v1/exchange/calls",
        "Fetch evidence for a case in hand: {provider, service, case_no, legal_basis, purpose} -> {request_id, request_hash, response_hash, data, trust}",
        false,
    ),
    (
        "get",
        "/api/v1/exchange/log",
        "The hash-chained log of signed messages in and out (request_id to filter; sharing officer)",
        false,
    ),
    (
        "get",
        "/api/v1/exchange/requests",
        "Conditional requests with their light (green, yellow, red) against the 10-working-day answer limit",
        false,
    ),
    (
        "post",
        "/api/v1/exchange/requests",
        "File a conditional request: {resource, purpose, legal_basis, client_member, client_subsystem}",
        false,
    ),
    (
        "post",
        "/api/v1/exchange/requests/{id}/answer",
        "Answer a conditional request: {decision: grant|refuse, reasons} (refusals need reasons; sharing officer)",
        false,
    ),
    (
        "post",
        "/api/v1/cases/{no}/exchange-consent",
        "The applicant confirms that the item's declared evidence may be fetched for the case",
        false,
    ),
    (
        "get",
        "/api/v1/my/data-access",
        "Every access to the applicant's data: {accesses: [{at, who, department, case_no, resource, purpose}]}",
        false,
    ),
    (
        "get",
        "/api/v1/calendar/deadline",
        "Due date: from=YYYY-MM-DD&working_days=N -> {due}",
        false,
    ),
    (
        "get",
        "/api/v1/halls/{hall}/slots",
        "Appointment slots: item=IMPL_CODE&from=YYYY-MM-DD&to=YYYY-MM-DD -> {slots: [{id, date, start, end, capacity, booked}]}",
        false,
    ),
    (
        "post",
        "/api/v1/halls/{hall}/tickets",
        "Take a queue ticket: {item} or {appointment} -> 201 {ticket, position, estimate_minutes, id}",
        false,
    ),
    (
        "get",
        "/api/v1/halls/{hall}/figures",
        "Queue figures per hall, window, item and hour (from, to)",
        false,
    ),
    (
        "post",
        "/api/v1/appointments",
        "Book: {slot, item[, applicant]} -> 201, or 409 when the slot is full",
        false,
    ),
    ("get", "/api/v1/my/appointments", "One's appointments", false),
    (
        "delete",
        "/api/v1/appointments/{id}",
        "Cancel an appointment -> 204",
        false,
    ),
    (
        "post",
        "/api/v1/appointments/{id}/reschedule",
        "Move an appointment: {slot} (409 when the new slot is full)",
        false,
    ),
    (
        "get",
        "/api/v1/tickets/{id}",
        "A ticket with its position and estimated wait",
        false,
    ),
    ("post", "/api/v1/tickets/{id}/serve", "Start serving a called ticket", false),
    ("post", "/api/v1/tickets/{id}/skip", "过号: skip a called ticket", false),
    (
        "post",
        "/api/v1/tickets/{id}/transfer",
        "Send a ticket to another window: {window}",
        false,
    ),
    (
        "post",
        "/api/v1/tickets/{id}/finish",
        "Finish a ticket, linking the case it became: {case_no}",
        false,
    ),
    (
        "post",
        "/api/v1/windows/{id}/call",
        "Call the next ticket this window serves -> the ticket, or 204",
        false,
    ),
    (
        "post",
        "/api/v1/windows/{id}/recall",
        "Call the window's current ticket again",
        false,
    ),
    (
        "get",
        "/api/v1/cases/{no}/delivery/events",
        "The case's parcel tracking events",
        false,
    ),
    (
        "post",
        "/api/v1/cases/{no}/delivery/events",
        "Record a tracking event: {waybill, status, at, reason}; a wrong S10 check digit -> 422",
        false,
    ),
    (
        "post",
        "/api/v1/delivery/import",
        "Import a carrier file (CSV: waybill,status,at,reason)",
        false,
    ),
    (
        "post",
        "/api/v1/delivery/webhook",
        "A carrier's push {waybill, status, at, reason}, signed: X-Carrier-Signature: sha256=HMAC",
        false,
    ),
    (
        "get",
        "/api/v1/delivery/figures",
        "Delivery figures: share by post, median days to 签收, failures by cause (days)",
        false,
    ),
];

/// What an operation takes and gives beyond its path parameters: query parameters and the
/// request body come from the handler's own types (their `utoipa` derives), so the document
/// cannot drift from what the handler parses; the success response's shape is described here.
#[derive(Default)]
struct Detail {
    query: Vec<Value>,
    body: Option<(&'static str, Value)>,
    ok_status: u16,
    /// Another success status with the same body (a retry answered 200, nobody waiting 204).
    ok_also: Option<u16>,
    ok: Vec<(&'static str, Value)>,
    signed_in: bool,
}

/// The JSON schema of a request type, registered under its name in the components.
fn body<T: ToSchema>(components: &mut Map<String, Value>) -> Option<(&'static str, Value)> {
    let mut deps = Vec::new();
    T::schemas(&mut deps);
    for (name, schema) in deps {
        components.insert(name, to_json(&schema));
    }
    let name = T::name().to_string();
    components.insert(name.clone(), to_json(&<T as PartialSchema>::schema()));
    Some((
        "application/json",
        json!({ "$ref": format!("#/components/schemas/{name}") }),
    ))
}

fn query<T: IntoParams>() -> Vec<Value> {
    T::into_params(|| Some(ParameterIn::Query))
        .iter()
        .map(to_json)
        .collect()
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// An object with the listed members required (more may follow).
fn obj(fields: &[(&str, Value)]) -> Value {
    let props: Map<String, Value> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let required: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
    json!({ "type": "object", "required": required, "properties": props })
}

fn arr(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

fn t(kind: &str) -> Value {
    json!({ "type": kind })
}

fn nullable(kind: &str) -> Value {
    json!({ "type": [kind, "null"] })
}

fn json_ok(schema: Value) -> Vec<(&'static str, Value)> {
    vec![("application/json", schema)]
}

fn rate() -> Value {
    obj(&[
        ("count", t("integer")),
        ("of", t("integer")),
        ("rate", t("number")),
    ])
}

fn case_list() -> Value {
    obj(&[
        ("total", t("integer")),
        (
            "cases",
            arr(obj(&[
                ("case_no", t("string")),
                ("impl_code", t("string")),
                ("item_name", t("string")),
                ("status", t("string")),
            ])),
        ),
    ])
}

fn item() -> Value {
    obj(&[
        ("impl_code", t("string")),
        ("name", t("string")),
        ("status", json!({ "enum": ["active", "retired"] })),
        ("version", t("integer")),
        ("depth_level", t("integer")),
        ("columns", t("object")),
        ("materials", arr(t("object"))),
    ])
}

fn bundle_case() -> Value {
    obj(&[
        ("bundle_no", t("string")),
        ("status", t("string")),
        ("promised_due", t("string")),
        (
            "cases",
            arr(obj(&[
                ("case_no", nullable("string")),
                ("item", t("string")),
                ("status", t("string")),
            ])),
        ),
    ])
}

fn detail(method: &str, path: &str, c: &mut Map<String, Value>) -> Detail {
    use crate::{api, case_api, ledger_api, licences, session, supervision};
    let signed_in = !matches!(
        (method, path),
        ("get", "/api/v1/items")
            | ("get", "/api/v1/items/{impl_code}")
            | ("get", "/api/v1/items/{impl_code}/workflow")
            | ("get", "/api/v1/catalog/stats")
            | ("get", "/api/v1/departments")
            | ("get", "/api/v1/halls")
            | ("get", "/api/v1/themes")
            | ("get", "/api/v1/bundles")
            | ("get", "/api/v1/bundles/{bundle_code}")
            | ("get", "/api/v1/bundle-figures")
            | ("get", "/api/v1/calendar/deadline")
            | ("post", "/api/v1/session")
            | ("post", "/api/v1/applicants")
            | ("get", "/api/v1/openapi.json")
            | ("get", "/api/v1/licences/keys")
            | ("post", "/api/v1/licences/verify")
            | ("get", "/api/v1/licences/status/{purpose}")
            | ("get", "/api/v1/ledger/checkpoint")
            | ("get", "/api/v1/ledger/keys")
            | ("get", "/api/v1/ledger/proof/inclusion")
            | ("get", "/api/v1/ledger/proof/consistency")
            | ("get", "/api/v1/ratings/stats")
            | ("get", "/api/v1/analytics/cases")
            | ("get", "/api/v1/analytics/compare")
            | ("get", "/api/v1/halls/{hall}/slots")
            | ("post", "/api/v1/halls/{hall}/tickets")
            | ("get", "/api/v1/tickets/{id}")
            // Peers and carriers sign their messages instead of signing in.
            | ("get", "/api/v1/federation/member")
            | ("post", "/api/v1/federation/exchange")
            | ("post", "/api/v1/federation/events")
            | ("post", "/api/v1/federation/checkpoints")
            | ("post", "/api/v1/federation/cross/receive")
            | ("post", "/api/v1/federation/cross/status")
            | ("post", "/api/v1/delivery/webhook")
    );
    let mut d = Detail {
        ok_status: 200,
        ok: json_ok(t("object")),
        signed_in,
        ..Detail::default()
    };
    match (method, path) {
        ("get", "/api/v1/items") => {
            d.query = query::<tongban_app::catalog::ItemQuery>();
            d.ok = json_ok(obj(&[
                ("total", t("integer")),
                ("page", t("integer")),
                ("page_size", t("integer")),
                ("items", arr(item())),
            ]));
        }
        ("get", "/api/v1/items/{impl_code}") => d.ok = json_ok(item()),
        ("get", "/api/v1/catalog/stats") => {
            d.query = query::<api::StatsQuery>();
            d.ok = json_ok(obj(&[
                ("total", t("integer")),
                ("online_capable", rate()),
                ("fully_online", rate()),
                ("definitions", arr(t("object"))),
            ]));
        }
        ("get", "/api/v1/departments") => {
            d.ok = json_ok(arr(obj(&[
                ("id", t("integer")),
                ("code", t("string")),
                ("name", t("string")),
            ])))
        }
        ("get", "/api/v1/halls") => {
            d.ok = json_ok(arr(obj(&[
                ("id", t("integer")),
                ("name", t("string")),
                ("kind", t("string")),
                ("windows", arr(t("object"))),
            ])))
        }
        ("get", "/api/v1/themes") => {
            d.ok = json_ok(arr(obj(&[
                ("slug", t("string")),
                ("name", t("string")),
                ("items", t("integer")),
            ])))
        }
        ("get", "/api/v1/calendar/deadline") => {
            d.query = query::<crate::DeadlineQuery>();
            d.ok = json_ok(obj(&[("due", t("string")), ("provisional", t("boolean"))]));
        }
        ("post", "/api/v1/session") => {
            d.body = body::<session::ApiLogin>(c);
            d.ok = json_ok(obj(&[("token", t("string")), ("user", t("object"))]));
        }
        ("delete", "/api/v1/session") => (d.ok_status, d.ok) = (204, vec![]),
        ("get", "/api/v1/me") => {
            d.ok = json_ok(obj(&[
                ("username", t("string")),
                ("display_name", t("string")),
                ("role", t("string")),
                ("department_id", nullable("integer")),
            ]))
        }
        ("post", "/api/v1/me/password") => {
            d.body = body::<session::ApiPassword>(c);
            (d.ok_status, d.ok) = (204, vec![]);
        }
        ("get", "/api/v1/audit") => {
            d.query = query::<api::AuditQuery>();
            d.ok = json_ok(obj(&[
                ("chain", t("object")),
                ("entries", arr(t("object"))),
            ]));
        }
        ("get", "/api/v1/audit/export") => {
            d.ok = vec![("text/csv", t("string"))];
        }
        ("post", "/api/v1/admin/users/{id}/password") => {
            d.body = body::<api::ResetBody>(c);
            (d.ok_status, d.ok) = (204, vec![]);
        }
        ("post", "/api/v1/admin/users/{id}/unlock") => (d.ok_status, d.ok) = (204, vec![]),
        ("post", "/api/v1/admin/items") => {
            d.body = body::<api::ItemBody>(c);
            (d.ok_status, d.ok) = (201, json_ok(item()));
        }
        ("put", "/api/v1/admin/items/{impl_code}") => {
            d.body = body::<api::ItemBody>(c);
            d.ok = json_ok(item());
        }
        ("post", "/api/v1/admin/items/{impl_code}/retire")
        | ("post", "/api/v1/admin/items/{impl_code}/restore") => {
            d.body = body::<api::ReasonBody>(c);
        }
        ("put", "/api/v1/admin/items/{impl_code}/workflow") => {
            d.body = body::<api::WorkflowBody>(c);
        }
        ("get", "/api/v1/admin/items/{impl_code}/versions") => {
            d.ok = json_ok(arr(t("object")));
        }
        ("post", "/api/v1/admin/catalog/import") => {
            d.body = Some((
                "multipart/form-data",
                json!({ "type": "object", "properties": {
                    "items": { "type": "string", "contentMediaType": "application/octet-stream" },
                    "materials": { "type": "string", "contentMediaType": "application/octet-stream" }
                } }),
            ));
        }
        ("get", "/api/v1/admin/catalog/export") => {
            d.query = query::<api::ExportQuery>();
            d.ok = vec![
                ("text/csv", t("string")),
                (
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    t("string"),
                ),
            ];
        }
        ("get", "/api/v1/admin/catalog/four-same") => d.ok = json_ok(arr(t("object"))),
        ("post", "/api/v1/admin/departments") => {
            d.body = body::<api::DepartmentBody>(c);
            d.ok_status = 201;
        }
        ("post", "/api/v1/admin/halls") => {
            d.body = body::<api::HallBody>(c);
            d.ok_status = 201;
        }
        ("get", "/api/v1/admin/users") => d.ok = json_ok(arr(t("object"))),
        ("post", "/api/v1/admin/users") => {
            d.body = body::<api::UserBody>(c);
            d.ok_status = 201;
        }
        ("post", "/api/v1/applicants") => {
            d.body = body::<case_api::Registration>(c);
            d.ok_status = 201;
            d.ok = json_ok(obj(&[
                ("user_id", t("integer")),
                ("username", t("string")),
                ("applicant_id", t("integer")),
            ]));
        }
        ("post", "/api/v1/files") => {
            d.body = Some((
                "application/octet-stream",
                json!({ "type": "string", "contentMediaType": "application/octet-stream" }),
            ));
            d.ok_status = 201;
            d.ok = json_ok(obj(&[("sha256", t("string"))]));
        }
        ("post", "/api/v1/cases") => {
            d.body = body::<case_api::ApplyBody>(c);
            d.ok_status = 201;
            d.ok_also = Some(200);
            d.ok = json_ok(obj(&[("case_no", t("string"))]));
        }
        ("get", "/api/v1/cases") => {
            d.query = query::<tongban_app::cases::ListQuery>();
            d.ok = json_ok(case_list());
        }
        ("get", "/api/v1/inbox") => d.ok = json_ok(case_list()),
        ("get", "/api/v1/bundles") => {
            d.ok = json_ok(obj(&[(
                "bundles",
                arr(obj(&[
                    ("code", t("string")),
                    ("name", t("string")),
                    ("lead_department", t("string")),
                    ("items", arr(t("object"))),
                ])),
            )]))
        }
        ("get", "/api/v1/bundles/{bundle_code}") => {
            d.ok = json_ok(obj(&[
                ("code", t("string")),
                ("name", t("string")),
                ("lead_department", t("string")),
                ("items", arr(t("object"))),
                ("questions", arr(t("object"))),
                ("fields", arr(t("object"))),
                ("materials", arr(t("object"))),
            ]))
        }
        ("post", "/api/v1/bundles/{bundle_code}/applications") => {
            d.body = body::<crate::bundles::BundleApplyBody>(c);
            d.ok_status = 201;
            d.ok_also = Some(200);
            d.ok = json_ok(bundle_case());
        }
        ("get", "/api/v1/bundle-cases/{bundle_no}") => d.ok = json_ok(bundle_case()),
        ("get", "/api/v1/bundle-figures") => {
            d.ok = json_ok(obj(&[("bundles", arr(t("object")))]));
        }
        ("post", "/api/v1/admin/bundles") => {
            d.body = Some(("application/json", t("object")));
            d.ok_status = 201;
            d.ok = json_ok(obj(&[("code", t("string")), ("version", t("integer"))]));
        }
        ("get", "/api/v1/admin/bundles/{bundle_code}") => d.ok = json_ok(t("object")),
        ("get", "/api/v1/cases/{no}") => {
            d.ok = json_ok(obj(&[
                ("case_no", t("string")),
                ("status", t("string")),
                ("version", t("integer")),
            ]))
        }
        ("get", "/api/v1/cases/{no}/events") => {
            d.ok = json_ok(arr(obj(&[
                ("actor", t("string")),
                ("at", t("string")),
                ("event", t("object")),
            ])))
        }
        ("get", "/api/v1/cases/{no}/notices") => {
            d.ok = json_ok(obj(&[
                ("case_no", t("string")),
                ("notices", arr(t("object"))),
            ]))
        }
        ("post", "/api/v1/cases/{no}/commands") => {
            d.body = body::<case_api::CommandBody>(c);
        }
        ("post", "/api/v1/cases/{no}/holder-licences") => {
            d.body = body::<licences::LookupBody>(c);
        }
        ("get", "/api/v1/my/cases") => d.ok = json_ok(obj(&[("cases", arr(t("object")))])),
        ("post", "/api/v1/admin/calendar") => d.body = body::<case_api::CalendarBody>(c),
        ("get", "/api/v1/supervision/records") => {
            d.query = query::<supervision::RecordsQuery>();
            d.ok = json_ok(obj(&[("records", arr(t("object")))]));
        }
        ("get", "/api/v1/supervision/orders") => {
            d.ok = json_ok(obj(&[("orders", arr(t("object")))]));
        }
        ("post", "/api/v1/supervision/orders") => {
            d.body = body::<supervision::IssueBody>(c);
            d.ok_status = 201;
        }
        ("post", "/api/v1/supervision/orders/{no}/answer") => {
            d.body = body::<supervision::AnswerBody>(c);
        }
        ("post", "/api/v1/supervision/orders/{no}/close") => {
            d.body = body::<supervision::CloseBody>(c);
        }
        ("get", "/api/v1/supervision/departments") => {
            d.query = query::<supervision::PeriodQuery>();
            d.ok = json_ok(obj(&[("departments", arr(t("object")))]));
        }
        ("get", "/api/v1/licences") => {
            d.ok = json_ok(obj(&[("licences", arr(t("object")))]));
        }
        ("get", "/api/v1/licences/keys") => d.ok = json_ok(obj(&[("keys", arr(t("object")))])),
        ("post", "/api/v1/licences/verify") => d.body = body::<licences::VerifyBody>(c),
        ("post", "/api/v1/licences/{id}/status") => d.body = body::<licences::StatusBody>(c),
        ("post", "/api/v1/admin/licence-types") => {
            d.body = body::<licences::TypeBody>(c);
            d.ok_status = 201;
        }
        ("get", "/api/v1/ledger/checkpoint") => {
            d.ok = json_ok(obj(&[
                ("origin", t("string")),
                ("size", t("integer")),
                ("root", t("string")),
                ("signature", t("string")),
            ]))
        }
        ("get", "/api/v1/ledger/keys") => d.ok = json_ok(obj(&[("keys", arr(t("object")))])),
        ("get", "/api/v1/ledger/entries") => {
            d.query = query::<ledger_api::Range>();
            d.ok = json_ok(obj(&[("entries", arr(t("object")))]));
        }
        ("get", "/api/v1/ledger/proof/inclusion") => {
            d.query = query::<ledger_api::InclusionQuery>();
            d.ok = json_ok(obj(&[
                ("index", t("integer")),
                ("size", t("integer")),
                ("path", arr(t("string"))),
                ("root", t("string")),
            ]));
        }
        ("get", "/api/v1/ledger/proof/consistency") => {
            d.query = query::<ledger_api::ConsistencyQuery>();
            d.ok = json_ok(obj(&[
                ("from", t("integer")),
                ("to", t("integer")),
                ("proof", arr(t("string"))),
            ]));
        }
        ("post", "/api/v1/cases/{no}/ratings") => {
            d.body = body::<crate::ratings::RateBody>(c);
            d.ok_status = 201;
        }
        ("get", "/api/v1/ratings/stats") => {
            d.query = query::<crate::ratings::StatsQuery>();
            d.ok = json_ok(obj(&[
                ("total", t("integer")),
                ("by_level", t("object")),
                ("good", rate()),
                ("bad", rate()),
                ("rectified", rate()),
                ("rectified_on_time", rate()),
                ("called_back", rate()),
            ]));
        }
        ("get", "/api/v1/ratings/export") => {
            d.query = query::<crate::ratings::MonthQuery>();
            d.ok = vec![("text/csv", t("string"))];
        }
        ("get", "/api/v1/ratings/rectifications") => {
            d.query = query::<crate::ratings::StatusQuery>();
        }
        ("post", "/api/v1/ratings/{id}/callback") | ("post", "/api/v1/ratings/{id}/rectify") => {
            d.body = body::<crate::ratings::NoteBody>(c);
        }
        ("post", "/api/v1/ratings/{id}/appeal") => {
            d.body = body::<crate::ratings::AppealBody>(c);
            d.ok_status = 201;
        }
        ("post", "/api/v1/ratings/{id}/appeal/decision") => {
            d.body = body::<crate::ratings::DecisionBody>(c);
        }
        ("get", "/api/v1/analytics/cases")
        | ("get", "/api/v1/analytics/compare")
        | ("get", "/api/v1/analytics/cases/list") => {
            d.query = query::<crate::analytics::FigureParams>();
        }
        ("get", "/api/v1/halls/{hall}/slots") => {
            d.query = query::<crate::hall::SlotQuery>();
            d.ok = json_ok(obj(&[("slots", arr(t("object")))]));
        }
        ("post", "/api/v1/halls/{hall}/tickets") => {
            d.body = body::<crate::hall::TicketBody>(c);
            d.ok_status = 201;
            d.ok = json_ok(obj(&[("ticket", t("string")), ("position", t("integer"))]));
        }
        ("get", "/api/v1/halls/{hall}/figures") => d.query = query::<crate::hall::FiguresQuery>(),
        ("post", "/api/v1/appointments") => {
            d.body = body::<crate::hall::BookBody>(c);
            d.ok_status = 201;
        }
        ("delete", "/api/v1/appointments/{id}") => (d.ok_status, d.ok) = (204, vec![]),
        ("post", "/api/v1/appointments/{id}/reschedule") => {
            d.body = body::<crate::hall::RescheduleBody>(c);
        }
        ("post", "/api/v1/tickets/{id}/transfer") => {
            d.body = body::<crate::hall::TransferBody>(c);
        }
        ("post", "/api/v1/tickets/{id}/finish") => d.body = body::<crate::hall::FinishBody>(c),
        ("post", "/api/v1/windows/{id}/call") => d.ok_also = Some(204),
        ("post", "/api/v1/cases/{no}/delivery/events") => {
            d.body = body::<crate::hall::TrackBody>(c);
            d.ok_status = 201;
            d.ok_also = Some(200);
        }
        ("post", "/api/v1/delivery/import") => {
            d.body = Some(("text/csv", t("string")));
        }
        ("post", "/api/v1/delivery/webhook") => {
            d.body = Some(("application/json", t("object")));
            d.ok_status = 201;
            d.ok_also = Some(200);
        }
        ("get", "/api/v1/delivery/figures") => {
            d.query = query::<crate::hall::DeliveryFiguresQuery>();
        }
        ("get", "/api/v1/federation/member") => {
            d.ok = json_ok(obj(&[("code", t("string")), ("name", t("string"))]));
        }
        ("post", "/api/v1/federation/exchange") => {
            d.body = Some(("application/json", t("object")));
        }
        ("post", "/api/v1/federation/events") => {
            d.body = Some(("application/json", t("object")));
            d.ok = json_ok(obj(&[
                ("accepted", t("integer")),
                ("duplicates", t("integer")),
                ("checkpoint_size", t("integer")),
            ]));
        }
        ("post", "/api/v1/federation/checkpoints") => {
            d.body = Some(("application/json", t("object")));
            d.ok = json_ok(obj(&[
                ("consistent", t("boolean")),
                ("checkpoint_size", t("integer")),
            ]));
        }
        ("get", "/api/v1/federation/outbox") => {
            d.ok = json_ok(obj(&[
                ("pending", t("integer")),
                ("delivered", t("integer")),
                ("failed", t("integer")),
            ]));
        }
        ("get", "/api/v1/federation/reconciliation") => {
            d.query = query::<crate::federation::MemberQuery>();
            d.ok = json_ok(obj(&[
                ("member", t("string")),
                ("cases", t("integer")),
                ("events", t("integer")),
                ("digest", t("string")),
                ("last_checkpoint", t("object")),
                ("consistent", t("boolean")),
            ]));
        }
        ("get", "/api/v1/federation/standard-items") => {
            d.ok = json_ok(obj(&[
                ("items", t("integer")),
                ("differences", arr(t("object"))),
            ]));
        }
        ("post", "/api/v1/federation/standard-items") => {
            d.body = Some(("text/csv", t("string")));
            d.ok = json_ok(obj(&[
                ("items", t("integer")),
                ("differences", arr(t("object"))),
            ]));
        }
        ("post", "/api/v1/federation/cross") => {
            d.body = body::<tongban_app::federation::CrossInput>(c);
            d.ok_status = 201;
        }
        ("post", "/api/v1/federation/cross/receive")
        | ("post", "/api/v1/federation/cross/status") => {
            d.body = Some(("application/json", t("object")));
        }
        ("post", "/api/v1/federation/cross/{id}/decision") => {
            d.body = body::<crate::federation::DecisionBody>(c);
        }
        ("get", "/api/v1/exchange/catalog") => {
            d.query = query::<crate::exchange::Search>();
            d.ok = json_ok(obj(&[("resources", arr(t("object")))]));
        }
        ("get", "/api/v1/exchange/catalog.xlsx") => {
            d.query = query::<crate::exchange::Search>();
            d.ok = vec![(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                t("string"),
            )];
        }
        ("post", "/api/v1/exchange/resources") => {
            d.body = body::<crate::exchange::PublishBody>(c);
            d.ok_status = 201;
        }
        ("post", "/api/v1/exchange/grants") => {
            d.body = body::<crate::exchange::GrantBody>(c);
            d.ok_status = 201;
        }
        ("post", "/api/v1/exchange/evidence") => {
            d.body = body::<crate::exchange::EvidenceBody>(c);
            d.ok_status = 201;
        }
        ("post", "/api/v1/exchange/calls") => {
            d.body = body::<tongban_app::exchange::CallInput>(c);
        }
        ("get", "/api/v1/exchange/log") => d.query = query::<crate::exchange::LogQuery>(),
        ("get", "/api/v1/exchange/requests") => {
            d.ok = json_ok(obj(&[("requests", arr(t("object")))]));
        }
        ("post", "/api/v1/exchange/requests") => {
            d.body = body::<tongban_app::exchange::RequestInput>(c);
            d.ok_status = 201;
        }
        ("post", "/api/v1/exchange/requests/{id}/answer") => {
            d.body = body::<crate::exchange::AnswerBody>(c);
        }
        ("get", "/api/v1/my/data-access") => {
            d.ok = json_ok(obj(&[("accesses", arr(t("object")))]));
        }
        _ => {}
    }
    d
}

/// The API's routes split into segments once (every API request is matched against them).
type RouteSegments = Vec<(&'static str, Vec<&'static str>, usize)>;

fn route_segments() -> &'static RouteSegments {
    static ROUTES: std::sync::OnceLock<RouteSegments> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| {
        OPERATIONS
            .iter()
            .map(|(m, p, _, _)| (*m, p.split('/').collect(), p.matches('{').count()))
            .collect()
    })
}

/// True when the path's segments match a template's (`{name}` matches one segment).
fn segments_match(template: &[&str], path: &[&str]) -> bool {
    template.len() == path.len()
        && template
            .iter()
            .zip(path)
            .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}

/// The methods the API serves on `path` (none when the path is not an API route); used
/// to answer 405 with `Allow` before any other check.
pub fn methods_for(path: &str) -> Vec<&'static str> {
    let path: Vec<&str> = path.split('/').collect();
    // A literal segment wins over a parameter (`/licences/verify` is not `/licences/{id}`).
    let matching: Vec<_> = route_segments()
        .iter()
        .filter(|(_, t, _)| segments_match(t, &path))
        .collect();
    let fewest = matching.iter().map(|(_, _, params)| *params).min();
    matching
        .iter()
        .filter(|(_, _, params)| Some(*params) == fewest)
        .map(|(m, _, _)| *m)
        .collect()
}

pub fn document() -> Value {
    let mut paths = Map::new();
    let mut components = Map::new();
    components.insert(
        "Error".into(),
        json!({ "type": "object", "required": ["code", "message"], "properties": { "code": { "type": "string" }, "message": { "type": "string" } } }),
    );
    for (method, path, summary, admin) in OPERATIONS {
        let d = detail(method, path, &mut components);
        let mut params: Vec<Value> = path
            .split('/')
            .filter(|s| s.starts_with('{'))
            .map(|s| {
                let name = s.trim_matches(|c| c == '{' || c == '}');
                // Numeric ids, except licence identifiers and exchange request ids.
                let numeric = name == "id"
                    && !path.starts_with("/api/v1/licences/")
                    && !path.starts_with("/api/v1/exchange/");
                let schema = if numeric {
                    json!({ "type": "integer", "format": "int64" })
                } else {
                    json!({ "type": "string", "minLength": 1 })
                };
                json!({ "name": name, "in": "path", "required": true, "schema": schema })
            })
            .collect();
        params.extend(d.query);
        let error = json!({ "description": "Refused", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
        let mut responses = Map::new();
        let ok = if d.ok.is_empty() {
            json!({ "description": "Done" })
        } else {
            let content: Map<String, Value> =
                d.ok.into_iter()
                    .map(|(ct, schema)| (ct.to_string(), json!({ "schema": schema })))
                    .collect();
            json!({ "description": "OK", "content": content })
        };
        if let Some(also) = d.ok_also {
            let also_body = if also == 204 {
                json!({ "description": "Nothing to answer" })
            } else {
                ok.clone()
            };
            responses.insert(also.to_string(), also_body);
        }
        responses.insert(d.ok_status.to_string(), ok);
        responses.insert("4XX".into(), error.clone());
        responses.insert("5XX".into(), error);
        let mut op = json!({
            "summary": summary,
            "operationId": format!("{method}{}", path.trim_start_matches("/api/v1").replace(['/', '{', '}', '-', '.'], "_")),
            "parameters": params,
            "responses": responses,
        });
        if let Some((ct, schema)) = d.body {
            op["requestBody"] =
                json!({ "required": true, "content": { ct: { "schema": schema } } });
        }
        if *admin || d.signed_in {
            op["security"] = json!([{ "bearer": [] }, { "cookie": [] }]);
        }
        if *admin {
            op["description"] = json!("Requires the 系统管理员 (admin) role.");
        }
        paths
            .entry(path.to_string())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("path item")
            .insert(method.to_string(), op);
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "tongban API", "version": env!("CARGO_PKG_VERSION"), "description": "一网通办 platform API. Errors are {code, message}." },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "POST /api/v1/session → token" },
                "cookie": { "type": "apiKey", "in": "cookie", "name": "tb_session" }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `/api/v1` route registered in lib.rs is documented, with each of its methods.
    #[test]
    fn every_api_route_is_documented() {
        // Feature modules that own their API routes are read too.
        let src = concat!(include_str!("lib.rs"), include_str!("ratings.rs"));
        let mut missing = Vec::new();
        // Each `.route(` call up to the next one, however rustfmt wrapped it.
        for line in src
            .split(".route(")
            .skip(1)
            .map(|seg| seg.split(".layer(").next().unwrap_or(seg))
            // (a module's router() ends where its function does)
            .map(|seg| seg.split("\n}").next().unwrap_or(seg))
            .filter(|seg| seg.trim_start().starts_with("\"/api/v1/"))
        {
            let path = line
                .split('"')
                .nth(1)
                .unwrap_or("")
                .replace("{code}", "{impl_code}");
            for method in ["get", "post", "put", "delete"] {
                let routed = line.contains(&format!("{method}("))
                    || line.contains(&format!("routing::{method}("));
                if routed
                    && !OPERATIONS
                        .iter()
                        .any(|(m, p, _, _)| *m == method && *p == path)
                {
                    missing.push(format!("{method} {path}"));
                }
            }
        }
        assert!(missing.is_empty(), "undocumented: {missing:?}");
        let documented = src
            .split(".route(")
            .filter(|seg| seg.trim_start().starts_with("\"/api/v1/"))
            .count();
        assert!(
            documented >= 45,
            "only {documented} API routes found in lib.rs"
        );
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(doc["paths"]["/api/v1/cases/{no}/commands"]["post"].is_object());
    }
}
