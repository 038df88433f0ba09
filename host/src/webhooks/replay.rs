//! Replaying a recorded run: its stored request goes through the same
//! listener, event KATA, sandbox, policy and limits as a live one, against
//! the automation version it ran (`recorded`) or the current one.
//!
//! Signature verification and dedupe are skipped (the recorded request
//! carries redacted signature headers). Outbound HTTP in a replay is live.

use super::{RunMode, WebhookContext, capture, execute, request};
use crate::store::{RecordedBody, RecordedResponse, RunRecord, StoreError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::str::FromStr;

/// Which automation version a replay runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplayVersion {
    /// The version the run ran.
    #[default]
    Recorded,
    /// The automation as it is now.
    Current,
}

impl FromStr for ReplayVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "recorded" => Ok(ReplayVersion::Recorded),
            "current" => Ok(ReplayVersion::Current),
            _ => Err(format!(
                "'version' must be \"recorded\" or \"current\", not {s:?}."
            )),
        }
    }
}

/// Why a run cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("Run {0} not found.")]
    NotFound(u64),
    /// The run lacks what a replay needs (the message says what).
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One changed value: what the recorded run answered and what the replay did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change<T> {
    pub recorded: T,
    pub replay: T,
}

/// How a replay's response differs from the recorded one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplayDiff {
    /// Status, headers and body are all equal.
    pub same: bool,
    /// Null when equal.
    pub status: Option<Change<u16>>,
    /// The headers that differ (a missing header is null).
    pub headers: BTreeMap<String, Change<Option<String>>>,
    /// Null when equal; the bodies as text (base64 for binary ones).
    pub body: Option<Change<String>>,
}

fn body_text(b: &RecordedBody) -> String {
    b.body
        .clone()
        .or_else(|| b.body_base64.clone())
        .unwrap_or_default()
}

/// Compares two recorded responses.
pub fn diff(recorded: &RecordedResponse, replay: &RecordedResponse) -> ReplayDiff {
    let status = (recorded.status != replay.status).then_some(Change {
        recorded: recorded.status,
        replay: replay.status,
    });
    let mut headers = BTreeMap::new();
    let names = recorded.headers.0.iter().chain(replay.headers.0.iter());
    for (name, _) in names {
        let (a, b) = (recorded.headers.get(name), replay.headers.get(name));
        if a != b {
            headers.insert(
                name.clone(),
                Change {
                    recorded: a.map(str::to_string),
                    replay: b.map(str::to_string),
                },
            );
        }
    }
    let body = (recorded.body != replay.body).then(|| Change {
        recorded: body_text(&recorded.body),
        replay: body_text(&replay.body),
    });
    ReplayDiff {
        same: status.is_none() && headers.is_empty() && body.is_none(),
        status,
        headers,
        body,
    }
}

/// Checks that `run` can be replayed and prepares what the replay needs.
fn prepare(
    ctx: &WebhookContext,
    run: &RunRecord,
    version: ReplayVersion,
) -> Result<Prepared, ReplayError> {
    let unavailable = |m: String| ReplayError::Unavailable(m);
    let id = run.id;
    let listener_id = run
        .listener_id
        .ok_or_else(|| unavailable(format!("Run {id} has no listener to replay through.")))?;
    let listener = ctx.store.listener(listener_id)?.ok_or_else(|| {
        unavailable(format!(
            "The listener {listener_id} of run {id} was deleted."
        ))
    })?;
    let recorded = run
        .payload
        .as_ref()
        .and_then(|p| p.request.as_ref())
        .ok_or_else(|| unavailable(format!("The request of run {id} is no longer stored.")))?;
    if recorded.body.body_truncated {
        return Err(unavailable(format!(
            "The request body of run {id} was cut at the history's body limit; it cannot be replayed."
        )));
    }
    let pinned = match (version, &run.automation, run.automation_version) {
        (ReplayVersion::Recorded, Some(name), Some(v)) => {
            Some(ctx.store.automation_version(name, v)?.ok_or_else(|| {
                unavailable(format!(
                    "Version {v} of the automation {name} is no longer stored."
                ))
            })?)
        }
        _ => None,
    };
    let mut req = capture::replay_request(recorded);
    // The client address the run saw (a trusted proxy's client included).
    req.peer = run.client_ip.parse().ok();
    let request_path = request::split_path(&req.path)
        .map(|(_, p)| p)
        .unwrap_or_default();
    Ok(Prepared {
        listener,
        req,
        request_path,
        pinned,
    })
}

