//! One authorization table for the whole web surface: every route × every kind of user ×
//! ownership (the case's applicant or another, the case's department or another), run over
//! real HTTP on both backends. A route of the router without a row fails the build's tests
//! ([`every_route_has_a_row`] reads the router's source).
//!
//! The verdict is what is checked, not the effect: write requests carry minimal bodies that
//! pass the guards and are then refused by validation or by the case's state (a 422 or 409
//! proves the request got past authorization), so the rows may run in any order and leave
//! the fixtures as they were. Conventions:
//! - `/api/...` routes are called with the subject's bearer token; anonymous API writes carry
//!   a bearer token that names no session, so the JSON-or-bearer CSRF rule is not what
//!   refuses them (anonymous API reads carry nothing);
//! - page routes are called with the subject's browser (cookie session), and page writes
//!   send the `_csrf` token (in the query, which works for url-encoded and multipart forms);
//! - rows marked `fresh` (sign-in, sign-out) use a session opened for that one request.

use super::{csrf_of, get, page_text, post, App, PDF};
use reqwest::header::LOCATION;
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use tongban::demo::DEMO_PASSWORD;

// ---- who asks ---------------------------------------------------------------------------

/// The subjects of the table. The case and the licence of the fixtures belong to zhangsan
/// and to 市市场监督管理局 (the department of `approver` and `head`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Who {
    Anon,
    /// zhangsan: applicant of the case, holder of the licence.
    Owner,
    /// lisi: a natural person registered by the fixtures; owns nothing here.
    OtherApplicant,
    /// The demo enterprise applicant; owns nothing here.
    Enterprise,
    Clerk,
    /// approver of 市市场监督管理局 (the case's department).
    Approver,
    /// head of 市市场监督管理局.
    Head,
    /// An approver of 市公安局, created by the fixtures.
    OtherDept,
    Supervisor,
    /// sharing (role sharing_officer).
    Sharing,
    Auditor,
    Admin,
}

const LISI: (&str, &str) = ("lisi", "lisi2026ok");
const GAJ: (&str, &str) = ("gaj_approver", "Gaj-approver-2026");

impl Who {
    /// The column order of the expectation rows below.
    const ALL: [Who; 12] = [
        Who::Anon,
        Who::Owner,
        Who::OtherApplicant,
        Who::Enterprise,
        Who::Clerk,
        Who::Approver,
        Who::Head,
        Who::OtherDept,
        Who::Supervisor,
        Who::Sharing,
        Who::Auditor,
        Who::Admin,
    ];

    fn credentials(self) -> Option<(&'static str, &'static str)> {
        Some(match self {
            Who::Anon => return None,
            Who::Owner => ("zhangsan", DEMO_PASSWORD),
            Who::OtherApplicant => LISI,
            Who::Enterprise => ("enterprise", DEMO_PASSWORD),
            Who::Clerk => ("clerk", DEMO_PASSWORD),
            Who::Approver => ("approver", DEMO_PASSWORD),
            Who::Head => ("head", DEMO_PASSWORD),
            Who::OtherDept => GAJ,
            Who::Supervisor => ("supervisor", DEMO_PASSWORD),
            Who::Sharing => ("sharing", DEMO_PASSWORD),
            Who::Auditor => ("auditor", DEMO_PASSWORD),
            Who::Admin => ("admin", DEMO_PASSWORD),
        })
    }

    fn label(self) -> &'static str {
        match self {
            Who::Anon => "anonymous",
            Who::Owner => "zhangsan (owner)",
            Who::OtherApplicant => "lisi (other applicant)",
            Who::Enterprise => "enterprise (other applicant)",
            Who::Clerk => "clerk",
            Who::Approver => "approver (same department)",
            Who::Head => "head (same department)",
            Who::OtherDept => "gaj_approver (other department)",
            Who::Supervisor => "supervisor",
            Who::Sharing => "sharing officer",
            Who::Auditor => "auditor",
            Who::Admin => "admin",
        }
    }
}

// ---- what the platform must answer -----------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// Past authorization: 2xx, or 400/409/422 (validation or state after the guards), or
    /// for pages a redirect elsewhere than the login form.
    Allowed,
    /// API: 401. Pages: 303 to `/login?next=…`.
    Unauthenticated,
    /// 403.
    Forbidden,
    /// 404: the resource must not be probeable by this subject.
    Hidden,
    /// 405.
    MethodNotAllowed,
}

#[derive(Clone, Copy, Debug)]
struct Expect {
    verdict: Verdict,
    /// The target model differs from (or was only just introduced in) the code the table
    /// was written against; said in failure messages.
    new: bool,
}

const OK: Expect = Expect {
    verdict: Verdict::Allowed,
    new: false,
};
const LOGIN: Expect = Expect {
    verdict: Verdict::Unauthenticated,
    new: false,
};
const DENY: Expect = Expect {
    verdict: Verdict::Forbidden,
    new: false,
};
const HIDE: Expect = Expect {
    verdict: Verdict::Hidden,
    new: false,
};
/// NEW rules.
const NEW_DENY: Expect = Expect {
    verdict: Verdict::Forbidden,
    new: true,
};
const NEW_GONE: Expect = Expect {
    verdict: Verdict::MethodNotAllowed,
    new: true,
};

/// One expectation per subject, in the column order of [`Who::ALL`].
const fn each(e: [Expect; 12]) -> [(Who, Expect); 12] {
    let mut out = [(Who::Anon, OK); 12];
    let mut i = 0;
    while i < 12 {
        out[i] = (Who::ALL[i], e[i]);
        i += 1;
    }
    out
}

type Row = &'static [(Who, Expect)];

