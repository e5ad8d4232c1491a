package demo

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"
)

// The feed's limits.
const (
	feedQueue        = 256              // messages waiting to be written to one client
	feedMaxMessage   = 64 << 10         // bytes of one message read from a client
	feedWriteTimeout = 10 * time.Second // one message written to a client
	feedCloseWait    = time.Second      // for a client's answer to the close at shutdown
)

// feed is the service's WebSocket feed, GET /ws/feed: it echoes every
// message a client sends back to that client, and broadcasts every order
// created to every client as {"type":"order","order":{...}}.
//
// Each client has two goroutines: the handler's, which reads (and queues
// the echoes, waiting when the client's queue is full, so a client that
// floods is slowed, not dropped), and a writer, which writes the queue. A
// broadcast never waits: a client whose queue is full misses it. Both modes
// serve the feed alike.
//
// At shutdown (close), every client gets a close frame (1001 going away)
// and, after feedCloseWait, its connection is cut; the handlers then
// return, which is what Service.Run waits for.
type feed struct {
	logger  zerolog.Logger
	up      websocket.Upgrader
	mu      sync.Mutex
	clients map[*feedClient]struct{}
	closed  bool
}

func newFeed(logger zerolog.Logger) *feed {
	return &feed{
		logger:  logger,
		clients: map[*feedClient]struct{}{},
		up: websocket.Upgrader{
			ReadBufferSize:  1024,
			WriteBufferSize: 1024,
			WriteBufferPool: &sync.Pool{},
		},
	}
}

// serve upgrades the request and runs the client until it leaves or the
// feed closes.
func (f *feed) serve(w http.ResponseWriter, r *http.Request) {
	conn, err := f.up.Upgrade(w, r, nil) // on failure it has answered (400)
	if err != nil {
		return
	}
	c := newFeedClient(conn)
	if !f.join(c) {
		c.goAway()
		conn.Close()
		return
	}
	defer f.leave(c)
	var wg sync.WaitGroup
	wg.Go(c.write)
	c.read()
	c.stop()
	wg.Wait()
	conn.Close()
}

// join adds c, unless the feed is closed.
func (f *feed) join(c *feedClient) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.clients[c] = struct{}{}
	return true
}

func (f *feed) leave(c *feedClient) {
	f.mu.Lock()
	delete(f.clients, c)
	f.mu.Unlock()
}

// publishOrder broadcasts a new order to every client.
func (f *feed) publishOrder(o order) {
	msg, err := json.Marshal(struct {
		Type  string `json:"type"`
		Order order  `json:"order"`
	}{"order", o})
	if err != nil {
		f.logger.Warn().Err(err).Msg("demo feed: encode order")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.clients {
		select {
		case c.out <- msg:
		default: // a slow client misses it; the order is never held up
		}
	}
}

// close makes every client leave (close frame, then the connection cut)
// and refuses new ones. It does not wait: Run waits for the handlers.
func (f *feed) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for c := range f.clients {
		c.shutdown()
	}
}

// feedClient is one connected client.
type feedClient struct {
	conn     *websocket.Conn
	out      chan []byte
	done     chan struct{} // closed when the client is over: the writer stops
	stopOnce sync.Once
	leaving  chan struct{} // closed at shutdown: the writer says goodbye
	goOnce   sync.Once
}

func newFeedClient(conn *websocket.Conn) *feedClient {
	conn.SetReadLimit(feedMaxMessage)
	return &feedClient{conn: conn, out: make(chan []byte, feedQueue), done: make(chan struct{}), leaving: make(chan struct{})}
}

// read echoes every message until the connection fails or closes.
func (c *feedClient) read() {
	for {
		typ, msg, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		if typ != websocket.TextMessage && typ != websocket.BinaryMessage {
			continue
		}
		select {
		case c.out <- msg:
		case <-c.done:
			return
		}
	}
}

// write writes queued messages until the client is over; at shutdown it
// sends the close frame first and cuts the connection after feedCloseWait
// if the client has not answered.
func (c *feedClient) write() {
	defer c.stop() // a reader waiting to queue an echo must not wait for a writer gone
	for {
		select {
		case msg := <-c.out:
			_ = c.conn.SetWriteDeadline(time.Now().Add(feedWriteTimeout))
			if c.conn.WriteMessage(websocket.TextMessage, msg) != nil {
				c.conn.Close() // unblocks the reader
				return
			}
		case <-c.leaving:
			c.goAway()
			_ = c.conn.SetReadDeadline(time.Now().Add(feedCloseWait))
			return
		case <-c.done:
			return
		}
	}
}

// goAway sends the close frame of a server going away.
func (c *feedClient) goAway() {
	msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down")
	_ = c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(feedCloseWait))
}

// stop ends the writer.
func (c *feedClient) stop() { c.stopOnce.Do(func() { close(c.done) }) }

// shutdown asks the writer to say goodbye.
func (c *feedClient) shutdown() { c.goOnce.Do(func() { close(c.leaving) }) }
