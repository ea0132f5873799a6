//! The OpenAPI 3.1 document for /api/v1, written out by hand from the routes in lib.rs so
//! it stays readable; a test checks that every API route is listed.

use serde_json::{json, Value};

/// (method, path, summary, needs admin)
pub const OPERATIONS: &[(&str, &str, &str, bool)] = &[
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
        "Unlock a locked account",
        true,
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
