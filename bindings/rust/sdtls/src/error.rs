// SPDX-License-Identifier: Apache-2.0
//! `Error`: the C library's category, code and detail, or a panic caught in
//! one of your callbacks.
use std::any::Any;
use std::cell::Cell;
use std::ffi::{c_int, CStr};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use sdtls_sys as sys;

/// What kind of failure an [`Error`] is: what a caller branches on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Category {
    /// Retry later; nothing failed.
    Again,
    /// Orderly end (close_notify).
    Closed,
    /// The peer ended it with an alert.
    Alert,
    /// Authentication failed.
    Verify,
    /// The peer did not answer in time.
    Timeout,
    /// The peer misbehaved.
    Protocol,
    /// The caller misused the API or gave bad input.
    Usage,
    /// Resources or a bug.
    Internal,
    /// One of your callbacks (a closure given to this crate) panicked; the
    /// panic was caught at the C boundary and is reported here instead.
    Panic,
}

impl Category {
    fn of_code(code: c_int) -> Category {
        match unsafe { sys::sdtls_error_category(code) } {
            sys::SDTLS_CATEGORY_AGAIN => Category::Again,
            sys::SDTLS_CATEGORY_CLOSED => Category::Closed,
            sys::SDTLS_CATEGORY_ALERT => Category::Alert,
            sys::SDTLS_CATEGORY_VERIFY => Category::Verify,
            sys::SDTLS_CATEGORY_TIMEOUT => Category::Timeout,
            sys::SDTLS_CATEGORY_PROTOCOL => Category::Protocol,
            sys::SDTLS_CATEGORY_USAGE => Category::Usage,
            _ => Category::Internal,
        }
    }
}

/// An error of the C library (a negative `SDTLS_E_*` code, its category and
/// the connection's human-readable detail), or a panic in a callback.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    category: Category,
    code: i32,
    detail: String,
}

/// `Result<T, sdtls::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The error for a C code, with an optional detail.
    pub(crate) fn new(code: c_int, detail: impl Into<String>) -> Error {
        Error { category: Category::of_code(code), code, detail: detail.into() }
    }

    /// The error that ended (or last failed) a connection, with its detail.
    ///
    /// # Safety
    /// `conn` must be a live connection (or NULL).
    pub(crate) unsafe fn of_conn(conn: *const sys::sdtls_conn, code: c_int) -> Error {
        let d = sys::sdtls_conn_error_detail(conn);
        let detail =
            if d.is_null() { String::new() } else { CStr::from_ptr(d).to_string_lossy().into() };
        Error::new(code, detail)
    }

    pub(crate) fn from_panic(payload: Box<dyn Any + Send>) -> Error {
        let msg = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "(non-string panic payload)".to_string()
        };
        // Dropping a payload could run foreign code; it is ours now and small.
        drop(payload);
        Error { category: Category::Panic, code: sys::SDTLS_E_INTERNAL, detail: msg }
    }

    /// The category to branch on.
    pub fn category(&self) -> Category {
        self.category
    }

    /// The C library's `SDTLS_E_*` code (see [`sdtls_sys`]); for
    /// [`Category::Panic`] it is `SDTLS_E_INTERNAL`.
    pub fn code(&self) -> i32 {
        self.code
    }

    /// The human-readable detail ("peer sent fatal alert: bad certificate
    /// (42)", the verification failure, the panic message...), or "".
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The C library's name for the code (`sdtls_strerror`).
    pub fn name(&self) -> &'static str {
        if self.category == Category::Panic {
            return "callback panicked";
        }
        // A static string, never NULL.
        unsafe { CStr::from_ptr(sys::sdtls_strerror(self.code)) }
            .to_str()
            .unwrap_or("unknown error")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.detail.is_empty() {
            f.write_str(self.name())
        } else {
            write!(f, "{}: {}", self.name(), self.detail)
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("category", &self.category)
            .field("code", &self.code)
            .field("name", &self.name())
            .field("detail", &self.detail)
            .finish()
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        use std::io::ErrorKind;
        let kind = match e.category {
            Category::Again => ErrorKind::WouldBlock,
            Category::Closed => ErrorKind::ConnectionAborted,
            Category::Timeout => ErrorKind::TimedOut,
            Category::Usage => ErrorKind::InvalidInput,
            Category::Alert | Category::Verify | Category::Protocol => ErrorKind::ConnectionReset,
            _ => ErrorKind::Other,
        };
        std::io::Error::new(kind, e)
    }
}

/// `Ok(())` for 0, the code's error otherwise.
pub(crate) fn check(rc: c_int) -> Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(Error::new(rc, ""))
    }
}

// ---- Panics in callbacks ----
//
// Every closure the C library calls back into runs under `guard`, which
// catches a panic and parks it in this thread's slot (callbacks run on the
// thread that made the C call). `call` wraps each C call: it sets the slot
// aside, makes the call, takes what the call's callbacks left and puts the
// outer value back, so a call made from inside another call's callback (a
// send closure that feeds another connection) reports only its own panics.

thread_local! {
    static PANIC: Cell<Option<Box<dyn Any + Send>>> = const { Cell::new(None) };
}

/// Runs a user callback; a panic is caught, recorded (the first one per C
/// call wins) and `default` returned instead.
pub(crate) fn guard<R>(default: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            PANIC.with(|slot| match slot.take() {
                Some(first) => {
                    slot.set(Some(first));
                    // Its destructor is foreign code: do not run it here.
                    std::mem::forget(payload);
                }
                None => slot.set(Some(payload)),
            });
            default
        }
    }
}

/// Makes a C call; returns its value and the error of a callback that
/// panicked during it.
pub(crate) fn call<R>(f: impl FnOnce() -> R) -> (R, Option<Error>) {
    let outer = PANIC.with(|slot| slot.take());
    let r = f();
    let mine = PANIC.with(|slot| slot.replace(outer));
    (r, mine.map(Error::from_panic))
}

/// A C call returning a status: a panic in a callback takes precedence.
pub(crate) fn call_check(
    f: impl FnOnce() -> c_int,
    on_error: impl FnOnce(c_int) -> Error,
) -> Result<()> {
    match call(f) {
        (_, Some(panic)) => Err(panic),
        (0, None) => Ok(()),
        (rc, None) => Err(on_error(rc)),
    }
}
