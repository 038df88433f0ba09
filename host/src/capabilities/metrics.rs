//! `metric.increment` (automations.md §13.2).

use super::data::DataStore;
use super::inputs;
use super::now;
use katabox_value::{Value, convert};
use std::collections::BTreeMap;

/// Validates the inputs.
pub fn validate(inputs: &mut Value) -> Result<(), String> {
    inputs::required_str(inputs, "metric_name")?;
    Ok(())
}

/// `metric.increment`: output `{}`.
pub fn increment(data: &dyn DataStore, inputs: &Value) -> Result<Value, String> {
    let name = inputs::opt_str(inputs, "metric_name").unwrap_or_default();
    let Some(known) = data.metric_dimensions(&name).map_err(|e| e.to_string())? else {
        return Err(format!("metric.increment: Unknown metric `{name}`"));
    };
    let mut dims = BTreeMap::new();
    let mut unknown = Vec::new();
    if let Some(a) = inputs.get("dimensions").and_then(Value::as_array) {
        for (k, v) in a.iter() {
            let k = k.to_string_lossy();
            if !known.contains(&k) {
                unknown.push(k.clone());
            }
            dims.insert(k, v.to_string_lossy());
        }
    }
    if !unknown.is_empty() {
        return Err(format!(
            "metric.increment: Unknown dimensions ({}) for metric `{name}`",
            unknown.join(", ")
        ));
    }
    let values: Vec<f64> = match inputs.get("values") {
        None | Some(Value::Null) => vec![1.0],
        Some(Value::Array(a)) => a.values().map(convert::to_float).collect(),
        Some(v) => vec![convert::to_float(v)],
    };
    let ts = inputs
        .get("timestamp")
        .map(convert::to_int)
        .unwrap_or_else(now);
    for v in values {
        data.metric_increment(&name, &dims, v, ts)
            .map_err(|e| e.to_string())?;
    }
    Ok(Value::empty_array())
}
