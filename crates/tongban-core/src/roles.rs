//! Who may do what. Roles follow ARCHITECTURE.md; authorization is checked by the web
//! layer's guard types, which ask these predicates.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 申请人（自然人）
    Person,
    /// 申请人（企业）
    Enterprise,
    /// 综合窗口受理人员
    Clerk,
    /// 部门审批人员
    Approver,
    /// 部门负责人
    Head,
    /// 监察人员
    Supervisor,
    /// 数据共享专员
    SharingOfficer,
    /// 系统管理员
    Admin,
    /// 审计人员
    Auditor,
}

impl Role {
    pub const ALL: &'static [Role] = &[
        Role::Person,
        Role::Enterprise,
        Role::Clerk,
        Role::Approver,
        Role::Head,
        Role::Supervisor,
        Role::SharingOfficer,
        Role::Admin,
        Role::Auditor,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Person => "person",
            Role::Enterprise => "enterprise",
            Role::Clerk => "clerk",
            Role::Approver => "approver",
            Role::Head => "head",
            Role::Supervisor => "supervisor",
            Role::SharingOfficer => "sharing_officer",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Person => "申请人（自然人）",
            Role::Enterprise => "申请人（企业）",
            Role::Clerk => "综合窗口人员",
            Role::Approver => "部门审批人员",
            Role::Head => "部门负责人",
            Role::Supervisor => "监察人员",
            Role::SharingOfficer => "数据共享专员",
            Role::Admin => "系统管理员",
            Role::Auditor => "审计人员",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL
            .iter()
            .copied()
            .find(|r| r.code() == s || r.label() == s)
    }

    pub fn is_applicant(self) -> bool {
        matches!(self, Role::Person | Role::Enterprise)
    }

    pub fn is_staff(self) -> bool {
        !self.is_applicant()
    }

    /// Roles whose work belongs to one department and must name it.
    pub fn needs_department(self) -> bool {
        matches!(self, Role::Approver | Role::Head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_by_code_and_label() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.code()), Some(*r));
            assert_eq!(Role::parse(r.label()), Some(*r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn department_scoped_roles() {
        assert!(Role::Approver.needs_department());
        assert!(Role::Head.needs_department());
        assert!(!Role::Clerk.needs_department());
        assert!(Role::Person.is_applicant() && !Role::Person.is_staff());
    }
}
