//! Releases as `sentry-cli releases new / finalize / archive` create and update them: a
//! version within an organization, the projects it belongs to, and when it was released.
//! Events name releases on their own; a release created ahead of its events says which
//! projects ship it and when it went out.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub org: String,
    pub version: String,
    /// Slugs of the organization's projects that ship it.
    pub projects: Vec<String>,
    pub url: Option<String>,
    /// Unix milliseconds.
    pub date_created: i64,
    pub date_started: Option<i64>,
    pub date_released: Option<i64>,
    /// `open` or `archived`.
    pub status: String,
}

/// Why a release version is refused, as Sentry's rules go: 1 to 200 characters, not only
/// whitespace, not `.` or `..`, without line breaks, tabs, slashes or backslashes.
pub fn version_problem(version: &str) -> Option<&'static str> {
    if version.is_empty() || version.len() > 200 {
        Some("A release version is 1 to 200 characters.")
    } else if version.trim().is_empty() || version == "." || version == ".." {
        Some("A release version cannot be blank, `.` or `..`.")
    } else if version.contains(['\n', '\r', '\t', '\x0c', '/', '\\']) {
        Some("A release version cannot contain line breaks, tabs, `/` or `\\`.")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_sentrys_rules() {
        for good in ["1.0.0", "web@2026.11.26+abc", "my app 1"] {
            assert_eq!(version_problem(good), None, "{good}");
        }
        for bad in ["", " ", ".", "..", "a/b", "a\\b", "a\nb", &"x".repeat(201)] {
            assert!(version_problem(bad).is_some(), "{bad:?}");
        }
    }
}
