//! Zooming the charts, when the reader asks (the System section's check box): each chart's
//! value axis from its lowest to its highest point instead of from 0 (0–100% for a ratio).
//!
//! The page is drawn on the honest axes; each chart's `<svg>` carries in `data-zoom` the map
//! from its y coordinates to the zoomed ones (`k c`: `y' = k·y + c`, one affine map, as both
//! axes are linear) and each value label its zoomed text in `data-zoomed`. The page's script
//! (`html.js`) applies them to the lines (`polyline.ps-line`), the dots (`circle`), anything
//! else drawn at a value that has the class `ps-zoomable` (its `y`, `y1`, `y2`, `height`: a
//! limit line, a shaded band) and the labels, and undoes them.

use super::{BOTTOM, Frame, TOP};
use crate::report::FigureUnit;

/// The check box, at the top of the System section.
pub(super) const CONTROL: &str = "<p class=\"ps-note\"><label><input type=\"checkbox\" \
     id=\"ps-zoom\"> Zoom: each value axis from its chart's lowest to its highest point \
     (unchecked: ratios on 0–100%, other figures from 0).</label></p>\n";

/// The zoomed value axis of points running from `lo` to `hi`: their own range; a flat series
/// gets a range around its value (from zero when it is zero), so that it is drawn and
/// labelled.
pub(super) fn data_axis(unit: FigureUnit, lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo {
        return (lo, hi);
    }
    let pad = match unit {
        // Whole numbers keep whole labels (12 threads: 10 to 14).
        FigureUnit::Count => (lo.abs() * 0.1).ceil().max(1.0),
        _ if lo == 0.0 => 1.0,
        _ => lo.abs() * 0.1,
    };
    let bottom = if lo >= 0.0 { (lo - pad).max(0.0) } else { lo - pad };
    (bottom, hi + pad)
}

/// `k c`: the y coordinate on `zoomed` of a point drawn at `y` on `frame` is `k·y + c`.
pub(super) fn transform(frame: &Frame, zoomed: &Frame) -> String {
    let k = (frame.hi - frame.lo) / (zoomed.hi - zoomed.lo);
    let c = BOTTOM * (1.0 - k) - (BOTTOM - TOP) * (frame.lo - zoomed.lo) / (zoomed.hi - zoomed.lo);
    format!("{k} {c}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_takes_a_point_from_the_honest_axis_to_the_zoomed_one() {
        let frame = Frame { t0: 0, t1: 1, lo: 0.0, hi: 1.0 };
        let zoomed = Frame { t0: 0, t1: 1, lo: 0.99, hi: 1.0 };
        let map = transform(&frame, &zoomed);
        let [k, c] = [0, 1].map(|i| map.split(' ').nth(i).unwrap().parse::<f64>().unwrap());
        for v in [0.99, 0.995, 1.0] {
            let (y, zoomed_y) = (frame.y(v), zoomed.y(v));
            assert!((k * y + c - zoomed_y).abs() < 1e-6, "{v}: {} vs {zoomed_y}", k * y + c);
        }
        assert_eq!(data_axis(FigureUnit::Count, 12.0, 12.0), (10.0, 14.0));
        assert_eq!(data_axis(FigureUnit::Ratio, 0.99, 1.0), (0.99, 1.0));
    }
}
