//! The W3C Data Integrity EdDSA Cryptosuites v1.0 test vectors for eddsa-jcs-2022, and the
//! SM2 proof over the same canonical bytes.

use serde_json::Value;
use tongban_core::licence::proof::*;

fn fixture() -> Value {
    serde_json::from_str(include_str!("vectors/eddsa-jcs-2022.json")).unwrap()
}

fn secret_seed(v: &Value) -> [u8; 32] {
    let b = from_multibase(v["secretKeyMultibase"].as_str().unwrap()).unwrap();
    assert_eq!(&b[..2], &[0x80, 0x26], "Ed25519 secret Multikey prefix");
    b[2..].try_into().unwrap()
}

#[test]
fn canonical_forms_and_hashes_match_the_specification() {
    let v = fixture();
    let (config, doc) = canonical_parts(&v["unsecuredDocument"], &v["proofOptions"]).unwrap();
    assert_eq!(config, v["canonicalProofConfig"].as_str().unwrap());
    assert_eq!(doc, v["canonicalDocument"].as_str().unwrap());
    use sha2::Digest;
    assert_eq!(
        hex::encode(sha2::Sha256::digest(config.as_bytes())),
        v["proofConfigHashHex"].as_str().unwrap()
    );
    assert_eq!(
        hex::encode(sha2::Sha256::digest(doc.as_bytes())),
        v["documentHashHex"].as_str().unwrap()
    );
}

#[test]
fn signing_reproduces_the_published_proof_value() {
    let v = fixture();
    let key = ed25519_dalek::SigningKey::from_bytes(&secret_seed(&v));
    assert_eq!(
        ed25519_multikey(&key.verifying_key().to_bytes()),
        v["publicKeyMultibase"].as_str().unwrap()
    );
    let proof = sign_eddsa(&v["unsecuredDocument"], &v["proofOptions"], &key).unwrap();
    assert_eq!(proof["proofValue"], v["proofValue"]);
    assert_eq!(proof, v["signedDocument"]["proof"]);
}

#[test]
fn the_published_signed_credential_verifies_and_tampering_does_not() {
    let v = fixture();
    let public = ed25519_from_multikey(v["publicKeyMultibase"].as_str().unwrap()).unwrap();
    let signed = &v["signedDocument"];
    verify_eddsa(signed, &signed["proof"], &public).unwrap();
    let mut changed = signed.clone();
    changed["credentialSubject"]["alumniOf"] = "Another School".into();
    assert_eq!(
        verify_eddsa(&changed, &changed["proof"], &public),
        Err(ProofError::BadSignature)
    );
    let mut bad_proof = signed.clone();
    bad_proof["proof"]["created"] = "2024-01-01T00:00:00Z".into();
    assert_eq!(
        verify_eddsa(&bad_proof, &bad_proof["proof"], &public),
        Err(ProofError::BadSignature)
    );
    let other = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])
        .verifying_key()
        .to_bytes();
    assert_eq!(
        verify_eddsa(signed, &signed["proof"], &other),
        Err(ProofError::BadSignature)
    );
}

#[test]
fn sm2_proof_over_the_same_canonical_bytes() {
    let v = fixture();
    let secret = [0x42u8; 32];
    let public = sm2_public(&secret).unwrap();
    assert_eq!(public.len(), 65);
    let mut options = v["proofOptions"].clone();
    options["cryptosuite"] = SM2_SM3_JCS.into();
    let proof = sign_sm2(&v["unsecuredDocument"], &options, &secret).unwrap();
    verify_sm2(&v["unsecuredDocument"], &proof, &public).unwrap();
    let mut changed = v["unsecuredDocument"].clone();
    changed["name"] = "Forged".into();
    assert_eq!(
        verify_sm2(&changed, &proof, &public),
        Err(ProofError::BadSignature)
    );
    let other = sm2_public(&[0x43u8; 32]).unwrap();
    assert_eq!(
        verify_sm2(&v["unsecuredDocument"], &proof, &other),
        Err(ProofError::BadSignature)
    );
}
