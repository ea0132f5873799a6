//! The case ledger's own use cases: signing a checkpoint and verifying everything.

use crate::error::Error;
use crate::App;
use tongban_store::ledger::{Checkpoint, LedgerReport};

/// Signs a checkpoint of the ledger as it is now.
pub async fn checkpoint(app: &App) -> Result<Checkpoint, Error> {
    Ok(app.store.checkpoint(app.now()).await?)
}

/// [`verify`], also against checkpoints exported earlier (a truncated tail is caught even
/// when the stored checkpoints went with it).
pub async fn verify_with(app: &App, external: &[Checkpoint]) -> Result<LedgerReport, Error> {
    Ok(app.store.verify_ledger_with(external).await?)
}

/// [`verify_with`] for one partition of the ledger: its sequence and hash chain and its
/// head in every signed checkpoint.
pub async fn verify_partition(
    app: &App,
    partition: u32,
    external: &[Checkpoint],
) -> Result<LedgerReport, Error> {
    Ok(app
        .store
        .verify_ledger_partition(partition, external)
        .await?)
}

/// Recomputes the hash chain and the Merkle tree from the stored events and checks every
/// signed checkpoint; the report names the first problem.
pub async fn verify(app: &App) -> Result<LedgerReport, Error> {
    Ok(app.store.verify_ledger().await?)
}

/// Signs a checkpoint every five minutes (and on demand through the API).
pub fn spawn_checkpointer(app: App) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(300));
        loop {
            every.tick().await;
            if let Err(e) = checkpoint(&app).await {
                tracing::warn!(error = %e.message, "could not sign a ledger checkpoint");
            }
        }
    });
}
