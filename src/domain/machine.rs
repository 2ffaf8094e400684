//! The life of a number (docs/guide.md "The life of a number") as one transition
//! function. Every command that changes a number's status goes through
//! `transition`; nothing else decides which moves are allowed.

use super::types::Status;
use crate::error::{Error, Reason, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Grant,
    Bind,
    Submit,
    Approve,
    Reject,
    Deregister,
    Invalidate,
}

impl Action {
    #[cfg(test)]
    pub(crate) const ALL: [Action; 7] = [
        Action::Grant,
        Action::Bind,
        Action::Submit,
        Action::Approve,
        Action::Reject,
        Action::Deregister,
        Action::Invalidate,
    ];

    pub(crate) fn verb(self) -> &'static str {
        match self {
            Action::Grant => "grant",
            Action::Bind => "bind",
            Action::Submit => "submit",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Deregister => "deregister",
            Action::Invalidate => "invalidate",
        }
    }
}

/// The status after `action`, or `None` where the action is not allowed.
pub(crate) fn next_status(status: Status, action: Action) -> Option<Status> {
    use Action::*;
    use Status::*;
    match (status, action) {
        (Unbound, Grant) => Some(Unbound),
        (Unbound, Bind) => Some(Bound),
        (Bound, Submit) => Some(Filing),
        (Filing, Approve) => Some(Filed),
        (Filing, Reject) => Some(Bound),
        (Bound | Filing | Filed, Deregister) => Some(Deregistered),
        (Unbound | Bound | Filing | Filed | Deregistered, Invalidate) => Some(Invalid),
        _ => None,
    }
}

/// Like `next_status`, but a refusal names the current status (`wrong_status`).
pub(crate) fn transition(number: &str, status: Status, action: Action) -> Result<Status> {
    next_status(status, action).ok_or_else(|| {
        Error::refused(
            Reason::WrongStatus,
            format!(
                "cannot {} number {number}: its status is {status}",
                action.verb()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_table() {
        use Action::*;
        use Status::*;
        let allowed = [
            (Unbound, Grant, Unbound),
            (Unbound, Bind, Bound),
            (Bound, Submit, Filing),
            (Filing, Approve, Filed),
            (Filing, Reject, Bound),
            (Bound, Deregister, Deregistered),
            (Filing, Deregister, Deregistered),
            (Filed, Deregister, Deregistered),
            (Unbound, Invalidate, Invalid),
            (Bound, Invalidate, Invalid),
            (Filing, Invalidate, Invalid),
            (Filed, Invalidate, Invalid),
            (Deregistered, Invalidate, Invalid),
        ];
        for status in Status::ALL {
            for action in Action::ALL {
                let expected = allowed
                    .iter()
                    .find(|(s, a, _)| s == status && *a == action)
                    .map(|(_, _, to)| *to);
                assert_eq!(
                    next_status(*status, action),
                    expected,
                    "{status} {action:?}"
                );
            }
        }
    }

    #[test]
    fn refusal_names_the_status() {
        let error = transition("n-1", Status::Filed, Action::Bind).unwrap_err();
        assert_eq!(error.code(), "wrong_status");
        assert!(error.to_string().contains("filed"));
    }

    #[test]
    fn a_number_never_returns_to_unbound() {
        for status in Status::ALL {
            for action in Action::ALL {
                if let Some(next) = next_status(*status, action) {
                    assert!(next != Status::Unbound || *status == Status::Unbound);
                }
            }
        }
    }
}
