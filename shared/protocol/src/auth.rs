//! Where an SDK puts its DSN public key: the `X-Sentry-Auth` header, the `Authorization`
//! header (same syntax), the `sentry_key` query parameter, or the envelope header's `dsn`.

use thiserror::Error;

/// The credentials an SDK presented with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentryAuth {
    /// The DSN's public key (the user part of the DSN URL).
    pub public_key: String,
    /// `sentry_client`, e.g. `sentry.python/2.75.0`, when given.
    pub client: Option<String>,
    /// `sentry_version`, when given.
    pub version: Option<String>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("missing authentication: send X-Sentry-Auth or ?sentry_key=")]
    Missing,
    #[error("malformed authentication header")]
    Malformed,
    #[error("the DSN in the envelope header is not a valid DSN")]
    BadDsn,
}

impl SentryAuth {
    /// Parses `Sentry sentry_key=abc, sentry_version=7, sentry_client=x/1.0`.
    /// The `Sentry ` prefix is optional (some clients omit it); `DSN ` prefixed values are
    /// not Sentry auth and are rejected.
    pub fn from_header(value: &str) -> Result<Self, AuthError> {
        let value = value.trim();
        let rest = match value.split_once(char::is_whitespace) {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("sentry") => rest,
            _ if value.contains("sentry_key") => value,
            _ => return Err(AuthError::Malformed),
        };
        let mut auth = SentryAuth { public_key: String::new(), client: None, version: None };
        for pair in rest.split(',') {
            let Some((k, v)) = pair.split_once('=') else { continue };
            let v = v.trim().to_owned();
            match k.trim() {
                "sentry_key" => auth.public_key = v,
                "sentry_client" => auth.client = Some(v),
                "sentry_version" => auth.version = Some(v),
                _ => {}
            }
        }
        if auth.public_key.is_empty() {
            return Err(AuthError::Malformed);
        }
        Ok(auth)
    }

    /// Reads `sentry_key` (and `sentry_client`, `sentry_version`) from a raw query string.
    pub fn from_query(query: &str) -> Option<Self> {
        let mut auth = SentryAuth { public_key: String::new(), client: None, version: None };
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_decode(v);
            match k {
                "sentry_key" => auth.public_key = v,
                "sentry_client" => auth.client = Some(v),
                "sentry_version" => auth.version = Some(v),
                _ => {}
            }
        }
        (!auth.public_key.is_empty()).then_some(auth)
    }

    /// Takes the public key out of a DSN such as `https://KEY@host/path/42`.
    /// Returns the key and the project id the DSN names.
    pub fn from_dsn(dsn: &str) -> Result<(Self, String), AuthError> {
        let (_, rest) = dsn.split_once("://").ok_or(AuthError::BadDsn)?;
        let (userinfo, hostpath) = rest.split_once('@').ok_or(AuthError::BadDsn)?;
        let public_key = userinfo.split(':').next().unwrap_or_default().to_owned();
        let project = hostpath.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
        if public_key.is_empty() || project.is_empty() || !hostpath.contains('/') {
            return Err(AuthError::BadDsn);
        }
        Ok((SentryAuth { public_key, client: None, version: None }, project.to_owned()))
    }
}

/// Decodes `%XX` escapes and `+` (query-string form encoding); invalid escapes stay as they are.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_python_sdk_header() {
        let a =
            SentryAuth::from_header("Sentry sentry_key=abc123, sentry_version=7, sentry_client=sentry.python/2.75.0")
                .unwrap();
        assert_eq!(a.public_key, "abc123");
        assert_eq!(a.client.as_deref(), Some("sentry.python/2.75.0"));
        assert_eq!(a.version.as_deref(), Some("7"));
    }

    #[test]
    fn rejects_header_without_key() {
        assert_eq!(SentryAuth::from_header("Sentry sentry_version=7"), Err(AuthError::Malformed));
        assert_eq!(SentryAuth::from_header("Bearer abc"), Err(AuthError::Malformed));
    }

    #[test]
    fn parses_query_string() {
        let a = SentryAuth::from_query("sentry_version=7&sentry_key=k%2D1&sentry_client=node").unwrap();
        assert_eq!(a.public_key, "k-1");
        assert!(SentryAuth::from_query("sentry_version=7").is_none());
    }

    #[test]
    fn parses_dsn_with_path() {
        let (a, project) = SentryAuth::from_dsn("http://pub@localhost:4566/_aws/execute-api/x/local/42").unwrap();
        assert_eq!(a.public_key, "pub");
        assert_eq!(project, "42");
        assert_eq!(SentryAuth::from_dsn("not a dsn"), Err(AuthError::BadDsn));
    }
}
