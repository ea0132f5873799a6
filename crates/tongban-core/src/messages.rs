//! User-facing texts shared by more than one place, in one module so that the pages, the API
//! and the CLI say the same thing in the same words.

pub const FORBIDDEN: &str = "无权访问该页面或操作";
pub const SIGN_IN_FIRST: &str = "请先登录";
pub const NOT_YOUR_DEPARTMENT: &str = "该办件不属于您所在部门";
pub const ROLE_CANNOT_HANDLE_CASES: &str = "您的角色不能办理办件";
pub const LICENCE_PENDING: &str = "证照签发中";

/// "No such case" — the same words whether it does not exist or is not the viewer's, so
/// case numbers cannot be probed.
pub fn no_such_case(case_no: &str) -> String {
    format!("没有办件 {case_no}")
}

pub fn no_such_licence(id: &str) -> String {
    format!("没有电子证照 {id}")
}

/// Two people acted on the same version: the second is told to reload.
pub fn stale_case(case_no: &str, current: i64, seen: i64) -> String {
    format!(
        "办件 {case_no} 已被他人处理（当前版本 {current}，您看到的是版本 {seen}），请刷新后重试"
    )
}

/// A due date counted over a year whose holiday arrangement is not yet published.
pub fn provisional_note(years: &[i32]) -> String {
    let years: Vec<String> = years.iter().map(|y| format!("{y}年")).collect();
    format!(
        "暂定：{}节假日安排尚未公布，按周末休息计算，公布后自动重算",
        years.join("、")
    )
}

/// The one answer when sign-up conflicts with an existing account (it must not reveal
/// whether someone's ID number is registered).
pub const REGISTRATION_REFUSED: &str = "无法用所填信息注册：用户名已被使用，或所填证件已有账号。\
     已有账号请直接登录；忘记账号请携带证件到综合窗口办理。";

/// The applicant's rights against a refusal (不予受理, 不予许可), as a written decision must
/// state them: the review body and the time limits.
// 《行政许可法》第三十八条第二款: 应当说明理由，并告知申请人享有依法申请行政复议或者提起行政诉讼的权利.
// 《行政复议法》第二十条 (60 days), 《行政诉讼法》第四十六条 (6 months).
pub fn remedy_rights() -> String {
    "如不服本决定，可以自知道该决定之日起六十日内向本级人民政府申请行政复议，\
     或者自知道该决定之日起六个月内依法向人民法院提起行政诉讼。"
        .to_string()
}
