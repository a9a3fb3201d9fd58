//! Errata's domain logic: how events group into issues, what an issue is, who may see what,
//! and how secrets are made and checked. Pure code: no AWS, no Lambda, no I/O.

pub mod alerts;
pub mod difs;
pub mod egress;
pub mod filters;
pub mod fingerprinting;
pub mod grouping;
pub mod issue;
pub mod normalize;
pub mod notice;
pub mod queue;
pub mod releases;
pub mod scrub;
pub mod search;
pub mod secrets;
pub mod sessions;
pub mod status;
pub mod storage;
pub mod summary;
pub mod symbols;
pub mod tags;
pub mod tenancy;

pub use errata_protocol::Timestamp;
pub use grouping::{Grouping, GROUPING_VERSION};
pub use issue::{BodyRef, Feedback, Issue, IssueId, IssueStatus, Recorded, Sighting, StoredEvent};
pub use notice::Notice;
pub use queue::{QueuedEnvelope, QueuedPayload};
pub use status::{Reopened, StatusChange, StatusDetails, StatusRequest, Substatus};
pub use summary::EventSummary;
pub use tenancy::{
    ApiToken, AuditEntry, GroupingSettings, Invite, Member, Org, PasswordReset, Project, ProjectKey, ProjectSettings,
    RateLimit, Role, Session, User,
};
