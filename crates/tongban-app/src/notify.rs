//! Notifications outside the platform. SMS is a true outer boundary, so it sits behind a
//! trait; the built-in gateway only logs (with the number masked), as a realistic stand-in.

pub trait SmsGateway: Send + Sync + 'static {
    fn send(&self, mobile: &str, text: &str);
}

pub struct LoggingSms;

impl SmsGateway for LoggingSms {
    fn send(&self, mobile: &str, text: &str) {
        if mobile.is_empty() {
            return;
        }
        tracing::info!(to = %tongban_core::ids::mask_mobile(mobile), chars = text.chars().count(), "sms queued (simulator)");
    }
}

/// Real-name verification (实名核验) against the public-security identity service is an
/// outer boundary; the simulator accepts well-formed identities and refuses the ones a
/// test marks as unknown, as the real service would.
pub trait RealNameVerifier {
    fn verify(&self, a: &tongban_store::cases::NewApplicant<'_>) -> Result<bool, String>;
}

pub struct SimulatedRealName;

impl RealNameVerifier for SimulatedRealName {
    fn verify(&self, a: &tongban_store::cases::NewApplicant<'_>) -> Result<bool, String> {
        if a.name.contains("查无此人") {
            return Err("实名核验未通过：姓名与证件号码不一致".into());
        }
        Ok(true)
    }
}

/// Sends a short message to the applicant's mobile (the SMS gateway is an outer service).
pub(crate) async fn notify_applicant(state: &crate::App, applicant_id: i64, text: &str) {
    if let Ok(a) = state.store.applicant(applicant_id).await {
        state.sms.send(&a.mobile, text);
    }
}
