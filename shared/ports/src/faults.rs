//! Fault injection for resilience tests: wrappers that make a store fail some of its calls for
//! a while, the way an S3 or DynamoDB outage does — before the call (the write never happens)
//! or after it (the write happened, the answer was lost). A function wraps its adapters only
//! when its configuration carries `ERRATA_FAULTS`, which only tests set:
//!
//! ```text
//! ERRATA_FAULTS="blobs=0.3,issues=0.3,for=60"
//! ```
//!
//! fails 30 % of the bucket's and the issue store's calls during the process's first 60 s.

use crate::{
    BlobStore, EventOrder, EventPage, FeedbackScope, IssuePage, IssueQuery, IssueStore, Listing, StoreError,
    StoreResult,
};
use async_trait::async_trait;
use errata_domain::issue::Recorded;
use errata_domain::{Feedback, Issue, IssueId, Sighting, StatusChange, StoredEvent};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which stores fail, how often, and for how long.
#[derive(Debug)]
pub struct FaultPlan {
    pub blobs: f64,
    pub issues: f64,
    until: Instant,
    state: AtomicU64,
    injected: AtomicU64,
}

impl FaultPlan {
    /// The plan in `ERRATA_FAULTS`, if the function's configuration has one.
    pub fn from_env() -> Result<Option<Arc<FaultPlan>>, String> {
        match std::env::var("ERRATA_FAULTS") {
            Ok(spec) if !spec.trim().is_empty() => FaultPlan::parse(&spec).map(|p| Some(Arc::new(p))),
            _ => Ok(None),
        }
    }

    /// `blobs=<rate>,issues=<rate>,for=<seconds>`; rates from 0 to 1, `for` defaults to 60.
    pub fn parse(spec: &str) -> Result<FaultPlan, String> {
        let (mut blobs, mut issues, mut seconds) = (0.0, 0.0, 60.0);
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| format!("{part:?}: expected key=value"))?;
            let value: f64 = value.parse().map_err(|_| format!("{part:?}: {value:?} is not a number"))?;
            match key {
                "blobs" | "issues" if !(0.0..=1.0).contains(&value) => {
                    return Err(format!("{part:?}: a rate is 0 to 1"))
                }
                "blobs" => blobs = value,
                "issues" => issues = value,
                "for" if value >= 0.0 => seconds = value,
                _ => return Err(format!("{part:?}: the keys are blobs, issues and for")),
            }
        }
        let seed =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64) | 1;
        Ok(FaultPlan {
            blobs,
            issues,
            until: Instant::now() + Duration::from_secs_f64(seconds),
            state: AtomicU64::new(seed),
            injected: AtomicU64::new(0),
        })
    }

    /// How many faults were injected so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }

    /// A number in [0, 1) from a shared xorshift generator.
    fn draw(&self) -> f64 {
        let mut x = self.state.load(Ordering::Relaxed);
        loop {
            let mut next = x;
            next ^= next << 13;
            next ^= next >> 7;
            next ^= next << 17;
            match self.state.compare_exchange_weak(x, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return (next >> 11) as f64 / (1u64 << 53) as f64,
                Err(current) => x = current,
            }
        }
    }

    /// Whether this call fails: `Some(true)` before it runs, `Some(false)` after. Faults take
    /// turns, after then before, so a process that fails any call has lost an answer to a write
    /// that happened — the harder case — and one that fails two has also seen a write not happen.
    fn strike(&self, rate: f64) -> Option<bool> {
        if rate <= 0.0 || Instant::now() >= self.until || self.draw() >= rate {
            return None;
        }
        Some(self.injected.fetch_add(1, Ordering::Relaxed) % 2 == 1)
    }
}

fn fault(what: &str, before: bool) -> StoreError {
    let when = if before { "before" } else { "after" };
    StoreError::retryable(format!("injected fault ({what}, {when} the call)"))
}

/// Runs `call` under the plan: it may fail before the call, or after it with its result lost.
macro_rules! faulty {
    ($plan:expr, $rate:expr, $what:expr, $call:expr) => {{
        match $plan.strike($rate) {
            Some(true) => Err(fault($what, true)),
            Some(false) => {
                let _ = $call.await?;
                Err(fault($what, false))
            }
            None => $call.await,
        }
    }};
}

/// A bucket that fails some calls while the plan says so.
pub struct FaultyBlobs {
    pub inner: Arc<dyn BlobStore>,
    pub plan: Arc<FaultPlan>,
}

#[async_trait]
impl BlobStore for FaultyBlobs {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> StoreResult<()> {
        faulty!(self.plan, self.plan.blobs, "s3 put", self.inner.put(key, bytes, content_type))
    }
    async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        faulty!(self.plan, self.plan.blobs, "s3 get", self.inner.get(key))
    }
    async fn get_range(&self, key: &str, offset: u64, len: u64) -> StoreResult<Option<Vec<u8>>> {
        faulty!(self.plan, self.plan.blobs, "s3 get", self.inner.get_range(key, offset, len))
    }
    async fn list(&self, prefix: &str) -> StoreResult<Listing> {
        faulty!(self.plan, self.plan.blobs, "s3 list", self.inner.list(prefix))
    }
    async fn delete(&self, keys: &[String]) -> StoreResult<()> {
        faulty!(self.plan, self.plan.blobs, "s3 delete", self.inner.delete(keys))
    }
}

/// An issue store that fails some calls while the plan says so.
pub struct FaultyIssues {
    pub inner: Arc<dyn IssueStore>,
    pub plan: Arc<FaultPlan>,
}

