//! The OpenAPI document describes what each operation takes and gives (request bodies,
//! query parameters, success schemas, security), and methods an API path does not serve are
//! answered 405 with `Allow` before any CSRF or sign-in check. CI fuzzes the same document
//! with schemathesis (`.ci/schemathesis`).

use super::App;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

async fn document(app: &App) -> Value {
    reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Follows a `$ref` into the components.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// The body's schema, with an `allOf` (a struct with flattened extras) merged into one object.
fn body_schema(doc: &Value, method: &str, path: &str) -> Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not documented");
    let schema = resolve(
        doc,
        &op["requestBody"]["content"]["application/json"]["schema"],
    );
    let Some(parts) = schema["allOf"].as_array() else {
        return schema.clone();
    };
    let mut merged = json!({ "type": "object", "properties": {}, "required": [] });
    for part in parts {
        let part = resolve(doc, part);
        assert_eq!(part["type"], "object");
        if let Some(p) = part["properties"].as_object() {
            for (k, v) in p {
                merged["properties"][k] = v.clone();
            }
        }
        if let Some(r) = part["required"].as_array() {
            merged["required"]
                .as_array_mut()
                .unwrap()
                .extend(r.iter().cloned());
        }
    }
    merged
}

fn required(schema: &Value) -> Vec<&str> {
    schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

async fn openapi_declares_bodies_parameters_responses_and_security(app: App) {
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    // Every JSON write names its body's schema, with the fields the handler requires.
    for (method, path, must) in [
        ("post", "/api/v1/session", &["username", "password"][..]),
        ("post", "/api/v1/cases", &["item"][..]),
        (
            "post",
            "/api/v1/cases/{no}/commands",
            &["expected_version", "action"][..],
        ),
        (
            "post",
            "/api/v1/applicants",
            &["username", "password", "name", "id_number"][..],
        ),
        (
            "post",
            "/api/v1/me/password",
            &["current_password", "new_password"][..],
        ),
        (
            "post",
            "/api/v1/supervision/orders",
            &["record_no", "instruction", "due"][..],
        ),
        ("post", "/api/v1/admin/departments", &["code", "name"][..]),
        (
            "put",
            "/api/v1/admin/items/{impl_code}/workflow",
            &["steps"][..],
        ),
        ("post", "/api/v1/licences/{id}/status", &["action"][..]),
    ] {
        let schema = body_schema(&doc, method, path);
        assert_eq!(schema["type"], "object", "{method} {path}: {schema}");
        for field in must {
            assert!(
                required(&schema).contains(field),
                "{method} {path} does not require {field}: {schema}"
            );
            assert!(
                schema["properties"][field].is_object(),
                "{method} {path}: {field}"
            );
        }
    }
    // Optional body fields are declared but not required.
    let apply = body_schema(&doc, "post", "/api/v1/cases");
    for optional in ["delivery", "materials", "idempotency_key"] {
        assert!(apply["properties"][optional].is_object(), "{optional}");
        assert!(!required(&apply).contains(&optional), "{optional}");
    }
    // Query parameters come from the handlers' query types.
    let params = |method: &str, path: &str| -> Vec<(String, bool)> {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_string(),
                    p["required"].as_bool().unwrap_or(false),
                )
            })
            .collect()
    };
    let items = params("get", "/api/v1/items");
    for name in ["q", "dept", "theme", "audience", "hall", "page"] {
        assert!(
            items.contains(&(name.to_string(), false)),
            "{name}: {items:?}"
        );
    }
    let inclusion = params("get", "/api/v1/ledger/proof/inclusion");
    assert!(
        inclusion.contains(&("index".to_string(), true)),
        "{inclusion:?}"
    );
    assert!(
        inclusion.contains(&("size".to_string(), true)),
        "{inclusion:?}"
    );
    let deadline = params("get", "/api/v1/calendar/deadline");
    assert!(deadline.contains(&("from".to_string(), true)));
    assert!(deadline.contains(&("working_days".to_string(), true)));
    for name in ["q", "status", "from", "to", "dept"] {
        assert!(params("get", "/api/v1/cases").contains(&(name.to_string(), false)));
    }
    // Path parameters are required.
    let p = &doc["paths"]["/api/v1/cases/{no}"]["get"]["parameters"][0];
    assert_eq!(
        (&p["name"], &p["in"], &p["required"]),
        (&json!("no"), &json!("path"), &json!(true))
    );
    // Every operation declares its success response; JSON ones with a schema.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let ok: Vec<&String> = responses.keys().filter(|k| k.starts_with('2')).collect();
            assert!(!ok.is_empty(), "{method} {path}: {responses:?}");
            let ok = &responses[ok[0]];
            if ok.get("content").is_some() {
                let content = ok["content"].as_object().unwrap();
                assert!(
                    content.values().all(|c| c["schema"].is_object()),
                    "{method} {path}"
                );
            }
            assert_eq!(
                op["responses"]["4XX"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/Error",
                "{method} {path}"
            );
        }
    }
    let created = &doc["paths"]["/api/v1/cases"]["post"]["responses"]["201"];
    assert!(required(&created["content"]["application/json"]["schema"]).contains(&"case_no"));
    let list = &doc["paths"]["/api/v1/items"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"];
    assert_eq!(list["properties"]["items"]["type"], "array");
    // Security: the schemes, and which operations need them.
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["paths"]["/api/v1/my/cases"]["get"]["security"].is_array());
    assert!(doc["paths"]["/api/v1/admin/users"]["get"]["security"].is_array());
    assert!(doc["paths"]["/api/v1/items"]["get"]["security"].is_null());
    assert!(doc["paths"]["/api/v1/session"]["post"]["security"].is_null());
    // Operation ids are unique (clients are generated from them).
    let mut ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|i| i.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().unwrap())
        .collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n);
    app.stop().await;
}
on_each_backend!(openapi_declares_bodies_parameters_responses_and_security);

