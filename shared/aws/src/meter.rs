//! What each invocation asked of AWS: every request attempt the SDK clients send (retries
//! included, as AWS bills them) is counted by service and operation with its request size,
//! and [`metered`] logs them with the handlers' durations, one line per invocation or per
//! hundred.
//! DynamoDB requests ask for `ReturnConsumedCapacity: TOTAL`, and the capacity units DynamoDB
//! reports (index writes included) are summed: the bill, not an estimate of it.
//! The cost model (`scripts/cost.py`) reads these lines; in production they answer "what does
//! one batch cost" from the function's own logs.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeDeserializationInterceptorContextRef,
    BeforeTransmitInterceptorContextMut, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Instant;

/// Requests of one operation during one invocation.
#[derive(Debug, Default, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Tally {
    /// Attempts sent.
    pub n: u64,
    /// Request body bytes, summed.
    pub bytes: u64,
    /// Each request's size in started KiB, summed: DynamoDB bills writes per KiB of item.
    pub kib: u64,
    /// Each request's size in started 64 KiB chunks, summed: SQS bills per 64 KiB chunk.
    pub chunks64: u64,
    /// Each response's size in started 4 KiB, summed: an upper bound of DynamoDB read units.
    pub resp4k: u64,
    /// DynamoDB: the capacity units the answers reported (table and indexes), summed.
    pub cu: f64,
    /// DynamoDB: how many answers reported them (a refused write, say a failed condition,
    /// reports none, though AWS bills it).
    pub cu_n: u64,
}

static TALLIES: Mutex<BTreeMap<String, Tally>> = Mutex::new(BTreeMap::new());

fn tallies() -> std::sync::MutexGuard<'static, BTreeMap<String, Tally>> {
    TALLIES.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Counts one request of `service.operation` with a body of `bytes`.
pub fn count(service: &str, operation: &str, bytes: u64) {
    let mut tallies = tallies();
    let tally = tallies.entry(format!("{service}.{operation}")).or_default();
    tally.n += 1;
    tally.bytes += bytes;
    tally.kib += bytes.div_ceil(1024).max(1);
    tally.chunks64 += bytes.div_ceil(64 * 1024).max(1);
}

/// Counts the response of a `service.operation` request counted before.
pub fn count_response(service: &str, operation: &str, bytes: u64) {
    let mut tallies = tallies();
    let tally = tallies.entry(format!("{service}.{operation}")).or_default();
    tally.resp4k += bytes.div_ceil(4096).max(1);
}

/// Adds the capacity units a DynamoDB answer reported to `service.operation`.
pub fn count_capacity(service: &str, operation: &str, units: f64) {
    let mut tallies = tallies();
    let tally = tallies.entry(format!("{service}.{operation}")).or_default();
    tally.cu += units;
    tally.cu_n += 1;
}

/// The capacity units in a DynamoDB answer: `ConsumedCapacity` is one object, or a list of
/// them (one per table) for batch and transaction requests.
fn consumed_units(body: &[u8]) -> Option<f64> {
    #[derive(serde::Deserialize)]
    struct Units {
        #[serde(rename = "CapacityUnits", default)]
        capacity_units: f64,
    }
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Consumed {
        One(Units),
        Many(Vec<Units>),
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "ConsumedCapacity")]
        consumed: Option<Consumed>,
    }
    match serde_json::from_slice::<Answer>(body).ok()?.consumed? {
        Consumed::One(u) => Some(u.capacity_units),
        Consumed::Many(list) => Some(list.iter().map(|u| u.capacity_units).sum()),
    }
}

/// A DynamoDB request body with `ReturnConsumedCapacity: TOTAL` added, unless it asks already.
fn asking_for_capacity(body: &[u8]) -> Option<Vec<u8>> {
    let mut request: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body).ok()?;
    if request.contains_key("ReturnConsumedCapacity") {
        return None;
    }
    request.insert("ReturnConsumedCapacity".into(), "TOTAL".into());
    serde_json::to_vec(&request).ok()
}

fn operation(cfg: &ConfigBag) -> (String, String) {
    match cfg.load::<Metadata>() {
        Some(m) => (m.service().to_owned(), m.name().to_owned()),
        None => ("unknown".to_owned(), "unknown".to_owned()),
    }
}

