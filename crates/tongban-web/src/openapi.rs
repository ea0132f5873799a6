//! The OpenAPI 3.1 document for /api/v1, written out by hand from the routes in lib.rs so
//! it stays readable; a test checks that every API route is listed.

use serde_json::{json, Value};

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
    ("get", "/api/v1/departments", "Departments", false),
    ("get", "/api/v1/halls", "Halls and their windows", false),
    ("get", "/api/v1/themes", "Themes / life events", false),
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
];

pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, summary, admin) in OPERATIONS {
        let params: Vec<Value> = path
            .split('/')
            .filter(|s| s.starts_with('{'))
            .map(|s| json!({ "name": s.trim_matches(|c| c == '{' || c == '}'), "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        let mut op = json!({
            "summary": summary,
            "parameters": params,
            "responses": {
                "200": { "description": "OK" },
                "4XX": { "description": "Refused", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
            }
        });
        if *admin {
            op["security"] = json!([{ "bearer": [] }, { "cookie": [] }]);
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
            "schemas": { "Error": { "type": "object", "required": ["code", "message"], "properties": { "code": { "type": "string" }, "message": { "type": "string" } } } },
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
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
        let src = include_str!("lib.rs");
        let mut missing = Vec::new();
        // Each `.route(` call up to the next one, however rustfmt wrapped it.
        for line in src
            .split(".route(")
            .skip(1)
            .map(|seg| seg.split(".layer(").next().unwrap_or(seg))
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