#[async_trait]
impl IssueStore for FaultyIssues {
    async fn record(&self, sighting: &Sighting) -> StoreResult<Recorded> {
        faulty!(self.plan, self.plan.issues, "dynamodb record", self.inner.record(sighting))
    }
    async fn record_batch(&self, sightings: &[Sighting]) -> Vec<StoreResult<Recorded>> {
        // One fault for the whole batch, before or after the writes: every sighting fails.
        match self.plan.strike(self.plan.issues) {
            None => self.inner.record_batch(sightings).await,
            Some(before) => {
                if !before {
                    let _ = self.inner.record_batch(sightings).await;
                }
                sightings.iter().map(|_| Err(fault("dynamodb record batch", before))).collect()
            }
        }
    }
    async fn set_status(&self, issue: &Issue, change: &StatusChange) -> StoreResult<()> {
        faulty!(self.plan, self.plan.issues, "dynamodb status", self.inner.set_status(issue, change))
    }
    async fn issue(&self, id: IssueId) -> StoreResult<Option<Issue>> {
        faulty!(self.plan, self.plan.issues, "dynamodb get", self.inner.issue(id))
    }
    async fn current_issue(&self, project_id: u64, id: IssueId) -> StoreResult<Option<Issue>> {
        faulty!(self.plan, self.plan.issues, "dynamodb get", self.inner.current_issue(project_id, id))
    }
    async fn project_issues(&self, project_id: u64) -> StoreResult<Vec<Issue>> {
        faulty!(self.plan, self.plan.issues, "dynamodb query", self.inner.project_issues(project_id))
    }
    async fn list_issues(&self, query: &IssueQuery<'_>) -> StoreResult<IssuePage> {
        faulty!(self.plan, self.plan.issues, "dynamodb query", self.inner.list_issues(query))
    }
    async fn set_assignee(&self, issue: &Issue, assignee: Option<&str>) -> StoreResult<()> {
        faulty!(self.plan, self.plan.issues, "dynamodb update", self.inner.set_assignee(issue, assignee))
    }
    async fn delete_issue(&self, issue: &Issue) -> StoreResult<()> {
        faulty!(self.plan, self.plan.issues, "dynamodb delete", self.inner.delete_issue(issue))
    }
    async fn deleted_before(&self, project_id: u64, issue_id: IssueId) -> StoreResult<Option<i64>> {
        faulty!(self.plan, self.plan.issues, "dynamodb get", self.inner.deleted_before(project_id, issue_id))
    }
    async fn purge_events(&self, project_id: u64, issue_id: IssueId, limit: usize) -> StoreResult<crate::Purge> {
        faulty!(self.plan, self.plan.issues, "dynamodb purge", self.inner.purge_events(project_id, issue_id, limit))
    }
    async fn pending_purges(&self) -> StoreResult<Vec<(u64, IssueId)>> {
        faulty!(self.plan, self.plan.issues, "dynamodb query", self.inner.pending_purges())
    }
    async fn issue_events(
        &self,
        id: IssueId,
        order: EventOrder,
        cursor: Option<&str>,
        limit: usize,
    ) -> StoreResult<EventPage> {
        faulty!(self.plan, self.plan.issues, "dynamodb query", self.inner.issue_events(id, order, cursor, limit))
    }
    async fn event(&self, project_id: u64, event_id: &str) -> StoreResult<Option<StoredEvent>> {
        faulty!(self.plan, self.plan.issues, "dynamodb get", self.inner.event(project_id, event_id))
    }
    async fn add_feedback(&self, feedback: &Feedback) -> StoreResult<()> {
        faulty!(self.plan, self.plan.issues, "dynamodb put", self.inner.add_feedback(feedback))
    }
    async fn feedback(&self, project_id: u64, scope: FeedbackScope, limit: usize) -> StoreResult<Vec<Feedback>> {
        faulty!(self.plan, self.plan.issues, "dynamodb query", self.inner.feedback(project_id, scope, limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_parse_and_bad_ones_say_why() {
        let plan = FaultPlan::parse("blobs=0.3, issues=1, for=5").unwrap();
        assert_eq!((plan.blobs, plan.issues), (0.3, 1.0));
        assert!(plan.until > Instant::now() + Duration::from_secs(4));
        for bad in ["blobs", "blobs=2", "s3=0.1", "issues=x", "for=-1"] {
            assert!(FaultPlan::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rates_are_kept_and_faults_stop_when_the_window_ends() {
        let plan = FaultPlan::parse("blobs=0.25,for=60").unwrap();
        let hits = (0..10_000).filter(|_| plan.strike(plan.blobs).is_some()).count();
        assert!((2_000..3_000).contains(&hits), "{hits} of 10,000 at 25 %");
        assert_eq!(plan.injected(), hits as u64);
        let turns: Vec<_> = (0..4).map(|_| FaultPlan::parse("issues=1").unwrap()).map(|p| p.strike(1.0)).collect();
        assert_eq!(turns, [Some(false); 4], "a process's first fault comes after its call");
        let every = FaultPlan::parse("issues=1").unwrap();
        let turns: Vec<_> = (0..4).map(|_| every.strike(1.0)).collect();
        assert_eq!(turns, [Some(false), Some(true), Some(false), Some(true)]);
        assert!((0..1000).all(|_| plan.strike(plan.issues).is_none()), "issues untouched at rate 0");
        let over = FaultPlan::parse("blobs=1,for=0").unwrap();
        assert!(over.strike(1.0).is_none(), "the window is over");
    }
}
