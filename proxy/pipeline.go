package proxy

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Shopify/toxiproxy/v2/stream"
	"github.com/Shopify/toxiproxy/v2/toxics"
)

// pipeline is the fault path of one link: the link goroutine reads chunks
// into in, each stage runs a toxics.Toxic on a toxics.ToxicStub (Toxiproxy's
// pipe protocol), and a writer goroutine writes what leaves the last stage:
//
//	link goroutine ──in──▶ stub[0] ──▶ … ──▶ stub[n-1] ──out──▶ writer ──▶ dst
//
// Ending it: the link closes in; each stage closes its output when its input
// is closed (after handing on what it holds); the writer returns when out is
// closed. To end a stage early (its fault was reverted) the link closes that
// stub's Interrupt channel: the stage stops applying its fault and hands on
// everything queued, in order. Nothing here ever waits on the control plane,
// and the control plane never waits on this.
//
// Every field except ending is owned by the link goroutine.
type pipeline struct {
	faults      []*fault
	stubs       []*toxics.ToxicStub
	interrupted []bool
	in          chan *stream.StreamChunk
	inClosed    bool
	ending      atomic.Bool   // the link closed in: the stream ends because it asked
	eof         atomic.Bool   // ...because the source half-closed (set before ending)
	writerDone  chan struct{} // closed when the writer has written everything
	wg          sync.WaitGroup
}

// piped runs the link on a pipeline of the given stages until the fault set
// changes, the source half-closes or the connection dies.
func (l *link) piped(stages []*fault) outcome {
	l.keepRand(stages)
	l.keepState(stages)
	pl := l.startPipeline(stages)
	switch l.feed(pl) {
	case reconsider:
		return l.reconfigure(pl)
	case srcEOF:
		return l.drain(pl, srcEOF)
	}
	return l.abort(pl)
}

// startPipeline starts one goroutine per stage and the writer.
func (l *link) startPipeline(stages []*fault) *pipeline {
	pl := &pipeline{faults: stages, interrupted: make([]bool, len(stages)), writerDone: make(chan struct{})}
	toxs := make([]toxics.Toxic, len(stages))
	caps := make([]int, len(stages)+1) // capacity of each stage's input; the writer's is 0
	for i, f := range stages {
		toxs[i], caps[i] = f.newStage(l, pl)
	}
	pl.in = make(chan *stream.StreamChunk, caps[0])
	prev := pl.in
	for i := range stages {
		next := make(chan *stream.StreamChunk, caps[i+1])
		stub := toxics.NewToxicStub(prev, next)
		pl.stubs = append(pl.stubs, stub)
		pl.wg.Add(1)
		go pl.runStage(toxs[i], stub, l.c.dead)
		prev = next
	}
	pl.wg.Add(1)
	go pl.write(l, prev)
	return pl
}

// feed reads chunks from src into the pipeline until something changes. A
// chunk read but not yet accepted by the pipeline stays in l.pending.
func (l *link) feed(pl *pipeline) outcome {
	for {
		if l.pending == nil {
			n, err := l.read()
			if err != nil {
				if o := l.readFailed(err); o != reconsider || l.changed(pl.faults) {
					return o
				}
				continue
			}
			data := make([]byte, n) // owned by the chunk: stages may keep or slice it
			copy(data, (*l.rbuf)[:n])
			l.sniffed(data)
			l.counted(data)
			bufPool.Put(l.rbuf)
			l.pending = &stream.StreamChunk{Data: data, Timestamp: time.Now()}
		}
		select {
		case pl.in <- l.pending:
			l.pending = nil
		case <-l.wake:
			l.rearm()
			if l.changed(pl.faults) {
				return reconsider
			}
		case <-l.c.dead:
			return failed
		}
	}
}

