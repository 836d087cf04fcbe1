// Telly patch: durable group commit for R1 file streams with sync_interval: always.
//
// Upstream (v2.14.x) stores every message of a standalone stream with its own write and
// fsync, although the stream's internal loop pops every queued message at once. Here the
// loop writes the messages it popped (up to groupCommitMaxMsgs / groupCommitMaxBytes), syncs
// every message block the group touched once, and only then releases the group's acks,
// republishes and consumer notifications. If that sync fails, every message of the group
// gets an error ack. There is no timer: a group is what was already queued, and a single
// queued message is stored exactly as upstream does it.

package server

import (
	"encoding/json"
	"errors"
	"os"
	"sync"
	"sync/atomic"
)

const (
	// groupCommitMaxMsgs caps how many messages share one sync.
	groupCommitMaxMsgs = 1024
	// groupCommitMaxBytes caps how many message bytes share one sync.
	groupCommitMaxBytes = 8 * 1024 * 1024
)

// syncMsgBlockFile syncs a block's file after a write with sync_interval: always, grouped
// or not. Tests replace it to observe or fail syncs.
var syncMsgBlockFile = func(mb *msgBlock, f *os.File, grouped bool) error { return f.Sync() }

// groupCommitStats counts groups and the messages they held (tests and diagnostics).
var groupCommitStats struct {
	groups   atomic.Uint64
	msgs     atomic.Uint64
	maxMsgs  atomic.Uint64
	maxBytes atomic.Uint64
}

// fsSyncGroup collects the blocks written to while a group is open.
type fsSyncGroup struct {
	mu   sync.Mutex
	blks []*msgBlock
	seen map[*msgBlock]struct{}
}

func (g *fsSyncGroup) touch(mb *msgBlock) {
	g.mu.Lock()
	if _, ok := g.seen[mb]; !ok {
		g.seen[mb] = struct{}{}
		g.blks = append(g.blks, mb)
	}
	g.mu.Unlock()
}

// beginSyncGroup defers the sync that sync_interval: always does after each write until
// endSyncGroup. Only the stream's internal loop opens groups, one at a time.
func (fs *fileStore) beginSyncGroup() *fsSyncGroup {
	g := &fsSyncGroup{seen: make(map[*msgBlock]struct{})}
	fs.sgrp.Store(g)
	return g
}

// endSyncGroup writes what is still pending, closes the group and syncs every block the
// group touched. It returns the first error; every block is still tried.
func (fs *fileStore) endSyncGroup(g *fsSyncGroup) error {
	var err error
	fs.mu.RLock()
	lmb := fs.lmb
	fs.mu.RUnlock()
	if lmb != nil {
		lmb.mu.Lock()
		if _, ferr := lmb.flushPendingMsgsLocked(); ferr != nil {
			err = ferr
		}
		lmb.mu.Unlock()
	}
	fs.sgrp.CompareAndSwap(g, nil)
	g.mu.Lock()
	blks := g.blks
	g.mu.Unlock()
	for _, mb := range blks {
		if serr := mb.syncForGroup(); serr != nil && err == nil {
			err = serr
		}
	}
	return err
}

// syncForGroup makes the block's written data durable. A block closed meanwhile (rotated,
// compacted) is synced through a new descriptor: fsync covers the file, not the descriptor.
func (mb *msgBlock) syncForGroup() error {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if mb.werr != nil {
		return mb.werr
	}
	if mb.mfd != nil {
		if err := syncMsgBlockFile(mb, mb.mfd, true); err != nil {
			mb.werr = err
			return err
		}
		return nil
	}
	f, err := os.OpenFile(mb.mfn, os.O_RDWR, defaultFilePerms)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			// Removed (purged, expired): nothing of it is left to make durable.
			return nil
		}
		mb.werr = err
		return err
	}
	err = syncMsgBlockFile(mb, f, true)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		mb.werr = err
	}
	return err
}

// streamCommitGroup holds what a group releases once it is durable.
type streamCommitGroup struct {
	replies []string    // reply subject of every message of the group ("" for none)
	held    []*jsPubMsg // acks and republishes, in order
	sigs    []*cMsg     // consumer notifications
	bytes   int
}

// groupCommitStore returns the file store when the stream may group commits: a standalone
// file stream that syncs every write.
func (mset *stream) groupCommitStore(isClustered bool) *fileStore {
	if isClustered {
		return nil
	}
	mset.mu.RLock()
	store := mset.store
	mset.mu.RUnlock()
	fs, ok := store.(*fileStore)
	if !ok || !fs.syncAlways.Load() {
		return nil
	}
	return fs
}

