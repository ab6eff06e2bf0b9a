//! Create a cloud environment from Rust with `wx-cloud-core`, against the
//! local emulator (no account, no network):
//!
//! ```sh
//! cargo run -p wx-cloud-core --example create_env
//! ```
//!
//! The client is given the environment of a cloud function pointed at the
//! emulator; in a real cloud function, `Client::from_env()` reads the
//! runtime's own variables instead.

use serde_json::json;
use wx_cloud_core::{Answer, Client};
use wx_cloud_emulator::{Emulator, EmulatorOptions};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::start(EmulatorOptions::default()).await?;
    let client = Client::with_env(json!({}), emulator.cloud_env())?;
    let answer = client
        .call(
            "tcb.createenvandresource",
            json!({ "type": "CreatePostpayPackage", "alias": "example" }),
        )
        .await;
    emulator.close().await;
    match answer? {
        // { "envid": "example-…", "errMsg": "openapi.tcb.createenvandresource:ok", "errCode": 0 }
        Answer::Json(result) => println!("{result}"),
        Answer::Binary { content_type, .. } => println!("a binary answer ({content_type})"),
    }
    Ok(())
}
