//! The life of an electronic licence (证照状态) and the changes allowed between states, so
//! every caller applies the same table. The codes are the strings the `licences.status`
//! column holds.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a licence stands; only `Valid` makes it usable as evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LicenceState {
    Valid,
    /// Temporarily not in force (e.g. 停业整顿); may be restored.
    Suspended,
    /// Withdrawn by the authority as a sanction (吊销).
    Revoked,
    /// 注销: ended at the holder's request or because the business ended.
    Cancelled,
    /// Replaced by a newer version (换发).
    Superseded,
    /// Past its validity period.
    Expired,
}

/// A requested status change, by the word the API and the forms send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusChange {
    Suspend,
    Restore,
    Revoke,
    Cancel,
    Supersede,
    Expire,
}

/// Why a state or a change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LicenceStateError {
    #[error("未知的证照状态「{0}」")]
    UnknownState(String),
    #[error("证照状态操作应为 suspend、restore、revoke、cancel、supersede 或 expire")]
    UnknownChange(String),
    #[error("证照{}，状态不能再变更", .from.label())]
    Final { from: LicenceState },
    #[error("证照当前状态为「{}」，不能{}", .from.label(), .change.label())]
    NotAllowed {
        from: LicenceState,
        change: StatusChange,
    },
}

impl LicenceState {
    pub const ALL: [LicenceState; 6] = [
        LicenceState::Valid,
        LicenceState::Suspended,
        LicenceState::Revoked,
        LicenceState::Cancelled,
        LicenceState::Superseded,
        LicenceState::Expired,
    ];

    /// The code stored in `licences.status`.
    pub fn code(self) -> &'static str {
        match self {
            LicenceState::Valid => "valid",
            LicenceState::Suspended => "suspended",
            LicenceState::Revoked => "revoked",
            LicenceState::Cancelled => "cancelled",
            LicenceState::Superseded => "superseded",
            LicenceState::Expired => "expired",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LicenceState::Valid => "有效",
            LicenceState::Suspended => "已暂停",
            LicenceState::Revoked => "已吊销",
            LicenceState::Cancelled => "已注销",
            LicenceState::Superseded => "已被新版本替代",
            LicenceState::Expired => "已过期",
        }
    }

    /// Parses a stored code (exact, after trimming).
    pub fn parse(code: &str) -> Result<LicenceState, LicenceStateError> {
        let s = code.trim();
        LicenceState::ALL
            .into_iter()
            .find(|st| st.code() == s)
            .ok_or_else(|| LicenceStateError::UnknownState(s.to_string()))
    }

    /// No change leads out of a final state.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            LicenceState::Revoked
                | LicenceState::Cancelled
                | LicenceState::Superseded
                | LicenceState::Expired
        )
    }

    /// The state after `change`, or why the change is not allowed from here.
    pub fn transition(self, change: StatusChange) -> Result<LicenceState, LicenceStateError> {
        use LicenceState as S;
        use StatusChange as C;
        if self.is_final() {
            return Err(LicenceStateError::Final { from: self });
        }
        let next = match (self, change) {
            (S::Valid, C::Suspend) => S::Suspended,
            (S::Valid | S::Suspended, C::Revoke) => S::Revoked,
            (S::Valid | S::Suspended, C::Cancel) => S::Cancelled,
            (S::Valid | S::Suspended, C::Expire) => S::Expired,
            (S::Valid, C::Supersede) => S::Superseded,
            (S::Suspended, C::Restore) => S::Valid,
            _ => return Err(LicenceStateError::NotAllowed { from: self, change }),
        };
        Ok(next)
    }
}

impl fmt::Display for LicenceState {
    /// The Chinese label.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl StatusChange {
    pub const ALL: [StatusChange; 6] = [
        StatusChange::Suspend,
        StatusChange::Restore,
        StatusChange::Revoke,
        StatusChange::Cancel,
        StatusChange::Supersede,
        StatusChange::Expire,
    ];

