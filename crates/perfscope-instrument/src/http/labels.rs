//! The bounded label values of HTTP series: methods (OpenTelemetry's known methods and
//! `_OTHER`) and status classes (`1xx` ... `5xx`, `other` for codes 600 to 999).

use http::{Method, StatusCode};

/// Methods with a series of their own, in the order of [`method_index`]; the last one,
/// `_OTHER`, is every other method (OpenTelemetry's `http.request.method` rule).
pub(crate) const METHODS: [&str; 10] =
    ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "_OTHER"];

/// The status classes, in the order of [`class_index`].
pub(crate) const CLASSES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];

/// The index of `method` in [`METHODS`].
#[inline]
pub(crate) fn method_index(method: &Method) -> usize {
    match *method {
        Method::GET => 0,
        Method::HEAD => 1,
        Method::POST => 2,
        Method::PUT => 3,
        Method::DELETE => 4,
        Method::CONNECT => 5,
        Method::OPTIONS => 6,
        Method::TRACE => 7,
        Method::PATCH => 8,
        _ => 9,
    }
}

/// The index of `status`'s class in [`CLASSES`].
#[inline]
pub(crate) fn class_index(status: StatusCode) -> usize {
    (usize::from(status.as_u16() / 100)).clamp(1, 6) - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_and_classes_are_bounded() {
        assert_eq!(METHODS[method_index(&Method::PATCH)], "PATCH");
        let odd = Method::from_bytes(b"PURGE").unwrap();
        assert_eq!(METHODS[method_index(&odd)], "_OTHER");
        assert_eq!(CLASSES[class_index(StatusCode::OK)], "2xx");
        assert_eq!(CLASSES[class_index(StatusCode::SERVICE_UNAVAILABLE)], "5xx");
        assert_eq!(CLASSES[class_index(StatusCode::from_u16(999).unwrap())], "other");
        assert_eq!(CLASSES[class_index(StatusCode::CONTINUE)], "1xx");
    }
}
