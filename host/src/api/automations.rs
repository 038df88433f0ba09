//! `/api/automations`: list, one automation, changes and their versions.

use super::blocking;
use crate::server::{ApiError, AppState};
use crate::store::AutomationChange;
use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value as JsonValue, json};

/// `GET /api/automations`.
pub async fn list(State(state): State<AppState>) -> Result<Json<JsonValue>, ApiError> {
    let store = state.store.clone();
    let all = blocking(move || Ok(store.automations()?)).await?;
    Ok(Json(json!({"automations": all})))
}

/// `GET /api/automations/{name}`.
pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    let store = state.store.clone();
    let found = blocking(move || Ok(store.automation(&name)?)).await?;
    let a = found.ok_or_else(ApiError::not_found)?;
    Ok(Json(serde_json::to_value(a).map_err(ApiError::internal)?))
}

/// `PUT /api/automations/{name}` `{"script"?, "policy_kata"?, "description"?}`:
/// checked like an import, then stored as the next version.
pub async fn update(
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<JsonValue>, ApiError> {
    let change: AutomationChange = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("Invalid JSON body: {e}")))?;
    if change == AutomationChange::default() {
        return Err(ApiError::bad_request(
            "Give at least one of 'script', 'policy_kata' and 'description'.",
        ));
    }
    if let Some(script) = &change.script {
        crate::webhooks::lang::check_automation_script(script)
            .map_err(|e| ApiError::bad_request(format!("Automation: {e}")))?;
    }
    if let Some(policy) = &change.policy_kata {
        crate::webhooks::lang::check_kata(policy)
            .map_err(|e| ApiError::bad_request(format!("Automation policy: {e}")))?;
    }
    let store = state.store.clone();
    let updated = blocking(move || Ok(store.update_automation(&name, &change)?)).await?;
    let a = updated.ok_or_else(ApiError::not_found)?;
    Ok(Json(serde_json::to_value(a).map_err(ApiError::internal)?))
}

/// `GET /api/automations/{name}/versions` → `{"versions": [...]}`, newest
/// (the current one) first.
pub async fn versions(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    let store = state.store.clone();
    let all = blocking(move || Ok(store.automation_versions(&name)?)).await?;
    if all.is_empty() {
        return Err(ApiError::not_found());
    }
    Ok(Json(json!({"versions": all})))
}