    /// The API word.
    pub fn code(self) -> &'static str {
        match self {
            StatusChange::Suspend => "suspend",
            StatusChange::Restore => "restore",
            StatusChange::Revoke => "revoke",
            StatusChange::Cancel => "cancel",
            StatusChange::Supersede => "supersede",
            StatusChange::Expire => "expire",
        }
    }

    /// The Chinese verb, as in "不能暂停".
    pub fn label(self) -> &'static str {
        match self {
            StatusChange::Suspend => "暂停",
            StatusChange::Restore => "恢复",
            StatusChange::Revoke => "吊销",
            StatusChange::Cancel => "注销",
            StatusChange::Supersede => "换发新版本",
            StatusChange::Expire => "置为过期",
        }
    }

    /// Parses the API word (exact, after trimming).
    pub fn parse(word: &str) -> Result<StatusChange, LicenceStateError> {
        let s = word.trim();
        StatusChange::ALL
            .into_iter()
            .find(|c| c.code() == s)
            .ok_or_else(|| LicenceStateError::UnknownChange(s.to_string()))
    }
}

impl fmt::Display for StatusChange {
    /// The Chinese verb.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LicenceState as S;
    use StatusChange as C;

    #[test]
    fn codes_are_the_stored_strings() {
        // The strings tongban-store writes to and reads from licences.status.
        let stored = [
            (S::Valid, "valid"),
            (S::Suspended, "suspended"),
            (S::Revoked, "revoked"),
            (S::Cancelled, "cancelled"),
            (S::Superseded, "superseded"),
            (S::Expired, "expired"),
        ];
        for (st, code) in stored {
            assert_eq!(st.code(), code);
            assert_eq!(LicenceState::parse(code), Ok(st));
            assert_eq!(serde_json::to_string(&st).unwrap(), format!("\"{code}\""));
            assert_eq!(
                serde_json::from_str::<LicenceState>(&format!("\"{code}\"")).unwrap(),
                st
            );
        }
        assert_eq!(LicenceState::parse(" valid "), Ok(S::Valid));
    }

    #[test]
    fn labels_are_chinese() {
        let labels: Vec<&str> = LicenceState::ALL.iter().map(|s| s.label()).collect();
        assert_eq!(
            labels,
            [
                "有效",
                "已暂停",
                "已吊销",
                "已注销",
                "已被新版本替代",
                "已过期"
            ]
        );
        assert_eq!(S::Revoked.to_string(), "已吊销");
    }

    #[test]
    fn unknown_state_is_refused() {
        for s in ["", "Valid", "VALID", "active", "有效", "revoke"] {
            let e = LicenceState::parse(s).unwrap_err();
            assert_eq!(e, LicenceStateError::UnknownState(s.trim().to_string()));
            assert_eq!(e.to_string(), format!("未知的证照状态「{}」", s.trim()));
        }
        assert!(serde_json::from_str::<LicenceState>("\"active\"").is_err());
    }

