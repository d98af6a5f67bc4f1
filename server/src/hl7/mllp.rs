//! MLLP framing: each message is `0x0B`, the message, `0x1C 0x0D`; each
//! answer is framed the same way. Messages on one connection are answered
//! in order, one at a time, as a PAS expects. The stream is plain TCP or
//! TLS; framing does not care which.

use std::future::Future;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tracing::warn;

const START: u8 = 0x0B;
const END: [u8; 2] = [0x1C, 0x0D];
/// A larger message is no ADT message: the connection is closed.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;
/// How long closing the stream may take.
const CLOSE_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Reads frames from `socket` and writes `handle`'s answer to each, until
/// the peer closes, sends something unframed or too large, or the hub stops;
/// then closes the stream (over TLS, with a close_notify the peer can tell
/// from a cut connection).
pub async fn serve<S, F, Fut>(mut socket: S, stop: watch::Receiver<bool>, handle: F)
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnMut(String) -> Fut,
    Fut: Future<Output = String>,
{
    exchange(&mut socket, stop, handle).await;
    // Bounded: a peer that reads nothing must not hold the task forever.
    let _ = tokio::time::timeout(CLOSE_WITHIN, socket.shutdown()).await;
}

async fn exchange<S, F, Fut>(socket: &mut S, mut stop: watch::Receiver<bool>, mut handle: F)
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnMut(String) -> Fut,
    Fut: Future<Output = String>,
{
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(message) = take_frame(&mut buf) {
            let Ok(message) = message else {
                warn!("MLLP: bytes outside a frame; closing");
                return;
            };
            let answer = handle(String::from_utf8_lossy(&message).into_owned()).await;
            let mut framed = Vec::with_capacity(answer.len() + 3);
            framed.push(START);
            framed.extend_from_slice(answer.as_bytes());
            framed.extend_from_slice(&END);
            if socket.write_all(&framed).await.is_err() {
                return;
            }
        }
        if buf.len() > MAX_MESSAGE_BYTES {
            warn!(bytes = buf.len(), "MLLP: message too large; closing");
            return;
        }
        let n = tokio::select! {
            _ = stop.changed() => return,
            r = socket.read(&mut chunk) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
        };
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The next whole frame's content, removed from `buf`; `Err` if `buf`
/// starts with anything but a frame (line noise between frames, a newline
/// some senders add, is skipped).
fn take_frame(buf: &mut Vec<u8>) -> Option<Result<Vec<u8>, ()>> {
    let skip = buf
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n' | b' '))
        .count();
    buf.drain(..skip);
    match buf.first() {
        None => return None,
        Some(&START) => {}
        Some(_) => return Some(Err(())),
    }
    let end = buf.windows(2).position(|w| w == END)?;
    let message = buf[1..end].to_vec();
    buf.drain(..end + 2);
    Some(Ok(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_taken_whole_and_in_order() {
        let mut buf = b"\x0bMSH|one\r\x1c\x0d\r\n\x0bMSH|two\r\x1c\x0d\x0bMSH|thr".to_vec();
        assert_eq!(take_frame(&mut buf), Some(Ok(b"MSH|one\r".to_vec())));
        assert_eq!(take_frame(&mut buf), Some(Ok(b"MSH|two\r".to_vec())));
        assert_eq!(take_frame(&mut buf), None, "the third is not whole yet");
        buf.extend_from_slice(b"ee\r\x1c\x0d");
        assert_eq!(take_frame(&mut buf), Some(Ok(b"MSH|three\r".to_vec())));
        let mut junk = b"GET / HTTP/1.1\r\n".to_vec();
        assert_eq!(take_frame(&mut junk), Some(Err(())));
    }
}