// processInboundMsgs processes what the internal loop popped, grouping runs of plain
// messages into one sync when more than one is queued.
func (mset *stream) processInboundMsgs(ims []*inMsg, isClustered bool) {
	var fs *fileStore
	if len(ims) > 1 {
		fs = mset.groupCommitStore(isClustered)
	}
	var (
		g   *streamCommitGroup
		fsg *fsSyncGroup
	)
	commit := func() {
		if g != nil {
			mset.commitGroup(fs, fsg, g)
			g, fsg = nil, nil
		}
	}
	for i, im := range ims {
		// If we are clustered we need to propose this message to the underlying raft group.
		if batch, err := getFastBatch(im.rply, im.hdr); batch != nil || err {
			commit()
			mset.processJetStreamFastBatchMsg(batch, im.subj, im.rply, im.hdr, im.msg, im.mt)
			batch.returnToPool()
		} else if batchId := getBatchId(im.hdr); batchId != _EMPTY_ {
			commit()
			mset.processJetStreamAtomicBatchMsg(batchId, im.subj, im.rply, im.hdr, im.msg, im.mt)
		} else if isClustered {
			mset.processClusteredInboundMsg(im.subj, im.rply, im.hdr, im.msg, im.mt, false)
		} else if fs == nil || (g == nil && i == len(ims)-1) {
			// Nothing to group with: stored and synced exactly as upstream does it.
			mset.processJetStreamMsg(im.subj, im.rply, im.hdr, im.msg, 0, 0, im.mt, false, true)
		} else {
			if g == nil {
				// Hold the replies first, then defer the syncs: a concurrent write (a
				// source) in between syncs itself and is released with the group.
				g = &streamCommitGroup{}
				mset.mu.Lock()
				mset.cgrp = g
				mset.mu.Unlock()
				fsg = fs.beginSyncGroup()
			}
			g.replies = append(g.replies, im.rply)
			g.bytes += len(im.hdr) + len(im.msg)
			mset.processJetStreamMsg(im.subj, im.rply, im.hdr, im.msg, 0, 0, im.mt, false, true)
			if len(g.replies) >= groupCommitMaxMsgs || g.bytes >= groupCommitMaxBytes {
				commit()
			}
		}
		im.returnToPool()
	}
	commit()
}

// commitGroup ends the group, syncs what it wrote and releases its acks, or on failure
// answers every message of the group with an error.
func (mset *stream) commitGroup(fs *fileStore, fsg *fsSyncGroup, g *streamCommitGroup) {
	// Sync first, then stop holding: whatever was written meanwhile is covered by the sync
	// or synced itself, so nothing held is released before it is durable.
	err := fs.endSyncGroup(fsg)

	mset.mu.Lock()
	mset.cgrp = nil
	outq, name := mset.outq, mset.cfg.Name
	mset.mu.Unlock()

	groupCommitStats.groups.Add(1)
	groupCommitStats.msgs.Add(uint64(len(g.replies)))
	for n := uint64(len(g.replies)); ; {
		if m := groupCommitStats.maxMsgs.Load(); n <= m || groupCommitStats.maxMsgs.CompareAndSwap(m, n) {
			break
		}
	}
	for n := uint64(g.bytes); ; {
		if m := groupCommitStats.maxBytes.Load(); n <= m || groupCommitStats.maxBytes.CompareAndSwap(m, n) {
			break
		}
	}

	if err == nil {
		for _, pm := range g.held {
			outq.send(pm)
		}
		if len(g.sigs) > 0 {
			for _, cm := range g.sigs {
				mset.sigq.push(cm)
			}
			select {
			case mset.sch <- struct{}{}:
			default:
			}
		}
		return
	}

	mset.mu.Lock()
	mset.setWriteErrLocked(err)
	mset.mu.Unlock()
	mset.srv.RateLimitErrorf("JetStream failed to sync a group of %d msgs on stream '%s > %s': %v", len(g.replies), mset.accName(), name, err)
	for _, pm := range g.held {
		pm.returnToPool()
	}
	for _, cm := range g.sigs {
		cm.returnToPool()
	}
	var resp = JSPubAckResponse{PubAck: &PubAck{Stream: name}, Error: NewJSStreamStoreFailedError(err, Unless(err))}
	b, _ := json.Marshal(resp)
	for _, reply := range g.replies {
		if reply != _EMPTY_ {
			outq.sendMsg(reply, b)
		}
	}
}
