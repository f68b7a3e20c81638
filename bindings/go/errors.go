// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"errors"
	"fmt"
)

// Code is one of the C library's SDTLS_E_* error codes (negative; the
// values are frozen by the ABI).
type Code int

// The SDTLS_E_* codes of sdtls.h.
const (
	CodeInvalidArgument Code = -1
	CodeNoMemory        Code = -2
	CodeAgain           Code = -3
	CodeState           Code = -4
	CodeInCallback      Code = -5
	CodeClosed          Code = -6
	CodeAlert           Code = -7
	CodeVerify          Code = -8
	CodeTimeout         Code = -9
	CodeProtocol        Code = -10
	CodeTooBig          Code = -11
	CodeFile            Code = -12
	CodeCredentials     Code = -13
	CodeFrozen          Code = -14
	CodeUnsupported     Code = -15
	CodeLimit           Code = -16
	CodeInternal        Code = -17
)

// String is the C library's name for the code (sdtls_strerror).
func (c Code) String() string { return strerror(int(c)) }

// Category is what kind of failure a code is (sdtls_error_category); a
// caller branches on it rather than on codes.
type Category int

// The SDTLS_CATEGORY_* values of sdtls.h.
const (
	CategoryNone     Category = 0
	CategoryAgain    Category = 1
	CategoryClosed   Category = 2
	CategoryAlert    Category = 3
	CategoryVerify   Category = 4
	CategoryTimeout  Category = 5
	CategoryProtocol Category = 6
	CategoryUsage    Category = 7
	CategoryInternal Category = 8
)

// Sentinel errors, one per category: errors.Is(err, sdtls.ErrVerify) is
// true for every *Error whose code is in that category.
var (
	ErrAgain    = errors.New("sdtls: try again")
	ErrClosed   = errors.New("sdtls: connection closed")
	ErrAlert    = errors.New("sdtls: peer sent a fatal alert")
	ErrVerify   = errors.New("sdtls: peer verification failed")
	ErrTimeout  = errors.New("sdtls: timed out")
	ErrProtocol = errors.New("sdtls: protocol violation")
	ErrUsage    = errors.New("sdtls: invalid use")
	ErrInternal = errors.New("sdtls: internal failure")
)

var categoryErrors = map[Category]error{
	CategoryAgain:    ErrAgain,
	CategoryClosed:   ErrClosed,
	CategoryAlert:    ErrAlert,
	CategoryVerify:   ErrVerify,
	CategoryTimeout:  ErrTimeout,
	CategoryProtocol: ErrProtocol,
	CategoryUsage:    ErrUsage,
	CategoryInternal: ErrInternal,
}

// Error is a failure reported by the C library: its code, its category and
// the connection's human-readable detail (the alert, the verification
// failure, the engine's reason), when there is one.
type Error struct {
	Code     Code
	Category Category
	Detail   string // sdtls_conn_error_detail, or ""
	Op       string // the Go call that failed, e.g. "handshake", "write"
}

func (e *Error) Error() string {
	s := "sdtls: "
	if e.Op != "" {
		s += e.Op + ": "
	}
	s += e.Code.String()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Is makes errors.Is(err, ErrVerify) (and the other category sentinels)
// match.
func (e *Error) Is(target error) bool {
	return categoryErrors[e.Category] == target
}

// Timeout reports whether the failure is a timeout (net.Error).
func (e *Error) Timeout() bool { return e.Category == CategoryTimeout }

// Temporary is part of net.Error; sdtls failures are never temporary.
func (e *Error) Temporary() bool { return false }

// newError makes an *Error for a negative code, or returns nil for 0.
func newError(op string, rc int, detail string) error {
	if rc >= 0 {
		return nil
	}
	return &Error{Code: Code(rc), Category: errorCategory(rc), Detail: detail, Op: op}
}

func usageError(op, format string, args ...any) error {
	return &Error{Code: CodeInvalidArgument, Category: CategoryUsage, Op: op,
		Detail: fmt.Sprintf(format, args...)}
}
