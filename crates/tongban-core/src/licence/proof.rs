//! Data Integrity proofs over RFC 8785 canonical JSON.
//!
//! - `eddsa-jcs-2022` (W3C Data Integrity EdDSA Cryptosuites v1.0): Ed25519 over
//!   SHA-256(canonical proof config) ‖ SHA-256(canonical document).
//! - `sm2-sm3-jcs-tongban-2026` (project-defined, for the national algorithms): the same
//!   construction with SM3 in place of SHA-256, signed with SM2 (GM/T 0003, default
//!   distinguishing identifier), signature as r ‖ s (64 bytes), multibase base58btc.

use super::jcs::{canonicalize, JcsError};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub const EDDSA_JCS_2022: &str = "eddsa-jcs-2022";
pub const SM2_SM3_JCS: &str = "sm2-sm3-jcs-tongban-2026";
/// GM/T 0009 default user identity for SM2 signatures.
pub const SM2_DISTID: &str = "1234567812345678";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("{0}")]
    Jcs(#[from] JcsError),
    #[error("document is not a JSON object")]
    NotObject,
    #[error("proof is malformed: {0}")]
    Malformed(String),
    #[error("signature does not verify")]
    BadSignature,
}

/// Multibase base58btc ('z').
pub fn multibase(bytes: &[u8]) -> String {
    format!("z{}", bs58::encode(bytes).into_string())
}

pub fn from_multibase(s: &str) -> Result<Vec<u8>, ProofError> {
    let body = s.strip_prefix('z').ok_or_else(|| {
        ProofError::Malformed("proofValue must be multibase base58btc (z…)".into())
    })?;
    bs58::decode(body)
        .into_vec()
        .map_err(|e| ProofError::Malformed(e.to_string()))
}

/// Ed25519 public key as a Multikey (0xed01 prefix).
pub fn ed25519_multikey(public: &[u8; 32]) -> String {
    let mut b = vec![0xed, 0x01];
    b.extend_from_slice(public);
    multibase(&b)
}

pub fn ed25519_from_multikey(s: &str) -> Result<[u8; 32], ProofError> {
    let b = from_multibase(s)?;
    if b.len() != 34 || b[0] != 0xed || b[1] != 0x01 {
        return Err(ProofError::Malformed(
            "not an Ed25519 Multikey (0xed01)".into(),
        ));
    }
    Ok(b[2..].try_into().expect("32 bytes"))
}

/// The two canonical strings a proof covers: (proof config, document without proof).
pub fn canonical_parts(
    document: &Value,
    proof_options: &Value,
) -> Result<(String, String), ProofError> {
    let mut doc = document.as_object().ok_or(ProofError::NotObject)?.clone();
    doc.remove("proof");
    let mut config: Map<String, Value> = proof_options
        .as_object()
        .ok_or(ProofError::NotObject)?
        .clone();
    config.remove("proofValue");
    if let Some(ctx) = doc.get("@context") {
        config.insert("@context".into(), ctx.clone());
    }
    Ok((
        canonicalize(&Value::Object(config))?,
        canonicalize(&Value::Object(doc))?,
    ))
}

fn sha256_hash_data(config: &str, doc: &str) -> Vec<u8> {
    let mut out = Sha256::digest(config.as_bytes()).to_vec();
    out.extend_from_slice(&Sha256::digest(doc.as_bytes()));
    out
}

fn sm3_hash_data(config: &str, doc: &str) -> Vec<u8> {
    use sm3::Digest as _;
    let mut out = sm3::Sm3::digest(config.as_bytes()).to_vec();
    out.extend_from_slice(&sm3::Sm3::digest(doc.as_bytes()));
    out
}

/// Creates an `eddsa-jcs-2022` proof: returns the proof object with its proofValue.
pub fn sign_eddsa(
    document: &Value,
    proof_options: &Value,
    key: &ed25519_dalek::SigningKey,
) -> Result<Value, ProofError> {
    use ed25519_dalek::Signer;
    let (config, doc) = canonical_parts(document, proof_options)?;
    let sig = key.sign(&sha256_hash_data(&config, &doc));
    let mut proof = proof_options
        .as_object()
        .ok_or(ProofError::NotObject)?
        .clone();
    proof.insert(
        "proofValue".into(),
        Value::String(multibase(&sig.to_bytes())),
    );
    Ok(Value::Object(proof))
}

