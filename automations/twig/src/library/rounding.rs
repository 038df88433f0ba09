//! PHP's `round()` with "pre-rounding" (scripting.md Appendix D).

fn pow10(n: i64) -> f64 {
    10f64.powi(n.clamp(-400, 400) as i32)
}

fn round_half_up(v: f64) -> f64 {
    if v >= 0.0 {
        (v + 0.5).floor()
    } else {
        (v - 0.5).ceil()
    }
}

fn scale(v: f64, places: i64) -> f64 {
    let f = pow10(places.abs());
    if places >= 0 { v * f } else { v / f }
}

/// PHP 8.0–8.3 `round($value, $places)` (half away from zero).
pub fn php_round(value: f64, places: i64) -> f64 {
    if !value.is_finite() || value == 0.0 {
        return value;
    }
    let places = places.clamp(-330, 330);
    let precision_places = 14 - value.abs().log10().floor() as i64;
    let f1 = pow10(places.abs());
    let mut tmp;
    if precision_places > places && precision_places - 15 < places {
        tmp = round_half_up(scale(value, precision_places));
        let use_precision = (places - precision_places).max(-4 * 15);
        tmp /= pow10(use_precision.abs());
    } else {
        tmp = scale(value, places);
        if tmp.abs() >= 1e15 {
            return value;
        }
    }
    tmp = round_half_up(tmp);
    if places.abs() < 23 {
        if places > 0 { tmp / f1 } else { tmp * f1 }
    } else {
        let text = format!("{tmp:.15}e{}", -places);
        text.parse::<f64>().unwrap_or(tmp)
    }
}

#[cfg(test)]
#[allow(clippy::approx_constant)]
mod tests {
    use super::php_round;

    #[test]
    fn appendix_d() {
        assert_eq!(php_round(1.005, 2), 1.01);
        assert_eq!(php_round(1.955, 2), 1.96);
        assert_eq!(php_round(2.5, 0), 3.0);
        assert_eq!(php_round(-2.5, 0), -3.0);
        assert_eq!(php_round(1234.0, -2), 1200.0);
        assert_eq!(php_round(3.14159, 2), 3.14);
        assert_eq!(php_round(0.5, 0), 1.0);
        assert_eq!(php_round(1.5, 0), 2.0);
    }
}
