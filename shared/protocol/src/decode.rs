//! Content-Encoding decoding with a hard cap on the decoded size, enforced while
//! decoding, so a small compressed bomb never inflates past the limit.

use std::io::Read;
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("unsupported content encoding: {0}")]
    Unsupported(String),
    #[error("the request body is not valid {0} data")]
    Corrupt(&'static str),
    #[error("the decoded request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
}

/// Decodes `body` according to a `Content-Encoding` header value, refusing to produce more
/// than `limit` bytes. Empty values, `identity` and the `UTF-8` some clients send are no-ops.
pub fn decode_body(encoding: Option<&str>, body: Vec<u8>, limit: usize) -> Result<Vec<u8>, DecodeError> {
    let encoding = encoding.map(|e| e.trim().to_ascii_lowercase()).unwrap_or_default();
    let out = match encoding.as_str() {
        "" | "identity" | "utf-8" | "utf8" => body,
        "gzip" | "x-gzip" => read_capped(flate2::read::GzDecoder::new(&body[..]), limit, "gzip")?,
        // HTTP's "deflate" is zlib-wrapped; some clients send raw deflate. Accept both.
        "deflate" => match read_capped(flate2::read::ZlibDecoder::new(&body[..]), limit, "deflate") {
            Err(DecodeError::Corrupt(_)) => {
                read_capped(flate2::read::DeflateDecoder::new(&body[..]), limit, "deflate")?
            }
            other => other?,
        },
        "br" => read_capped(brotli_decompressor::Decompressor::new(&body[..], 64 * 1024), limit, "br")?,
        "zstd" => {
            let decoder =
                ruzstd::decoding::StreamingDecoder::new(&body[..]).map_err(|_| DecodeError::Corrupt("zstd"))?;
            read_capped(decoder, limit, "zstd")?
        }
        other => return Err(DecodeError::Unsupported(other.to_owned())),
    };
    if out.len() > limit {
        return Err(DecodeError::TooLarge { limit });
    }
    Ok(out)
}

/// The first `max` bytes a body decodes to (fewer when it is shorter): enough to read the
/// envelope header's line before anything else is inflated.
pub fn decode_prefix(encoding: Option<&str>, body: &[u8], max: usize) -> Result<Vec<u8>, DecodeError> {
    let encoding = encoding.map(|e| e.trim().to_ascii_lowercase()).unwrap_or_default();
    let take = |reader: &mut dyn Read, name: &'static str| -> Result<Vec<u8>, DecodeError> {
        let mut out = Vec::new();
        // A truncated stream is fine here: only its beginning is wanted.
        match reader.take(max as u64).read_to_end(&mut out) {
            Ok(_) => Ok(out),
            Err(_) if !out.is_empty() => Ok(out),
            Err(_) => Err(DecodeError::Corrupt(name)),
        }
    };
    match encoding.as_str() {
        "" | "identity" | "utf-8" | "utf8" => Ok(body[..body.len().min(max)].to_vec()),
        "gzip" | "x-gzip" => take(&mut flate2::read::GzDecoder::new(body), "gzip"),
        "deflate" => take(&mut flate2::read::ZlibDecoder::new(body), "deflate")
            .or_else(|_| take(&mut flate2::read::DeflateDecoder::new(body), "deflate")),
        "br" => take(&mut brotli_decompressor::Decompressor::new(body, 4096), "br"),
        "zstd" => {
            let mut decoder =
                ruzstd::decoding::StreamingDecoder::new(body).map_err(|_| DecodeError::Corrupt("zstd"))?;
            take(&mut decoder, "zstd")
        }
        other => Err(DecodeError::Unsupported(other.to_owned())),
    }
}

fn read_capped(reader: impl Read, limit: usize, name: &'static str) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    // Read one byte past the limit: if it arrives, the body is too large.
    reader.take(limit as u64 + 1).read_to_end(&mut out).map_err(|_| DecodeError::Corrupt(name))?;
    if out.len() > limit {
        return Err(DecodeError::TooLarge { limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn decodes_gzip() {
        assert_eq!(decode_body(Some("gzip"), gzip(b"hello"), 100).unwrap(), b"hello");
        assert_eq!(decode_body(Some("UTF-8"), b"plain".to_vec(), 100).unwrap(), b"plain");
    }

    #[test]
    fn stops_a_bomb_at_the_limit() {
        let bomb = gzip(&vec![0u8; 50 * 1024 * 1024]);
        assert!(bomb.len() < 100 * 1024, "the bomb is small: {}", bomb.len());
        assert_eq!(decode_body(Some("gzip"), bomb, 1024 * 1024), Err(DecodeError::TooLarge { limit: 1024 * 1024 }));
    }

    #[test]
    fn decodes_brotli_and_zstd_fixtures() {
        // Made with `brotli` and `zstd` command-line tools from "hello errata\n".
        let br = [0x0b, 0x06, 0x80, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x65, 0x72, 0x72, 0x61, 0x74, 0x61, 0x0a, 0x03];
        assert_eq!(decode_body(Some("br"), br.to_vec(), 100).unwrap(), b"hello errata\n");
        let zstd = [
            0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x0d, 0x69, 0x00, 0x00, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x65, 0x72, 0x72,
            0x61, 0x74, 0x61, 0x0a, 0xee, 0xf8, 0x5e, 0xec,
        ];
        assert_eq!(decode_body(Some("zstd"), zstd.to_vec(), 100).unwrap(), b"hello errata\n");
        assert_eq!(decode_body(Some("zstd"), zstd.to_vec(), 5), Err(DecodeError::TooLarge { limit: 5 }));
        assert_eq!(decode_body(Some("br"), b"\xff\xff".to_vec(), 100), Err(DecodeError::Corrupt("br")));
        assert_eq!(decode_body(Some("zstd"), b"nope".to_vec(), 100), Err(DecodeError::Corrupt("zstd")));
    }

    #[test]
    fn corrupt_and_unknown() {
        assert_eq!(decode_body(Some("gzip"), b"nope".to_vec(), 100), Err(DecodeError::Corrupt("gzip")));
        assert!(matches!(decode_body(Some("lzma"), vec![], 100), Err(DecodeError::Unsupported(_))));
        assert_eq!(decode_body(None, vec![0; 101], 100), Err(DecodeError::TooLarge { limit: 100 }));
    }
}
