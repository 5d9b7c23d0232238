//! Framing of the sync protocol: one request and one response per stream, each the raw bytes
//! up to the end of the stream, capped. Decoding happens in the service, which knows the peer
//! and can penalise it for bytes that do not decode.

use libp2p::StreamProtocol;
use libp2p::futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::request_response::Codec;

use super::protocol::{MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES};

/// Raw sync message bytes.
pub type Bytes = Vec<u8>;

/// The sync protocol's codec.
#[derive(Debug, Clone, Copy, Default)]
pub struct SyncCodec;

/// Reads to the end of the stream, failing past `max` bytes instead of buffering them.
async fn read_capped<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    max: usize,
) -> std::io::Result<Bytes> {
    let mut buf = Vec::new();
    io.take(max as u64 + 1).read_to_end(&mut buf).await?;
    // Every message encodes to at least one byte: an empty stream is a peer that hung up (or
    // refused our request by closing), not a message.
    if buf.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "empty message",
        ));
    }
    if buf.len() > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("message over {max} bytes"),
        ));
    }
    Ok(buf)
}

async fn write_all<T: AsyncWrite + Unpin + Send>(io: &mut T, bytes: &[u8]) -> std::io::Result<()> {
    io.write_all(bytes).await?;
    io.close().await
}

impl Codec for SyncCodec {
    type Protocol = StreamProtocol;
    type Request = Bytes;
    type Response = Bytes;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> std::io::Result<Bytes>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_capped(io, MAX_REQUEST_BYTES).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> std::io::Result<Bytes>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_capped(io, MAX_RESPONSE_BYTES).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Bytes,
    ) -> std::io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_all(io, &req).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Bytes,
    ) -> std::io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_all(io, &res).await
    }
}