// Columns (the order of Who::ALL):
//                                 anon      owner     lisi      enterpr.  clerk     approver  head      o.dept    superv.   sharing   auditor   admin
#[rustfmt::skip]
const PUBLIC: Row = &each([OK; 12]);
#[rustfmt::skip]
const SIGNED_IN: Row =      &each([LOGIN,    OK,       OK,       OK,       OK,       OK,       OK,       OK,       OK,       OK,       OK,       OK]);
#[rustfmt::skip]
const ADMIN_ONLY: Row =     &each([LOGIN,    DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     OK]);
/// Applicant-only lists (`/my/cases`).
#[rustfmt::skip]
const APPLICANTS: Row =     &each([LOGIN,    OK,       OK,       OK,       DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY]);
/// One case's messages: its applicant only; another applicant finds no such thread.
#[rustfmt::skip]
const MESSAGE_THREAD: Row = &each([LOGIN,    OK,       HIDE,     HIDE,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY]);
/// The online application form; the clerk is redirected to the window form.
#[rustfmt::skip]
const APPLY_FORM: Row =     &each([LOGIN,    OK,       OK,       OK,       OK,       DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY]);
#[rustfmt::skip]
const APPLY_SUBMIT: Row =   &each([LOGIN,    OK,       OK,       OK,       DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY]);
/// `POST /api/v1/cases`: applicants for themselves, the clerk at the window.
#[rustfmt::skip]
const APPLY_API: Row =      &each([LOGIN,    OK,       OK,       OK,       OK,       DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY]);
#[rustfmt::skip]
const WINDOW: Row =         &each([LOGIN,    DENY,     DENY,     DENY,     OK,       DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY]);
#[rustfmt::skip]
const INBOX: Row =          &each([LOGIN,    DENY,     DENY,     DENY,     DENY,     OK,       OK,       OK,       DENY,     DENY,     DENY,     DENY]);
/// Staff case lists and search (department staff see their department's). NEW: the sharing
/// officer reads no case.
#[rustfmt::skip]
const CASE_SEARCH: Row =    &each([LOGIN,    DENY,     DENY,     DENY,     OK,       OK,       OK,       OK,       OK,       NEW_DENY, OK,       OK]);
/// One case. NEW (already so today): the sharing officer reads no case.
#[rustfmt::skip]
const READ_CASE: Row =      &each([LOGIN,    OK,       HIDE,     HIDE,     OK,       OK,       OK,       DENY,     OK,       NEW_DENY, OK,       OK]);
/// An uploaded material's file (issue #12): the applicant, window clerks and the handling
/// department; supervisors, auditors and administrators see that it exists, not its content.
#[rustfmt::skip]
const READ_MATERIAL: Row =  &each([LOGIN,    OK,       HIDE,     HIDE,     OK,       OK,       OK,       DENY,     NEW_DENY, NEW_DENY, NEW_DENY, NEW_DENY]);
/// `withdraw`: the applicant, or the clerk for them.
#[rustfmt::skip]
const WITHDRAW: Row =       &each([LOGIN,    OK,       HIDE,     HIDE,     OK,       DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY]);
/// 补正: the owning applicant only. NEW: staff are refused.
#[rustfmt::skip]
const CORRECTION: Row =     &each([LOGIN,    OK,       HIDE,     HIDE,     NEW_DENY, NEW_DENY, NEW_DENY, DENY,     DENY,     DENY,     DENY,     DENY]);
/// `accept`: window and department staff of the case.
#[rustfmt::skip]
const ACCEPT: Row =         &each([LOGIN,    DENY,     HIDE,     HIDE,     OK,       OK,       OK,       DENY,     DENY,     DENY,     DENY,     DENY]);
/// `extend`: the head of the case's department.
#[rustfmt::skip]
const EXTEND: Row =         &each([LOGIN,    DENY,     HIDE,     HIDE,     DENY,     DENY,     OK,       DENY,     DENY,     DENY,     DENY,     DENY]);
/// Looking up the holder's licences for a case (recorded with its purpose).
#[rustfmt::skip]
const HOLDER_LOOKUP: Row =  &each([LOGIN,    DENY,     HIDE,     HIDE,     OK,       OK,       OK,       DENY,     DENY,     DENY,     DENY,     DENY]);
/// A 跨域 receipt nobody here holds: not probeable by anyone signed in.
#[rustfmt::skip]
const CROSS_VIEW: Row =     &each([LOGIN,    HIDE,     HIDE,     HIDE,     HIDE,     HIDE,     HIDE,     HIDE,     HIDE,     HIDE,     HIDE,     HIDE]);
/// NEW: the look-up is a POST; a GET must not succeed for anyone.
#[rustfmt::skip]
const METHOD_GONE: Row = &each([NEW_GONE; 12]);
/// Supervision board, records, orders, figures. NEW (already so today): not the sharing officer.
#[rustfmt::skip]
const SUP_READ: Row =       &each([LOGIN,    DENY,     DENY,     DENY,     DENY,     OK,       OK,       OK,       OK,       NEW_DENY, OK,       OK]);
/// Issuing and closing 督办 orders.
#[rustfmt::skip]
const SUP_ISSUE: Row =      &each([LOGIN,    DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     OK,       DENY,     DENY,     DENY]);
/// Answering an order addressed to the case's department.
#[rustfmt::skip]
const SUP_ANSWER: Row =     &each([LOGIN,    DENY,     DENY,     DENY,     DENY,     OK,       OK,       DENY,     DENY,     DENY,     DENY,     DENY]);
/// Licence lists (each sees what it may). NEW (already so today): not the sharing officer.
#[rustfmt::skip]
const LICENCE_LIST: Row =   &each([LOGIN,    OK,       OK,       OK,       OK,       OK,       OK,       OK,       OK,       NEW_DENY, OK,       OK]);
/// One licence: holder, issuing department, clerk, supervisor, auditor, admin. NEW: the
/// sharing officer gets 403 (today 404, like everyone who may not read it).
#[rustfmt::skip]
const LICENCE_READ: Row =   &each([LOGIN,    OK,       HIDE,     HIDE,     OK,       OK,       OK,       HIDE,     OK,       NEW_DENY, OK,       OK]);
/// Revoke/suspend/restore/expire: head of the issuing department, admin.
#[rustfmt::skip]
const LICENCE_MANAGE: Row = &each([LOGIN,    DENY,     HIDE,     HIDE,     DENY,     DENY,     OK,       HIDE,     DENY,     NEW_DENY, DENY,     OK]);
#[rustfmt::skip]
const LEDGER_ENTRIES: Row = &each([LOGIN,    DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     OK,       DENY,     OK,       OK]);
/// The audit log: auditors and administrators read and export it; nobody edits it.
#[rustfmt::skip]
const AUDIT_READ: Row =     &each([LOGIN,    DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     OK,       OK]);
/// 好差评: rating a case, by its applicant only (staff never rate for an applicant).
#[rustfmt::skip]
const RATE_CASE: Row =      &each([LOGIN,    OK,       HIDE,     HIDE,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY]);
/// The window pad and one-time links: no sign-in, but a staff session is refused.
#[rustfmt::skip]
const RATE_NO_STAFF: Row =  &each([OK,       OK,       OK,       OK,       DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY]);
/// 差评 follow-up records: the department's staff (their own), supervisors (all).
#[rustfmt::skip]
const RATING_FOLLOW_READ: Row = &each([LOGIN, DENY,    DENY,     DENY,     DENY,     OK,       OK,       OK,       OK,       DENY,     DENY,     DENY]);
/// 回访 and 整改 of the rating's department; supervisors of any.
#[rustfmt::skip]
const RATING_FOLLOW_ACT: Row = &each([LOGIN, DENY,     DENY,     DENY,     DENY,     OK,       OK,       DENY,     OK,       DENY,     DENY,     DENY]);
/// 申诉: the rating's department.
#[rustfmt::skip]
const RATING_APPEAL: Row =  &each([LOGIN,    DENY,     DENY,     DENY,     DENY,     OK,       OK,       DENY,     DENY,     DENY,     DENY,     DENY]);
/// 复核: supervisors (outside the rating's department).
#[rustfmt::skip]
const RATING_DECIDE: Row =  &each([LOGIN,    DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     OK,       DENY,     DENY,     DENY]);
/// The provincial export (applicants' ID numbers).
#[rustfmt::skip]
const RATING_EXPORT: Row =  &each([LOGIN,    DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     OK,       DENY,     OK,       OK]);
/// Booking hall appointments: applicants for themselves, the clerk for anyone.
#[rustfmt::skip]
const BOOK: Row =           &each([LOGIN,    OK,       OK,       OK,       OK,       DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY]);
/// One appointment that does not exist: bookers are told so, others may not ask.
#[rustfmt::skip]
const APPOINTMENT: Row =    &each([LOGIN,    HIDE,     HIDE,     HIDE,     HIDE,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY]);
/// A ticket that does not exist, worked at a window: only the clerk gets as far as 404.
#[rustfmt::skip]
const TICKET_WORK: Row =    &each([LOGIN,    DENY,     DENY,     DENY,     HIDE,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY]);
/// A ticket's position is public (the ticket number is the key); this one does not exist.
const NO_TICKET: Row = &each([HIDE; 12]);
/// Hall and delivery figures.
#[rustfmt::skip]
const HALL_FIGURES: Row =   &each([LOGIN,    DENY,     DENY,     DENY,     OK,       DENY,     OK,       DENY,     OK,       DENY,     OK,       OK]);
/// Parcel tracking events of the fixture case: the clerk, and the case's department.
#[rustfmt::skip]
const TRACK: Row =          &each([LOGIN,    DENY,     DENY,     DENY,     OK,       OK,       OK,       DENY,     DENY,     DENY,     DENY,     DENY]);
/// A carrier file: the clerk and department staff (each line is checked against the case).
#[rustfmt::skip]
const TRACK_IMPORT: Row =   &each([LOGIN,    DENY,     DENY,     DENY,     OK,       OK,       OK,       OK,       DENY,     DENY,     DENY,     DENY]);
/// The carrier webhook answers to its signature, not to sessions: unsigned is refused.
const CARRIER: Row = &each([DENY; 12]);
/// The exchange catalog: staff and the sharing officer; not applicants.
#[rustfmt::skip]
const EXCH_CATALOG: Row =   &each([LOGIN,    DENY,     DENY,     DENY,     OK,       OK,       OK,       OK,       OK,       OK,       OK,       OK]);
/// Catalog, grants, evidence, answers, the message log: the sharing officer only.
#[rustfmt::skip]
const EXCH_ADMIN: Row =     &each([LOGIN,    DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     OK,       DENY,     DENY]);
/// A purpose-bound data call: those who handle cases (the case check comes after).
#[rustfmt::skip]
const EXCH_CALL: Row =      &each([LOGIN,    DENY,     DENY,     DENY,     OK,       OK,       OK,       OK,       DENY,     DENY,     DENY,     DENY]);
/// Filing a conditional request: department staff and the sharing officer.
#[rustfmt::skip]
const EXCH_REQUEST: Row =   &each([LOGIN,    DENY,     DENY,     DENY,     DENY,     OK,       OK,       OK,       DENY,     OK,       DENY,     DENY]);
/// Following conditional requests: who files them, and supervision.
#[rustfmt::skip]
const EXCH_REQUESTS: Row =  &each([LOGIN,    DENY,     DENY,     DENY,     DENY,     OK,       OK,       OK,       OK,       OK,       OK,       OK]);
/// The applicant confirms fetching for their own case.
#[rustfmt::skip]
const EXCH_CONSENT: Row =   &each([LOGIN,    OK,       HIDE,     HIDE,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY]);
/// A 一件事 that does not exist: 404 for everyone.
const NO_SUCH: Row = &each([HIDE; 12]);
/// … for everyone signed in.
#[rustfmt::skip]
const NO_SUCH_SIGNED_IN: Row = &each([LOGIN, HIDE,   HIDE,     HIDE,     HIDE,     HIDE,     HIDE,     HIDE,     HIDE,     HIDE,     HIDE,     HIDE]);
/// … for the administrator; others may not ask.
#[rustfmt::skip]
const ADMIN_NO_SUCH: Row =  &each([LOGIN,    DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     DENY,     HIDE]);
/// Signing in: anyone (a fresh session each time).
const SIGN_IN: Row = &[(Who::Anon, OK), (Who::Clerk, OK)];
/// Ending an API session needs one.
const SIGN_OUT_API: Row = &[(Who::Anon, LOGIN), (Who::Clerk, OK)];