pub fn verify_eddsa(document: &Value, proof: &Value, public: &[u8; 32]) -> Result<(), ProofError> {
    use ed25519_dalek::Verifier;
    if proof.get("cryptosuite").and_then(Value::as_str) != Some(EDDSA_JCS_2022) {
        return Err(ProofError::Malformed(
            "cryptosuite is not eddsa-jcs-2022".into(),
        ));
    }
    let value = proof
        .get("proofValue")
        .and_then(Value::as_str)
        .ok_or_else(|| ProofError::Malformed("no proofValue".into()))?;
    let sig_bytes: [u8; 64] = from_multibase(value)?
        .try_into()
        .map_err(|_| ProofError::Malformed("signature must be 64 bytes".into()))?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(public)
        .map_err(|e| ProofError::Malformed(e.to_string()))?;
    let (config, doc) = canonical_parts(document, proof)?;
    key.verify(
        &sha256_hash_data(&config, &doc),
        &ed25519_dalek::Signature::from_bytes(&sig_bytes),
    )
    .map_err(|_| ProofError::BadSignature)
}

/// Creates the SM2/SM3 proof over the same canonical bytes.
pub fn sign_sm2(
    document: &Value,
    proof_options: &Value,
    secret: &[u8; 32],
) -> Result<Value, ProofError> {
    use sm2::dsa::signature::Signer;
    let key = sm2_signing_key(secret)?;
    let (config, doc) = canonical_parts(document, proof_options)?;
    let sig: sm2::dsa::Signature = key.sign(&sm3_hash_data(&config, &doc));
    let mut proof = proof_options
        .as_object()
        .ok_or(ProofError::NotObject)?
        .clone();
    proof.insert(
        "proofValue".into(),
        Value::String(multibase(&sig.to_bytes())),
    );
    Ok(Value::Object(proof))
}

/// The SM2 signing key for `secret`. Making one derives its public key (a full scalar
/// multiplication, as costly as the signature), so the few keys in force are kept.
fn sm2_signing_key(secret: &[u8; 32]) -> Result<sm2::dsa::SigningKey, ProofError> {
    static KEYS: std::sync::Mutex<Vec<([u8; 32], sm2::dsa::SigningKey)>> =
        std::sync::Mutex::new(Vec::new());
    if let Some((_, k)) = KEYS
        .lock()
        .expect("sm2 keys")
        .iter()
        .find(|(s, _)| s == secret)
    {
        return Ok(k.clone());
    }
    let key = sm2::dsa::SigningKey::from_bytes(SM2_DISTID, secret.into())
        .map_err(|e| ProofError::Malformed(e.to_string()))?;
    let mut keys = KEYS.lock().expect("sm2 keys");
    if keys.len() >= 4 {
        keys.remove(0);
    }
    keys.push((*secret, key.clone()));
    Ok(key)
}

/// SEC1 uncompressed public key (65 bytes) of an SM2 secret key.
pub fn sm2_public(secret: &[u8; 32]) -> Result<Vec<u8>, ProofError> {
    let key = sm2::dsa::SigningKey::from_bytes(SM2_DISTID, secret.into())
        .map_err(|e| ProofError::Malformed(e.to_string()))?;
    Ok(key.verifying_key().to_sec1_bytes().to_vec())
}

pub fn verify_sm2(document: &Value, proof: &Value, public_sec1: &[u8]) -> Result<(), ProofError> {
    use sm2::dsa::signature::Verifier;
    if proof.get("cryptosuite").and_then(Value::as_str) != Some(SM2_SM3_JCS) {
        return Err(ProofError::Malformed(format!(
            "cryptosuite is not {SM2_SM3_JCS}"
        )));
    }
    let value = proof
        .get("proofValue")
        .and_then(Value::as_str)
        .ok_or_else(|| ProofError::Malformed("no proofValue".into()))?;
    let bytes: [u8; 64] = from_multibase(value)?
        .try_into()
        .map_err(|_| ProofError::Malformed("signature must be 64 bytes".into()))?;
    let sig = sm2::dsa::Signature::from_bytes(&bytes)
        .map_err(|e| ProofError::Malformed(e.to_string()))?;
    let key = sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DISTID, public_sec1)
        .map_err(|e| ProofError::Malformed(e.to_string()))?;
    let (config, doc) = canonical_parts(document, proof)?;
    key.verify(&sm3_hash_data(&config, &doc), &sig)
        .map_err(|_| ProofError::BadSignature)
}
