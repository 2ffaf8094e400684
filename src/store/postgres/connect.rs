//! Connecting to PostgreSQL: the URL as libpq spells it (`sslmode`,
//! `sslrootcert`, `host=` naming a socket directory), the password from the
//! URL or `$PGPASSWORD`, and TLS through rustls. Nothing here ever prints
//! the password: messages name the host and port only.

use crate::error::{Error, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;

/// Does `--db` name a PostgreSQL database rather than a SQLite file?
pub(crate) fn is_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// What `sslmode` asks of the server's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verify {
    /// No TLS at all.
    Disable,
    /// Encrypt (or, for `prefer`, try to) without checking who answers.
    Nothing,
    /// The chain up to `sslrootcert`, whatever the name (`verify-ca`).
    Chain,
    /// The chain and the host name (`verify-full`).
    Full,
}

/// A parsed `--db` URL: the driver's configuration, how TLS is checked, and
/// where it points (for messages, without the password).
pub(super) struct Target {
    pub config: postgres::Config,
    verify: Verify,
    prefer: bool,
    root_certificate: Option<String>,
    /// `HOST:PORT` (or the socket directory) as messages show it.
    pub shown: String,
}

/// Replaces the password of a URL with `***` (for `init`'s output).
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        _ => url.to_string(),
    }
}

/// Decodes `%XX` escapes of a URL query value.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[index], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses the URL: the TLS parameters are taken out (the driver knows only
/// disable/prefer/require), the rest is the driver's.
pub(super) fn parse(url: &str) -> Result<Target> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut kept = Vec::new();
    let (mut mode, mut root_certificate) = ("prefer".to_string(), None);
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => mode = percent_decode(value),
            "sslrootcert" => root_certificate = Some(percent_decode(value)),
            _ => kept.push(pair),
        }
    }
    let (verify, prefer) = match mode.as_str() {
        "disable" => (Verify::Disable, false),
        "allow" | "prefer" => (Verify::Nothing, true),
        "require" => (Verify::Nothing, false),
        "verify-ca" => (Verify::Chain, false),
        "verify-full" => (Verify::Full, false),
        other => {
            return Err(Error::usage(format!(
                "--db: sslmode={} is not one of disable, allow, prefer, require, verify-ca, verify-full",
                crate::domain::types::shorten(other)
            )))
        }
    };
    if matches!(verify, Verify::Chain | Verify::Full) && root_certificate.is_none() {
        return Err(Error::usage(format!(
            "--db: sslmode={mode} needs sslrootcert=FILE, the CA that signed the server's certificate"
        )));
    }
    let driver_url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let mut config: postgres::Config = driver_url.parse().map_err(|error| {
        Error::usage(format!(
            "--db: {} is not a PostgreSQL URL: {error}",
            redact(base)
        ))
    })?;
    fill_defaults(&mut config);
    let shown = shown_target(&config);
    Ok(Target {
        config,
        verify,
        prefer,
        root_certificate,
        shown,
    })
}

/// What libpq would take from the environment: the password, the user.
fn fill_defaults(config: &mut postgres::Config) {
    if config.get_password().is_none() {
        if let Ok(password) = std::env::var("PGPASSWORD") {
            config.password(password);
        }
    }
    if config.get_user().is_none() {
        let user = std::env::var("PGUSER")
            .or_else(|_| std::env::var("USER"))
            .unwrap_or_else(|_| "postgres".to_string());
        config.user(&user);
    }
    if config.get_hosts().is_empty() {
        config.host("localhost");
    }
    config.application_name("snledger");
    config.connect_timeout(std::time::Duration::from_secs(CONNECT_TIMEOUT_SECONDS));
}

/// How long a connection attempt may take before it is a storage error.
const CONNECT_TIMEOUT_SECONDS: u64 = 10;

fn shown_target(config: &postgres::Config) -> String {
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(name)) => name.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_string(),
    };
    format!("{host}:{port}")
}

impl Target {
    /// Connects, with TLS as `sslmode` asks.
    pub(super) fn connect(&self) -> Result<postgres::Client> {
        let mut config = self.config.clone();
        let connected = if self.verify == Verify::Disable {
            config.ssl_mode(postgres::config::SslMode::Disable);
            config.connect(postgres::NoTls)
        } else {
            config.ssl_mode(if self.prefer {
                postgres::config::SslMode::Prefer
            } else {
                postgres::config::SslMode::Require
            });
            config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(
                self.tls_config()?,
            ))
        };
        connected.map_err(|error| {
            Error::storage(format!(
                "cannot connect to PostgreSQL at {} as {}: {}",
                self.shown,
                self.config.get_user().unwrap_or(""),
                super::describe(&error)
            ))
        })
    }

    fn tls_config(&self) -> Result<ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|error| Error::storage(format!("TLS: {error}")))?;
        let config = match self.verify {
            Verify::Disable | Verify::Nothing => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
                .with_no_client_auth(),
            Verify::Chain | Verify::Full => {
                let roots = self.root_store()?;
                let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .map_err(|error| Error::storage(format!("TLS: {error}")))?;
                let verifier = Arc::new(ChainVerifier {
                    webpki,
                    check_name: self.verify == Verify::Full,
                });
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(verifier)
                    .with_no_client_auth()
            }
        };
        Ok(config)
    }

    /// The CA certificates of `sslrootcert` (PEM).
    fn root_store(&self) -> Result<rustls::RootCertStore> {
        use rustls::pki_types::pem::PemObject;
        let path = self.root_certificate.clone().unwrap_or_default();
        let cannot = |why: String| Error::storage(format!("sslrootcert {path}: {why}"));
        let mut roots = rustls::RootCertStore::empty();
        let certificates =
            CertificateDer::pem_file_iter(&path).map_err(|error| cannot(error.to_string()))?;
        for certificate in certificates {
            let certificate = certificate.map_err(|error| cannot(error.to_string()))?;
            roots
                .add(certificate)
                .map_err(|error| cannot(error.to_string()))?;
        }
        if roots.is_empty() {
            return Err(cannot("no certificate in the file".to_string()));
        }
        Ok(roots)
    }
}

/// `sslmode=require`/`prefer`: encryption without checking the certificate
/// (libpq's meaning of these modes); the handshake's signatures are still
/// checked.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca` and `verify-full`: the chain to `sslrootcert`, and for
/// `verify-full` the host name too.
#[derive(Debug)]
struct ChainVerifier {
    webpki: Arc<rustls::client::WebPkiServerVerifier>,
    check_name: bool,
}

impl ServerCertVerifier for ChainVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        use rustls::CertificateError::{NotValidForName, NotValidForNameContext};
        match self
            .webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                NotValidForName | NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki
            .verify_tls12_signature(message, certificate, signature)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki
            .verify_tls13_signature(message, certificate, signature)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_the_password_only() {
        assert_eq!(
            redact("postgres://alice:s3cret@db:5432/ledger?sslmode=require"),
            "postgres://alice:***@db:5432/ledger?sslmode=require"
        );
        assert_eq!(
            redact("postgres://alice@db/ledger"),
            "postgres://alice@db/ledger"
        );
    }

    #[test]
    fn tls_parameters_are_taken_out_of_the_url() {
        let target = parse("postgres://a@h:6000/d?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem")
            .expect("parses");
        assert_eq!(target.verify, Verify::Full);
        assert_eq!(target.root_certificate.as_deref(), Some("/tmp/ca.pem"));
        assert_eq!(target.shown, "h:6000");
        assert!(parse("postgres://a@h/d?sslmode=verify-full").is_err());
        assert!(parse("postgres://a@h/d?sslmode=sometimes").is_err());
    }
}
