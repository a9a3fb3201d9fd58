//! Account security in DynamoDB: a user's sign-ins, single-use password resets and
//! invitations, organizations' audit logs (in the directory table), and failed-credential
//! counters (in the quotas table). Every item that only matters for a while carries the
//! tables' TTL attribute `expires_at`.

use crate::classify;
use crate::dynamodb::{get_n, get_s, invite_from, n, s, session_from, DynamoDirectory, DynamoRateLimiter, Item};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use errata_domain::secrets::secrets_equal;
use errata_domain::{AuditEntry, Invite, PasswordReset, RateLimit, Session};
use errata_ports::{Accounts, AuditLog, StoreError, StoreResult, Throttle};
use std::collections::HashMap;

/// How long audit entries are kept.
pub const AUDIT_RETENTION_SECS: i64 = 365 * 86_400;

impl DynamoDirectory {
    /// Deletes an item and returns what it held: of concurrent callers, one gets it.
    async fn take(&self, pk: String, sk: &str) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| classify("dynamodb delete_item", &e))?;
        Ok(out.attributes.filter(|a| !a.is_empty()))
    }
}

#[async_trait]
impl Accounts for DynamoDirectory {
    async fn user_sessions(&self, email: &str) -> StoreResult<Vec<Session>> {
        self.list(format!("USER#{email}"), "SESSION#").await?.iter().map(session_from).collect()
    }

    async fn put_password_reset(&self, reset: &PasswordReset) -> StoreResult<()> {
        let item = HashMap::from([
            ("digest".into(), s(&reset.digest)),
            ("email".into(), s(&reset.email)),
            ("expires_at".into(), n(reset.expires_at)),
        ]);
        self.put(item, format!("RESET#{}", reset.digest), "RESET").await
    }

    async fn take_password_reset(&self, digest: &str) -> StoreResult<Option<PasswordReset>> {
        let Some(item) = self.take(format!("RESET#{digest}"), "RESET").await? else { return Ok(None) };
        let reset = PasswordReset {
            digest: get_s(&item, "digest").unwrap_or_default(),
            email: get_s(&item, "email").ok_or_else(|| StoreError::permanent("stored reset has no email"))?,
            expires_at: get_n(&item, "expires_at").unwrap_or(0),
        };
        Ok(secrets_equal(&reset.digest, digest).then_some(reset))
    }

    async fn take_invite(&self, digest: &str) -> StoreResult<Option<Invite>> {
        let Some(item) = self.take(format!("INVITE#{digest}"), "INVITE").await? else { return Ok(None) };
        let invite = invite_from(&item)?;
        self.delete(format!("ORG#{}", invite.org), &format!("INVITE#{}", invite.email)).await?;
        Ok(secrets_equal(&invite.digest, digest).then_some(invite))
    }
}

/// The sort key of an entry: its time (fixed width, so keys sort by time), then its id.
fn audit_sk(entry: &AuditEntry) -> String {
    format!("{:013}#{}", entry.at_ms.max(0), entry.id)
}

#[async_trait]
impl AuditLog for DynamoDirectory {
    async fn record(&self, entry: &AuditEntry) -> StoreResult<()> {
        let data = serde_json::to_string(entry).map_err(|e| StoreError::permanent(e.to_string()))?;
        let item = HashMap::from([
            ("data".into(), s(data)),
            ("expires_at".into(), n(entry.at_ms / 1000 + AUDIT_RETENTION_SECS)),
        ]);
        self.put(item, format!("AUDIT#{}", entry.org), &audit_sk(entry)).await
    }

    async fn entries(
        &self,
        org: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> StoreResult<(Vec<AuditEntry>, Option<String>)> {
        let pk = format!("AUDIT#{org}");
        let start = cursor.map(|c| HashMap::from([("pk".to_owned(), s(&pk)), ("sk".to_owned(), s(c))]));
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(&pk))
            .scan_index_forward(false)
            .set_exclusive_start_key(start)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| classify("dynamodb query audit", &e))?;
        let entries = out
            .items()
            .iter()
            .map(|item| {
                let data = get_s(item, "data").ok_or_else(|| StoreError::permanent("audit entry without data"))?;
                serde_json::from_str(&data).map_err(|e| StoreError::permanent(format!("unreadable audit entry: {e}")))
            })
            .collect::<StoreResult<Vec<AuditEntry>>>()?;
        let next = out.last_evaluated_key().and_then(|k| k.get("sk")).and_then(|v| v.as_s().ok()).cloned();
        Ok((entries, next))
    }
}

#[async_trait]
impl Throttle for DynamoRateLimiter {
    async fn blocked(&self, scope: &str, limit: &RateLimit, now_secs: i64) -> StoreResult<Option<u64>> {
        let (start, retry_after) = limit.window(now_secs);
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(format!("{scope}@{start}")))
            .send()
            .await
            .map_err(|e| classify("dynamodb get_item throttle", &e))?;
        let failures: u64 = out.item.as_ref().and_then(|i| get_n(i, "n")).unwrap_or(0);
        Ok((failures >= limit.count).then_some(retry_after))
    }

    async fn failed(&self, scope: &str, limit: &RateLimit, now_secs: i64) -> StoreResult<()> {
        let (start, _) = limit.window(now_secs);
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("{scope}@{start}")))
            .update_expression("ADD #n :one SET expires_at = :exp")
            .expression_attribute_names("#n", "n")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":exp", n(start + limit.window_secs as i64 + 60))
            .send()
            .await
            .map_err(|e| classify("dynamodb update_item throttle", &e))?;
        Ok(())
    }
}