struct Prepared {
    listener: crate::store::ListenerRecord,
    req: super::WebhookRequest,
    request_path: String,
    pinned: Option<crate::store::AutomationRow>,
}

/// Whether `run` could be replayed (what a bulk dry run counts).
pub fn replayable(ctx: &WebhookContext, run: &RunRecord, version: ReplayVersion) -> bool {
    prepare(ctx, run, version).is_ok()
}

/// Replays run `id`; the new run is recorded (also under
/// `--history-save none`: it was asked for) and returned with the diff.
pub async fn replay(
    ctx: &WebhookContext,
    id: u64,
    version: ReplayVersion,
) -> Result<(RunRecord, ReplayDiff), ReplayError> {
    let run = ctx.store.run(id)?.ok_or(ReplayError::NotFound(id))?;
    let p = prepare(ctx, &run, version)?;
    let mode = RunMode {
        trigger: "replay",
        replay_of: Some(id),
        pinned: p.pinned,
    };
    let (_, mut new_run) = execute(ctx, &p.listener, &p.req, &p.request_path, &mode).await;
    let mut stored = new_run.clone();
    super::fill_child_versions(ctx.store.as_ref(), &mut stored);
    let mut failed = None;
    let id = crate::store::store_with_children(stored, |r| match ctx.store.record_run(r) {
        Ok(id) => Some(id),
        Err(e) => {
            failed.get_or_insert(e);
            None
        }
    });
    new_run.children.clear();
    new_run.id = match (id, failed) {
        (Some(id), _) => id,
        (None, Some(e)) => return Err(e.into()),
        (None, None) => 0,
    };
    let before = run
        .payload
        .as_ref()
        .and_then(|p| p.response.clone())
        .unwrap_or_default();
    let after = new_run
        .payload
        .as_ref()
        .and_then(|p| p.response.clone())
        .unwrap_or_default();
    Ok((new_run, diff(&before, &after)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, ct: &str, body: &str) -> RecordedResponse {
        RecordedResponse {
            status,
            headers: crate::store::HeaderList(vec![("content-type".to_string(), ct.to_string())]),
            body: RecordedBody::keep(body.as_bytes(), 1024),
        }
    }

    #[test]
    fn equal_responses_are_the_same() {
        let d = diff(&resp(200, "a", "x"), &resp(200, "a", "x"));
        assert!(d.same);
        assert_eq!(d.status, None);
        assert!(d.headers.is_empty());
        assert_eq!(d.body, None);
    }

    #[test]
    fn every_difference_is_named() {
        let mut b = resp(500, "b", "y");
        b.headers.add("x-new".into(), "1".into());
        let d = diff(&resp(200, "a", "x"), &b);
        assert!(!d.same);
        assert_eq!(
            d.status,
            Some(Change {
                recorded: 200,
                replay: 500
            })
        );
        assert_eq!(d.headers["content-type"].replay.as_deref(), Some("b"));
        assert_eq!(d.headers["x-new"].recorded, None);
        assert_eq!(d.body.as_ref().map(|c| c.replay.as_str()), Some("y"));
    }

    #[test]
    fn versions_parse_and_bad_ones_are_explained() {
        assert_eq!("current".parse(), Ok(ReplayVersion::Current));
        assert_eq!("recorded".parse(), Ok(ReplayVersion::Recorded));
        assert!(
            "latest"
                .parse::<ReplayVersion>()
                .is_err_and(|e| e.contains("recorded"))
        );
    }
}
