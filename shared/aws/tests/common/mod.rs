//! What the adapter test files share: the emulator's configuration (required, never
//! skipped), unique names, and tables shaped like the stack's (infra/cdk/lib/errata.ts).
#![allow(dead_code, clippy::unwrap_used)]

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType,
};

pub async fn config() -> aws_config::SdkConfig {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: these tests talk to the local AWS emulator; run them with `make test`"
    );
    errata_aws::load_config().await
}

pub fn unique(name: &str) -> String {
    format!("test-{name}-{}", uuid::Uuid::new_v4().simple())
}

pub fn key(name: &str, t: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder().attribute_name(name).key_type(t).build().unwrap()
}
pub fn attr(name: &str, t: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder().attribute_name(name).attribute_type(t).build().unwrap()
}
pub fn gsi(name: &str, hash: &str, range: Option<&str>) -> GlobalSecondaryIndex {
    // As the stack has them: the issues' indexes hold keys only.
    let projection = if name == "by-issue" { ProjectionType::All } else { ProjectionType::KeysOnly };
    let mut b = GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(hash, KeyType::Hash))
        .projection(Projection::builder().projection_type(projection).build());
    if let Some(r) = range {
        b = b.key_schema(key(r, KeyType::Range));
    }
    b.build().unwrap()
}

/// A quotas table shaped like the stack's: `pk` only.
pub async fn quotas_table(cfg: &aws_config::SdkConfig) -> String {
    let table = unique("quotas");
    aws_sdk_dynamodb::Client::new(cfg)
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash))
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .send()
        .await
        .unwrap();
    table
}

/// Creates tables shaped like the stack's (infra/cdk/lib/errata.ts).
pub async fn tables(cfg: &aws_config::SdkConfig) -> (String, String, String) {
    let client = aws_sdk_dynamodb::Client::new(cfg);
    let (directory, issues, events) = (unique("directory"), unique("issues"), unique("events"));
    for (name, sort) in [(&directory, true), (&issues, true)] {
        let mut req = client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash))
            .attribute_definitions(attr("pk", ScalarAttributeType::S));
        if sort {
            req = req.key_schema(key("sk", KeyType::Range)).attribute_definitions(attr("sk", ScalarAttributeType::S));
        }
        if name == &issues {
            req = req
                .attribute_definitions(attr("issue_id", ScalarAttributeType::N))
                .attribute_definitions(attr("seen_day", ScalarAttributeType::S))
                .attribute_definitions(attr("list_seen", ScalarAttributeType::N))
                .attribute_definitions(attr("first_day", ScalarAttributeType::S))
                .attribute_definitions(attr("first_seen", ScalarAttributeType::N))
                .global_secondary_indexes(gsi("by-id", "issue_id", None))
                .global_secondary_indexes(gsi("by-last-seen", "seen_day", Some("list_seen")))
                .global_secondary_indexes(gsi("by-first-seen", "first_day", Some("first_seen")));
        }
        req.send().await.expect("create table");
    }
    client
        .create_table()
        .table_name(&events)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash))
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("issue_id", ScalarAttributeType::N))
        .attribute_definitions(attr("ts", ScalarAttributeType::N))
        .global_secondary_indexes(gsi("by-issue", "issue_id", Some("ts")))
        .send()
        .await
        .expect("create events table");
    (directory, issues, events)
}
