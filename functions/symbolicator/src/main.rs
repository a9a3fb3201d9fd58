//! The symbolicator Lambda: wiring only.

use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    errata_runtime::init_tracing();
    lambda_runtime::run(service_fn(|ev: LambdaEvent<aws_lambda_events::sqs::SqsEvent>| async move {
        Ok::<_, std::convert::Infallible>(errata_symbolicator::handle_batch(ev.payload))
    }))
    .await
}
