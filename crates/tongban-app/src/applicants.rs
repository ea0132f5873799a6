//! Applicants (申请人): registration with real-name verification (实名核验, an outer
//! service behind a trait) and, at a window, finding or registering the person in front of
//! the clerk.

use crate::error::Error;
use crate::notify::RealNameVerifier;
use crate::App;
use tongban_store::accounts::User;
use tongban_store::cases::{Applicant, NewApplicant};

/// What an applicant gives about themselves (form or API fields).
#[derive(Debug, Clone, Default)]
pub struct ApplicantDetails {
    /// `person` or `enterprise`
    pub kind: String,
    pub name: String,
    pub id_number: String,
    pub mobile: String,
    pub legal_rep: String,
}

impl ApplicantDetails {
    fn new_applicant(&self) -> NewApplicant<'_> {
        NewApplicant {
            kind: if self.kind == "enterprise" {
                "enterprise"
            } else {
                "person"
            },
            name: &self.name,
            id_number: self.id_number.trim(),
            mobile: &self.mobile,
            legal_rep: &self.legal_rep,
            verified: false,
        }
    }
}

/// Finds the applicant by certificate number, registering (and verifying) a new one.
pub async fn find_or_register(app: &App, d: &ApplicantDetails) -> Result<Applicant, Error> {
    if let Some(a) = app.store.applicant_by_id_number(d.id_number.trim()).await? {
        // Issue #12: a name that does not match the stored one is a typing error or the
        // wrong person; the stored name is not silently used (nor shown).
        let given = d.name.trim();
        if !given.is_empty() && given != a.name.trim() {
            return Err(Error::invalid(
                "证件号码已登记，但填写的姓名/名称与登记信息不一致，请核对证件后重新填写",
            ));
        }
        return Ok(a);
    }
    let new = d.new_applicant();
    crate::cases::check_applicant(&new)?;
    let verified = crate::notify::SimulatedRealName
        .verify(&new)
        .map_err(Error::invalid)?;
    Ok(app
        .store
        .create_applicant(&NewApplicant { verified, ..new }, None, app.now())
        .await?)
}

/// Self-registration: the applicant record and its account (password hashed off the async
/// runtime).
pub async fn register(
    app: &App,
    d: &ApplicantDetails,
    username: &str,
    password: &str,
) -> Result<(User, Applicant), Error> {
    let new = d.new_applicant();
    crate::cases::check_applicant(&new)?;
    let verified = crate::notify::SimulatedRealName
        .verify(&new)
        .map_err(Error::invalid)?;
    tongban_store::accounts::check_password_strength(password).map_err(Error::invalid)?;
    let pw = password.to_string();
    let hash = tokio::task::spawn_blocking(move || tongban_store::accounts::hash_password(&pw))
        .await
        .map_err(Error::internal)??;
    app.store
        .register_applicant(
            &NewApplicant { verified, ..new },
            username,
            &hash,
            app.now(),
        )
        .await
        .map_err(|e| match e {
            // A taken username and an ID number that already has an account get the same
            // answer: sign-up must not tell anyone whether someone's ID number is registered.
            tongban_store::StoreError::Conflict(_) => {
                Error::conflict(tongban_core::messages::REGISTRATION_REFUSED)
            }
            other => other.into(),
        })
}
