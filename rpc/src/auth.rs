//! JWT authentication of private methods, the scheme of Ethereum's engine API: a 256-bit
//! secret shared through a file, HS256 tokens whose `iat` must be within a minute of the
//! node's clock. A token is short-lived by construction, so a leaked one is worth little and
//! there is nothing to revoke.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// How far `iat` may be from the node's clock, either way, in seconds.
pub const MAX_IAT_SKEW_SECS: u64 = 60;

/// Why a secret file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Reading or creating the file failed.
    #[error("JWT secret {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file does not hold 64 hex digits (an optional `0x` and surrounding whitespace
    /// aside).
    #[error("JWT secret {path}: expected 64 hex digits (32 bytes)")]
    Malformed {
        /// The file.
        path: PathBuf,
    },
}

/// Why a bearer token was refused. The message is sent to the client: it says what is wrong
/// without echoing the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The `Authorization` header is not `Bearer <token>`.
    #[error("the Authorization header must be `Bearer <JWT>`")]
    NotBearer,
    /// The token is not a well-formed JWT with an `iat` claim.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// Anything but HS256, including `none`.
    #[error("unsupported token algorithm (only HS256 is accepted)")]
    UnsupportedAlgorithm,
    /// The signature does not match the node's secret.
    #[error("invalid token signature")]
    BadSignature,
    /// `exp` has passed.
    #[error("token expired")]
    Expired,
    /// `iat` is more than [`MAX_IAT_SKEW_SECS`] from the node's clock.
    #[error("token iat is {skew} s away from the node's clock (at most {MAX_IAT_SKEW_SECS} s)")]
    StaleIat {
        /// Seconds between `iat` and now.
        skew: u64,
    },
}

/// The claims of a token: `iat` is required, `exp` optional.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Claims {
    iat: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exp: Option<u64>,
}

/// Tokens whose signature has been verified, with their claims: a client sends the same
/// token for up to two minutes, and re-verifying the HMAC and re-parsing the JSON on every
/// request cost a fifth of the throughput. The time rules are still applied on every request.
type Verified = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<Box<str>, Claims>>>;

/// Most verified tokens remembered (the map is cleared when full).
const VERIFIED_CAP: usize = 1024;

/// The shared secret.
#[derive(Clone)]
pub struct JwtSecret {
    bytes: [u8; 32],
    decoding: DecodingKey,
    verified: Verified,
}

impl std::fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtSecret(..)")
    }
}

impl JwtSecret {
    /// A secret from its bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> JwtSecret {
        JwtSecret {
            decoding: DecodingKey::from_secret(&bytes)
                .expect("any 32-byte secret is a valid HMAC key"),
            bytes,
            verified: Verified::default(),
        }
    }

    /// Reads the secret at `path`.
    ///
    /// # Errors
    /// [`SecretError`] if the file cannot be read or is not 64 hex digits.
    pub fn read(path: &Path) -> Result<JwtSecret, SecretError> {
        let text = std::fs::read_to_string(path).map_err(|source| SecretError::Io {
            path: path.to_owned(),
            source,
        })?;
        let text = text.trim();
        let text = text.strip_prefix("0x").unwrap_or(text);
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| SecretError::Malformed {
            path: path.to_owned(),
        })?;
        Ok(JwtSecret::from_bytes(bytes))
    }

    /// Reads the secret at `path`, creating it (mode 0600, parent directories as needed) with
    /// 32 random bytes if there is none.
    ///
    /// # Errors
    /// [`SecretError`] if the file cannot be created or read back.
    pub fn load_or_create(path: &Path) -> Result<JwtSecret, SecretError> {
        let io = |source| SecretError::Io {
            path: path.to_owned(),
            source,
        };
        if !path.exists() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| io(std::io::Error::other(e)))?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(path) {
                Ok(mut file) => {
                    writeln!(file, "{}", hex::encode(bytes)).map_err(io)?;
                    file.sync_all().map_err(io)?;
                    tracing::info!(path = %path.display(), "created the JWT secret");
                }
                // Another process created it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io(e)),
            }
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).map_err(io)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    mode = format!("{:o}", mode & 0o777),
                    "the JWT secret is readable by other users; chmod 600 it"
                );
            }
        }
        JwtSecret::read(path)
    }

    /// A fresh token issued now, without expiry (the `iat` window bounds its life).
    pub fn token(&self) -> String {
        self.token_with(unix_now(), None)
    }

    /// A token with the given claims (tests make stale and expired ones with it).
    pub fn token_with(&self, iat: u64, exp: Option<u64>) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &Claims { iat, exp },
            &EncodingKey::from_secret(&self.bytes).expect("any 32-byte secret is a valid HMAC key"),
        )
        .expect("HS256 encoding of two integers cannot fail")
    }

    /// Checks an `Authorization` header value.
    ///
    /// # Errors
    /// Why it is refused.
    pub fn check_header(&self, header: &[u8]) -> Result<(), AuthError> {
        let value = std::str::from_utf8(header).map_err(|_| AuthError::NotBearer)?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or(AuthError::NotBearer)?;
        self.check_token(token.trim(), unix_now())
    }

    /// Checks `token` against the secret at time `now` (Unix seconds).
    ///
    /// # Errors
    /// Why it is refused.
    pub fn check_token(&self, token: &str, now: u64) -> Result<(), AuthError> {
        let known = self
            .verified
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(token)
            .copied();
        let claims = match known {
            Some(claims) => claims,
            None => {
                let claims = self.verify(token)?;
                let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
                if verified.len() >= VERIFIED_CAP {
                    verified.clear();
                }
                verified.insert(token.into(), claims);
                claims
            }
        };
        if claims.exp.is_some_and(|exp| exp <= now) {
            return Err(AuthError::Expired);
        }
        let skew = claims.iat.abs_diff(now);
        if skew > MAX_IAT_SKEW_SECS {
            return Err(AuthError::StaleIat { skew });
        }
        Ok(())
    }

    /// Checks the algorithm and signature of `token` and returns its claims.
    fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        use jsonwebtoken::errors::ErrorKind;
        // Only HS256: a header naming `none`, RS256 or anything else fails here.
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| AuthError::UnsupportedAlgorithm)?;
        if header.alg != Algorithm::HS256 {
            return Err(AuthError::UnsupportedAlgorithm);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        // `exp` is optional and `iat` is checked below, with reasons of our own.
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).map_err(
            |e| match e.kind() {
                ErrorKind::InvalidSignature => AuthError::BadSignature,
                ErrorKind::InvalidAlgorithm => AuthError::UnsupportedAlgorithm,
                _ => AuthError::Malformed(e.to_string()),
            },
        )?;
        Ok(data.claims)
    }
}

