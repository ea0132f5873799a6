//! Who may do what to which resource: one table for the whole platform.
//!
//! A capability is granted to a role with a scope: over its own resources (an applicant's
//! own cases and licences), over its department's (approvers and heads), or over any. The
//! application resolves a request's capability once, for the resource in its path, and
//! audits every refusal; the case rules ask [`crate::case::Case::allowed`] for commands, which
//! is also what the case page asks for its buttons.

use crate::roles::Role;

/// Something a user may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    /// See a case: its state, timeline, materials and receipt.
    ReadCase,
    /// Open an uploaded material of a case (the file itself): the applicant's own, and the
    /// staff who handle the case (window clerks, the handling department). Supervisors,
    /// auditors and administrators see that a material exists, not its content.
    ReadMaterial,
    /// Apply for oneself (online).
    Apply,
    /// Receive an application at a comprehensive window (一窗受理) for any applicant.
    ReceiveAtWindow,
    /// Act on a case (the case rules then decide which commands, by role and state).
    ActOnCase,
    /// Search cases across applicants (staff search).
    SearchCases,
    /// The department's inbox of cases in hand.
    WorkInbox,
    /// Look up the holder's licences for a case, with a purpose (recorded on the licence).
    LookUpHolderLicences,
    ReadLicence,
    /// Revoke, suspend, restore or expire a licence.
    ManageLicence,
    /// Define licence types and map items to them.
    DefineLicenceTypes,
    /// The supervision board, records and department figures.
    ReadSupervision,
    /// Issue and close 督办 orders.
    IssueSupervisionOrder,
    /// Answer a 督办 order addressed to one's department.
    AnswerSupervisionOrder,
    /// The exact leaf bytes of the ledger.
    ReadLedgerEntries,
    /// The audit log.
    ReadAuditLog,
    /// Catalog, departments, halls, windows, users, workflows.
    Administer,
    /// Load or correct a year of the working-day calendar.
    LoadCalendar,
    /// The node's Prometheus metrics (besides the monitoring system's bearer token).
    ReadMetrics,
    /// Reset another user's password (the user must change it at the next sign-in).
    ResetPassword,
    /// 好差评: rate one's own case (nobody rates on an applicant's behalf).
    RateCase,
    /// 差评 follow-up: list, 回访 and 整改 of one's department's ratings.
    FollowUpRatings,
    /// Appeal (申诉) a rating of one's department.
    AppealRating,
    /// Decide an appeal (复核); the decider must be outside the rating's department.
    DecideRatingAppeal,
    /// The monthly export of ratings for the provincial 好差评 system (applicants' IDs).
    ExportRatings,
    /// Book, cancel and reschedule hall appointments (applicants their own; the clerk for
    /// anyone).
    BookAppointment,
    /// Work a hall window: call, recall, skip, transfer and serve queue tickets.
    ServeQueue,
    /// Enter and import parcel tracking events of a case (寄递跟踪).
    TrackDelivery,
    /// The hall's queue, appointment and delivery figures.
    ReadHallFigures,
    /// Publish resources to the exchange catalog, grant clients, declare items' evidence,
    /// answer conditional requests (the `sharing` role's work, and nothing else).
    AdministerExchange,
    /// Browse, search and export the exchange catalog.
    ReadExchangeCatalog,
    /// Fetch evidence through the exchange for a case in hand (purpose-bound).
    CallExchange,
    /// File a conditional request (有条件共享申请) and follow it.
    RequestSharing,
    /// Confirm evidence fetching for one's case and see every access to one's data.
    OwnDataAccess,
}

/// Over which resources a capability holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The user's own (an applicant's own cases and licences).
    Own,
    /// The user's department's.
    Department,
    /// Every resource of the kind.
    Any,
}

/// How a resource stands to the user asking for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The applicant's own case or licence.
    Own,
    /// A resource of the user's department.
    OwnDepartment,
    /// Anything else.
    Other,
}

use Capability as C;
use Role as R;
use Scope as S;

