//! E-mail through SES (v2 API): one message, plain text and HTML, from the stack's sender.

use crate::classify;
use async_trait::async_trait;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sesv2::Client;
use errata_ports::{Mail, Mailer, StoreError, StoreResult};

pub struct SesMailer {
    client: Client,
    sender: String,
}

impl SesMailer {
    pub fn new(config: &aws_config::SdkConfig, sender: String) -> Self {
        SesMailer {
            client: Client::from_conf(
                aws_sdk_sesv2::config::Builder::from(config).interceptor(crate::meter::Meter).build(),
            ),
            sender,
        }
    }
}

fn content(text: &str) -> StoreResult<Content> {
    Content::builder().data(text).charset("UTF-8").build().map_err(|e| StoreError::permanent(e.to_string()))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> StoreResult<()> {
        let message = Message::builder()
            .subject(content(&mail.subject)?)
            .body(Body::builder().text(content(&mail.text)?).html(content(&mail.html)?).build())
            .build();
        self.client
            .send_email()
            .from_email_address(&self.sender)
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| classify("ses send_email", &e))?;
        Ok(())
    }
}