/// The counts since the last call, emptied.
pub fn take() -> BTreeMap<String, Tally> {
    std::mem::take(&mut *tallies())
}

/// The SDK interceptor that feeds [`count`]; registered on every client this crate builds.
#[derive(Debug, Default)]
pub struct Meter;

impl Intercept for Meter {
    fn name(&self) -> &'static str {
        "errata-meter"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if operation(cfg).0 != "DynamoDB" {
            return Ok(());
        }
        let request = context.request_mut();
        if let Some(body) = request.body().bytes().and_then(asking_for_capacity) {
            request.headers_mut().insert("content-length", body.len().to_string());
            *request.body_mut() = SdkBody::from(body);
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = operation(cfg);
        if service == "DynamoDB" {
            if let Some(units) = context.response().body().bytes().and_then(consumed_units) {
                count_capacity(&service, &operation, units);
            }
        }
        Ok(())
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = operation(cfg);
        let body = context.request().body();
        let bytes = body.bytes().map(|b| b.len() as u64).or_else(|| body.content_length()).unwrap_or(0);
        count(&service, &operation, bytes);
        Ok(())
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = operation(cfg);
        let response = context.response();
        let length = response.headers().get("content-length").and_then(|v| v.parse().ok());
        let bytes = length.or_else(|| response.body().content_length()).unwrap_or(0);
        count_response(&service, &operation, bytes);
        Ok(())
    }
}

/// Invocations and handler milliseconds since the last line logged.
static WINDOW: Mutex<(u64, f64)> = Mutex::new((0, 0.0));

/// Runs one invocation's handler; every `every` invocations, logs one line with what they asked
/// of AWS and how long their handlers ran:
/// `{"message":"aws requests","function":…,"invocations":…,"elapsed_ms":…,"requests":"{\"DynamoDB.UpdateItem\":{\"n\":…}}"}`.
/// Batch consumers log every invocation; functions invoked per HTTP request log every 100, so
/// the line costs next to nothing in log ingestion.
pub async fn metered<T>(every: u64, handler: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = handler.await;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let flush = {
        let mut window = WINDOW.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        window.0 += 1;
        window.1 += elapsed_ms;
        (window.0 >= every.max(1)).then(|| std::mem::take(&mut *window))
    };
    if let Some((invocations, elapsed_ms)) = flush {
        let requests = serde_json::to_string(&take()).unwrap_or_default();
        let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
        tracing::info!(function = %function, invocations, elapsed_ms, requests = %requests, "aws requests");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sizes_in_billing_units_and_empties_on_take() {
        take();
        count("SQS", "SendMessage", 70 * 1024);
        count("SQS", "SendMessage", 10);
        count("DynamoDB", "GetItem", 0);
        count_response("DynamoDB", "GetItem", 5000);
        let t = take();
        assert_eq!(
            t["SQS.SendMessage"],
            Tally { n: 2, bytes: 70 * 1024 + 10, kib: 71, chunks64: 3, ..Tally::default() }
        );
        assert_eq!(t["DynamoDB.GetItem"], Tally { n: 1, bytes: 0, kib: 1, chunks64: 1, resp4k: 2, ..Tally::default() });
        assert!(take().is_empty());
    }

    #[test]
    fn dynamodb_requests_ask_for_capacity_and_answers_are_summed() {
        let asked: serde_json::Value =
            serde_json::from_slice(&asking_for_capacity(br#"{"TableName":"t"}"#).unwrap()).unwrap();
        assert_eq!(asked["ReturnConsumedCapacity"], "TOTAL");
        assert_eq!(asked["TableName"], "t");
        assert_eq!(asking_for_capacity(br#"{"ReturnConsumedCapacity":"INDEXES"}"#), None);
        assert_eq!(consumed_units(br#"{"ConsumedCapacity":{"TableName":"t","CapacityUnits":1.5}}"#), Some(1.5));
        let many =
            br#"{"ConsumedCapacity":[{"TableName":"a","CapacityUnits":4.0},{"TableName":"b","CapacityUnits":3.0}]}"#;
        assert_eq!(consumed_units(many), Some(7.0));
        assert_eq!(consumed_units(br#"{"Item":{}}"#), None);
    }
}
