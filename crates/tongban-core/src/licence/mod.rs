//! Electronic licences (电子证照): identifiers (GB/T 36904 style), W3C Verifiable
//! Credentials secured with Data Integrity proofs — `eddsa-jcs-2022` and a national-
//! algorithm proof (SM2 over SM3) — and the Bitstring Status List for revocation.

pub mod font;
pub mod id;
pub mod jcs;
pub mod pdf;
pub mod proof;
pub mod state;
pub mod status;
pub mod vc;