/// The table. A (role, capability) pair that is not listed is refused.
pub const TABLE: &[(Capability, &[(Role, Scope)])] = &[
    (
        C::ReadCase,
        &[
            (R::Person, S::Own),
            (R::Enterprise, S::Own),
            (R::Clerk, S::Any),
            (R::Approver, S::Department),
            (R::Head, S::Department),
            (R::Supervisor, S::Any),
            (R::Auditor, S::Any),
            (R::Admin, S::Any),
        ],
    ),
    (
        C::ReadMaterial,
        &[
            (R::Person, S::Own),
            (R::Enterprise, S::Own),
            (R::Clerk, S::Any),
            (R::Approver, S::Department),
            (R::Head, S::Department),
        ],
    ),
    (C::Apply, &[(R::Person, S::Own), (R::Enterprise, S::Own)]),
    (C::ReceiveAtWindow, &[(R::Clerk, S::Any)]),
    (
        C::ActOnCase,
        &[
            (R::Person, S::Own),
            (R::Enterprise, S::Own),
            (R::Clerk, S::Any),
            (R::Approver, S::Department),
            (R::Head, S::Department),
        ],
    ),
    (
        C::SearchCases,
        &[
            (R::Clerk, S::Any),
            (R::Approver, S::Department),
            (R::Head, S::Department),
            (R::Supervisor, S::Any),
            (R::Auditor, S::Any),
            (R::Admin, S::Any),
        ],
    ),
    (
        C::WorkInbox,
        &[(R::Approver, S::Department), (R::Head, S::Department)],
    ),
    (
        C::LookUpHolderLicences,
        &[
            (R::Clerk, S::Any),
            (R::Approver, S::Department),
            (R::Head, S::Department),
        ],
    ),
    (
        C::ReadLicence,
        &[
            (R::Person, S::Own),
            (R::Enterprise, S::Own),
            (R::Clerk, S::Any),
            (R::Approver, S::Department),
            (R::Head, S::Department),
            (R::Supervisor, S::Any),
            (R::Auditor, S::Any),
            (R::Admin, S::Any),
        ],
    ),
    (
        C::ManageLicence,
        &[(R::Head, S::Department), (R::Admin, S::Any)],
    ),
    (C::DefineLicenceTypes, &[(R::Admin, S::Any)]),
    (
        C::ReadSupervision,
        &[
            (R::Approver, S::Department),
            (R::Head, S::Department),
            (R::Supervisor, S::Any),
            (R::Auditor, S::Any),
            (R::Admin, S::Any),
        ],
    ),
    (C::IssueSupervisionOrder, &[(R::Supervisor, S::Any)]),
    (
        C::AnswerSupervisionOrder,
        &[(R::Approver, S::Department), (R::Head, S::Department)],
    ),
    (
        C::ReadLedgerEntries,
        &[
            (R::Supervisor, S::Any),
            (R::Auditor, S::Any),
            (R::Admin, S::Any),
        ],
    ),
    (C::ReadAuditLog, &[(R::Admin, S::Any), (R::Auditor, S::Any)]),
    (C::Administer, &[(R::Admin, S::Any)]),
    (C::LoadCalendar, &[(R::Admin, S::Any)]),
    (C::ReadMetrics, &[(R::Admin, S::Any)]),
    (C::ResetPassword, &[(R::Admin, S::Any)]),
    (C::RateCase, &[(R::Person, S::Own), (R::Enterprise, S::Own)]),
    (
        C::FollowUpRatings,
        &[
            (R::Approver, S::Department),
            (R::Head, S::Department),
            (R::Supervisor, S::Any),
        ],
    ),
    (
        C::AppealRating,
        &[(R::Approver, S::Department), (R::Head, S::Department)],
    ),
    (C::DecideRatingAppeal, &[(R::Supervisor, S::Any)]),
    (
        C::ExportRatings,
        &[
            (R::Supervisor, S::Any),
            (R::Auditor, S::Any),
            (R::Admin, S::Any),
        ],
    ),
    (
        C::BookAppointment,
        &[
            (R::Person, S::Own),
            (R::Enterprise, S::Own),
            (R::Clerk, S::Any),
        ],
    ),
    (C::ServeQueue, &[(R::Clerk, S::Any)]),
    (
        C::TrackDelivery,
        &[
            (R::Clerk, S::Any),
            (R::Approver, S::Department),
            (R::Head, S::Department),
        ],
    ),
    (
        C::ReadHallFigures,
        &[
            (R::Clerk, S::Any),
            (R::Head, S::Any),
            (R::Supervisor, S::Any),
            (R::Auditor, S::Any),
            (R::Admin, S::Any),
        ],
    ),
    (C::AdministerExchange, &[(R::SharingOfficer, S::Any)]),
    (
        C::ReadExchangeCatalog,
        &[
            (R::Clerk, S::Any),
            (R::Approver, S::Any),
            (R::Head, S::Any),
            (R::Supervisor, S::Any),
            (R::SharingOfficer, S::Any),
            (R::Auditor, S::Any),
            (R::Admin, S::Any),
        ],
    ),
    (
        C::CallExchange,
        &[
            (R::Clerk, S::Any),
            (R::Approver, S::Department),
            (R::Head, S::Department),
        ],
    ),
    (
        C::RequestSharing,
        &[
            (R::Approver, S::Department),
            (R::Head, S::Department),
            (R::SharingOfficer, S::Any),
        ],
    ),
    (
        C::OwnDataAccess,
        &[(R::Person, S::Own), (R::Enterprise, S::Own)],
    ),
];

