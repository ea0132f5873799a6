//! Uploaded materials of a case, opened by those who may see them (issue #12): the
//! applicant, window clerks and the handling department ([`Capability::ReadMaterial`]).
//! Every view by someone other than the applicant is recorded for the applicant's "who saw
//! my data" list and in the audit log.

use crate::authz::{self, Access};
use crate::error::{Error, ErrorKind};
use crate::App;
use tongban_core::capability::Capability;
use tongban_store::accounts::User;
use tongban_store::material_views::MaterialView;

/// A material's file, ready to be served.
#[derive(Debug, Clone)]
pub struct MaterialFile {
    pub bytes: Vec<u8>,
    /// The type the bytes were recognised as when uploaded (by content, never by name).
    pub media_type: String,
    /// A download name: the case, the position and the recognised type's extension (the
    /// uploader's own file name is not echoed into a header).
    pub download_name: String,
    /// Whether a browser may show it in place (PDF and images); anything else is offered
    /// as a download.
    pub inline: bool,
}

/// The most views listed on the case page.
pub const VIEWS_SHOWN: i64 = 200;

fn extension(media_type: &str) -> &'static str {
    match media_type {
        "application/pdf" => "pdf",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "application/ofd" => "ofd",
        _ => "bin",
    }
}

/// Material `n` (from 1, in the order the case lists them) of a case, for a user holding
/// [`Capability::ReadMaterial`] over it: 404 for an applicant's case not theirs (as the case
/// itself), 403 for staff outside the handling department or without the capability.
pub async fn open(app: &App, user: &User, case_no: &str, n: usize) -> Result<MaterialFile, Error> {
    let (rec, access) = authz::case_for(app, user, case_no).await?;
    let standing = authz::case_standing(app, user, &rec).await?;
    authz::require(app, user, Capability::ReadMaterial, standing, case_no).await?;
    let not_found = || Error::not_found(format!("办件 {case_no} 没有第 {n} 份材料文件"));
    let m = n
        .checked_sub(1)
        .and_then(|i| rec.state.materials.get(i))
        .ok_or_else(not_found)?;
    let sha = m.sha256.as_deref().ok_or_else(not_found)?;
    let media_type = app
        .store
        .file_type(sha)
        .await?
        .unwrap_or_else(|| "application/octet-stream".into());
    let bytes = match app.objects.get(sha).await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::new(
                ErrorKind::NotFound,
                "material_missing",
                "材料文件已不在存储中，请联系管理员",
            ))
        }
        Err(e) => return Err(Error::internal(e)),
    };
    if access == Access::Staff {
        let department = match user.department_id {
            Some(id) => app.store.department(id).await?.name,
            None => String::new(),
        };
        let view = MaterialView {
            material: n as i64,
            material_name: m.name.clone(),
            viewer: user.display_name.clone(),
            viewer_role: user.role.label().to_string(),
            department,
            at: String::new(),
        };
        app.store
            .record_material_view(
                app.now(),
                rec.id,
                &user.username,
                &format!("case {case_no} material {n}"),
                &view,
            )
            .await?;
    }
    let inline = matches!(
        media_type.as_str(),
        "application/pdf" | "image/png" | "image/jpeg"
    );
    Ok(MaterialFile {
        download_name: format!("{case_no}-{n}.{}", extension(&media_type)),
        media_type: if inline || media_type == "application/ofd" {
            media_type
        } else {
            "application/octet-stream".into()
        },
        bytes,
        inline,
    })
}

/// Who opened the materials of a case, newest first: for the applicant (their data) and
/// for anyone who may read the case.
pub async fn views(app: &App, user: &User, case_no: &str) -> Result<Vec<MaterialView>, Error> {
    let (rec, _) = authz::case_for(app, user, case_no).await?;
    Ok(app.store.material_views(rec.id, VIEWS_SHOWN).await?)
}

/// Whether the user may open the case's material files (the case page offers links then).
pub fn may_open(user: &User, standing: tongban_core::capability::Standing) -> bool {
    tongban_core::capability::permits(user.role, Capability::ReadMaterial, standing)
}
