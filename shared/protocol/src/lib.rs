//! The Sentry wire protocol as SDKs speak it: DSN authentication, content decoding,
//! envelopes and events. This crate knows nothing of AWS or Lambda.

pub mod auth;
pub mod decode;
pub mod envelope;
pub mod event;

pub use auth::{AuthError, SentryAuth};
pub use decode::{decode_body, decode_prefix, DecodeError};
pub use envelope::{Envelope, EnvelopeError, EnvelopeHeader, Item, ItemHeader};
pub use event::{Event, Exception, Frame, Stacktrace, Thread, Timestamp, Values};
