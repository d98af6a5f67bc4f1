//! Clients that come from a chosen loopback address (127.0.0.x), for tests
//! and measurements of the hub's per-source limits.

use std::net::IpAddr;

/// The loopback address 127.0.0.`last`.
pub fn src(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

/// An HTTP client whose connections come from `source`.
pub fn http_from(source: IpAddr) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().local_address(source).build()?)
}

/// A login attempt from `source`: status and `Retry-After`.
pub async fn login_from(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<(u16, Option<String>)> {
    let res = http
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({ "username": username, "password": password }))
        .send()
        .await?;
    let retry = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    Ok((res.status().as_u16(), retry))
}
