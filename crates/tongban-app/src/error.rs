//! The application's one error type. It says what went wrong in a safe Chinese message and
//! of which kind; adapters choose how to answer it (an HTTP status, an exit code). Internal
//! causes are logged where they are met, never shown.

use tongban_store::StoreError;

/// What kind of failure: the adapters map each onto their own answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is wrong; nothing was stored.
    Invalid,
    NotFound,
    /// Signed in, but not allowed to do this to this resource.
    Forbidden,
    /// Not signed in.
    Unauthorized,
    /// Someone else changed the resource first (optimistic concurrency), or it exists.
    Conflict,
    /// The rules refuse the command in the resource's current state.
    Refused,
    TooLarge,
    /// A quota or rate is exhausted: try again later.
    TooMany,
    UnsupportedType,
    /// Storage is not answering or not writable: try again later.
    Unavailable,
    Internal,
}

#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    /// A stable machine-readable code (`invalid`, `not_found`, `conflict` …).
    pub code: &'static str,
    /// A message a citizen or clerk can read.
    pub message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What users are told while storage is not answering.
pub const UNAVAILABLE: &str = "系统暂时无法处理请求，请稍后再试";

impl Error {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        Error {
            kind,
            code,
            message: message.into(),
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, "invalid", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, "not_found", message)
    }
    pub fn forbidden_because(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, "forbidden", message)
    }
    pub fn forbidden() -> Self {
        Self::forbidden_because(tongban_core::messages::FORBIDDEN)
    }
    pub fn unauthorized() -> Self {
        Self::new(ErrorKind::Unauthorized, "unauthorized", "请先登录")
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, "conflict", message)
    }
    /// The same refusal in other words.
    pub fn with_message(self, message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            ..self
        }
    }
    /// Keeps this message with the kind and code of `other` (a refusal re-worded).
    pub fn with_kind_of(self, other: &Error) -> Self {
        Error {
            kind: other.kind,
            code: other.code,
            message: self.message,
        }
    }
    /// Storage is unreachable or failing; the cause is logged.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "storage unavailable");
        Self::new(ErrorKind::Unavailable, "unavailable", UNAVAILABLE)
    }
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(ErrorKind::Internal, "internal", "系统内部错误，请稍后再试")
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => Error::not_found(format!("未找到：{m}")),
            StoreError::Conflict(m) => Error::conflict(m),
            StoreError::Invalid(m) => Error::invalid(m),
            other if other.is_unavailable() => Error::unavailable(other),
            other => Error::internal(other),
        }
    }
}

impl From<tongban_core::case::Refusal> for Error {
    fn from(e: tongban_core::case::Refusal) -> Self {
        match e {
            tongban_core::case::Refusal::NotPermitted(m) => Error::forbidden_because(m),
            other => Error::new(ErrorKind::Refused, "refused", other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_outages_are_unavailable_not_internal() {
        let e: Error = StoreError::from(tongban_store::sqlx::Error::PoolClosed).into();
        assert_eq!((e.kind, e.code), (ErrorKind::Unavailable, "unavailable"));
        assert_eq!(e.message, UNAVAILABLE);
        let e: Error = StoreError::Internal("bug".into()).into();
        assert_eq!(e.kind, ErrorKind::Internal);
    }
}
