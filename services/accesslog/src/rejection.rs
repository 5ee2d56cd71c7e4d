//! Why a line did not become an entry.
//!
//! The reason is meant for the person who has to fix the logger or the log format, so it names
//! the field at fault and quotes (a bounded, escaped excerpt of) what was found there.

use std::borrow::Cow;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    // Fixed reasons are `&'static str`, so the common rejections do not allocate.
    reason: Cow<'static, str>,
}

impl Rejection {
    pub(crate) fn new(reason: impl Into<Cow<'static, str>>) -> Rejection {
        Rejection {
            reason: reason.into(),
        }
    }

    pub(crate) fn too_long() -> Rejection {
        Rejection::new("line is longer than 65536 bytes")
    }

    pub(crate) fn unrecognised() -> Rejection {
        Rejection::new("unrecognised format")
    }

    /// The reason, as shown by `Display`.
    pub fn reason(&self) -> String {
        self.reason.to_string()
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Rejection {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_reason_agree() {
        let rejection = Rejection::new("status `abc` is not a number");
        assert_eq!(rejection.to_string(), "status `abc` is not a number");
        assert_eq!(rejection.reason(), rejection.to_string());
    }

    #[test]
    fn the_length_limit_in_the_message_is_the_real_one() {
        let reason = Rejection::too_long().reason();
        assert!(
            reason.contains(&crate::MAX_LINE_BYTES.to_string()),
            "{reason}"
        );
    }

    #[test]
    fn is_a_std_error() {
        let error: Box<dyn std::error::Error> = Box::new(Rejection::unrecognised());
        assert_eq!(error.to_string(), "unrecognised format");
    }
}
