// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"sync"
	"time"
)

// deadline is a net.Conn deadline for goroutines that wait on channels: its
// channel is closed when the deadline passes, and a new one is made when
// the deadline is moved out again.
type deadline struct {
	mu    sync.Mutex
	gen   uint64
	timer *time.Timer
	done  chan struct{}
	fired bool
}

func newDeadline() *deadline { return &deadline{done: make(chan struct{})} }

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if t.IsZero() {
		d.reopen()
		return
	}
	wait := time.Until(t)
	if wait <= 0 {
		d.fire()
		return
	}
	d.reopen()
	gen := d.gen
	d.timer = time.AfterFunc(wait, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.gen == gen {
			d.fire()
		}
	})
}

func (d *deadline) fire() {
	if !d.fired {
		d.fired = true
		close(d.done)
	}
}

func (d *deadline) reopen() {
	if d.fired {
		d.fired = false
		d.done = make(chan struct{})
	}
}

// ch is closed once the deadline has passed.
func (d *deadline) ch() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.done
}

func (d *deadline) expired() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.fired
}
