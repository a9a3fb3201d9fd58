//! Notices: what the API and the processor ask the notifier to deliver.

use crate::Role;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// An invitation to join an organization, with the link that accepts it.
    Invitation {
        to: String,
        org: String,
        org_name: String,
        invited_by: String,
        role: Role,
        link: String,
        /// Unix seconds.
        expires_at: i64,
    },
}
