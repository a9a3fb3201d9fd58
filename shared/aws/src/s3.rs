//! Buckets of opaque objects on S3.

use crate::classify;
use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use errata_ports::{BlobStore, Listing, StoreError, StoreResult};

pub struct S3Blobs {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Blobs {
    pub fn new(config: &aws_config::SdkConfig, bucket: String) -> Self {
        // Path-style addressing: bucket names as host names do not resolve against a local
        // endpoint, and path style works on AWS as well.
        let s3_config =
            aws_sdk_s3::config::Builder::from(config).force_path_style(true).interceptor(crate::meter::Meter).build();
        S3Blobs { client: aws_sdk_s3::Client::from_conf(s3_config), bucket }
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> StoreResult<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| classify("s3 put_object", &e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.get_range(key, 0, 0).await
    }

    async fn get_range(&self, key: &str, offset: u64, len: u64) -> StoreResult<Option<Vec<u8>>> {
        let range = (len > 0).then(|| format!("bytes={}-{}", offset, offset + len - 1));
        match self.client.get_object().bucket(&self.bucket).key(key).set_range(range).send().await {
            Ok(out) => {
                let bytes =
                    out.body.collect().await.map_err(|e| StoreError::retryable(format!("s3 read body: {e}")))?;
                Ok(Some(bytes.into_bytes().to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            // A range from the start of an empty object is that empty object (S3 answers 416).
            Err(e) if offset == 0 && e.as_service_error().and_then(|s| s.meta().code()) == Some("InvalidRange") => {
                Ok(Some(Vec::new()))
            }
            Err(e) => Err(classify("s3 get_object", &e)),
        }
    }

    async fn list(&self, prefix: &str) -> StoreResult<Listing> {
        let mut listing = Listing::default();
        let mut pages =
            self.client.list_objects_v2().bucket(&self.bucket).prefix(prefix).delimiter("/").into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("s3 list_objects_v2", &e))?;
            for o in page.contents() {
                if let Some(key) = o.key() {
                    listing.objects.push((key.to_owned(), o.size().unwrap_or(0).max(0) as u64));
                }
            }
            listing.folders.extend(page.common_prefixes().iter().filter_map(|p| p.prefix().map(str::to_owned)));
        }
        Ok(listing)
    }

    async fn delete(&self, keys: &[String]) -> StoreResult<()> {
        // DeleteObjects takes up to 1000 keys a call.
        for chunk in keys.chunks(1000) {
            let ids = chunk
                .iter()
                .map(|k| ObjectIdentifier::builder().key(k).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| StoreError::permanent(e.to_string()))?;
            let delete = Delete::builder()
                .set_objects(Some(ids))
                .quiet(true)
                .build()
                .map_err(|e| StoreError::permanent(e.to_string()))?;
            let out = self
                .client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| classify("s3 delete_objects", &e))?;
            if let Some(failed) = out.errors().first() {
                return Err(StoreError::retryable(format!(
                    "s3 delete_objects: {} failed: {}",
                    failed.key().unwrap_or_default(),
                    failed.message().unwrap_or_default()
                )));
            }
        }
        Ok(())
    }
}
