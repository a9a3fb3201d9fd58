//! User feedback and notification records in the issues table: `pk` = `P#project_id`, `sk` =
//! `F#<issue>#<ts>#<id>` for feedback, `N#<issue>#<ts>#<rule>#<channel>` for notifications
//! (issue 0 when the feedback came before its event was known).

use crate::classify;
use crate::dynamodb::{get_n, get_s, n, s, Item};
use crate::issues::DynamoIssueStore;
use errata_domain::{Feedback, IssueId, Timestamp};
use errata_ports::{FeedbackScope, NotificationLog, NotificationRecord, StoreResult};

/// The sort key of feedback: `F#<issue, 16 digits>#` then `<ts>#<id>`; issue 0 when unattached.
fn feedback_key(issue: Option<IssueId>, at: Option<(i64, &str)>) -> String {
    let issue = issue.map_or(0, |i| i.0);
    match at {
        Some((ts, id)) => format!("F#{issue:016}#{ts:013}#{id}"),
        None => format!("F#{issue:016}#"),
    }
}

impl DynamoIssueStore {
    /// Writes one item of the issues table (feedback, a notification record).
    async fn put_issues_item(&self, item: Item, what: &str) -> StoreResult<()> {
        self.client
            .put_item()
            .table_name(&self.issues_table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| classify(what, &e))?;
        Ok(())
    }

    pub(crate) async fn put_feedback(&self, f: &Feedback) -> StoreResult<()> {
        let mut item = Item::from([
            ("pk".to_owned(), s(format!("P#{}", f.project_id))),
            ("sk".to_owned(), s(feedback_key(f.issue_id, Some((f.timestamp.unix_millis(), &f.id))))),
            ("id".to_owned(), s(&f.id)),
            ("name".to_owned(), s(&f.name)),
            ("email".to_owned(), s(&f.email)),
            ("comments".to_owned(), s(&f.comments)),
            ("ts".to_owned(), n(f.timestamp.unix_millis())),
            ("expires_at".to_owned(), self.expires_at(f.timestamp)),
        ]);
        if let Some(issue) = f.issue_id {
            item.insert("issue".into(), n(issue.0));
        }
        for (k, v) in [("event_id", &f.event_id), ("url", &f.url)] {
            if let Some(v) = v {
                item.insert(k.into(), s(v));
            }
        }
        self.put_issues_item(item, "dynamodb put_item feedback").await
    }

    pub(crate) async fn list_feedback(
        &self,
        project_id: u64,
        scope: FeedbackScope,
        limit: usize,
    ) -> StoreResult<Vec<Feedback>> {
        // Unattached feedback sorts under issue 0, so "all" is the whole `F#` range.
        let prefix = match scope {
            FeedbackScope::Issue(id) => feedback_key(Some(id), None),
            FeedbackScope::Unattached => feedback_key(None, None),
            FeedbackScope::All => "F#".to_owned(),
        };
        let out = self
            .client
            .query()
            .table_name(&self.issues_table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :f)")
            .expression_attribute_values(":pk", s(format!("P#{project_id}")))
            .expression_attribute_values(":f", s(prefix))
            .limit(1000)
            .send()
            .await
            .map_err(|e| classify("dynamodb query feedback", &e))?;
        let mut found: Vec<Feedback> = out
            .items()
            .iter()
            .filter_map(|item| {
                Some(Feedback {
                    project_id,
                    id: get_s(item, "id")?,
                    issue_id: get_n(item, "issue").map(IssueId),
                    event_id: get_s(item, "event_id"),
                    name: get_s(item, "name").unwrap_or_default(),
                    email: get_s(item, "email").unwrap_or_default(),
                    comments: get_s(item, "comments").unwrap_or_default(),
                    url: get_s(item, "url"),
                    timestamp: get_n::<i64>(item, "ts").and_then(Timestamp::from_unix_millis)?,
                })
            })
            .collect();
        found.sort_by_key(|f| std::cmp::Reverse(f.timestamp));
        found.truncate(limit);
        Ok(found)
    }
}

/// The sort key of a notification record: `N#<issue, 16 digits>#<ms, 13 digits>#<rule>#<channel>`.
fn notification_key(r: &NotificationRecord) -> String {
    format!("N#{:016}#{:013}#{}#{}", r.issue_id.0, r.at.unix_millis(), r.rule_id, r.channel)
}

#[async_trait::async_trait]
impl NotificationLog for DynamoIssueStore {
    async fn record_notification(&self, r: &NotificationRecord) -> StoreResult<()> {
        let item = Item::from([
            ("pk".to_owned(), s(format!("P#{}", r.project_id))),
            ("sk".to_owned(), s(notification_key(r))),
            ("rule_id".to_owned(), s(&r.rule_id)),
            ("rule_name".to_owned(), s(&r.rule_name)),
            ("channel".to_owned(), s(&r.channel)),
            ("target".to_owned(), s(&r.target)),
            ("ts".to_owned(), n(r.at.unix_millis())),
            ("expires_at".to_owned(), self.expires_at(r.at)),
        ]);
        self.put_issues_item(item, "dynamodb put_item notification").await
    }

    async fn notifications(
        &self,
        project_id: u64,
        issue: IssueId,
        limit: usize,
    ) -> StoreResult<Vec<NotificationRecord>> {
        let out = self
            .client
            .query()
            .table_name(&self.issues_table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :n)")
            .expression_attribute_values(":pk", s(format!("P#{project_id}")))
            .expression_attribute_values(":n", s(format!("N#{:016}#", issue.0)))
            .scan_index_forward(false)
            .limit(limit.min(1000) as i32)
            .send()
            .await
            .map_err(|e| classify("dynamodb query notifications", &e))?;
        Ok(out
            .items()
            .iter()
            .filter_map(|i| {
                Some(NotificationRecord {
                    project_id,
                    issue_id: issue,
                    rule_id: get_s(i, "rule_id")?,
                    rule_name: get_s(i, "rule_name").unwrap_or_default(),
                    channel: get_s(i, "channel").unwrap_or_default(),
                    target: get_s(i, "target").unwrap_or_default(),
                    at: get_n::<i64>(i, "ts").and_then(Timestamp::from_unix_millis)?,
                })
            })
            .collect())
    }
}
