//! Counting a batch's events exactly once, without a transaction per event.
//!
//! A transaction bills every item twice: an event's index entry costs 3 units in one (2, and 1
//! for its `by-issue` copy), its issue's count 2 more. Here each write stands alone, and the
//! batch's *token* makes the counting exact:
//!
//! 1. The batch reads its issues (strongly consistent). Its token is `"<deadline ms>.<random>"`:
//!    the deadline is when its writer is gone for sure (the processor's timeout, `lease`).
//! 2. Each event's index entry is put unless its id is there (1 unit, and 1 for `by-issue`),
//!    naming the token in `b`.
//! 3. Each issue with new events is updated once (1 unit): its counters, and `applied[token]`,
//!    under the condition that the token is not there yet. An attempt whose answer was lost is
//!    found applied when the issue is read again.
//! 4. When every issue is counted, a marker `B/<token>` says so (1 unit per batch).
//!
//! An event whose entry is there already is a duplicate when the entry has no token (written by
//! a transaction, counted with it), when its batch's marker exists, or when its issue's
//! `applied` names its batch. Otherwise its batch is still at work (the event fails and comes
//! back later) or died between steps 2 and 3, once its deadline is well past: then the batch
//! that finds the entry adopts it (a conditional write of its own token) and counts it.
//! An issue forgets a token (`applied` stays small) once that batch's marker exists.

use crate::classify;
use crate::dynamodb::{get_n, get_s, n, s, Item};
use crate::issues::DynamoIssueStore;
use aws_sdk_dynamodb::types::{KeysAndAttributes, Update};
use errata_domain::issue::Recorded;
use errata_domain::{Issue, IssueId, Sighting, Timestamp};
use errata_ports::{StoreError, StoreResult};
use futures_util::{stream, StreamExt};
use std::collections::{BTreeMap, HashMap, HashSet};

/// How many issues (or entries) of a batch are written at once.
const AT_ONCE: usize = 16;
/// How long a batch's marker is kept: longer than a message can wait in a queue and its
/// dead-letter queue (14 days each at most).
const MARKER_DAYS: i64 = 30;

/// A batch's token: `"<deadline ms>.<random>"`.
fn new_token(lease_ms: i64) -> String {
    use std::hash::{BuildHasher, Hasher};
    // RandomState's keys are random per process and differ for each one made.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    format!("{}.{:010x}", Timestamp::now().unix_millis() + lease_ms, h.finish() >> 24)
}

/// When the batch that wrote `token` is gone for sure: its deadline, plus twice its lease for
/// clocks that disagree and writes still on their way.
fn gone_after(token: &str, lease_ms: i64) -> i64 {
    token.split('.').next().and_then(|d| d.parse::<i64>().ok()).map_or(i64::MAX, |d| d.saturating_add(2 * lease_ms))
}

/// What putting an event's index entry found.
enum Entry {
    /// Written now (or by this batch before, an answer lost).
    New,
    /// There already, counted with it (a transaction wrote it).
    Counted,
    /// There already, written by the batch of this token.
    Of(String),
}

/// An issue as the batch read it: the issue, and the tokens of the batches it has counted.
#[derive(Clone)]
pub(crate) struct Read {
    issue: Issue,
    applied: HashSet<String>,
    /// Whether the item has an `applied` map (issues counted by transactions have none).
    has_map: bool,
}

fn read_of(item: &Item) -> StoreResult<Read> {
    let map = item.get("applied").and_then(|m| m.as_m().ok());
    let applied = map.map(|m| m.keys().cloned().collect()).unwrap_or_default();
    Ok(Read { issue: crate::issues::issue_from(item)?, applied, has_map: map.is_some() })
}

