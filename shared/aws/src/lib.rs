//! AWS adapters of the ports. Each service sits behind a cargo feature so a function links
//! only the SDK crates it uses. Clients are built once per cold start from the standard AWS
//! configuration chain; `AWS_ENDPOINT_URL` points them at a local emulator, nothing else differs.

#[cfg(feature = "dynamodb")]
pub mod accounts;
#[cfg(feature = "dynamodb")]
mod alert_state;
#[cfg(feature = "athena")]
pub mod athena;
#[cfg(feature = "dynamodb")]
mod counting;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;
#[cfg(feature = "dynamodb")]
mod feedback;
#[cfg(feature = "dynamodb")]
pub mod health;
#[cfg(feature = "dynamodb")]
mod issue_list;
#[cfg(feature = "dynamodb")]
pub mod issues;
pub mod meter;
#[cfg(feature = "dynamodb")]
mod purge;
#[cfg(feature = "s3")]
pub mod s3;
#[cfg(feature = "ses")]
pub mod ses;
#[cfg(feature = "sqs")]
pub mod sqs;

#[cfg(feature = "dynamodb")]
pub use alert_state::DynamoAlertState;
#[cfg(feature = "athena")]
pub use athena::AthenaQueries;
#[cfg(feature = "dynamodb")]
pub use dynamodb::{DynamoDirectory, DynamoRateLimiter};
#[cfg(feature = "dynamodb")]
pub use issues::DynamoIssueStore;
pub use meter::metered;
#[cfg(feature = "s3")]
pub use s3::S3Blobs;
#[cfg(feature = "ses")]
pub use ses::SesMailer;
#[cfg(feature = "sqs")]
pub use sqs::{SqsDeadLetters, SqsEnvelopeQueue, SqsOutbox};

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use errata_ports::StoreError;

/// Loads the shared AWS configuration (region, credentials, endpoint) from the environment.
pub async fn load_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// Error codes that mean "try again later".
const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TransactionConflictException",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "SlowDown",
    "RequestTimeout",
];

/// Maps an SDK error to a port error: network failures, timeouts, throttling and 5xx are
/// retryable; everything else (validation, missing resources, access denied) is not.
#[allow(dead_code)] // not every feature combination uses it
pub(crate) fn classify<E, R>(what: &str, err: &SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let code = e.code().unwrap_or("Unknown");
            let message = format!("{what}: {code}: {}", e.message().unwrap_or_default());
            if RETRYABLE_CODES.contains(&code) {
                StoreError::retryable(message)
            } else {
                StoreError::permanent(message)
            }
        }
        SdkError::ConstructionFailure(_) => StoreError::permanent(format!("{what}: request could not be built")),
        other => StoreError::retryable(format!("{what}: {}", error_chain(other))),
    }
}

#[allow(dead_code)]
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
