//! Reading browser forms: multipart uploads into text fields and files.

use crate::error::AppError;
use axum::extract::Multipart;
use std::collections::HashMap;
use tongban_app::cases::Upload;

/// Reads a multipart form into text fields and files (empty file inputs are skipped).
pub async fn read_form(
    mut mp: Multipart,
) -> Result<(HashMap<String, String>, Vec<Upload>), AppError> {
    let mut fields = HashMap::new();
    let mut files = Vec::new();
    while let Some(part) = mp
        .next_field()
        .await
        .map_err(|e| AppError::bad_request(format!("上传内容无法读取（文件可能过大）：{e}")))?
    {
        let name = part.name().unwrap_or("").to_string();
        match part.file_name().map(str::to_string) {
            Some(file_name) => {
                let bytes = part
                    .bytes()
                    .await
                    .map_err(|e| AppError::bad_request(format!("上传内容无法读取：{e}")))?;
                if !bytes.is_empty() {
                    files.push(Upload {
                        field: name,
                        file_name,
                        bytes: bytes.to_vec(),
                    });
                }
            }
            None => {
                let text = part
                    .text()
                    .await
                    .map_err(|e| AppError::bad_request(format!("表单内容无法读取：{e}")))?;
                fields.insert(name, text);
            }
        }
    }
    Ok((fields, files))
}

/// The applicant's details from form or API fields.
pub fn applicant_details(
    fields: &HashMap<String, String>,
) -> tongban_app::applicants::ApplicantDetails {
    let f = |k: &str| fields.get(k).cloned().unwrap_or_default();
    tongban_app::applicants::ApplicantDetails {
        kind: f("kind"),
        name: f("name"),
        id_number: f("id_number"),
        mobile: f("mobile"),
        legal_rep: f("legal_rep"),
    }
}

/// Reads the `items` and optional `materials` parts of an import upload.
pub async fn read_import_parts(
    mut mp: Multipart,
) -> Result<(String, Vec<u8>, Option<(String, Vec<u8>)>), AppError> {
    let mut items = None;
    let mut materials = None;
    while let Some(part) = mp
        .next_field()
        .await
        .map_err(|e| AppError::bad_request(format!("上传内容无法读取：{e}")))?
    {
        let name = part.name().unwrap_or("").to_string();
        let file = part.file_name().unwrap_or(&name).to_string();
        let bytes = part
            .bytes()
            .await
            .map_err(|e| AppError::bad_request(format!("上传内容无法读取（文件可能过大）：{e}")))?;
        match name.as_str() {
            "items" => items = Some((file, bytes.to_vec())),
            "materials" if !bytes.is_empty() => materials = Some((file, bytes.to_vec())),
            _ => {}
        }
    }
    let (file, bytes) =
        items.ok_or_else(|| AppError::bad_request("请选择事项文件（字段 items）"))?;
    Ok((file, bytes, materials))
}