/// The scope in which `role` holds `cap`, if at all.
pub fn scope(role: Role, cap: Capability) -> Option<Scope> {
    TABLE
        .iter()
        .find(|(c, _)| *c == cap)
        .and_then(|(_, grants)| grants.iter().find(|(r, _)| *r == role))
        .map(|(_, s)| *s)
}

/// May `role` use `cap` on a resource that stands to the user as `standing`?
pub fn permits(role: Role, cap: Capability, standing: Standing) -> bool {
    match scope(role, cap) {
        None => false,
        Some(Scope::Any) => true,
        Some(Scope::Department) => standing == Standing::OwnDepartment,
        Some(Scope::Own) => standing == Standing::Own,
    }
}

/// May `role` use `cap` on some resource (for routes with no single resource: lists,
/// boards, forms)? The resources shown are then narrowed to the scope.
pub fn holds(role: Role, cap: Capability) -> bool {
    scope(role, cap).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_capability_appears_once() {
        for (i, (c, _)) in TABLE.iter().enumerate() {
            assert!(
                TABLE[i + 1..].iter().all(|(d, _)| d != c),
                "{c:?} is listed twice"
            );
        }
    }

    #[test]
    fn applicants_reach_only_their_own_cases() {
        assert!(permits(R::Person, C::ReadCase, Standing::Own));
        assert!(!permits(R::Person, C::ReadCase, Standing::Other));
        assert!(!permits(
            R::Enterprise,
            C::ReadCase,
            Standing::OwnDepartment
        ));
    }

    #[test]
    fn department_staff_reach_only_their_department() {
        assert!(permits(R::Approver, C::ReadCase, Standing::OwnDepartment));
        assert!(!permits(R::Approver, C::ReadCase, Standing::Other));
        assert!(!permits(R::Head, C::ManageLicence, Standing::Other));
        assert!(permits(R::Head, C::ManageLicence, Standing::OwnDepartment));
        assert!(permits(R::Admin, C::ManageLicence, Standing::Other));
    }

    #[test]
    fn the_sharing_officer_administers_the_exchange_and_reads_nothing_else() {
        // The role's work is the catalog, grants and requests: no case, licence or record.
        let exchange = [
            C::AdministerExchange,
            C::ReadExchangeCatalog,
            C::RequestSharing,
        ];
        for (cap, _) in TABLE {
            assert_eq!(
                holds(R::SharingOfficer, *cap),
                exchange.contains(cap),
                "{cap:?}"
            );
        }
        assert!(!holds(R::Admin, C::AdministerExchange));
        assert!(!holds(R::SharingOfficer, C::CallExchange));
    }

    #[test]
    fn supervision_separates_issuing_from_answering() {
        assert!(holds(R::Supervisor, C::IssueSupervisionOrder));
        assert!(!holds(R::Supervisor, C::AnswerSupervisionOrder));
        assert!(!holds(R::Head, C::IssueSupervisionOrder));
        assert!(permits(
            R::Head,
            C::AnswerSupervisionOrder,
            Standing::OwnDepartment
        ));
    }

    #[test]
    fn material_content_is_for_the_applicant_and_the_handlers() {
        assert!(permits(R::Person, C::ReadMaterial, Standing::Own));
        assert!(!permits(R::Person, C::ReadMaterial, Standing::Other));
        assert!(permits(
            R::Approver,
            C::ReadMaterial,
            Standing::OwnDepartment
        ));
        assert!(!permits(R::Approver, C::ReadMaterial, Standing::Other));
        assert!(permits(R::Clerk, C::ReadMaterial, Standing::Other));
        for r in [R::Supervisor, R::Auditor, R::Admin, R::SharingOfficer] {
            assert!(!holds(r, C::ReadMaterial), "{r:?}");
        }
    }

    #[test]
    fn the_auditor_reads_the_audit_log_and_changes_nothing() {
        assert!(holds(R::Auditor, C::ReadAuditLog));
        assert!(!holds(R::Auditor, C::Administer));
        assert!(!holds(R::Auditor, C::ActOnCase));
        assert!(!holds(R::Auditor, C::ManageLicence));
    }
}