impl DynamoIssueStore {
    /// Records a batch's sightings (see the module's documentation).
    pub(crate) async fn count_batch(&self, sightings: &[Sighting]) -> Vec<StoreResult<Recorded>> {
        let mut results: Vec<Option<StoreResult<Recorded>>> = (0..sightings.len()).map(|_| None).collect();
        let mut firsts = Vec::new();
        let mut ids = HashSet::new();
        for (i, s_) in sightings.iter().enumerate() {
            if ids.insert((s_.project_id, s_.event_id.as_str())) {
                firsts.push(i);
            } else {
                results[i] = Some(Ok(Recorded::Duplicate));
            }
        }
        let mut keys: Vec<(u64, IssueId)> =
            firsts.iter().map(|&i| (sightings[i].project_id, sightings[i].issue_id)).collect();
        keys.sort();
        keys.dedup();
        let read_at = Timestamp::now().unix_millis();
        let stored = match self.read_counted(&keys).await {
            Ok(stored) => stored,
            Err(e) => return sightings.iter().map(|_| Err(e.clone())).collect(),
        };
        let token = new_token(self.writer_lease_ms);

        // The index entries.
        let puts: Vec<(usize, StoreResult<Entry>)> = stream::iter(firsts)
            .map(|i| {
                let token = &token;
                async move { (i, self.put_entry(&sightings[i], token).await) }
            })
            .buffer_unordered(AT_ONCE)
            .collect()
            .await;
        // Whether the batches named in entries and issues are done.
        let mut named: HashSet<String> = stored.values().flat_map(|r| r.applied.iter().cloned()).collect();
        named.extend(puts.iter().filter_map(|(_, e)| match e {
            Ok(Entry::Of(t)) => Some(t.clone()),
            _ => None,
        }));
        named.remove(&token);
        let done = match self.batches_done(named.into_iter().collect()).await {
            Ok(done) => done,
            Err(e) => return sightings.iter().map(|_| Err(e.clone())).collect(),
        };
        let mut new: BTreeMap<(u64, IssueId), Vec<usize>> = BTreeMap::new();
        // Whether an entry may name this batch's token without being counted by it (a write
        // whose answer was lost): then no marker may say the batch counted all it wrote.
        let mut unsure = false;
        for (i, entry) in puts {
            let s_ = &sightings[i];
            let key = (s_.project_id, s_.issue_id);
            let outcome = match entry {
                Ok(Entry::New) => {
                    new.entry(key).or_default().push(i);
                    continue;
                }
                Ok(Entry::Counted) => Ok(Recorded::Duplicate),
                Ok(Entry::Of(other)) => {
                    let counted = done.contains(&other) || stored.get(&key).is_some_and(|r| r.applied.contains(&other));
                    if counted {
                        Ok(Recorded::Duplicate)
                    } else if gone_after(&other, self.writer_lease_ms) > read_at {
                        Err(StoreError::retryable("an earlier delivery of this event is still being counted"))
                    } else {
                        // Its batch died before counting it: this one does.
                        match self.adopt_entry(s_, &other, &token).await {
                            Ok(true) => {
                                new.entry(key).or_default().push(i);
                                continue;
                            }
                            Ok(false) => Err(StoreError::retryable("another batch adopted this event first")),
                            Err(e) => {
                                unsure = true;
                                Err(e)
                            }
                        }
                    }
                }
                Err(e) => {
                    unsure = true;
                    Err(e)
                }
            };
            results[i] = Some(outcome);
        }

        // The issues, each once.
        let work: Vec<_> = new
            .into_iter()
            .map(|(key, mut indexes)| {
                indexes.sort_by_key(|&i| sightings[i].timestamp);
                let events: Vec<&Sighting> = indexes.iter().map(|&i| &sightings[i]).collect();
                let read = stored.get(&key).cloned();
                let (token, done) = (&token, &done);
                async move {
                    let outcomes = self.count_issue(read, &events, token, done).await;
                    (indexes, outcomes)
                }
            })
            .collect();
        let counted: Vec<(Vec<usize>, Vec<StoreResult<Recorded>>)> =
            stream::iter(work).buffer_unordered(AT_ONCE).collect().await;
        let mut wrote = false;
        for (indexes, outcomes) in counted {
            wrote = true;
            unsure |= outcomes.iter().any(Result::is_err);
            for (&i, outcome) in indexes.iter().zip(outcomes) {
                results[i] = Some(outcome);
            }
        }
        let results: Vec<StoreResult<Recorded>> = results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(StoreError::permanent("event not recorded"))))
            .collect();
        // Every entry of this token counted: the marker says so, to later deliveries of these
        // events and to the issues, which then forget the token. Without it (a failure above,
        // or here) deliveries find the token in their issues instead, or adopt the entries.
        if wrote && !unsure {
            if let Err(e) = self.mark_done(&token).await {
                tracing::warn!(error = %e, "batch marker not written; its tokens stay on its issues");
            }
        }
        results
    }

    /// The batch's issues as stored now, with the tokens they have counted.
    async fn read_counted(&self, keys: &[(u64, IssueId)]) -> StoreResult<HashMap<(u64, IssueId), Read>> {
        let keys: Vec<Item> = keys
            .iter()
            .map(|(project, id)| {
                Item::from([("pk".to_owned(), s(format!("P#{project}"))), ("sk".to_owned(), s(format!("I#{id}")))])
            })
            .collect();
        let mut stored = HashMap::new();
        for item in self.read_items(&self.issues_table, &keys, None, true).await? {
            let read = read_of(&item)?;
            stored.insert((read.issue.project_id, read.issue.id), read);
        }
        Ok(stored)
    }

    /// Puts an event's index entry unless its id is recorded; what was there if it was.
    async fn put_entry(&self, s_: &Sighting, token: &str) -> StoreResult<Entry> {
        let pk = format!("{}/{}", s_.project_id, s_.event_id);
        let put = self
            .client
            .put_item()
            .table_name(&self.events_table)
            .set_item(Some(self.entry_item(s_)))
            .item("b", s(token))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => return Ok(Entry::New),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {}
            Err(e) => return Err(classify("dynamodb put_item event", &e)),
        }
        let there = self
            .client
            .get_item()
            .table_name(&self.events_table)
            .key("pk", s(pk))
            .projection_expression("b, issue_id")
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("dynamodb get_item event", &e))?;
        let Some(item) = there.item else { return Err(StoreError::retryable("an event index entry vanished")) };
        Ok(match get_s(&item, "b") {
            Some(t) if t == token => Entry::New,
            // The same id sent with other content, grouped elsewhere: the first one counts, and
            // its own delivery counts it.
            _ if get_n::<u64>(&item, "issue_id") != Some(s_.issue_id.0) => Entry::Counted,
            Some(t) => Entry::Of(t),
            None => Entry::Counted,
        })
    }

    /// Makes an entry this batch's, if it still names `from`.
    async fn adopt_entry(&self, s_: &Sighting, from: &str, token: &str) -> StoreResult<bool> {
        let adopted = self
            .client
            .update_item()
            .table_name(&self.events_table)
            .key("pk", s(format!("{}/{}", s_.project_id, s_.event_id)))
            .update_expression("SET b = :to")
            .condition_expression("b = :from")
            .expression_attribute_values(":to", s(token))
            .expression_attribute_values(":from", s(from))
            .send()
            .await;
        match adopted {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(classify("dynamodb update_item event", &e)),
        }
    }

    /// The tokens whose batch marker exists.
    async fn batches_done(&self, tokens: Vec<String>) -> StoreResult<HashSet<String>> {
        let keys: Vec<Item> = tokens.iter().map(|t| Item::from([("pk".to_owned(), s(format!("B/{t}")))])).collect();
        Ok(self
            .read_items(&self.events_table, &keys, Some(&["pk"]), true)
            .await?
            .iter()
            .filter_map(|i| get_s(i, "pk").and_then(|pk| pk.strip_prefix("B/").map(str::to_owned)))
            .collect())
    }

    async fn mark_done(&self, token: &str) -> StoreResult<()> {
        self.client
            .put_item()
            .table_name(&self.events_table)
            .item("pk", s(format!("B/{token}")))
            .item("expires_at", n(Timestamp::now().0.unix_timestamp() + MARKER_DAYS * 86_400))
            .send()
            .await
            .map_err(|e| classify("dynamodb put_item batch", &e))?;
        Ok(())
    }

    /// Counts an issue's new events (oldest first) once, under this batch's token, planned from
    /// the issue as read; a refused attempt is planned again from the issue as it is now.
    async fn count_issue(
        &self,
        mut read: Option<Read>,
        events: &[&Sighting],
        token: &str,
        done: &HashSet<String>,
    ) -> Vec<StoreResult<Recorded>> {
        let first = events[0];
        let mut last: Option<Vec<Recorded>> = None;
        // Each refusal re-reads the issue: a hot issue's concurrent batches take turns.
        for _ in 0..8 {
            if read.as_ref().is_some_and(|r| r.applied.contains(token)) {
                // An attempt whose answer was lost went through.
                return self.noted(events, last.unwrap_or_else(|| vec![Recorded::Counted; events.len()]), false).await;
            }
            let (after, outcomes) =
                Issue::after(read.as_ref().map(|r| &r.issue), events).expect("an issue's new events are not empty");
            let created = read.is_none();
            if created {
                // The grouping first (idempotent): the issue is never without it.
                if let Err(e) = self.put_grouping(first).await {
                    return events.iter().map(|_| Err(e.clone())).collect();
                }
            }
            // Batches done (or a month old) need not be remembered.
            let month_ago = Timestamp::now().unix_millis() - MARKER_DAYS * 86_400_000;
            let forget: Vec<&str> = read
                .as_ref()
                .map(|r| {
                    r.applied
                        .iter()
                        .filter(|t| done.contains(*t) || gone_after(t, self.writer_lease_ms) < month_ago)
                        .map(String::as_str)
                        .collect()
                })
                .unwrap_or_default();
            let has_map = read.as_ref().is_some_and(|r| r.has_map);
            let update = match self.group_update(
                read.as_ref().map(|r| &r.issue),
                &after,
                events,
                &crate::issues::Applied { token, count: events.len(), has_map, forget: &forget },
            ) {
                Ok(u) => u,
                Err(e) => return events.iter().map(|_| Err(e.clone())).collect(),
            };
            last = Some(outcomes);
            match self.send_update(update).await {
                Ok(true) => return self.noted(events, last.unwrap_or_default(), created).await,
                Ok(false) => match self.read_counted(&[(first.project_id, first.issue_id)]).await {
                    Ok(mut fresh) => read = fresh.remove(&(first.project_id, first.issue_id)),
                    Err(e) => return events.iter().map(|_| Err(e.clone())).collect(),
                },
                Err(e) => return events.iter().map(|_| Err(e.clone())).collect(),
            }
        }
        events.iter().map(|_| Err(StoreError::retryable("issue count kept racing with concurrent writers"))).collect()
    }

    /// The outcomes, once the events' users (and a new issue's first day) are noted.
    async fn noted(&self, events: &[&Sighting], outcomes: Vec<Recorded>, created: bool) -> Vec<StoreResult<Recorded>> {
        let mut noted = self.note_users(events).await;
        if noted.is_ok() && created {
            noted = self.note_first_day(events[0]).await;
        }
        outcomes.into_iter().map(|o| noted.clone().map(|()| o)).collect()
    }

    /// Sends an issue update; `Ok(false)` when its condition refused it.
    async fn send_update(&self, u: Update) -> StoreResult<bool> {
        let sent = self
            .client
            .update_item()
            .table_name(u.table_name())
            .set_key(Some(u.key().clone()))
            .update_expression(u.update_expression())
            .set_condition_expression(u.condition_expression().map(str::to_owned))
            .set_expression_attribute_names(u.expression_attribute_names().cloned())
            .set_expression_attribute_values(u.expression_attribute_values().cloned())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(classify("dynamodb update_item issue", &e)),
        }
    }

    /// Reads `keys` of `table` (100 at a time, unprocessed keys again): `projection` of each
    /// (everything when `None`), strongly consistent when asked.
    pub(crate) async fn read_items(
        &self,
        table: &str,
        keys: &[Item],
        projection: Option<&[&str]>,
        consistent: bool,
    ) -> StoreResult<Vec<Item>> {
        let reads = keys.chunks(100).map(|chunk| async move {
            let mut wanted: Vec<Item> = chunk.to_vec();
            let mut found = Vec::new();
            let mut rounds = 0;
            while !wanted.is_empty() {
                rounds += 1;
                if rounds > 8 {
                    return Err(StoreError::retryable("dynamodb batch_get_item kept leaving keys unprocessed"));
                }
                let mut request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut wanted)))
                    .consistent_read(consistent);
                if let Some(attributes) = projection {
                    request = request
                        .projection_expression(
                            (0..attributes.len()).map(|i| format!("#p{i}")).collect::<Vec<_>>().join(", "),
                        )
                        .set_expression_attribute_names(Some(
                            attributes.iter().enumerate().map(|(i, a)| (format!("#p{i}"), (*a).to_owned())).collect(),
                        ));
                }
                let request = request.build().map_err(|e| StoreError::permanent(e.to_string()))?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(table, request)
                    .send()
                    .await
                    .map_err(|e| classify("dynamodb batch_get_item", &e))?;
                if let Some(items) = out.responses.as_ref().and_then(|r| r.get(table)) {
                    found.extend(items.iter().cloned());
                }
                if let Some(left) = out.unprocessed_keys.as_ref().and_then(|u| u.get(table)) {
                    wanted = left.keys().to_vec();
                }
            }
            Ok(found)
        });
        Ok(futures_util::future::try_join_all(reads).await?.into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_when_its_batch_is_gone() {
        let token = new_token(30_000);
        let (deadline, random) = token.split_once('.').unwrap();
        let deadline: i64 = deadline.parse().unwrap();
        assert!((deadline - Timestamp::now().unix_millis() - 30_000).abs() < 5_000);
        assert_eq!(random.len(), 10);
        assert_ne!(new_token(30_000), new_token(30_000));
        assert_eq!(gone_after(&token, 30_000), deadline + 60_000);
        assert_eq!(gone_after("garbage", 30_000), i64::MAX, "an unreadable token is never taken for gone");
    }
}
