//! Release health on DynamoDB, beside the issues. Issues table: `pk` = `R#project_id`, `sk` =
//! `release␟environment␟hour` (␟ is U+001F, which releases and environments cannot contain)
//! with counters `started`, `errored`, `crashed`, `abnormal`. Each contribution is counted in
//! one transaction with a marker in the events table (`S/project_id/dedup_key`, with TTL), so
//! a redelivered session update changes nothing.

use crate::classify;
use crate::dynamodb::{get_n, get_s, n, s, Item};
use crate::issues::DynamoIssueStore;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use errata_domain::sessions::{SessionBucket, SessionContribution, SessionCounts};
use errata_domain::Timestamp;
use errata_ports::{ReleaseHealth, StoreError, StoreResult};

const SEP: char = '\u{1f}';

fn sort_key(b: &SessionBucket) -> String {
    format!("{}{SEP}{}{SEP}{:013}", b.release, b.environment, b.hour_ms)
}

fn bucket_from(item: &Item) -> Option<(SessionBucket, SessionCounts)> {
    let sk = get_s(item, "sk")?;
    let mut parts = sk.split(SEP);
    let bucket = SessionBucket {
        release: parts.next()?.to_owned(),
        environment: parts.next()?.to_owned(),
        hour_ms: parts.next()?.parse().ok()?,
    };
    let counts = SessionCounts {
        started: get_n(item, "started").unwrap_or(0),
        errored: get_n(item, "errored").unwrap_or(0),
        crashed: get_n(item, "crashed").unwrap_or(0),
        abnormal: get_n(item, "abnormal").unwrap_or(0),
    };
    Some((bucket, counts))
}

#[async_trait]
impl ReleaseHealth for DynamoIssueStore {
    async fn record_sessions(&self, project_id: u64, c: &SessionContribution) -> StoreResult<bool> {
        let permanent = |e: aws_sdk_dynamodb::error::BuildError| StoreError::permanent(e.to_string());
        let marker = Put::builder()
            .table_name(&self.events_table)
            .item("pk", s(format!("S/{project_id}/{}", c.dedup_key)))
            .item(
                "expires_at",
                self.expires_at(Timestamp::from_unix_millis(c.bucket.hour_ms).unwrap_or_else(Timestamp::now)),
            )
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(permanent)?;
        let counters = Update::builder()
            .table_name(&self.issues_table)
            .key("pk", s(format!("R#{project_id}")))
            .key("sk", s(sort_key(&c.bucket)))
            .update_expression("ADD started :s, errored :e, crashed :c, abnormal :a")
            .expression_attribute_values(":s", n(c.counts.started))
            .expression_attribute_values(":e", n(c.counts.errored))
            .expression_attribute_values(":c", n(c.counts.crashed))
            .expression_attribute_values(":a", n(c.counts.abnormal))
            .build()
            .map_err(permanent)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(marker).build())
            .transact_items(TransactWriteItem::builder().update(counters).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) => {
                if let Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)) = e.as_service_error() {
                    if c.cancellation_reasons().first().and_then(|r| r.code()) == Some("ConditionalCheckFailed") {
                        return Ok(false);
                    }
                }
                Err(classify("dynamodb transact_write_items sessions", &e))
            }
        }
    }

    async fn session_counts(
        &self,
        project_id: u64,
        release: Option<&str>,
        since_ms: i64,
    ) -> StoreResult<Vec<(SessionBucket, SessionCounts)>> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.issues_table)
                .expression_attribute_values(":pk", s(format!("R#{project_id}")))
                .set_exclusive_start_key(start.take());
            query = match release {
                Some(r) => query
                    .key_condition_expression("pk = :pk AND begins_with(sk, :r)")
                    .expression_attribute_values(":r", s(format!("{r}{SEP}"))),
                None => query.key_condition_expression("pk = :pk"),
            };
            let page = query.send().await.map_err(|e| classify("dynamodb query sessions", &e))?;
            out.extend(page.items().iter().filter_map(bucket_from).filter(|(b, _)| b.hour_ms >= since_ms));
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(out)
    }
}
