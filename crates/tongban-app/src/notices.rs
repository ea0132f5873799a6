//! Written notices (文书) of a case: listed and rendered for whoever may read the case, each
//! PDF signed by the platform's issuer keys in a detached signature file (ADR 0009).

use crate::error::Error;
use crate::App;
use serde_json::Value;
use tongban_core::notice::{self, CaseFacts, Notice};
use tongban_store::accounts::User;

/// The notices of a case the user may read (404 for an applicant's case not theirs, 403 for
/// another department's staff, as for the case itself).
pub async fn list(app: &App, user: &User, case_no: &str) -> Result<Vec<Notice>, Error> {
    let (rec, _) = crate::cases::read_case(app, user, case_no).await?;
    of_case(app, &rec).await
}

/// The notices of a case already read (the case page has it).
pub async fn of_case(
    app: &App,
    rec: &tongban_store::cases::CaseRecord,
) -> Result<Vec<Notice>, Error> {
    let events = app.store.case_events(rec.id).await?;
    let agency = app.store.department(rec.department_id).await?.name;
    let applicant = app.store.applicant(rec.applicant_id).await?.name;
    let dated: Vec<_> = events
        .into_iter()
        .map(|e| {
            let day = chrono::DateTime::parse_from_rfc3339(&e.at)
                .map(|t| notice::beijing_day(t.with_timezone(&chrono::Utc)))
                .unwrap_or_else(|_| app.today());
            (day, e.event)
        })
        .collect();
    Ok(notice::notices(
        &CaseFacts {
            case_no: &rec.case_no,
            agency: &agency,
            applicant: &applicant,
            item: &rec.item_name,
        },
        &dated,
    ))
}

/// One notice rendered: its PDF bytes and its signature file (`notice.json`).
pub struct Rendered {
    pub notice: Notice,
    pub pdf: Vec<u8>,
    pub signature: Value,
}

/// Notice `n` (from 1) of a case, rendered and signed with the issuer keys in force.
pub async fn render(app: &App, user: &User, case_no: &str, n: u32) -> Result<Rendered, Error> {
    let (rec, _) = crate::cases::read_case(app, user, case_no).await?;
    let found = of_case(app, &rec)
        .await?
        .into_iter()
        .find(|x| x.n == n)
        .ok_or_else(|| Error::not_found(format!("办件 {case_no} 没有第 {n} 份文书")))?;
    let pdf = notice::render_pdf(&found);
    let keys = app.store.issuer_keys(app.now()).await?;
    let method = |kid: &str| format!("{}/api/v1/licences/keys#{kid}", app.base_url);
    let created = app.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let signature = notice::sign(
        &notice::signed_payload(&found, &pdf),
        (&keys.ed25519.1, &method(&keys.ed25519.0)),
        (&keys.sm2.1, &method(&keys.sm2.0)),
        &created,
    )
    .map_err(Error::internal)?;
    Ok(Rendered {
        notice: found,
        pdf,
        signature,
    })
}