// ---- the table -------------------------------------------------------------------------

/// A request body. Placeholders, filled at run time: `{case}` `{licence}` `{record}` `{code}`
/// `{sha}` (an uploaded PDF) `{version}` (the case's current version) `{demo_password}`.
#[derive(Clone, Copy)]
enum Body {
    Empty,
    Json(&'static str),
    Form(&'static [(&'static str, &'static str)]),
    /// Text fields, and optionally a PDF file part under the given field name.
    Multipart(
        &'static [(&'static str, &'static str)],
        Option<&'static str>,
    ),
    /// The raw bytes of a PDF (`POST /api/v1/files`).
    Pdf,
}

impl Body {
    fn mentions(&self, placeholder: &str) -> bool {
        match self {
            Body::Json(t) => t.contains(placeholder),
            Body::Form(f) | Body::Multipart(f, _) => f.iter().any(|(_, v)| v.contains(placeholder)),
            Body::Empty | Body::Pdf => false,
        }
    }
}

struct Route {
    method: &'static str,
    /// Exactly as in the router (`{no}`, `{id}`, `{code}`, `{purpose}`).
    path: &'static str,
    /// Appended to the concrete path (`?from=…`).
    query: &'static str,
    body: Body,
    fresh: bool,
    expect: Row,
}

const fn r(method: &'static str, path: &'static str, body: Body, expect: Row) -> Route {
    Route {
        method,
        path,
        query: "",
        body,
        fresh: false,
        expect,
    }
}

impl Route {
    const fn q(self, query: &'static str) -> Route {
        Route { query, ..self }
    }
    const fn fresh(self) -> Route {
        Route {
            fresh: true,
            ..self
        }
    }
}

use Body::{Empty, Form, Json, Multipart, Pdf};

const COMMAND: &str = "/api/v1/cases/{no}/commands";

#[rustfmt::skip]
const ROUTES: &[Route] = &[
    // Public pages.
    r("GET", "/", Empty, PUBLIC),
    r("GET", "/items", Empty, PUBLIC),
    r("GET", "/items/{code}", Empty, PUBLIC),
    r("GET", "/items/{code}/forms/{file}", Empty, PUBLIC),
    r("GET", "/departments", Empty, PUBLIC),
    r("GET", "/themes", Empty, PUBLIC),
    r("GET", "/bundles", Empty, PUBLIC),
    // 一件事 (issue #17): `{code}` and `{no}` name an item and a case, no bundle: whoever gets
    // past sign-in is told there is no such bundle (the bundle's own readers: bundles.rs).
    r("GET", "/bundles/{code}", Empty, NO_SUCH),
    r("POST", "/bundles/{code}/apply", Multipart(&[], None), NO_SUCH_SIGNED_IN),
    r("GET", "/bundle-cases/{no}", Empty, NO_SUCH_SIGNED_IN),
    r("GET", "/halls", Empty, PUBLIC),
    r("GET", "/halls/{hall}/screen", Empty, PUBLIC),
    r("GET", "/halls/{hall}/screen/events", Empty, PUBLIC).q("?once=1"),
    r("GET", "/halls/{hall}/ticket", Empty, PUBLIC),
    r("POST", "/halls/{hall}/ticket", Form(&[("item", "")]), PUBLIC),
    r("GET", "/windows/{id}", Empty, WINDOW),
    r("POST", "/windows/{id}", Form(&[("action", "")]), WINDOW),
    r("GET", "/stats", Empty, PUBLIC),
    r("GET", "/stats/export", Empty, PUBLIC).q("?table=figures&format=csv"),
    r("GET", "/login", Empty, PUBLIC),
    r("POST", "/login", Form(&[("username", "clerk"), ("password", "{demo_password}"), ("next", "/")]), SIGN_IN).fresh(),
    r("POST", "/logout", Form(&[]), SIGN_IN).fresh(),
    r("GET", "/register", Empty, PUBLIC),
    r("POST", "/register", Form(&[("name", "")]), PUBLIC),
    r("GET", "/verify", Empty, PUBLIC),
    r("POST", "/verify", Multipart(&[("note", "x")], None), PUBLIC),
    r("POST", "/senior", Form(&[("mode", "on"), ("next", "/items")]), PUBLIC),
    // Applying and following a case (pages).
    r("GET", "/apply/{code}", Empty, APPLY_FORM),
    r("POST", "/apply/{code}", Multipart(&[("delivery", "electronic")], None), APPLY_SUBMIT),
    r("GET", "/my/cases", Empty, APPLICANTS),
    r("GET", "/my/messages", Empty, APPLICANTS),
    r("GET", "/my/messages/{no}", Empty, MESSAGE_THREAD),
    r("GET", "/my/data-access", Empty, APPLICANTS),
    r("GET", "/exchange", Empty, EXCH_CATALOG),
    r("GET", "/cases", Empty, CASE_SEARCH),
    r("GET", "/cases/{no}", Empty, READ_CASE),
    r("GET", "/cases/{no}/receipt", Empty, READ_CASE),
    r("GET", "/cases/{no}/notices/{file}", Empty, READ_CASE),
    r("GET", "/cases/{no}/materials/{n}", Empty, READ_MATERIAL),
    r("POST", "/cases/{no}/act", Form(&[("version", "{version}"), ("action", "withdraw"), ("reason", "")]), WITHDRAW),
    r("POST", "/cases/{no}/correction", Multipart(&[("version", "{version}")], Some("correction")), CORRECTION),
    r("GET", "/window", Empty, WINDOW),
    r("POST", "/window", Multipart(&[("item", "{code}")], None), WINDOW),
    r("GET", "/desk", Empty, CASE_SEARCH),
    r("GET", "/inbox", Empty, INBOX),
    // Supervision (pages).
    r("GET", "/supervision", Empty, SUP_READ),
    r("GET", "/supervision/orders", Empty, SUP_READ),
    r("POST", "/supervision/orders", Form(&[("record_no", "{record}"), ("instruction", "说明情况"), ("due", "")]), SUP_ISSUE),
    r("POST", "/supervision/orders/{no}/answer", Form(&[("answer", "")]), SUP_ANSWER),
    r("POST", "/supervision/orders/{no}/close", Form(&[("note", "")]), SUP_ISSUE),
    r("GET", "/supervision/stats", Empty, SUP_READ),
    // Licences (pages).
    r("GET", "/licences", Empty, LICENCE_LIST),
    r("GET", "/licences/{id}", Empty, LICENCE_READ),
    r("GET", "/licences/{id}/json", Empty, LICENCE_READ),
    r("GET", "/licences/{id}/pdf", Empty, LICENCE_READ),
    r("POST", "/licences/{id}/status", Form(&[("action", "bogus"), ("reason", "")]), LICENCE_MANAGE),
    // Administration (pages). Writes are refused by validation (422) or state (409).
    r("GET", "/admin", Empty, ADMIN_ONLY),
    r("GET", "/admin/items", Empty, ADMIN_ONLY),
    r("GET", "/admin/items/new", Empty, ADMIN_ONLY),
    r("POST", "/admin/items/new", Form(&[]), ADMIN_ONLY),
    r("GET", "/admin/items/{code}/edit", Empty, ADMIN_ONLY),
    r("POST", "/admin/items/{code}/edit", Form(&[]), ADMIN_ONLY),
    r("POST", "/admin/items/{code}/retire", Form(&[("reason", "")]), ADMIN_ONLY),
    r("POST", "/admin/items/{code}/restore", Form(&[("reason", "")]), ADMIN_ONLY),
    r("GET", "/admin/items/{code}/history", Empty, ADMIN_ONLY),
    r("GET", "/admin/import", Empty, ADMIN_ONLY),
    r("POST", "/admin/import", Multipart(&[("note", "x")], None), ADMIN_ONLY),
    r("GET", "/admin/export", Empty, ADMIN_ONLY).q("?format=csv"),
    r("GET", "/admin/departments", Empty, ADMIN_ONLY),
    r("POST", "/admin/departments", Form(&[("code", "bad"), ("name", "市测试局")]), ADMIN_ONLY),
    r("POST", "/admin/departments/{id}", Form(&[("name", "")]), ADMIN_ONLY),
    r("GET", "/admin/halls", Empty, ADMIN_ONLY),
    r("POST", "/admin/halls", Form(&[("name", "x"), ("kind", "")]), ADMIN_ONLY),
    r("POST", "/admin/halls/{id}", Form(&[("kind", "")]), ADMIN_ONLY),
    r("POST", "/admin/halls/{id}/windows", Form(&[("number", ""), ("name", "")]), ADMIN_ONLY),
    r("POST", "/admin/windows/{id}", Form(&[("name", "")]), ADMIN_ONLY),
    r("GET", "/admin/users", Empty, ADMIN_ONLY),
    r("POST", "/admin/users", Form(&[("role", "")]), ADMIN_ONLY),
    r("POST", "/admin/users/{id}", Form(&[("role", "")]), ADMIN_ONLY),
    r("POST", "/admin/users/{id}/unlock", Form(&[]), ADMIN_ONLY),
    r("GET", "/admin/calendar", Empty, ADMIN_ONLY),
    r("POST", "/admin/calendar", Form(&[("source", "year 2027\nholiday 2027-13-01\n")]), ADMIN_ONLY),
    r("GET", "/admin/four-same", Empty, ADMIN_ONLY),
    r("GET", "/admin/audit", Empty, AUDIT_READ),
    r("GET", "/admin/audit.csv", Empty, AUDIT_READ),
    r("POST", "/admin/users/{id}/password", Form(&[("password", "")]), ADMIN_ONLY),
    // Public API.
    r("GET", "/api/v1/openapi.json", Empty, PUBLIC),
    r("GET", "/api/v1/items", Empty, PUBLIC),
    r("GET", "/api/v1/items/{code}", Empty, PUBLIC),
    r("GET", "/api/v1/items/{code}/workflow", Empty, PUBLIC),
    r("GET", "/api/v1/catalog/stats", Empty, PUBLIC),
    r("GET", "/api/v1/analytics/cases", Empty, PUBLIC).q("?from=2026-01-01&to=2026-03-31&group_by=department"),
    r("GET", "/api/v1/analytics/compare", Empty, PUBLIC).q("?before_from=2026-01-01&before_to=2026-01-31&from=2026-02-01&to=2026-03-31"),
    r("GET", "/api/v1/analytics/cases/list", Empty, CASE_SEARCH),
    r("GET", "/api/v1/departments", Empty, PUBLIC),
    r("GET", "/api/v1/halls", Empty, PUBLIC),
    // The hall (issue #18).
    r("GET", "/api/v1/halls/{hall}/slots", Empty, PUBLIC),
    r("POST", "/api/v1/halls/{hall}/tickets", Json("{}"), PUBLIC),
    r("GET", "/api/v1/halls/{hall}/figures", Empty, HALL_FIGURES),
    r("POST", "/api/v1/appointments", Json(r#"{"slot": 999999, "item": "{code}"}"#), BOOK),
    r("GET", "/api/v1/my/appointments", Empty, BOOK),
    r("DELETE", "/api/v1/appointments/{id}", Empty, APPOINTMENT),
    r("POST", "/api/v1/appointments/{id}/reschedule", Json(r#"{"slot": 1}"#), APPOINTMENT),
    r("GET", "/api/v1/tickets/{id}", Empty, NO_TICKET),
    r("POST", "/api/v1/tickets/{id}/serve", Json("{}"), TICKET_WORK),
    r("POST", "/api/v1/tickets/{id}/skip", Json("{}"), TICKET_WORK),
    r("POST", "/api/v1/tickets/{id}/transfer", Json(r#"{"window": 1}"#), TICKET_WORK),
    r("POST", "/api/v1/tickets/{id}/finish", Json("{}"), TICKET_WORK),
    r("POST", "/api/v1/windows/{id}/call", Json("{}"), WINDOW),
    r("POST", "/api/v1/windows/{id}/recall", Json("{}"), WINDOW),
    r("GET", "/api/v1/cases/{no}/delivery/events", Empty, READ_CASE),
    r("POST", "/api/v1/cases/{no}/delivery/events", Json("{}"), TRACK),
    r("POST", "/api/v1/delivery/import", Empty, TRACK_IMPORT),
    r("POST", "/api/v1/delivery/webhook", Json("{}"), CARRIER),
    r("GET", "/api/v1/delivery/figures", Empty, HALL_FIGURES),
    r("GET", "/api/v1/themes", Empty, PUBLIC),
    r("GET", "/api/v1/bundles", Empty, PUBLIC),
    r("GET", "/api/v1/bundles/{bundle_code}", Empty, NO_SUCH),
    r("POST", "/api/v1/bundles/{bundle_code}/applications", Json("{}"), NO_SUCH_SIGNED_IN),
    r("GET", "/api/v1/bundle-cases/{bundle_no}", Empty, NO_SUCH_SIGNED_IN),
    r("GET", "/api/v1/bundle-figures", Empty, PUBLIC),
    r("POST", "/api/v1/admin/bundles", Json("{}"), ADMIN_ONLY),
    r("GET", "/api/v1/admin/bundles/{bundle_code}", Empty, ADMIN_NO_SUCH),
    r("GET", "/api/v1/calendar/deadline", Empty, PUBLIC).q("?from=2026-03-02&working_days=5"),
    r("POST", "/api/v1/applicants", Json("{}"), PUBLIC),
    r("GET", "/api/v1/licences/keys", Empty, PUBLIC),
    r("GET", "/api/v1/licences/status/{purpose}", Empty, PUBLIC),
    r("POST", "/api/v1/licences/verify", Json(r#"{"id": "{licence}"}"#), PUBLIC),
    r("GET", "/api/v1/ledger/checkpoint", Empty, PUBLIC),
    r("GET", "/api/v1/ledger/keys", Empty, PUBLIC),
    r("GET", "/api/v1/ledger/proof/inclusion", Empty, PUBLIC).q("?index=0&size=1"),
    r("GET", "/api/v1/ledger/proof/consistency", Empty, PUBLIC).q("?from=1&to=1"),
    r("GET", "/api/v1/ledger/entries", Empty, LEDGER_ENTRIES).q("?start=0&end=1"),
    // Sessions.
    r("POST", "/api/v1/session", Json(r#"{"username": "clerk", "password": "{demo_password}"}"#), SIGN_IN),
    r("DELETE", "/api/v1/session", Empty, SIGN_OUT_API).fresh(),
    r("GET", "/api/v1/me", Empty, SIGNED_IN),
    r("POST", "/api/v1/files", Pdf, SIGNED_IN),
    // Cases (API).
    r("GET", "/api/v1/cases", Empty, CASE_SEARCH),
    r("POST", "/api/v1/cases", Json(r#"{"item": "{code}"}"#), APPLY_API),
    r("GET", "/api/v1/cases/{no}", Empty, READ_CASE),
    r("GET", "/api/v1/cases/{no}/events", Empty, READ_CASE),
    r("GET", "/api/v1/cases/{no}/notices", Empty, READ_CASE),
    r("POST", COMMAND, Json(r#"{"expected_version": {version}, "action": "withdraw", "reason": ""}"#), WITHDRAW),
    r("POST", COMMAND, Json(r#"{"expected_version": {version}, "action": "submit_correction", "materials": [{"name": "补正材料", "sha256": "{sha}"}]}"#), CORRECTION),
    r("POST", COMMAND, Json(r#"{"expected_version": {version}, "action": "accept"}"#), ACCEPT),
    r("POST", COMMAND, Json(r#"{"expected_version": {version}, "action": "extend", "days": 0, "reason": ""}"#), EXTEND),
    r("GET", "/api/v1/my/cases", Empty, APPLICANTS),
    // The exchange.
    r("GET", "/api/v1/federation/member", Empty, PUBLIC),
    r("POST", "/api/v1/federation/exchange", Json("{}"), PUBLIC),
    // The province link.
    r("POST", "/api/v1/federation/events", Json("{}"), PUBLIC),
    r("POST", "/api/v1/federation/checkpoints", Json("{}"), PUBLIC),
    r("GET", "/api/v1/federation/outbox", Empty, ADMIN_ONLY),
    r("GET", "/api/v1/federation/reconciliation", Empty, AUDIT_READ),
    r("GET", "/api/v1/federation/standard-items", Empty, ADMIN_ONLY),
    r("POST", "/api/v1/federation/standard-items", Empty, ADMIN_ONLY),
    r("POST", "/api/v1/federation/cross", Json(r#"{"owner": "", "impl_code": "", "applicant": {"name": "", "id_number": ""}}"#), WINDOW),
    r("POST", "/api/v1/federation/cross/receive", Json("{}"), PUBLIC),
    r("POST", "/api/v1/federation/cross/status", Json("{}"), PUBLIC),
    r("GET", "/api/v1/federation/cross/{id}", Empty, CROSS_VIEW),
    r("POST", "/api/v1/federation/cross/{id}/decision", Json(r#"{"decision": "accept"}"#), TICKET_WORK),
    r("GET", "/api/v1/exchange/catalog", Empty, EXCH_CATALOG),
    r("GET", "/api/v1/exchange/catalog.xlsx", Empty, EXCH_CATALOG),
    r("POST", "/api/v1/exchange/resources", Json(r#"{"code": "", "name": "", "provider": "", "provider_code": "", "fields": [], "sharing_class": "无条件"}"#), EXCH_ADMIN),
    r("POST", "/api/v1/exchange/grants", Json(r#"{"resource": "", "client_member": "", "client_subsystem": ""}"#), EXCH_ADMIN),
    r("POST", "/api/v1/exchange/evidence", Json(r#"{"impl_code": "", "resource": "", "provider_member": ""}"#), EXCH_ADMIN),
    r("POST", "/api/v1/exchange/calls", Json(r#"{"service": "", "case_no": ""}"#), EXCH_CALL),
    r("GET", "/api/v1/exchange/log", Empty, EXCH_ADMIN),
    r("GET", "/api/v1/exchange/requests", Empty, EXCH_REQUESTS),
    r("POST", "/api/v1/exchange/requests", Json(r#"{"resource": ""}"#), EXCH_REQUEST),
    r("POST", "/api/v1/exchange/requests/{id}/answer", Json(r#"{"decision": "bogus"}"#), EXCH_ADMIN),
    r("POST", "/api/v1/cases/{no}/exchange-consent", Empty, EXCH_CONSENT),
    r("GET", "/api/v1/my/data-access", Empty, APPLICANTS),
    r("GET", "/api/v1/inbox", Empty, INBOX),
    r("POST", "/api/v1/cases/{no}/holder-licences", Json(r#"{"purpose": "核验经营资质"}"#), HOLDER_LOOKUP),
    r("GET", "/api/v1/cases/{no}/holder-licences", Empty, METHOD_GONE),
    // Supervision (API).
    r("GET", "/api/v1/supervision/records", Empty, SUP_READ),
    r("GET", "/api/v1/supervision/orders", Empty, SUP_READ),
    r("POST", "/api/v1/supervision/orders", Json(r#"{"record_no": "{record}", "instruction": "说明情况", "due": ""}"#), SUP_ISSUE),
    r("POST", "/api/v1/supervision/orders/{no}/answer", Json(r#"{"answer": ""}"#), SUP_ANSWER),
    r("POST", "/api/v1/supervision/orders/{no}/close", Json(r#"{"note": ""}"#), SUP_ISSUE),
    r("GET", "/api/v1/supervision/departments", Empty, SUP_READ),
    // Licences (API).
    r("GET", "/api/v1/licences", Empty, LICENCE_LIST),
    r("GET", "/api/v1/licences/{id}", Empty, LICENCE_READ),
    r("POST", "/api/v1/licences/{id}/status", Json(r#"{"action": "bogus"}"#), LICENCE_MANAGE),
    // Administration (API). Bodies fail validation after the guard (422) or conflict (409).
    r("POST", "/api/v1/admin/items", Json("{}"), ADMIN_ONLY),
    r("PUT", "/api/v1/admin/items/{code}", Json("{}"), ADMIN_ONLY),
    r("PUT", "/api/v1/admin/items/{code}/workflow", Json("{}"), ADMIN_ONLY),
    r("POST", "/api/v1/admin/items/{code}/retire", Json("{}"), ADMIN_ONLY),
    r("POST", "/api/v1/admin/items/{code}/restore", Json("{}"), ADMIN_ONLY),
    r("GET", "/api/v1/admin/items/{code}/versions", Empty, ADMIN_ONLY),
    r("POST", "/api/v1/admin/catalog/import", Multipart(&[("note", "x")], None), ADMIN_ONLY),
    r("GET", "/api/v1/admin/catalog/export", Empty, ADMIN_ONLY).q("?format=csv"),
    r("GET", "/api/v1/admin/catalog/four-same", Empty, ADMIN_ONLY),
    r("POST", "/api/v1/admin/departments", Json("{}"), ADMIN_ONLY),
    r("POST", "/api/v1/admin/halls", Json("{}"), ADMIN_ONLY),
    r("GET", "/api/v1/admin/users", Empty, ADMIN_ONLY),
    r("POST", "/api/v1/admin/users", Json("{}"), ADMIN_ONLY),
    r("POST", "/api/v1/admin/users/{id}/unlock", Json("{}"), ADMIN_ONLY),
    r("POST", "/api/v1/admin/users/{id}/password", Json(r#"{"password": ""}"#), ADMIN_ONLY),
    r("POST", "/api/v1/me/password", Json(r#"{"current_password": "wrong", "new_password": ""}"#), SIGNED_IN),
    r("GET", "/api/v1/audit", Empty, AUDIT_READ),
    r("GET", "/api/v1/audit/export", Empty, AUDIT_READ),
    r("POST", "/api/v1/admin/calendar", Json("{}"), ADMIN_ONLY),
    r("POST", "/api/v1/admin/licence-types", Json("{}"), ADMIN_ONLY),
    // 好差评 (pages and API). The fixture rating is a 5-star rating of the fixture case,
    // so follow-up writes are refused after authorization (not a 差评, 422).
    r("GET", "/ratings", Empty, PUBLIC),
    r("GET", "/ratings/export.csv", Empty, RATING_EXPORT).q("?month=2026-03"),
    r("GET", "/ratings/rectifications", Empty, RATING_FOLLOW_READ),
    r("POST", "/ratings/{id}/act", Form(&[("action", "callback"), ("note", "")]), RATING_FOLLOW_ACT),
    r("GET", "/rate/window/{window}", Empty, PUBLIC),
    r("POST", "/rate/window/{window}", Form(&[("level", "0")]), RATE_NO_STAFF),
    r("POST", "/rate/window/{window}/case", Form(&[("case_no", "{case}")]), WINDOW),
    r("GET", "/rate/t/{token}", Empty, PUBLIC),
    r("POST", "/rate/t/{token}", Form(&[("level", "3")]), RATE_NO_STAFF),
    r("POST", "/cases/{no}/rate", Form(&[("stage", "acceptance"), ("level", "0")]), RATE_CASE),
    r("POST", "/api/v1/cases/{no}/ratings", Json(r#"{"level": 0, "channel": "web", "stage": "acceptance"}"#), RATE_CASE),
    r("GET", "/api/v1/ratings/stats", Empty, PUBLIC).q("?from=2026-03-01&to=2026-03-31"),
    r("GET", "/api/v1/ratings/export", Empty, RATING_EXPORT).q("?month=2026-03"),
    r("GET", "/api/v1/ratings/rectifications", Empty, RATING_FOLLOW_READ),
    r("POST", "/api/v1/ratings/{id}/callback", Json(r#"{"note": "已电话回访"}"#), RATING_FOLLOW_ACT),
    r("POST", "/api/v1/ratings/{id}/rectify", Json(r#"{"note": "已整改"}"#), RATING_FOLLOW_ACT),
    r("POST", "/api/v1/ratings/{id}/appeal", Json(r#"{"reason": "", "evidence": ""}"#), RATING_APPEAL),
    r("POST", "/api/v1/ratings/{id}/appeal/decision", Json("{}"), RATING_DECIDE),
    // Operations.
    r("GET", "/healthz", Empty, PUBLIC),
    r("GET", "/readyz", Empty, PUBLIC),
    r("GET", "/metrics", Empty, ADMIN_ONLY),
    r("GET", "/account/password", Empty, SIGNED_IN),
    r("POST", "/account/password", Form(&[("current_password", "wrong"), ("new_password", "")]), SIGNED_IN),
];

// ---- fixtures ---------------------------------------------------------------------------

struct Fixtures {
    /// 食品经营许可证核发 of 市市场监督管理局.
    code: String,
    /// zhangsan's case, accepted (in approval), with a fee charged (a supervision record).
    case_no: String,
    /// zhangsan's 食品经营许可证, issued by approving a second case.
    licence_id: String,
    record_no: String,
    /// An open 督办 order on the case's record.
    order_no: String,
    /// The clerk's user id (for user routes).
    clerk_id: String,
    /// A PDF uploaded by zhangsan.
    sha: String,
    /// zhangsan's 5-star rating of the case (not a 差评).
    rating_id: String,
    /// A window whose pad shows the case.
    window_id: String,
    /// An unused one-time rating link of the case (for 办结, not reached).
    token: String,
}

impl Fixtures {
    fn path(&self, template: &str) -> String {
        let no = if template.contains("/supervision/orders/") {
            self.order_no.as_str()
        } else {
            self.case_no.as_str()
        };
        let id = if template.contains("/licences/") {
            self.licence_id.as_str()
        } else if template.contains("/users/") {
            self.clerk_id.as_str()
        } else if template.contains("/ratings/") {
            self.rating_id.as_str()
        } else {
            // Departments, halls, windows: the bodies are refused before the id is looked up.
            "1"
        };
        template
            .replace("{no}", no)
            .replace("{id}", id)
            .replace("{code}", &self.code)
            .replace("{purpose}", "revocation")
            .replace("{window}", &self.window_id)
            .replace("{token}", &self.token)
            .replace("{hall}", "1")
            // The fixture case is accepted: its first notice is the 受理通知书. The guide's
            // forms: the sample.
            .replace(
                "{file}",
                if template.contains("/forms/") {
                    "sample.pdf"
                } else {
                    "1.pdf"
                },
            )
            .replace("{n}", "1")
    }

    fn fill(&self, template: &str, version: Option<i64>) -> String {
        template
            .replace("{case}", &self.case_no)
            .replace("{licence}", &self.licence_id)
            .replace("{record}", &self.record_no)
            .replace("{code}", &self.code)
            .replace("{sha}", &self.sha)
            .replace("{demo_password}", DEMO_PASSWORD)
            .replace(
                "{version}",
                &version.map(|v| v.to_string()).unwrap_or_default(),
            )
    }
}

/// The second applicant and the other department's approver.
async fn other_users(app: &App) {
    let (s, e) = post(
        app,
        "",
        "/api/v1/applicants",
        json!({ "kind": "person", "name": "李四", "id_number": tongban_core::ids::ResidentId::with_check_char("43130219900101123").unwrap().as_str(), "mobile": "13900000000", "username": LISI.0, "password": LISI.1 }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "register lisi: {e}");
    let depts: Value = reqwest::get(app.url("/api/v1/departments"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other = depts
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "市公安局")
        .expect("the demo city has 市公安局")["id"]
        .as_i64()
        .unwrap();
    let admin = app.token("admin").await;
    let (s, e) = post(
        app,
        &admin,
        "/api/v1/admin/users",
        json!({ "username": GAJ.0, "display_name": "公安审批", "password": GAJ.1, "role": "approver", "department_id": other }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "create {}: {e}", GAJ.0);
}

async fn upload_pdf(app: &App, token: &str) -> String {
    let r = Client::new()
        .post(app.url("/api/v1/files"))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(PDF.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "upload");
    r.json::<Value>().await.unwrap()["sha256"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Applies online with every required material; returns (case number, version).
async fn apply(
    app: &App,
    token: &str,
    code: &str,
    required: &[String],
    sha: &str,
    key: &str,
) -> (String, i64) {
    let materials: Vec<Value> = required
        .iter()
        .map(|name| json!({ "name": name, "sha256": sha }))
        .collect();
    let (s, case) = post(
        app,
        token,
        "/api/v1/cases",
        json!({ "item": code, "delivery": "electronic", "materials": materials, "idempotency_key": key, "details": { "经营项目": "预包装食品销售" } }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "apply: {case}");
    (
        case["case_no"].as_str().unwrap().to_string(),
        case["version"].as_i64().unwrap(),
    )
}

/// Runs a command that must succeed; returns the new version.
async fn act(app: &App, token: &str, no: &str, version: i64, mut body: Value) -> i64 {
    body["expected_version"] = json!(version);
    let (s, case) = post(
        app,
        token,
        &format!("/api/v1/cases/{no}/commands"),
        body.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "fixture command {body}: {case}");
    case["version"].as_i64().unwrap()
}

async fn fixtures(app: &App, sessions: &HashMap<Who, Session>) -> Fixtures {
    let token = |w: Who| sessions[&w].token.clone().expect("signed in");
    let (zs, clerk, approver, head, sup, admin) = (
        token(Who::Owner),
        token(Who::Clerk),
        token(Who::Approver),
        token(Who::Head),
        token(Who::Supervisor),
        token(Who::Admin),
    );
    let items = app.db().store.all_items().await.unwrap();
    let item = items
        .iter()
        .find(|i| i.item.name == "食品经营许可证核发" && i.item.department == "市市场监督管理局")
        .expect("食品经营许可证核发 of 市市场监督管理局");
    let code = item.item.impl_code.clone();
    let required: Vec<String> = item
        .materials
        .iter()
        .filter(|m| m.necessity == tongban_core::catalog::Necessity::Required)
        .map(|m| m.name.clone())
        .collect();
    let sha = upload_pdf(app, &zs).await;

    // A licence held by zhangsan: a second case, approved through every step.
    let (licensed, mut v) = apply(app, &zs, &code, &required, &sha, "authz-licence").await;
    for (t, action) in [
        (&clerk, "accept"),
        (&approver, "pass"),
        (&approver, "pass"),
        (&head, "pass"),
    ] {
        v = act(
            app,
            t,
            &licensed,
            v,
            json!({ "action": action, "opinion": "同意" }),
        )
        .await;
    }
    let (_, mine) = get(app, &zs, "/api/v1/licences").await;
    let licence_id = mine["licences"][0]["licence_id"]
        .as_str()
        .unwrap_or_else(|| panic!("zhangsan holds the licence of {licensed}: {mine}"))
        .to_string();

    // The case of the table: accepted, so in approval; a fee on a free item raises a
    // supervision record, on which the supervisor issues an order.
    let (case_no, v) = apply(app, &zs, &code, &required, &sha, "authz-case").await;
    let v = act(app, &clerk, &case_no, v, json!({ "action": "accept" })).await;
    act(
        app,
        &approver,
        &case_no,
        v,
        json!({ "action": "charge_fee", "amount": "50" }),
    )
    .await;
    let (_, recs) = get(
        app,
        &sup,
        &format!("/api/v1/supervision/records?case_no={case_no}"),
    )
    .await;
    let record_no = recs["records"][0]["record_no"]
        .as_str()
        .unwrap_or_else(|| panic!("a supervision record on {case_no}: {recs}"))
        .to_string();
    let (s, order) = post(
        app,
        &sup,
        "/api/v1/supervision/orders",
        json!({ "record_no": record_no, "instruction": "说明收费依据", "due": "2026-03-06" }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "order: {order}");
    let order_no = order["order_no"].as_str().unwrap().to_string();

    let (_, users) = get(app, &admin, "/api/v1/admin/users").await;
    let clerk_id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "clerk")
        .expect("the clerk")["id"]
        .as_i64()
        .unwrap()
        .to_string();
    // 好差评: zhangsan rates the accepted case (5 stars); the clerk shows it on a window's
    // pad; a one-time link for its 办结 (not reached, so a rating through it is refused).
    let (s, rating) = post(
        app,
        &zs,
        &format!("/api/v1/cases/{case_no}/ratings"),
        json!({ "level": 5, "channel": "web", "stage": "acceptance" }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "rating: {rating}");
    let rating_id = rating["id"].as_i64().unwrap().to_string();
    let store = &app.db().store;
    let hall = store.halls().await.unwrap()[0].id;
    let window_id = store.hall_windows(hall).await.unwrap()[0].id;
    let rec = store.case_by_no(&case_no).await.unwrap();
    store
        .set_pad_case(window_id, rec.id, "clerk", {
            use tongban_app::clock::Clock;
            app.clock.now()
        })
        .await
        .unwrap();
    let link = tongban_app::ratings::new_link(
        &app.state,
        &rec,
        tongban_core::rating::Stage::Completion,
        tongban_core::rating::RatingChannel::Sms,
    )
    .await
    .unwrap();
    let token = link.trim_start_matches("/rate/t/").to_string();
    Fixtures {
        code,
        case_no,
        licence_id,
        record_no,
        order_no,
        clerk_id,
        sha,
        rating_id,
        window_id: window_id.to_string(),
        token,
    }
}

// ---- asking as a subject ----------------------------------------------------------------

/// A subject's credentials: an API token and a signed-in browser with its CSRF token.
struct Session {
    token: Option<String>,
    browser: Client,
    csrf: String,
}

async fn open_session(app: &App, who: Who) -> Session {
    let browser = Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap();
    let html = page_text(&browser, app.url("/login")).await;
    let csrf = csrf_of(&html);
    let Some((user, password)) = who.credentials() else {
        return Session {
            token: None,
            browser,
            csrf,
        };
    };
    let r = browser
        .post(app.url("/login"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", user),
            ("password", password),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "form login {user}");
    // Signed in, forms carry the CSRF token bound to this session.
    let csrf = csrf_of(
        &browser
            .get(app.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let token = app.token_with(user, password).await;
    Session {
        token: Some(token),
        browser,
        csrf,
    }
}

struct Answer {
    status: StatusCode,
    location: String,
    text: String,
}

async fn case_version(app: &App, admin: &str, no: &str) -> i64 {
    let (s, v) = get(app, admin, &format!("/api/v1/cases/{no}")).await;
    assert_eq!(s, StatusCode::OK, "version of {no}: {v}");
    v["version"].as_i64().unwrap()
}

/// Sends one row's request as the session's subject.
async fn send(
    app: &App,
    api: &Client,
    fx: &Fixtures,
    s: &Session,
    route: &Route,
    admin: &str,
) -> Answer {
    let path = format!("{}{}", fx.path(route.path), route.query);
    let is_api = route.path.starts_with("/api/");
    let version = if route.body.mentions("{version}") {
        Some(case_version(app, admin, &fx.case_no).await)
    } else {
        None
    };
    let method = reqwest::Method::from_bytes(route.method.as_bytes()).unwrap();
    let write = method != reqwest::Method::GET;
    let req = if is_api {
        let req = api.request(method, app.url(&path));
        match (&s.token, write) {
            (Some(t), _) => req.bearer_auth(t),
            // A token naming no session: the guard, not the CSRF rule, must refuse.
            (None, true) => req.bearer_auth("anonymous"),
            (None, false) => req,
        }
    } else if write {
        let sep = if path.contains('?') { '&' } else { '?' };
        s.browser
            .request(method, app.url(&format!("{path}{sep}_csrf={}", s.csrf)))
    } else {
        s.browser.request(method, app.url(&path))
    };
    let req = match route.body {
        Body::Empty => req,
        Body::Json(t) => {
            let filled = fx.fill(t, version);
            let v: Value = serde_json::from_str(&filled)
                .unwrap_or_else(|e| panic!("row body {filled} is not JSON: {e}"));
            req.json(&v)
        }
        Body::Form(fields) => {
            let fields: Vec<(String, String)> = fields
                .iter()
                .map(|(k, v)| (k.to_string(), fx.fill(v, version)))
                .collect();
            req.form(&fields)
        }
        Body::Multipart(fields, file) => {
            let mut form = reqwest::multipart::Form::new();
            for (k, v) in fields {
                form = form.text(k.to_string(), fx.fill(v, version));
            }
            if let Some(field) = file {
                form = form.part(
                    field.to_string(),
                    reqwest::multipart::Part::bytes(PDF.to_vec()).file_name("材料.pdf"),
                );
            }
            req.multipart(form)
        }
        Body::Pdf => req
            .header("content-type", "application/octet-stream")
            .body(PDF.to_vec()),
    };
    let res = req.send().await.unwrap();
    let status = res.status();
    let location = res
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = res.bytes().await.unwrap_or_default();
    Answer {
        status,
        location,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn judge(verdict: Verdict, is_api: bool, a: &Answer) -> bool {
    let s = a.status.as_u16();
    let redirect = (300..400).contains(&s);
    let to_login = redirect && a.location.starts_with("/login");
    match verdict {
        Verdict::Allowed => {
            (200..300).contains(&s)
                || matches!(s, 400 | 409 | 422)
                || (!is_api && redirect && !to_login)
        }
        Verdict::Unauthenticated if is_api => s == 401,
        // Pages send people to the sign-in form; a bearer-token resource (/metrics) says 401.
        Verdict::Unauthenticated => (s == 303 && to_login) || s == 401,
        Verdict::Forbidden => s == 403,
        Verdict::Hidden => s == 404,
        Verdict::MethodNotAllowed => s == 405,
    }
}

/// The message of an answer, for failure reports: an API error's `message`, a page's alert.
fn gist(a: &Answer) -> String {
    if let Ok(v) = serde_json::from_str::<Value>(&a.text) {
        if let Some(m) = v["message"].as_str() {
            return m.to_string();
        }
    }
    if let Some(at) = a.text.find("class=\"alert error\">") {
        let rest = &a.text[at + 20..];
        return rest[..rest.find('<').unwrap_or(rest.len())].to_string();
    }
    a.text.chars().take(100).collect()
}

/// Walks the whole table against a running app (demo city seeded, nothing else done).
pub async fn authorization_matrix(app: &App) {
    other_users(app).await;
    let mut sessions = HashMap::new();
    for who in Who::ALL {
        sessions.insert(who, open_session(app, who).await);
    }
    let fx = fixtures(app, &sessions).await;
    let admin = sessions[&Who::Admin].token.clone().unwrap();
    let api = Client::builder().redirect(Policy::none()).build().unwrap();
    let mut failures = Vec::new();
    let mut rows = 0;
    for route in ROUTES {
        for &(who, expect) in route.expect {
            let fresh = if route.fresh {
                Some(open_session(app, who).await)
            } else {
                None
            };
            let session = fresh.as_ref().unwrap_or(&sessions[&who]);
            let answer = send(app, &api, &fx, session, route, &admin).await;
            rows += 1;
            if !judge(expect.verdict, route.path.starts_with("/api/"), &answer) {
                failures.push(format!(
                    "{} {}{} as {}: expected {:?}{}, got {}{} — {}",
                    route.method,
                    route.path,
                    route.query,
                    who.label(),
                    expect.verdict,
                    if expect.new { " (NEW rule)" } else { "" },
                    answer.status,
                    if answer.location.is_empty() {
                        String::new()
                    } else {
                        format!(" → {}", answer.location)
                    },
                    gist(&answer),
                ));
            }
        }
    }
    eprintln!("authorization matrix: {rows} rows checked");
    assert!(
        failures.is_empty(),
        "{} of {rows} authorization rows disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---- coverage ---------------------------------------------------------------------------

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The text of a call's arguments: from just after its `(` to the matching `)`, skipping
/// string literals.
fn call_text(s: &str) -> Option<&str> {
    let (mut depth, mut in_str, mut escaped) = (1usize, false, false);
    for (i, c) in s.char_indices() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&s[..i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// The code with the contents of string literals removed (so words in them do not count).
fn without_strings(s: &str) -> String {
    let (mut out, mut in_str, mut escaped) = (String::new(), false, false);
    for c in s.chars() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
                out.push('"');
            }
            continue;
        }
        if c == '"' {
            in_str = true;
        }
        out.push(c);
    }
    out
}

/// (METHOD, path) of each `.route("PATH", get(..).post(..) …)` call in `src`. A route
/// whose methods cannot be told is listed with the method `ANY`, so it needs a look.
fn routes_in(src: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (at, _) in src.match_indices(".route(") {
        let args = &src[at + ".route(".len()..];
        if !args.trim_start().starts_with("\"/") {
            continue; // not a route call with a literal path (a comment, a string …)
        }
        let Some(call) = call_text(args) else {
            continue;
        };
        let path = call.split('"').nth(1).unwrap_or("").to_string();
        let code = without_strings(call);
        let mut found = false;
        for m in ["get", "post", "put", "delete", "patch"] {
            let needle = format!("{m}(");
            let routed = code.match_indices(&needle).any(|(i, _)| {
                let before = &code[..i];
                before.ends_with("routing::")
                    || !before
                        .chars()
                        .last()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            });
            if routed {
                found = true;
                out.push((m.to_uppercase(), path.clone()));
            }
        }
        if !found {
            out.push(("ANY".to_string(), path));
        }
    }
    out
}

/// Fails naming every (method, path) the web crate routes that the table has no row for,
/// and every row whose path the router no longer has.
pub fn every_route_has_a_row() {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tongban-web/src"));
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    let mut routed = BTreeSet::new();
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        routed.extend(
            routes_in(&src)
                .into_iter()
                .filter(|(_, p)| !p.starts_with("/static/")),
        );
    }
    assert!(
        routed.len() >= 100,
        "only {} routes found under {}: is the route parser still right?",
        routed.len(),
        dir.display()
    );
    let rows: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let missing: Vec<String> = routed
        .iter()
        .filter(|k| !rows.contains(*k))
        .map(|(m, p)| format!("  {m} {p}"))
        .collect();
    let paths: BTreeSet<&str> = routed.iter().map(|(_, p)| p.as_str()).collect();
    let stale: Vec<String> = ROUTES
        .iter()
        .filter(|r| !paths.contains(r.path))
        .map(|r| format!("  {} {}", r.method, r.path))
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "the authorization table (tests/http/authz.rs) and the router disagree.\n\
         Routes without a row:\n{}\nRows for paths the router does not have:\n{}",
        missing.join("\n"),
        stale.join("\n")
    );
}

#[tokio::test]
async fn authorization_matrix_sqlite() {
    every_route_has_a_row();
    let app = App::start(tongban_store::testing::TestDb::sqlite().await).await;
    authorization_matrix(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn authorization_matrix_postgres() {
    let Some(db) = tongban_store::testing::TestDb::postgres().await else {
        eprintln!("authorization_matrix_postgres skipped: no PostgreSQL configured");
        return;
    };
    let app = App::start(db).await;
    authorization_matrix(&app).await;
    app.stop().await;
}