// reconfigure ends the pipeline because the wanted stages changed: removed
// stages flush at once, kept ones drain as they would, the pending chunk goes
// in last, and the link waits until the writer has written everything.
func (l *link) reconfigure(pl *pipeline) outcome {
	pl.interruptExcept(l.want)
	if l.pending != nil {
		select {
		case pl.in <- l.pending:
			l.pending = nil
		case <-l.c.dead:
			return l.abort(pl)
		}
	}
	return l.drain(pl, reconsider)
}

// drain closes the pipeline's input and waits until every chunk has been
// written (or the connection died), then returns o.
func (l *link) drain(pl *pipeline, o outcome) outcome {
	if o == srcEOF {
		pl.eof.Store(true)
	}
	pl.closeInput()
	select {
	case <-pl.writerDone:
	case <-l.c.dead:
		return l.abort(pl)
	}
	pl.wg.Wait()
	if isClosed(l.c.dead) {
		return failed
	}
	return o
}

// abort closes the connection and waits for the pipeline's goroutines, which
// then drop what they hold.
func (l *link) abort(pl *pipeline) outcome {
	l.c.close(false)
	l.pending = nil
	pl.interruptExcept(nil)
	pl.closeInput()
	pl.wg.Wait()
	return failed
}

// closeInput closes the pipeline's input once.
func (pl *pipeline) closeInput() {
	if !pl.inClosed {
		pl.ending.Store(true)
		close(pl.in)
		pl.inClosed = true
	}
}

// interruptExcept asks every stage whose fault is not in keep to stop
// applying it and hand on what it holds. Closing a channel never blocks.
func (pl *pipeline) interruptExcept(keep []*fault) {
	for i, f := range pl.faults {
		if !pl.interrupted[i] && !slices.Contains(keep, f) {
			close(pl.stubs[i].Interrupt)
			pl.interrupted[i] = true
		}
	}
}

// runStage runs one toxic on its stub. When Pipe returns without having
// closed the stub (interrupted, or the connection died) the rest of the input
// is handed on unchanged, in order. A toxic that implements
// toxics.CleanupToxic is cleaned up when its fault is reverted; if that
// closes the stream (Toxiproxy's timeout does, having dropped data), the rest
// is discarded and the writer closes the connection.
func (pl *pipeline) runStage(t toxics.Toxic, stub *toxics.ToxicStub, dead <-chan struct{}) {
	defer pl.wg.Done()
	t.Pipe(stub)
	if !stub.Closed() && isClosed(stub.Interrupt) && !isClosed(dead) {
		if cl, ok := t.(toxics.CleanupToxic); ok {
			cl.Cleanup(stub)
		}
	}
	if stub.Closed() {
		for range stub.Input { // so the stage before never blocks
		}
		return
	}
	passOn(stub, dead)
}

// passOn forwards the stub's input to its output until the input is closed,
// then closes the output. Once the connection is dead it only discards.
func passOn(stub *toxics.ToxicStub, dead <-chan struct{}) {
	defer stub.Close()
	for c := range stub.Input {
		select {
		case stub.Output <- c:
		case <-dead:
			for range stub.Input {
			}
			return
		}
	}
}

// write writes every chunk leaving the pipeline to dst. After a write error
// it closes the connection and keeps receiving (and dropping) chunks, so that
// no stage stays blocked on a send.
func (pl *pipeline) write(l *link, out <-chan *stream.StreamChunk) {
	defer pl.wg.Done()
	defer close(pl.writerDone)
	broken := false
	for c := range out {
		if broken {
			continue
		}
		if _, err := l.dst.Write(c.Data); err != nil {
			broken = true
			l.c.closeSoon()
			continue
		}
		l.wrote(len(c.Data))
	}
	if !pl.ending.Load() {
		// A stage ended the stream on its own (Toxiproxy's timeout or
		// limit_data do): close the connection, as Toxiproxy does.
		l.c.close(false)
	}
}

// isClosed reports whether a channel that is only ever closed, never sent
// on, has been closed.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
