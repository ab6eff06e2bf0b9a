//! TLS of the HTTP client: rustls with ring, server certificates checked by
//! the platform's verifier (rustls-platform-verifier, what reqwest
//! would use), created on the first TLS handshake instead of with the client.
//!
//! On Linux the platform verifier reads every system root certificate when
//! it is created (the bundle and each file of `/etc/ssl/certs`: ~3 ms here).
//! Built with the client, that was paid by the first call of every process,
//! the cold start of a cloud function, even by a cloud call over plain HTTP
//! that never makes a handshake; and where the roots could not be read
//! (a bare container, a wrong `SSL_CERT_FILE`) no client could be built, so
//! even those plain-HTTP calls failed. Now only a TLS handshake needs them,
//! and one that cannot have them fails with the reason.

use std::sync::{Arc, LazyLock, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_platform_verifier::Verifier;

/// The one verifier of the process, shared by every client (the cloud
/// call's, the HTTPS modes', each proxy's): the roots are read once.
static VERIFIER: LazyLock<Arc<LazyVerifier>> = LazyLock::new(|| {
    Arc::new(LazyVerifier::new(Arc::new(
        rustls::crypto::ring::default_provider(),
    )))
});

/// The client configuration reqwest would build (TLS 1.2 and 1.3,
/// ALPN `http/1.1`, SNI on, no client certificate), with the shared verifier
/// created on first use.
pub fn client_config() -> Result<rustls::ClientConfig, String> {
    let verifier = VERIFIER.clone();
    let mut config = rustls::ClientConfig::builder_with_provider(verifier.provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        // "dangerous" is rustls's name for any verifier of one's own; this
        // one is the platform's, only created later.
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The platform verifier, created (and the system roots read) on the first
/// handshake; a failure to create it fails that handshake and every later
/// one with the same error.
#[derive(Debug)]
struct LazyVerifier {
    provider: Arc<CryptoProvider>,
    verifier: OnceLock<Result<Verifier, rustls::Error>>,
}

impl LazyVerifier {
    fn new(provider: Arc<CryptoProvider>) -> Self {
        LazyVerifier {
            provider,
            verifier: OnceLock::new(),
        }
    }

    fn get(&self) -> Result<&Verifier, rustls::Error> {
        self.verifier
            .get_or_init(|| {
                Verifier::new(self.provider.clone()).map_err(|e| {
                    rustls::Error::General(format!(
                        "the system's root certificates could not be loaded: {e}"
                    ))
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.get()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.get()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.get()?.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        match self.get() {
            Ok(v) => v.supported_verify_schemes(),
            // The handshake fails at the certificate anyway.
            Err(_) => self
                .provider
                .signature_verification_algorithms
                .supported_schemes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verifier_is_created_on_first_use_only() {
        let lazy = LazyVerifier::new(Arc::new(rustls::crypto::ring::default_provider()));
        assert!(lazy.verifier.get().is_none());
        let config = client_config().expect("config");
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        // Asking for the schemes (the first thing a handshake does) creates it.
        assert!(!lazy.supported_verify_schemes().is_empty());
        assert!(lazy.verifier.get().is_some());
    }
}
