//! Cache invalidation across hosts: one connection per host `LISTEN`s on
//! `katabox_changes` (every change to listeners or automations notifies
//! it when it commits) and drops the lookup cache on each notification.
//! Every [`RECHECK`] the generation counter is read as well, so a
//! notification lost with a broken connection costs at most that long;
//! a reconnect drops the cache too.

use super::CHANNEL;
use crate::store::lookup_cache::LookupCache;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::AsyncMessage;

/// How often the generation counter is compared (the safety net).
pub(super) const RECHECK: Duration = Duration::from_secs(5);

/// Listens until the task is aborted (reconnecting after a second).
pub(super) async fn listen(
    config: tokio_postgres::Config,
    lookups: Arc<LookupCache>,
    recheck: Duration,
) {
    let mut generation: Option<i64> = None;
    loop {
        if let Ok((client, mut conn)) = config.connect(tokio_postgres::NoTls).await {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
            let driver = tokio::spawn(async move {
                while let Some(msg) = std::future::poll_fn(|cx| conn.poll_message(cx)).await {
                    match msg {
                        Ok(AsyncMessage::Notification(_)) => {
                            if tx.send(()).is_err() {
                                break;
                            }
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            });
            if client
                .batch_execute(&format!("LISTEN {CHANNEL}"))
                .await
                .is_ok()
            {
                // Changes made while this host was not listening.
                lookups.invalidate();
                loop {
                    tokio::select! {
                        note = rx.recv() => match note {
                            Some(()) => lookups.invalidate(),
                            None => break,
                        },
                        () = tokio::time::sleep(recheck) => {
                            let now = client
                                .query_opt("SELECT value FROM kb_counters WHERE kind = 'generation'", &[])
                                .await;
                            match now {
                                Ok(row) => {
                                    let g = row.and_then(|r| r.try_get::<_, i64>(0).ok());
                                    if g != generation {
                                        lookups.invalidate();
                                        generation = g;
                                    }
                                }
                                Err(_) => break,
                            }
                        }
                    }
                }
            }
            driver.abort();
        }
        lookups.invalidate();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