/// A client-side tower layer that signs every HTTP request with a fresh token, so long-lived
/// clients (the CLI, tests, load tools) never send a token older than its `iat` window.
#[derive(Debug, Clone)]
pub struct BearerLayer {
    secret: Option<JwtSecret>,
}

impl BearerLayer {
    /// Signs with `secret`; `None` sends no header.
    pub fn new(secret: Option<JwtSecret>) -> BearerLayer {
        BearerLayer { secret }
    }
}

impl<S> tower::Layer<S> for BearerLayer {
    type Service = Bearer<S>;

    fn layer(&self, inner: S) -> Bearer<S> {
        Bearer {
            inner,
            secret: self.secret.clone(),
        }
    }
}

/// The service of [`BearerLayer`].
#[derive(Debug, Clone)]
pub struct Bearer<S> {
    inner: S,
    secret: Option<JwtSecret>,
}

impl<S, B> tower::Service<http::Request<B>> for Bearer<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        if let Some(secret) = &self.secret
            && let Ok(value) = http::HeaderValue::from_str(&format!("Bearer {}", secret.token()))
        {
            request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, value);
        }
        self.inner.call(request)
    }
}

/// Seconds since the Unix epoch by the system clock (the protocol of `iat` is wall-clock).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn secret(b: u8) -> JwtSecret {
        JwtSecret::from_bytes([b; 32])
    }

    #[test]
    fn accepts_fresh_tokens_and_refuses_each_defect_with_its_reason() {
        let s = secret(7);
        let now = unix_now();
        assert_eq!(s.check_token(&s.token(), now), Ok(()));
        assert_eq!(s.check_token(&s.token_with(now - 59, None), now), Ok(()));
        assert_eq!(
            s.check_token(&s.token_with(now, Some(now + 10)), now),
            Ok(())
        );
        assert_eq!(
            s.check_token(&secret(8).token(), now),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            s.check_token(&s.token_with(now, Some(now - 1)), now),
            Err(AuthError::Expired)
        );
        assert_eq!(
            s.check_token(&s.token_with(now - 61, None), now),
            Err(AuthError::StaleIat { skew: 61 })
        );
        assert_eq!(
            s.check_token(&s.token_with(now + 3600, None), now),
            Err(AuthError::StaleIat { skew: 3600 })
        );
        // `alg: none` with an empty signature, the classic downgrade.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(format!(r#"{{"iat":{now}}}"#))
        );
        assert_eq!(
            s.check_token(&none, now),
            Err(AuthError::UnsupportedAlgorithm)
        );
        assert!(matches!(
            s.check_token("not.a.jwt", now),
            Err(AuthError::UnsupportedAlgorithm | AuthError::Malformed(_))
        ));
        assert_eq!(s.check_header(b"Basic abc"), Err(AuthError::NotBearer));
        let header = format!("Bearer {}", s.token());
        assert_eq!(s.check_header(header.as_bytes()), Ok(()));
    }

    #[test]
    fn a_remembered_token_still_expires() {
        let s = secret(3);
        let now = unix_now();
        let token = s.token_with(now, Some(now + 5));
        assert_eq!(s.check_token(&token, now), Ok(()));
        assert_eq!(s.check_token(&token, now + 5), Err(AuthError::Expired));
        let token = s.token_with(now, None);
        assert_eq!(s.check_token(&token, now), Ok(()));
        assert_eq!(
            s.check_token(&token, now + 61),
            Err(AuthError::StaleIat { skew: 61 })
        );
        // A forged variant of a remembered token is verified on its own.
        let forged = format!("{}x", token);
        assert!(s.check_token(&forged, now).is_err());
    }

    #[test]
    fn a_missing_iat_is_malformed() {
        let s = secret(1);
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"sub": "x"}),
            &EncodingKey::from_secret(&[1; 32]).unwrap(),
        )
        .unwrap();
        assert!(matches!(
            s.check_token(&token, unix_now()),
            Err(AuthError::Malformed(_))
        ));
    }

    #[test]
    fn the_secret_file_is_created_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("jwt.hex");
        let a = JwtSecret::load_or_create(&path).unwrap();
        let b = JwtSecret::load_or_create(&path).unwrap();
        assert_eq!(a.bytes, b.bytes, "created once, then read");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "zz").unwrap();
        assert!(matches!(
            JwtSecret::read(&path),
            Err(SecretError::Malformed { .. })
        ));
    }
}
