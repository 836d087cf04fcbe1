// Telly patch: tests of durable group commit (stream_groupcommit.go).

package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// gcSyncs replaces syncMsgBlockFile for one test and records every sync.
type gcSyncs struct {
	mu      sync.Mutex
	grouped int // successful grouped syncs
	plain   int // successful syncs of a single write
	durable map[string]uint64
	// before, if set, runs before a sync; an error it returns fails the sync.
	before func(mb *msgBlock, grouped bool) error
}

func installGcSyncs(t *testing.T) *gcSyncs {
	t.Helper()
	r := &gcSyncs{durable: make(map[string]uint64)}
	prev := syncMsgBlockFile
	syncMsgBlockFile = func(mb *msgBlock, f *os.File, grouped bool) error {
		r.mu.Lock()
		before := r.before
		r.mu.Unlock()
		if before != nil {
			if err := before(mb, grouped); err != nil {
				return err
			}
		}
		if err := f.Sync(); err != nil {
			return err
		}
		// The caller holds mb's lock: everything written to the block so far is durable now.
		last := atomic.LoadUint64(&mb.last.seq)
		r.mu.Lock()
		if grouped {
			r.grouped++
		} else {
			r.plain++
		}
		if last > r.durable[mb.mfn] {
			r.durable[mb.mfn] = last
		}
		r.mu.Unlock()
		return nil
	}
	t.Cleanup(func() { syncMsgBlockFile = prev })
	return r
}

func (r *gcSyncs) setBefore(fn func(mb *msgBlock, grouped bool) error) {
	r.mu.Lock()
	r.before = fn
	r.mu.Unlock()
}

// durableThrough is the highest sequence synced in any block; the tests keep one block.
func (r *gcSyncs) durableThrough() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var max uint64
	for _, s := range r.durable {
		if s > max {
			max = s
		}
	}
	return max
}

func (r *gcSyncs) counts() (grouped, plain int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.grouped, r.plain
}

func resetGroupCommitStats() {
	groupCommitStats.groups.Store(0)
	groupCommitStats.msgs.Store(0)
	groupCommitStats.maxMsgs.Store(0)
	groupCommitStats.maxBytes.Store(0)
}

// gcAcks collects the acks of messages published with reply subject acks.<n>.
type gcAcks struct {
	mu       sync.Mutex
	ok       map[int]uint64 // n -> stored sequence
	errs     map[int]string // n -> error description
	early    []string       // acks received before the sync that covers them
	received chan struct{}
}

func subscribeGcAcks(t *testing.T, nc *nats.Conn, r *gcSyncs) *gcAcks {
	t.Helper()
	a := &gcAcks{ok: make(map[int]uint64), errs: make(map[int]string), received: make(chan struct{}, 1<<16)}
	_, err := nc.Subscribe("acks.*", func(m *nats.Msg) {
		n, err := strconv.Atoi(strings.TrimPrefix(m.Subject, "acks."))
		if err != nil {
			t.Errorf("unexpected ack subject %q", m.Subject)
			return
		}
		var resp JSPubAckResponse
		if err := json.Unmarshal(m.Data, &resp); err != nil {
			t.Errorf("ack %d: %v: %q", n, err, m.Data)
			return
		}
		a.mu.Lock()
		if resp.Error != nil {
			a.errs[n] = resp.Error.Description
		} else {
			a.ok[n] = resp.Sequence
			if d := r.durableThrough(); resp.Sequence > d {
				a.early = append(a.early, fmt.Sprintf("seq %d acked, durable through %d", resp.Sequence, d))
			}
		}
		a.mu.Unlock()
		a.received <- struct{}{}
	})
	require_NoError(t, err)
	require_NoError(t, nc.Flush())
	return a
}

func (a *gcAcks) waitFor(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		a.mu.Lock()
		got := len(a.ok) + len(a.errs)
		a.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-a.received:
		case <-timeout:
			t.Fatalf("%d of %d acks after 30s", got, n)
		}
	}
}

func runGroupCommitServer(t *testing.T) (*Server, *nats.Conn, *fileStore) {
	t.Helper()
	opts := DefaultTestOptions
	opts.Port = -1
	opts.JetStream = true
	opts.StoreDir = t.TempDir()
	opts.SyncAlways = true
	s := RunServer(&opts)
	t.Cleanup(s.Shutdown)
	nc, js := jsClientConnect(t, s)
	t.Cleanup(nc.Close)
	_, err := js.AddStream(&nats.StreamConfig{Name: "G", Subjects: []string{"g.>"}, Storage: nats.FileStorage})
	require_NoError(t, err)
	mset, err := s.globalAccount().lookupStream("G")
	require_NoError(t, err)
	fs, ok := mset.store.(*fileStore)
	if !ok {
		t.Fatalf("expected a file store")
	}
	return s, nc, fs
}

