//! Views of uploaded materials by staff (issue #12): kept per case so the applicant can see
//! who saw their data; each view is also a row of the chained audit log, in one transaction.

use crate::{get_i64, get_str, now_text, Result, Store};
use chrono::{DateTime, Utc};

/// One view of one material of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaterialView {
    /// The material's position on the case, from 1.
    pub material: i64,
    pub material_name: String,
    /// The viewer's display name.
    pub viewer: String,
    /// The viewer's role label (综合窗口人员, 审批人员 …).
    pub viewer_role: String,
    /// The viewer's department, empty for window clerks.
    pub department: String,
    pub at: String,
}

impl Store {
    /// Records a view of material `material` of case `case_id` (and its audit row).
    pub async fn record_material_view(
        &self,
        now: DateTime<Utc>,
        case_id: i64,
        username: &str,
        audit_detail: &str,
        v: &MaterialView,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        crate::db::query(
            "INSERT INTO material_views (case_id, material, material_name, viewer, viewer_role, department, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(case_id)
        .bind(v.material)
        .bind(&v.material_name)
        .bind(&v.viewer)
        .bind(&v.viewer_role)
        .bind(&v.department)
        .bind(now_text(now))
        .execute(&mut *tx)
        .await?;
        crate::audit::append(&mut tx, now, username, "material.read", audit_detail).await?;
        self.commit(tx).await
    }

    /// The views of a case's materials, newest first (at most `limit`).
    pub async fn material_views(&self, case_id: i64, limit: i64) -> Result<Vec<MaterialView>> {
        let rows = crate::db::query(
            "SELECT material, material_name, viewer, viewer_role, department, at FROM material_views WHERE case_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(case_id)
        .bind(limit)
        .fetch_all(self.r())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MaterialView {
                    material: get_i64(r, "material")?,
                    material_name: get_str(r, "material_name")?,
                    viewer: get_str(r, "viewer")?,
                    viewer_role: get_str(r, "viewer_role")?,
                    department: get_str(r, "department")?,
                    at: get_str(r, "at")?,
                })
            })
            .collect()
    }
}
