//! What every page shares: the signed-in user's badge and CSRF token, and rendering.

use crate::auth::{CsrfToken, Viewer};
use crate::error::PageError;
use askama::Template;
use axum::response::Html;
use tongban_core::capability::{holds, Capability};

pub struct UserBadge {
    pub name: String,
    pub role: &'static str,
    pub is_admin: bool,
    pub is_applicant: bool,
    pub is_clerk: bool,
    pub is_staff: bool,
    pub in_department: bool,
    pub sees_supervision: bool,
    pub sees_exchange: bool,
}

pub struct PageCtx {
    pub user: Option<UserBadge>,
    pub csrf: String,
    /// 适老化 mode is on (the page carries the `senior` class on `<html>`).
    pub senior: bool,
    /// The request's path: the menu entry of this page gets `aria-current="page"`, and the
    /// 适老化 switch returns here.
    pub path: String,
    /// The applicant's unread messages, shown as a badge on the 消息 menu entry.
    pub unread: i64,
}

impl PageCtx {
    pub fn new(viewer: &Viewer, csrf: &CsrfToken) -> Self {
        PageCtx {
            user: viewer.user.as_ref().map(|u| UserBadge {
                name: u.display_name.clone(),
                role: u.role.label(),
                // The menu offers what the capability table grants.
                is_admin: holds(u.role, Capability::Administer),
                is_applicant: holds(u.role, Capability::Apply),
                is_clerk: holds(u.role, Capability::ReceiveAtWindow),
                is_staff: holds(u.role, Capability::SearchCases),
                in_department: holds(u.role, Capability::WorkInbox),
                sees_supervision: holds(u.role, Capability::ReadSupervision),
                sees_exchange: holds(u.role, Capability::ReadExchangeCatalog),
            }),
            csrf: csrf.0.clone(),
            senior: viewer.senior,
            path: viewer.path.clone(),
            unread: viewer.unread,
        }
    }

    /// Whether the menu entry `href` is the page shown (or a page under it).
    pub fn current(&self, href: &str) -> bool {
        self.path == href
            || (href != "/"
                && self
                    .path
                    .strip_prefix(href)
                    .is_some_and(|rest| rest.starts_with('/')))
    }
}

/// The 适老化 switch: `mode` = on | off, kept in a cookie for a year; back to `next` (a
/// local path only). Server-rendered: a plain form, no JavaScript.
pub async fn senior_switch(
    axum::Form(f): axum::Form<std::collections::HashMap<String, String>>,
) -> axum::response::Response {
    use axum::http::header::{LOCATION, SET_COOKIE};
    use axum::response::IntoResponse;
    let on = f.get("mode").map(String::as_str) == Some("on");
    let next = f
        .get("next")
        .map(String::as_str)
        .filter(|n| {
            n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && n.len() <= 300
                && !n.chars().any(char::is_control)
        })
        .unwrap_or("/")
        .to_string();
    let cookie = if on {
        format!(
            "{}=1; SameSite=Lax; Path=/; Max-Age=31536000",
            crate::auth::SENIOR_COOKIE
        )
    } else {
        format!(
            "{}=; SameSite=Lax; Path=/; Max-Age=0",
            crate::auth::SENIOR_COOKIE
        )
    };
    (
        axum::http::StatusCode::SEE_OTHER,
        [(LOCATION, next), (SET_COOKIE, cookie)],
    )
        .into_response()
}

pub fn render<T: Template>(t: T) -> Result<Html<String>, PageError> {
    t.render()
        .map(Html)
        .map_err(|e| PageError(crate::error::AppError::internal(e)))
}

/// The remaining working days of a case as a page shows them.
pub fn remaining_text(
    state_today: chrono::NaiveDate,
    rec: &tongban_store::cases::CaseRecord,
    cal: &tongban_core::calendar::WorkCalendar,
) -> (String, Option<i64>) {
    match rec.state.remaining_working_days(state_today, cal) {
        Ok(Some(n)) if n < 0 => (format!("已逾期 {} 个工作日", -n), Some(n)),
        Ok(Some(n)) => (
            format!(
                "{n} 个工作日{}",
                if rec.state.special.is_some() {
                    "（特别程序中，暂停计时）"
                } else {
                    ""
                }
            ),
            Some(n),
        ),
        Ok(None) => ("—".into(), None),
        Err(e) => (format!("无法计算：{e}"), None),
    }
}