// holdNextPlainSync makes the next single-write sync wait until release is closed, so that
// what is published meanwhile queues up in front of the stream and is popped at once.
func holdNextPlainSync(r *gcSyncs) (entered, release chan struct{}) {
	entered, release = make(chan struct{}), make(chan struct{})
	var once sync.Once
	r.setBefore(func(mb *msgBlock, grouped bool) error {
		if !grouped {
			once.Do(func() {
				close(entered)
				<-release
			})
		}
		return nil
	})
	return entered, release
}

func publishGc(t *testing.T, nc *nats.Conn, from, to int, size int) {
	t.Helper()
	payload := make([]byte, size)
	for n := from; n < to; n++ {
		require_NoError(t, nc.PublishRequest("g.x", "acks."+strconv.Itoa(n), payload))
	}
}

func TestGroupCommitOneSyncPerGroupAcksAfterIt(t *testing.T) {
	resetGroupCommitStats()
	r := installGcSyncs(t)
	_, nc, _ := runGroupCommitServer(t)
	acks := subscribeGcAcks(t, nc, r)

	entered, release := holdNextPlainSync(r)
	publishGc(t, nc, 0, 1, 100)
	<-entered
	publishGc(t, nc, 1, 51, 100)
	// The server has read everything published before the PONG: 50 messages are queued.
	require_NoError(t, nc.Flush())
	groupedBefore, _ := r.counts()
	close(release)
	acks.waitFor(t, 51)

	acks.mu.Lock()
	defer acks.mu.Unlock()
	if len(acks.errs) != 0 || len(acks.ok) != 51 {
		t.Fatalf("expected 51 positive acks, got %d (errors %v)", len(acks.ok), acks.errs)
	}
	if len(acks.early) != 0 {
		t.Fatalf("acks before their sync: %v", acks.early)
	}
	grouped, _ := r.counts()
	if grouped-groupedBefore != 1 {
		t.Fatalf("expected the 50 queued messages to share one sync, got %d", grouped-groupedBefore)
	}
	if g, m := groupCommitStats.groups.Load(), groupCommitStats.msgs.Load(); g != 1 || m != 50 {
		t.Fatalf("expected one group of 50, got %d groups with %d messages", g, m)
	}
}

func TestGroupCommitManyInFlightAcksNeverBeforeSync(t *testing.T) {
	resetGroupCommitStats()
	r := installGcSyncs(t)
	_, nc, fs := runGroupCommitServer(t)
	acks := subscribeGcAcks(t, nc, r)
	// a consumer gets no message before it is durable either
	js, err := nc.JetStream()
	require_NoError(t, err)
	var delivered atomic.Int64
	var earlyDeliveries atomic.Int64
	_, err = js.Subscribe("g.>", func(m *nats.Msg) {
		meta, err := m.Metadata()
		if err != nil {
			t.Errorf("delivery without metadata: %v", err)
			return
		}
		if meta.Sequence.Stream > r.durableThrough() {
			earlyDeliveries.Add(1)
		}
		delivered.Add(1)
	}, nats.DeliverAll(), nats.AckNone())
	require_NoError(t, err)

	const total = 5000
	publishGc(t, nc, 0, total, 200)
	acks.waitFor(t, total)
	checkFor(t, 30*time.Second, 10*time.Millisecond, func() error {
		if n := delivered.Load(); n < total {
			return fmt.Errorf("%d of %d delivered", n, total)
		}
		return nil
	})
	if n := earlyDeliveries.Load(); n != 0 {
		t.Fatalf("%d messages delivered to a consumer before their sync", n)
	}

	acks.mu.Lock()
	defer acks.mu.Unlock()
	if len(acks.errs) != 0 || len(acks.ok) != total {
		t.Fatalf("expected %d positive acks, got %d (%d errors)", total, len(acks.ok), len(acks.errs))
	}
	if len(acks.early) != 0 {
		t.Fatalf("%d acks before their sync, first: %s", len(acks.early), acks.early[0])
	}
	fs.mu.RLock()
	blks := len(fs.blks)
	fs.mu.RUnlock()
	if blks != 1 {
		t.Fatalf("the durable watermark assumes one block, the stream has %d", blks)
	}
	grouped, plain := r.counts()
	if grouped+plain >= total {
		t.Fatalf("expected fewer syncs than messages: %d grouped + %d single for %d", grouped, plain, total)
	}
}

