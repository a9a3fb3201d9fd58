//! Alert throttles and window counters (see `errata_ports::AlertState`) on DynamoDB.

use crate::classify;
use crate::dynamodb::{corrupt, get_n, n, s};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use errata_ports::StoreResult;

/// Alert throttles and window counters, in the quotas table (`pk`, TTL `expires_at`).
pub struct DynamoAlertState {
    client: Client,
    table: String,
}

impl DynamoAlertState {
    pub fn new(config: &aws_config::SdkConfig, table: String) -> Self {
        DynamoAlertState {
            client: Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(config).interceptor(crate::meter::Meter).build(),
            ),
            table,
        }
    }
}

fn conditional_failed<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(
    e: &aws_sdk_dynamodb::error::SdkError<E>,
) -> bool {
    e.as_service_error().and_then(|s| s.code()) == Some("ConditionalCheckFailedException")
}

#[async_trait]
impl errata_ports::AlertState for DynamoAlertState {
    async fn claim(&self, key: &str, now_secs: i64, until_secs: i64) -> StoreResult<bool> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(key))
            .item("until", n(until_secs))
            .item("expires_at", n(until_secs + 60))
            .condition_expression("attribute_not_exists(pk) OR #u <= :now")
            .expression_attribute_names("#u", "until")
            .expression_attribute_values(":now", n(now_secs))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if conditional_failed(&e) => Ok(false),
            Err(e) => Err(classify("dynamodb put_item alert claim", &e)),
        }
    }

    async fn release(&self, key: &str) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .send()
            .await
            .map_err(|e| classify("dynamodb delete_item alert claim", &e))?;
        Ok(())
    }

    async fn bump(&self, key: &str, expires_secs: i64) -> StoreResult<u64> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .update_expression("ADD #n :one SET expires_at = :exp")
            .expression_attribute_names("#n", "n")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":exp", n(expires_secs))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| classify("dynamodb update_item alert counter", &e))?;
        out.attributes.as_ref().and_then(|a| get_n(a, "n")).ok_or_else(|| corrupt("alert counter"))
    }

    async fn mark(&self, key: &str, expires_secs: i64) -> StoreResult<bool> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(key))
            .item("expires_at", n(expires_secs))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if conditional_failed(&e) => Ok(false),
            Err(e) => Err(classify("dynamodb put_item alert mark", &e)),
        }
    }
}