async fn unserved_methods_answer_405_with_allow_before_any_other_check(app: App) {
    let c = Client::new();
    // No bearer token and no JSON body: a served method would be refused as CSRF (403); an
    // unserved one is 405 whatever else is wrong.
    for (method, path, allow) in [
        ("PUT", "/api/v1/applicants", "POST"),
        ("DELETE", "/api/v1/audit", "GET"),
        ("PATCH", "/api/v1/cases/43190020260302000001", "GET"),
        ("PUT", "/api/v1/cases/43190020260302000001/commands", "POST"),
        ("GET", "/api/v1/licences/verify", "POST"),
        ("OPTIONS", "/api/v1/items", "GET"),
        ("DELETE", "/api/v1/admin/users/1/unlock", "POST"),
    ] {
        let r = c
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                app.url(path),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(r.headers()["allow"], allow, "{method} {path}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["code"], "method_not_allowed", "{method} {path}");
    }
    // A literal path is not taken for a parameter: /licences/verify serves POST only,
    // /licences/{id} GET only.
    let r = c.get(app.url("/api/v1/licences/xyz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A served method without a token or JSON is still refused as CSRF.
    let r = c
        .post(app.url("/api/v1/applicants"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}
on_each_backend!(unserved_methods_answer_405_with_allow_before_any_other_check);

async fn inputs_outside_the_documented_schema_are_refused(app: App) {
    let admin = app.token("admin").await;
    let c = Client::new();
    // Each of these was accepted before the document declared its limits.
    for (path, status) in [
        ("/api/v1/items?page=10001", StatusCode::UNPROCESSABLE_ENTITY),
        (
            "/api/v1/items?page=31943765675396620288",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/catalog/stats?by=planet",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/admin/catalog/export?part=both",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let r = c
            .get(app.url(path))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{path}");
    }
    let r = c
        .get(app.url("/api/v1/admin/catalog/export?part=materials"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    // A credential must be a JSON object (the signed licence), not any JSON value.
    for credential in [json!(["x"]), json!("x"), json!(1)] {
        let r = c
            .post(app.url("/api/v1/licences/verify"))
            .json(&json!({ "credential": credential }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{credential}");
    }
    // Registration's body is typed: a missing required field is a 4xx, not a default.
    let r = c
        .post(app.url("/api/v1/applicants"))
        .json(&json!({ "username": "wangwu", "password": "Wangwu2026!" }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    app.stop().await;
}
on_each_backend!(inputs_outside_the_documented_schema_are_refused);
