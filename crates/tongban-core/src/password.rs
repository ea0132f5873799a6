//! Password policy (等保 level 3 for staff): staff passwords are at least 12 characters and
//! use at least three of four character classes; applicants keep at least 8 characters with
//! letters and digits.

use crate::roles::Role;

/// Minimum length of a staff password.
pub const STAFF_MIN_CHARS: usize = 12;
/// Minimum length of an applicant's password.
pub const APPLICANT_MIN_CHARS: usize = 8;

/// Checks a new password for an account of `role`; the error says what is missing.
pub fn check(role: Role, password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if password.chars().any(char::is_control) {
        return Err("密码不能包含控制字符".into());
    }
    if role.is_applicant() {
        if n < APPLICANT_MIN_CHARS {
            return Err(format!("密码至少{APPLICANT_MIN_CHARS}位"));
        }
        if !password.chars().any(|c| c.is_ascii_digit())
            || !password.chars().any(|c| c.is_alphabetic())
        {
            return Err("密码须同时包含字母和数字".into());
        }
        return Ok(());
    }
    if n < STAFF_MIN_CHARS {
        return Err(format!("工作人员密码至少{STAFF_MIN_CHARS}位"));
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|c| **c).count() < 3 {
        return Err("工作人员密码须包含大写字母、小写字母、数字、符号中的至少三类".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_need_twelve_characters_of_three_classes() {
        assert!(check(Role::Clerk, "Short1!").is_err());
        assert!(check(Role::Clerk, "alllowercase12").is_err());
        assert!(check(Role::Admin, "tongban2026ab").is_err());
        assert!(check(Role::Admin, "Tongban2026ab").is_ok());
        assert!(check(Role::Auditor, "tongban-2026-ab").is_ok());
        assert!(check(Role::Clerk, "Tong\nban2026ab").is_err());
    }

    #[test]
    fn applicants_keep_eight_with_letters_and_digits() {
        assert!(check(Role::Person, "abc12345").is_ok());
        assert!(check(Role::Enterprise, "abcdefgh").is_err());
        assert!(check(Role::Person, "abc1234").is_err());
    }
}