func TestGroupCommitFailedSyncErrorsEveryMessage(t *testing.T) {
	resetGroupCommitStats()
	r := installGcSyncs(t)
	_, nc, _ := runGroupCommitServer(t)
	acks := subscribeGcAcks(t, nc, r)

	entered, release := holdNextPlainSync(r)
	publishGc(t, nc, 0, 1, 100)
	<-entered
	publishGc(t, nc, 1, 41, 100)
	require_NoError(t, nc.Flush())
	failed := errors.New("injected fsync failure")
	// Let the held single write through, then fail the group's sync.
	r.mu.Lock()
	hold := r.before
	r.before = func(mb *msgBlock, grouped bool) error {
		if grouped {
			return failed
		}
		return hold(mb, grouped)
	}
	r.mu.Unlock()
	close(release)
	acks.waitFor(t, 41)

	acks.mu.Lock()
	defer acks.mu.Unlock()
	if _, ok := acks.ok[0]; !ok || len(acks.ok) != 1 {
		t.Fatalf("expected only the first message acked, got %v", acks.ok)
	}
	for n := 1; n < 41; n++ {
		if d, ok := acks.errs[n]; !ok || !strings.Contains(d, failed.Error()) {
			t.Fatalf("message %d: expected an error ack naming the failure, got %q (ok %v)", n, d, ok)
		}
	}
}

func TestGroupCommitCapsMessagesAndBytes(t *testing.T) {
	for _, tc := range []struct {
		name        string
		count, size int
	}{
		{"messages", 3000, 64},
		{"bytes", 300, 64 * 1024},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resetGroupCommitStats()
			r := installGcSyncs(t)
			_, nc, _ := runGroupCommitServer(t)
			acks := subscribeGcAcks(t, nc, r)

			entered, release := holdNextPlainSync(r)
			publishGc(t, nc, 0, 1, tc.size)
			<-entered
			publishGc(t, nc, 1, tc.count, tc.size)
			require_NoError(t, nc.Flush())
			close(release)
			acks.waitFor(t, tc.count)

			acks.mu.Lock()
			defer acks.mu.Unlock()
			if len(acks.ok) != tc.count || len(acks.early) != 0 {
				t.Fatalf("expected %d acks after their syncs, got %d (%d early)", tc.count, len(acks.ok), len(acks.early))
			}
			maxMsgs, maxBytes := groupCommitStats.maxMsgs.Load(), groupCommitStats.maxBytes.Load()
			if maxMsgs > groupCommitMaxMsgs {
				t.Fatalf("a group of %d messages, cap %d", maxMsgs, groupCommitMaxMsgs)
			}
			if maxBytes >= groupCommitMaxBytes+uint64(tc.size) {
				t.Fatalf("a group of %d bytes, cap %d", maxBytes, groupCommitMaxBytes)
			}
			if groups := groupCommitStats.groups.Load(); groups < 2 {
				t.Fatalf("expected the queue to be split into several groups, got %d", groups)
			}
		})
	}
}

func TestGroupCommitSingleMessageIsNotGrouped(t *testing.T) {
	resetGroupCommitStats()
	r := installGcSyncs(t)
	_, nc, _ := runGroupCommitServer(t)
	acks := subscribeGcAcks(t, nc, r)
	_, plainBefore := r.counts()

	publishGc(t, nc, 0, 1, 100)
	acks.waitFor(t, 1)
	grouped, plain := r.counts()
	if groupCommitStats.groups.Load() != 0 || grouped != 0 || plain-plainBefore != 1 {
		t.Fatalf("expected one message stored with its own sync, got %d groups, %d grouped and %d single syncs",
			groupCommitStats.groups.Load(), grouped, plain-plainBefore)
	}
}

func TestGroupCommitSyncsEveryTouchedBlock(t *testing.T) {
	r := installGcSyncs(t)
	fs, err := newFileStore(
		FileStoreConfig{StoreDir: t.TempDir(), BlockSize: 1024, SyncAlways: true},
		StreamConfig{Name: "zzz", Subjects: []string{"foo"}, Storage: FileStorage},
	)
	require_NoError(t, err)
	defer fs.Stop()

	msg := make([]byte, 200)
	g := fs.beginSyncGroup()
	for i := 0; i < 40; i++ {
		_, _, err := fs.StoreMsg("foo", nil, msg, 0)
		require_NoError(t, err)
	}
	if grouped, plain := r.counts(); grouped != 0 || plain != 0 {
		t.Fatalf("expected no sync while the group is open, got %d grouped and %d single", grouped, plain)
	}
	require_NoError(t, fs.endSyncGroup(g))

	fs.mu.RLock()
	blks := append([]*msgBlock(nil), fs.blks...)
	fs.mu.RUnlock()
	if len(blks) < 5 {
		t.Fatalf("expected the group to span several blocks, got %d", len(blks))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, mb := range blks {
		last := atomic.LoadUint64(&mb.last.seq)
		if r.durable[mb.mfn] != last {
			t.Fatalf("block %d: synced through %d, holds messages through %d", mb.index, r.durable[mb.mfn], last)
		}
	}
	if r.grouped != len(blks) {
		t.Fatalf("expected one sync per block (%d), got %d", len(blks), r.grouped)
	}
}
