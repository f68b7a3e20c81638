// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import dev.sdtls.internal.SdtlsNative;

/**
 * An sdtls failure: the negative {@code SDTLS_E_*} code, its name, the
 * category a caller can branch on, and the connection's human-readable
 * detail (the alert, the verification failure ...) when there is one.
 */
public class SdtlsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What kind of failure it is (the values of {@code sdtls_category}). */
  public enum Category {
    /** Not a failure. */
    NONE,
    /** Retry later; nothing failed. */
    AGAIN,
    /** An orderly end (close_notify), or the connection was closed here. */
    CLOSED,
    /** The peer ended it with an alert. */
    ALERT,
    /** Authentication failed. */
    VERIFY,
    /** The peer did not answer in time. */
    TIMEOUT,
    /** The peer misbehaved. */
    PROTOCOL,
    /** The caller misused the API or gave bad input. */
    USAGE,
    /** Out of resources, or a bug. */
    INTERNAL
  }

  private final int code;
  private final Category category;
  private final String detail;

  /** The exception for a negative code, with an optional detail. */
  public SdtlsException(int code, String detail) {
    super(message(code, detail));
    this.code = code;
    this.category = categoryOf(code);
    this.detail = detail == null ? "" : detail;
  }

  /** The negative {@code SDTLS_E_*} code. */
  public int code() {
    return code;
  }

  /** The code's category. */
  public Category category() {
    return category;
  }

  /** The detail of the failure, or "". */
  public String detail() {
    return detail;
  }

  /** The category of a code (a code this version does not know falls into its C category). */
  public static Category categoryOf(int code) {
    NativeLibrary.load();
    int c = SdtlsNative.sdtls_error_category(code).swigValue();
    Category[] all = Category.values();
    return c >= 0 && c < all.length ? all[c] : Category.INTERNAL;
  }

  private static String message(int code, String detail) {
    NativeLibrary.load();
    String name = SdtlsNative.sdtls_strerror(code);
    return detail == null || detail.isEmpty() ? name : name + ": " + detail;
  }
}
