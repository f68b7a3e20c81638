// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"testing"
	"time"
)

// The time passed to C follows sdtls.h's rule: nanoseconds since the UNIX
// epoch (read once, then advanced by the monotonic clock), so that sessions
// and cookies carry a time other processes and hosts share; and deadlines
// come back as the time.Time they stand for.
func TestTimePassedToCIsOnTheUnixEpoch(t *testing.T) {
	before := time.Now().UnixNano()
	now := time.Now()
	passed := int64(cTime(now))
	after := time.Now().UnixNano()
	if passed < before-int64(time.Second) || passed > after+int64(time.Second) {
		t.Fatalf("cTime(now) = %d, the wall clock read %d..%d", passed, before, after)
	}
	if d := int64(cTime(now.Add(1500*time.Millisecond))) - passed; d != 1500*int64(time.Millisecond) {
		t.Fatalf("1.5 s later is %d ns later", d)
	}
	if back := goTime(uint64(cTime(now))); !back.Equal(now) {
		t.Fatalf("goTime(cTime(now)) = %v, want %v", back, now)
	}
}