    #[test]
    fn change_words_parse() {
        for (word, c) in [
            ("suspend", C::Suspend),
            ("restore", C::Restore),
            ("revoke", C::Revoke),
            ("cancel", C::Cancel),
            ("supersede", C::Supersede),
            ("expire", C::Expire),
        ] {
            assert_eq!(StatusChange::parse(word), Ok(c));
            assert_eq!(c.code(), word);
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{word}\""));
        }
        assert_eq!(StatusChange::parse(" revoke\n"), Ok(C::Revoke));
    }

    #[test]
    fn unknown_change_is_refused() {
        // State words are not change words: "cancelled" used to mean revoke in the store.
        for s in [
            "",
            "Revoke",
            "revoked",
            "cancelled",
            "valid",
            "吊销",
            "delete",
        ] {
            let e = StatusChange::parse(s).unwrap_err();
            assert_eq!(e, LicenceStateError::UnknownChange(s.trim().to_string()));
            assert_eq!(
                e.to_string(),
                "证照状态操作应为 suspend、restore、revoke、cancel、supersede 或 expire"
            );
        }
    }

    #[test]
    fn valid_may_become_anything_but_valid() {
        assert_eq!(S::Valid.transition(C::Suspend), Ok(S::Suspended));
        assert_eq!(S::Valid.transition(C::Revoke), Ok(S::Revoked));
        assert_eq!(S::Valid.transition(C::Cancel), Ok(S::Cancelled));
        assert_eq!(S::Valid.transition(C::Supersede), Ok(S::Superseded));
        assert_eq!(S::Valid.transition(C::Expire), Ok(S::Expired));
        let e = S::Valid.transition(C::Restore).unwrap_err();
        assert_eq!(
            e,
            LicenceStateError::NotAllowed {
                from: S::Valid,
                change: C::Restore
            }
        );
        assert_eq!(e.to_string(), "证照当前状态为「有效」，不能恢复");
    }

    #[test]
    fn suspended_may_be_restored_or_ended() {
        assert_eq!(S::Suspended.transition(C::Restore), Ok(S::Valid));
        assert_eq!(S::Suspended.transition(C::Revoke), Ok(S::Revoked));
        assert_eq!(S::Suspended.transition(C::Cancel), Ok(S::Cancelled));
        assert_eq!(S::Suspended.transition(C::Expire), Ok(S::Expired));
        let e = S::Suspended.transition(C::Suspend).unwrap_err();
        assert_eq!(e.to_string(), "证照当前状态为「已暂停」，不能暂停");
        let e = S::Suspended.transition(C::Supersede).unwrap_err();
        assert_eq!(
            e,
            LicenceStateError::NotAllowed {
                from: S::Suspended,
                change: C::Supersede
            }
        );
        assert_eq!(e.to_string(), "证照当前状态为「已暂停」，不能换发新版本");
    }

    #[test]
    fn final_states_refuse_every_change() {
        for st in [S::Revoked, S::Cancelled, S::Superseded, S::Expired] {
            assert!(st.is_final());
            for c in StatusChange::ALL {
                assert_eq!(
                    st.transition(c),
                    Err(LicenceStateError::Final { from: st }),
                    "{st:?} {c:?}"
                );
            }
        }
        assert!(!S::Valid.is_final() && !S::Suspended.is_final());
        assert_eq!(
            S::Revoked.transition(C::Restore).unwrap_err().to_string(),
            "证照已吊销，状态不能再变更"
        );
        assert_eq!(
            S::Cancelled.transition(C::Restore).unwrap_err().to_string(),
            "证照已注销，状态不能再变更"
        );
        assert_eq!(
            S::Superseded.transition(C::Revoke).unwrap_err().to_string(),
            "证照已被新版本替代，状态不能再变更"
        );
        assert_eq!(
            S::Expired.transition(C::Restore).unwrap_err().to_string(),
            "证照已过期，状态不能再变更"
        );
    }

    #[test]
    fn the_whole_table() {
        // Exactly these (from, change) pairs are allowed.
        let allowed = [
            (S::Valid, C::Suspend, S::Suspended),
            (S::Valid, C::Revoke, S::Revoked),
            (S::Valid, C::Cancel, S::Cancelled),
            (S::Valid, C::Supersede, S::Superseded),
            (S::Valid, C::Expire, S::Expired),
            (S::Suspended, C::Restore, S::Valid),
            (S::Suspended, C::Revoke, S::Revoked),
            (S::Suspended, C::Cancel, S::Cancelled),
            (S::Suspended, C::Expire, S::Expired),
        ];
        for st in LicenceState::ALL {
            for c in StatusChange::ALL {
                let expected = allowed
                    .iter()
                    .find(|(f, ch, _)| *f == st && *ch == c)
                    .map(|(_, _, to)| *to);
                assert_eq!(st.transition(c).ok(), expected, "{st:?} {c:?}");
            }
        }
    }
}
